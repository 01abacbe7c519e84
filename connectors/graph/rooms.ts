/**
 * Room bookings on Exchange (RoomAccess): a room is its room mailbox. Booking events are written into
 * the mailbox's default calendar (application permissions reach room mailboxes like any other), its
 * calendar is read with calendarView, and the room's answer on a mirrored event is read from the
 * organizer's copy (`attendees[].status.response`).
 */
import { BridgeError, type Rsvp } from '../../src/core/index.ts';
import type { CalendarRef, RoomAccess, RoomAnswer, RoomEntry } from '../../src/ports/index.ts';
import { runBatched, succeeded } from './batch.ts';
import { GraphClient } from './client.ts';
import { fromResponse } from './errors.ts';
import { ORIGIN_PROPERTY, parseTag } from './mapper.ts';

const enc = encodeURIComponent;
const lower = (s: unknown) => String(s ?? '').toLowerCase();
const RSVP: Record<string, Rsvp> = {
  accepted: 'accepted',
  organizer: 'accepted',
  tentativelyAccepted: 'tentative',
  declined: 'declined',
};
const expand = `$expand=${enc(`singleValueExtendedProperties($filter=id eq '${ORIGIN_PROPERTY}')`)}`;
/**
 * Every room's answer on an event as Graph returned it (its `resource` attendees), or nothing when
 * the body does not carry attendees (a `$select` without them, a remove).
 */
export function roomAnswers(g: any): { rooms: RoomAnswer[] } | undefined {
  if (!Array.isArray(g?.attendees)) return undefined;
  return {
    rooms: g.attendees
      .filter((a: any) => a.type === 'resource' && a.emailAddress?.address)
      .map((a: any) => ({
        room: a.emailAddress.address,
        answer: RSVP[a.status?.response] ?? 'needs-action',
      })),
  };
}

/** Graph answers in UTC without an offset unless asked otherwise. */
const seconds = (t: any) => Math.floor(Date.parse(`${String(t?.dateTime ?? '').replace(/Z$/, '')}Z`) / 1000);

/** What a room's calendarView holds (cancelled items left out). */
function entriesOf(items: any[] | undefined): RoomEntry[] {
  const out: RoomEntry[] = [];
  for (const g of items ?? []) {
    if (g.isCancelled) continue;
    const entry: RoomEntry = {
      id: g.id,
      start: seconds(g.start),
      end: seconds(g.end),
      answer: g.isOrganizer ? 'accepted' : (RSVP[g.responseStatus?.response] ?? 'needs-action'),
      free: g.showAs === 'free',
      summary: g.subject ?? '',
    };
    if (g.organizer?.emailAddress?.address) entry.organizer = g.organizer.emailAddress.address;
    const tag = parseTag(
      (g.singleValueExtendedProperties ?? []).find((p: any) => lower(p.id) === lower(ORIGIN_PROPERTY))?.value,
    );
    if (tag) entry.tag = tag;
    out.push(entry);
  }
  return out;
}

/** What entriesOf reads, and no more (a room's view can hold a thousand bookings a page). */
const fields = '$select=start,end,isCancelled,isOrganizer,responseStatus,showAs,subject,organizer';
const viewUrl = (room: string, from: number, to: number) =>
  `/users/${enc(room)}/calendarView?startDateTime=${new Date(from * 1000).toISOString()}&endDateTime=${new Date(to * 1000).toISOString()}&$top=1000&${fields}&${expand}`;

export function graphRooms(client: GraphClient): RoomAccess {
  return {
    calendar: (room) => ({ owner: room, id: 'primary' }),
    /** Through `$batch`, 20 rooms per request; a further page of a room's view is read on its own. */
    async agendas(asks) {
      const pages = await runBatched(
        client,
        '(rooms)',
        asks.map((a) => ({ method: 'GET', url: viewUrl(a.room, a.from, a.to) })),
      );
      return Promise.all(
        asks.map(async (a, k): Promise<RoomEntry[] | BridgeError> => {
          const page = pages[k];
          if (!succeeded(page))
            return fromResponse(page?.status ?? 0, page?.headers ?? {}, page?.body, 'room calendar');
          const out = entriesOf(page.body?.value);
          let next: string | undefined = page.body?.['@odata.nextLink'];
          try {
            while (next) {
              const more: any = await client.run(a.room, 'room calendar', (api) =>
                api.api(GraphClient.relative(next!)).get(),
              );
              out.push(...entriesOf(more.value));
              next = more['@odata.nextLink'];
            }
          } catch (e) {
            return e instanceof BridgeError
              ? e
              : new BridgeError('transient', String(e), { provider: 'graph' });
          }
          return out;
        }),
      );
    },
    async agenda(room, from, to) {
      const out: RoomEntry[] = [];
      let url: string | undefined = viewUrl(room, from, to);
      while (url) {
        const page: any = await client.run(room, 'room calendar', (api) => api.api(url!).get());
        out.push(...entriesOf(page.value));
        url = page['@odata.nextLink'] ? GraphClient.relative(page['@odata.nextLink']) : undefined;
      }
      return out;
    },
    async answer(cal: CalendarRef, eventId: string, room: string) {
      let g: any;
      try {
        g = await client.run(cal.owner, 'room answer', (api) =>
          api.api(`/users/${enc(cal.owner)}/events/${enc(eventId)}?$select=attendees,isCancelled`).get(),
        );
      } catch (e: any) {
        if (e?.kind === 'not_found') return undefined;
        throw e;
      }
      if (g.isCancelled) return undefined;
      const a = (g.attendees ?? []).find((x: any) => lower(x.emailAddress?.address) === lower(room));
      return a ? (RSVP[a.status?.response] ?? 'needs-action') : undefined;
    },
  };
}
