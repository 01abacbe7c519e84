/**
 * Room bookings on Exchange (RoomAccess): a room is its room mailbox. Booking events are written into
 * the mailbox's default calendar (application permissions reach room mailboxes like any other), its
 * calendar is read with calendarView, and the room's answer on a mirrored event is read from the
 * organizer's copy (`attendees[].status.response`).
 */
import type { Rsvp } from '../../src/core/index.ts';
import type { CalendarRef, RoomAccess, RoomAnswer, RoomEntry } from '../../src/ports/index.ts';
import { GraphClient } from './client.ts';
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

export function graphRooms(client: GraphClient): RoomAccess {
  return {
    calendar: (room) => ({ owner: room, id: 'primary' }),
    async agenda(room, from, to) {
      const out: RoomEntry[] = [];
      const start = new Date(from * 1000).toISOString();
      const end = new Date(to * 1000).toISOString();
      let url: string | undefined =
        `/users/${enc(room)}/calendarView?startDateTime=${start}&endDateTime=${end}&$top=1000&${expand}`;
      while (url) {
        const page: any = await client.run(room, 'room calendar', (api) => api.api(url!).get());
        for (const g of page.value ?? []) {
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
            (g.singleValueExtendedProperties ?? []).find((p: any) => lower(p.id) === lower(ORIGIN_PROPERTY))
              ?.value,
          );
          if (tag) entry.tag = tag;
          out.push(entry);
        }
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
