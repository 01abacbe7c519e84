/** `listChanges`: full listing (anchor_time) or incremental (sync_token), paged by hand. */
import { type BridgeError, parseKey } from '../../src/core/index.ts';
import type {
  CalendarRef,
  ChangePage,
  ListOptions,
  RemoteEvent,
  RemoteRemoval,
} from '../../src/ports/index.ts';
import { needsAttendees, withAttendees } from './attendees.ts';
import type { Api } from './client.ts';
import { type FeishuEvent, toCanonical } from './mapper.ts';

/**
 * Events per listing page: Feishu's default, half its maximum. A pull holds two pages at a time (one
 * written while the next is listed), so the page bounds what each calendar's initial sync keeps in
 * memory: at 1,000, twenty users of 2,000 events each took `serve` to 520 MB; at 500, 423 MB. The
 * cost is one list request per 500 events instead of 1,000, against one attendee read per event.
 */
const PAGE = 500;

export async function* listChanges(
  api: Api,
  calendar: CalendarRef,
  cursor: string | null,
  options: ListOptions = {},
): AsyncIterable<ChangePage> {
  const calendar_id = await api.resolve(calendar);
  const opt = await api.as(calendar.owner);
  const first: Record<string, string | number> = cursor
    ? { sync_token: cursor, page_size: PAGE }
    : // The docs say page_token comes back only when anchor_time is passed, so a full listing always sends it.
      { anchor_time: String(api.options.anchorTime ?? 0), page_size: PAGE };
  let params = first;
  for (;;) {
    let r: Awaited<ReturnType<typeof api.sdk.calendar.v4.calendarEvent.list>>;
    try {
      r = await api.call('calendar_event.list', () =>
        api.sdk.calendar.v4.calendarEvent.list({ path: { calendar_id }, params }, opt),
      );
    } catch (e) {
      if ((e as BridgeError).code === '190008' && cursor) {
        yield { upserts: [], removals: [], expired: true };
        return;
      }
      throw e;
    }
    const items = (r.data?.items ?? []) as FeishuEvent[];
    const page = await toPage(api, calendar_id, opt, items, options.attendees === 'defer');
    if (r.data?.has_more && r.data.page_token) {
      if (page.upserts.length || page.removals.length) yield page;
      params = { page_token: r.data.page_token, page_size: PAGE };
      continue;
    }
    yield { ...page, cursor: r.data?.sync_token };
    return;
  }
}

async function toPage(
  api: Api,
  calendar_id: string,
  opt: unknown,
  items: FeishuEvent[],
  defer: boolean,
): Promise<ChangePage> {
  const upserts: RemoteEvent[] = [];
  const removals: RemoteRemoval[] = [];
  const live: FeishuEvent[] = [];
  for (const item of items) {
    // A cancelled single event or series is gone; a cancelled exception is a cancelled occurrence.
    if (item.status === 'cancelled' && !item.is_exception) {
      removals.push({ ref: { id: item.event_id }, key: parseKey(item.event_id) });
    } else live.push(item);
  }
  // deferred: read later with readAttendees (the attendees stage); else every item read now
  const full = defer
    ? live
    : await Promise.all(
        live.map((item) => (needsAttendees(api, item) ? withAttendees(api, calendar_id, opt, item) : item)),
      );
  for (const item of full) {
    upserts.push({
      ref: { id: item.event_id },
      event: toCanonical(item, { emailOf: api.options.emailOf }),
      ...(defer && needsAttendees(api, item) ? { attendeesPending: true as const } : {}),
    });
  }
  return { upserts, removals };
}
