/**
 * A listed event's attendees. Feishu's event list carries none; two APIs return them, each with its
 * own budget of 1000/min and 50/s per app (reference feishu-write-path.md sections 5 and 7): the
 * event get with `need_attendee` (at most 100 inline, `has_more_attendee` beyond) and the attendee
 * list (pages of at most 100). Reads alternate between the two, so attendees come in at twice the
 * rate one API allows. A series' attendees are read once, on its master; only exceptions Feishu
 * lists on their own (moved or edited occurrences) are read again, as Feishu keeps their attendees
 * apart. Either inline, while a page is listed, or later for events listed with them deferred
 * (`readAttendees`, the attendees stage of an initial sync).
 */
import { BridgeError, type CanonicalEvent } from '../../src/core/index.ts';
import type { CalendarRef, RemoteEvent } from '../../src/ports/index.ts';
import type { Api } from './client.ts';
import { type FeishuAttendee, type FeishuEvent, toAttendees } from './mapper.ts';

/** An item that needs its attendees read: live (a cancelled occurrence needs none), and synced. */
export const needsAttendees = (api: Api, item: FeishuEvent) =>
  api.options.attendees !== false && item.status !== 'cancelled';

/** The item with its attendees; the item as it was when it is gone by now (the next pull says so). */
export async function withAttendees(
  api: Api,
  calendar_id: string,
  opt: unknown,
  item: FeishuEvent,
): Promise<FeishuEvent> {
  const attendees = await attendeesOf(api, calendar_id, opt, item.event_id);
  return attendees ? { ...item, attendees } : item;
}

/** Reads of one calendar in flight at once: enough to keep both budgets busy, few enough that
 * several calendars read side by side (each budget serves its waiting reads in order). */
const WINDOW = 20;

/**
 * `readAttendees` of the connector port: the events' attendees, read in the given order with up to
 * WINDOW in flight, yielded in order as runs of results. Reads go on while the caller handles what
 * it got; leaving the loop stops them.
 */
export async function* readAttendees(
  api: Api,
  calendar: CalendarRef,
  events: RemoteEvent[],
): AsyncIterable<(RemoteEvent | BridgeError)[]> {
  const calendar_id = await api.resolve(calendar);
  // the owner's token, looked up again now and then (a stage can outlast it)
  let opt: { at: number; value: Promise<unknown> } | undefined;
  const option = () => {
    if (!opt || Date.now() - opt.at > 60_000) opt = { at: Date.now(), value: api.as(calendar.owner) };
    return opt.value;
  };
  const readOne = async (r: RemoteEvent): Promise<RemoteEvent | BridgeError> => {
    if (!r.attendeesPending) return r;
    try {
      const list = await attendeesOf(api, calendar_id, await option(), r.ref.id);
      if (!list) return r;
      const event: CanonicalEvent = {
        ...r.event,
        attendees: toAttendees(list, { emailOf: api.options.emailOf }),
      };
      const { attendeesPending: _, ...rest } = r;
      return { ...rest, event };
    } catch (e) {
      return e instanceof BridgeError ? e : new BridgeError('transient', String(e), { cause: e });
    }
  };
  // a result is dropped once yielded (null): a stage of thousands of events keeps only those not yet handled
  const results: (RemoteEvent | BridgeError | null | undefined)[] = new Array(events.length);
  let next = 0;
  let running = 0;
  let stopped = false;
  let wake: (() => void) | undefined;
  const pump = () => {
    while (!stopped && running < WINDOW && next < events.length) {
      const i = next++;
      running += 1;
      void readOne(events[i]).then((r) => {
        results[i] = r;
        running -= 1;
        pump();
        wake?.();
      });
    }
  };
  try {
    pump();
    let head = 0;
    while (head < events.length) {
      if (results[head] === undefined) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        continue;
      }
      const run: (RemoteEvent | BridgeError)[] = [];
      while (head < events.length && results[head] !== undefined) {
        run.push(results[head]!);
        results[head++] = null;
      }
      yield run;
    }
  } finally {
    stopped = true;
  }
}

/** The event's attendees, or undefined when it was deleted since it was listed. */
async function attendeesOf(
  api: Api,
  calendar_id: string,
  opt: unknown,
  event_id: string,
): Promise<FeishuAttendee[] | undefined> {
  try {
    if (api.attendeeApi() === 'get') {
      const r = await api.call('calendar_event.get', () =>
        api.sdk.calendar.v4.calendarEvent.get(
          { path: { calendar_id, event_id }, params: { need_attendee: true, max_attendee_num: 100 } },
          opt as any,
        ),
      );
      const ev = r.data?.event as FeishuEvent | undefined;
      // more than 100: the attendee list has them all
      if (!ev?.has_more_attendee) return ev?.attendees ?? [];
    }
    return await listAttendees(api, calendar_id, opt, event_id);
  } catch (e) {
    // Deleted between list and read (193001 not found, 193003 deleted): the next incremental pull reports it.
    if ((e as BridgeError).kind === 'not_found') return undefined;
    throw e;
  }
}

async function listAttendees(
  api: Api,
  calendar_id: string,
  opt: unknown,
  event_id: string,
): Promise<FeishuAttendee[]> {
  const out: FeishuAttendee[] = [];
  let page_token: string | undefined;
  do {
    const r = await api.call('calendar_event_attendee.list', () =>
      api.sdk.calendar.v4.calendarEventAttendee.list(
        {
          path: { calendar_id, event_id },
          params: { page_size: 100, user_id_type: 'open_id', ...(page_token ? { page_token } : {}) },
        },
        opt as any,
      ),
    );
    out.push(...((r.data?.items ?? []) as FeishuAttendee[]));
    page_token = r.data?.has_more ? r.data.page_token : undefined;
  } while (page_token);
  return out;
}
