/**
 * Rooms carried by mirrored meetings: every room of a meeting that the sync writes (or reads back)
 * on a spoke gets its booking record there, whatever brought it (initial sync, incremental pull,
 * reconcile, a room event's pull). Pure: the room's answer comes with the copy that was written or
 * read anyway (the spoke books a resource attendee and answers for it), so recording costs no
 * request; apply.ts saves what changed through a RoomLedger.
 *
 * A room rides only on its organizer's copy (src/app/pairs.ts leaves it off attendees' copies, where
 * it would be booked a second time), so only the organizer's pair records it:
 * - a room the pair's spoke books: `booked` (accepted, tentative), `pending` (no answer yet, or the
 *   answer is unknown), `conflict` (declined; the meeting is still mirrored, the people still meet);
 * - a room of the Feishu event that the rooms table does not map to that spoke: `unmapped`;
 * - a room no longer on the meeting, a cancelled occurrence, a removed copy: `released`.
 * Bookings made by booking events on the room's calendar (mode `book`, src/app/rooms-steps.ts) belong
 * to the room-event path and are left as they are.
 */
import { type CanonicalEvent, type EventTime, formatKey, isAllDay, sameKey } from '../core/index.ts';
import type { RoomAnswer } from '../ports/index.ts';
import type { Pair, Spoke, SyncPolicy } from './pair.ts';
import { type Booking, isLive } from './rooms.ts';

/** A booking as recorded, with what the reports show about it. */
export interface RecordedBooking extends Booking {
  startAt: Date | null;
  endAt: Date | null;
  /** How the booking names the organizer (name and e-mail when known). */
  organizer: string | null;
  /** The organizer's Feishu open_id. */
  organizerId: string | null;
  /** Why it is not booked (a conflict's holder, a failure, an unmapped room). */
  lastError: string | null;
  /** The meeting's title as mirrored; undefined leaves what was recorded. */
  summary?: string | null;
}

/** Where booking records live (src/store/bookings.ts). */
export interface RoomLedger {
  /** Recorded bookings of these Feishu uids (every occurrence and room) on one spoke. */
  bookings(spoke: Spoke, uids: string[]): Promise<RecordedBooking[]>;
  /** Inserts or updates by (room, instance key, spoke). */
  save(rows: RecordedBooking[]): Promise<void>;
}

/** A copy of a Feishu event on a pair's spoke, as written or read. */
export interface RoomCopy {
  pair: Pair;
  /** The Feishu event (its rooms, by Feishu room id, and its organizer). */
  source: CanonicalEvent;
  /** The copy as written for the pair (rooms mapped to the spoke's addresses). */
  copy: CanonicalEvent;
  /** The copy's id on the spoke. */
  copyId: string | null;
  /** The rooms' answers on the copy; undefined when unknown (the spoke's answer did not carry them). */
  answers: RoomAnswer[] | undefined;
}

const lower = (s: string | undefined | null) => (s ?? '').toLowerCase();
const spokeName = (spoke: Spoke) => (spoke === 'google' ? 'Google' : 'Exchange');

/** The pair's copies carry the event's rooms: the pair is the organizer's and copies attendees. */
export function roomsRide(pair: Pair, source: CanonicalEvent, policy: SyncPolicy): boolean {
  if (!policy.target?.attendee || !policy.fields.includes('attendees')) return false;
  if (source.visibility === 'private' && policy.privateEvents !== 'copy') return false;
  const organizer = source.organizer?.id;
  return !organizer || organizer === pair.feishu.owner;
}

const seconds = (t: EventTime) => (isAllDay(t) ? Date.parse(`${t.date}T00:00:00Z`) / 1000 : t.timestamp);

/** The occurrence as an admin reads it: its start in UTC (a series: its first). */
export function occurrenceOf(ev: CanonicalEvent): string {
  const at = isAllDay(ev.start)
    ? ev.start.date
    : `${new Date(ev.start.timestamp * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const series = ev.key.originalTime === 0 && ev.recurrence.some((l) => /^RRULE:/i.test(l));
  return series ? `the series from ${at}` : at;
}

/** The line naming a declined room's meeting, occurrence and room; the holder is added when known. */
export const declinedLine = (room: string, ev: CanonicalEvent) =>
  `${room} declined "${ev.summary}" (${formatKey(ev.key)}, ${occurrenceOf(ev)})`;

/**
 * The booking records of the rooms on one copy, given what is recorded for this key on this spoke
 * (`previous`). Answers only rows that differ from what is recorded.
 */
export function roomRecords(c: RoomCopy, policy: SyncPolicy, previous: RecordedBooking[]): RecordedBooking[] {
  const { pair, source, copy } = c;
  if (!roomsRide(pair, source, policy)) return [];
  const spoke = pair.spoke;
  const mine = previous.filter((b) => b.spoke === spoke && sameKey(b.key, copy.key));
  const byRoom = new Map(mine.map((b) => [b.roomId, b]));
  const ownedElsewhere = (roomId: string) => {
    const b = byRoom.get(roomId);
    return !!b && b.mode === 'book' && isLive(b);
  };
  const base = {
    key: copy.key,
    spoke,
    startAt: new Date(seconds(copy.start) * 1000),
    endAt: new Date(seconds(copy.end) * 1000),
    organizer: organizerOf(source, pair),
    organizerId: pair.feishu.owner,
    summary: copy.summary,
  };
  const out: RecordedBooking[] = [];
  const release = (b: RecordedBooking) => ({ ...b, status: 'released' as const, lastError: null });
  if (copy.status === 'cancelled') {
    for (const b of mine) if (recordedHere(b)) out.push(release(b));
    return changed(out, byRoom);
  }
  const wanted = new Set<string>();
  for (const a of copy.attendees) {
    if (a.kind !== 'room' || !a.id || !a.email || wanted.has(a.id)) continue;
    wanted.add(a.id);
    if (ownedElsewhere(a.id)) continue;
    const row = {
      ...base,
      roomId: a.id,
      spokeRoom: a.email,
      mode: 'attend' as const,
      spokeEventId: c.copyId,
    };
    const name = a.name && lower(a.name) !== lower(a.email) ? `${a.name} <${a.email}>` : a.email;
    const answer = c.answers
      ? (c.answers.find((x) => lower(x.room) === lower(a.email))?.answer ?? 'needs-action')
      : undefined;
    const was = byRoom.get(a.id);
    if (answer === undefined) {
      // the spoke's answer did not carry the rooms: keep what is known of this booking, else ask later
      const same =
        was &&
        isLive(was) &&
        lower(was.spokeRoom) === lower(a.email) &&
        was.startAt?.getTime() === row.startAt.getTime();
      out.push(
        same
          ? { ...row, status: was.status, lastError: was.lastError }
          : { ...row, status: 'pending', lastError: `${name}: the room's answer is not known yet` },
      );
    } else if (answer === 'accepted' || answer === 'tentative')
      out.push({ ...row, status: 'booked', lastError: null });
    else if (answer === 'needs-action')
      out.push({ ...row, status: 'pending', lastError: `${name} has not answered yet` });
    else {
      // a conflict already recorded at this time keeps its holder's name
      const kept =
        was?.status === 'conflict' && was.startAt?.getTime() === row.startAt.getTime() ? was.lastError : null;
      out.push({ ...row, status: 'conflict', lastError: kept ?? declinedLine(name, copy) });
    }
  }
  const seen = new Set<string>();
  for (const a of source.attendees) {
    if (a.kind !== 'room' || !a.id || wanted.has(a.id) || seen.has(a.id)) continue;
    seen.add(a.id);
    if (ownedElsewhere(a.id)) continue;
    out.push({
      ...base,
      roomId: a.id,
      spokeRoom: null,
      mode: null,
      spokeEventId: null,
      status: 'unmapped',
      lastError: `the rooms table gives no ${spokeName(spoke)} room for ${a.name && a.name !== a.id ? `${a.name} (${a.id})` : a.id}`,
    });
  }
  for (const b of mine) {
    if (!wanted.has(b.roomId) && !seen.has(b.roomId) && recordedHere(b)) out.push(release(b));
  }
  return changed(out, byRoom);
}

/** A record this path keeps (not a booking event's, not released yet): attended, or unmapped. */
const recordedHere = (b: RecordedBooking) => b.mode !== 'book' && b.status !== 'released';

/**
 * When copies are removed: the attended bookings they carried (by the copies' ids on the spoke), and
 * the rooms the organizer's meeting had unmapped there (`removed`: the removed instance keys of the
 * organizer `organizerId`; a series master's key takes its occurrences), are released.
 */
export function releasedWith(
  copyIds: Set<string>,
  removed: { keys: Set<string>; organizerId: string },
  previous: RecordedBooking[],
): RecordedBooking[] {
  const gone = (b: RecordedBooking) =>
    removed.keys.has(formatKey(b.key)) || removed.keys.has(formatKey({ uid: b.key.uid, originalTime: 0 }));
  return previous
    .filter(
      (b) =>
        recordedHere(b) &&
        ((b.spokeEventId && copyIds.has(b.spokeEventId)) ||
          (b.status === 'unmapped' && b.organizerId === removed.organizerId && gone(b))),
    )
    .map((b) => ({ ...b, status: 'released' as const, lastError: null }));
}

function organizerOf(source: CanonicalEvent, pair: Pair): string {
  const name = source.organizer?.name;
  const email = pair.userKey.includes('@') ? pair.userKey : source.organizer?.email;
  if (name && email) return `${name} <${email}>`;
  return name ?? email ?? pair.feishu.owner;
}

const SAME: (keyof RecordedBooking)[] = [
  'status',
  'spokeRoom',
  'mode',
  'spokeEventId',
  'lastError',
  'summary',
];

function changed(rows: RecordedBooking[], before: Map<string, RecordedBooking>): RecordedBooking[] {
  return rows.filter((r) => {
    const b = before.get(r.roomId);
    if (!b) return true;
    const t = (d: Date | null) => d?.getTime() ?? null;
    return (
      SAME.some((k) => (r[k] ?? null) !== (b[k] ?? null)) ||
      t(r.startAt) !== t(b.startAt) ||
      t(r.endAt) !== t(b.endAt) ||
      r.organizer !== b.organizer
    );
  });
}
