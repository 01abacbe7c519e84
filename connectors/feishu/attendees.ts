/**
 * A listed event's attendees. Feishu's event list carries none; two APIs return them, each with its
 * own budget of 1000/min and 50/s per app (reference feishu-write-path.md sections 5 and 7): the
 * event get with `need_attendee` (at most 100 inline, `has_more_attendee` beyond) and the attendee
 * list (pages of at most 100). Reads alternate between the two, so attendees come in at twice the
 * rate one API allows. A series' attendees are read once, on its master; only exceptions Feishu
 * lists on their own (moved or edited occurrences) are read again, as Feishu keeps their attendees
 * apart.
 */
import type { BridgeError } from '../../src/core/index.ts';
import type { Api } from './client.ts';
import type { FeishuAttendee, FeishuEvent } from './mapper.ts';

/** The item with its attendees; the item as it was when it is gone by now (the next pull says so). */
export async function withAttendees(
  api: Api,
  calendar_id: string,
  opt: unknown,
  item: FeishuEvent,
): Promise<FeishuEvent> {
  try {
    if (api.attendeeApi() === 'get') {
      const r = await api.call('calendar_event.get', () =>
        api.sdk.calendar.v4.calendarEvent.get(
          {
            path: { calendar_id, event_id: item.event_id },
            params: { need_attendee: true, max_attendee_num: 100 },
          },
          opt as any,
        ),
      );
      const ev = { ...item, ...(r.data?.event as FeishuEvent) };
      if (!r.data?.event?.has_more_attendee) return ev;
      // more than 100: the attendee list has them all
      return { ...ev, attendees: await listAttendees(api, calendar_id, opt, item.event_id) };
    }
    return { ...item, attendees: await listAttendees(api, calendar_id, opt, item.event_id) };
  } catch (e) {
    // Deleted between list and read (193001 not found, 193003 deleted): the next incremental pull reports it.
    if ((e as BridgeError).kind === 'not_found') return item;
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
