/**
 * Carrying out the room steps of one room event on one spoke: the I/O half of src/sync/rooms.ts.
 * Every step ends in a recorded booking row; a failure is recorded, never thrown.
 */
import { BridgeError, type CanonicalEvent, formatKey, type InstanceKey } from '../core/index.ts';
import type { CalendarConnector, CalendarRef, RoomAccess, WriteOp, WriteResult } from '../ports/index.ts';
import type { BookingRow } from '../store/bookings.ts';
import type { Spoke } from '../sync/pair.ts';
import {
  type Booking,
  type BookingStatus,
  bookingEvent,
  bookingTag,
  conflictsWith,
  describeConflict,
  isBookingOf,
  type RoomEvent,
  type RoomStep,
  slotsOf,
} from '../sync/rooms.ts';

export interface StepContext {
  ev: RoomEvent;
  spokes: Partial<Record<Spoke, CalendarConnector>>;
  /** How the booking event names the organizer. */
  organizer: string;
  /** The Feishu event (series master, single or exception), when it could be read. */
  feishu?: CanonicalEvent;
  /** The sync window (Unix seconds): how far a series is checked and booked. */
  window: { from: number; to: number };
  /** The organizer's mirrored event on a spoke: its calendar and id there, or why there is none. */
  mirror(spoke: Spoke): Promise<{ calendar: CalendarRef; id: string } | { missing: string }>;
}

export type StepOutcome = { row: BookingRow };

const describe = (e: unknown) =>
  e instanceof BridgeError ? `${e.kind}: ${e.message}` : e instanceof Error ? e.message : String(e);

function rowOf(
  c: StepContext,
  b: Pick<Booking, 'roomId' | 'spoke'> & Partial<Booking>,
  status: BookingStatus,
  lastError: string | null = null,
): BookingRow {
  return {
    roomId: b.roomId,
    key: b.key ?? c.ev.key,
    spoke: b.spoke,
    spokeRoom: b.spokeRoom ?? null,
    mode: b.mode ?? null,
    spokeEventId: b.spokeEventId ?? null,
    status,
    startAt: new Date(c.ev.start * 1000),
    endAt: new Date(c.ev.end * 1000),
    organizer: c.organizer,
    organizerId: c.ev.organizer.openId ?? null,
    lastError,
  };
}

function access(c: StepContext, spoke: Spoke): { connector: CalendarConnector; rooms: RoomAccess } {
  const connector = c.spokes[spoke];
  if (!connector?.rooms) throw new BridgeError('config', `${spoke}: this spoke cannot book rooms`);
  return { connector, rooms: connector.rooms };
}

async function writeOne(connector: CalendarConnector, cal: CalendarRef, op: WriteOp): Promise<WriteResult> {
  const [r] = await connector.write(cal, [op]);
  return r ?? { ok: false, error: new BridgeError('transient', 'no result for the write') };
}

/** The booking event of this occurrence, keyed so a standalone occurrence never looks like an exception. */
function booking(c: StepContext, parented: boolean): { event: CanonicalEvent; key: InstanceKey } {
  const { ev, feishu } = c;
  const standalone = ev.key.originalTime !== 0 && !parented;
  const key = standalone ? { uid: formatKey(ev.key), originalTime: 0 } : ev.key;
  const zone = feishu && 'timeZone' in feishu.start ? feishu.start.timeZone : 'UTC';
  const event = bookingEvent({
    key,
    start: ev.start,
    end: ev.end,
    timeZone: zone,
    recurrence: ev.key.originalTime === 0 ? feishu?.recurrence : [],
    organizer: c.organizer,
  });
  return { event, key };
}

export async function runStep(c: StepContext, step: RoomStep): Promise<StepOutcome> {
  switch (step.kind) {
    case 'unmapped':
      return { row: rowOf(c, { roomId: step.roomId, spoke: step.spoke }, 'unmapped', step.reason) };
    case 'release':
      return release(c, step.booking);
    case 'attend':
      return attend(c, step);
    case 'cancel':
      return cancel(c, step);
    case 'book':
      return book(c, step);
  }
}

async function release(c: StepContext, b: Booking): Promise<StepOutcome> {
  const kept = { ...b };
  if (b.mode === 'book' && b.spokeEventId && b.spokeRoom) {
    try {
      const { connector, rooms } = access(c, b.spoke);
      const r = await writeOne(connector, rooms.calendar(b.spokeRoom), {
        op: 'remove',
        ref: { id: b.spokeEventId },
      });
      if (!r.ok) return { row: rowOf(c, kept, b.status, `release failed: ${describe(r.error)}`) };
    } catch (e) {
      return { row: rowOf(c, kept, b.status, `release failed: ${describe(e)}`) };
    }
  }
  // an attended room is released by the sync removing it (or the meeting) from the mirrored event
  const row = rowOf(c, { ...kept, spokeEventId: null }, 'released');
  const own = b as Partial<BookingRow>;
  return { row: { ...row, startAt: own.startAt ?? row.startAt, endAt: own.endAt ?? row.endAt } };
}

async function attend(c: StepContext, step: Extract<RoomStep, { kind: 'attend' }>): Promise<StepOutcome> {
  const base = { roomId: step.roomId, spoke: step.spoke, spokeRoom: step.room, mode: 'attend' as const };
  try {
    const { rooms } = access(c, step.spoke);
    const mirror = await c.mirror(step.spoke);
    if ('missing' in mirror) return { row: rowOf(c, base, 'failed', mirror.missing) };
    const withId = { ...base, spokeEventId: mirror.id };
    const answer = await rooms.answer(mirror.calendar, mirror.id, step.room);
    if (answer === 'accepted' || answer === 'tentative') return { row: rowOf(c, withId, 'booked') };
    if (answer === 'needs-action')
      return { row: rowOf(c, withId, 'pending', 'the room has not answered yet') };
    if (answer === undefined)
      return { row: rowOf(c, withId, 'failed', 'the mirrored event does not name the room') };
    const holders = await rooms
      .agenda(step.room, c.ev.start, c.ev.end)
      .then((a) => a.filter((e) => e.id !== mirror.id && !e.free && e.answer === 'accepted'))
      .catch(() => []);
    const why = holders.length ? describeConflict(holders[0]) : 'it is busy then';
    return { row: rowOf(c, withId, 'conflict', `the room declined: ${why}`) };
  } catch (e) {
    return { row: rowOf(c, base, 'failed', describe(e)) };
  }
}

async function cancel(c: StepContext, step: Extract<RoomStep, { kind: 'cancel' }>): Promise<StepOutcome> {
  const base = { roomId: step.roomId, spoke: step.spoke, spokeRoom: step.room, mode: 'book' as const };
  try {
    const { connector, rooms } = access(c, step.spoke);
    const { event } = booking(c, true);
    const r = await writeOne(connector, rooms.calendar(step.room), {
      op: 'create',
      event: { ...event, status: 'cancelled' },
      tag: bookingTag(step.roomId, c.ev.key),
      parent: { id: step.parent.spokeEventId! },
    });
    if (!r.ok)
      return { row: rowOf(c, base, 'failed', `cancelling the occurrence failed: ${describe(r.error)}`) };
    return { row: rowOf(c, base, 'released') };
  } catch (e) {
    return { row: rowOf(c, base, 'failed', describe(e)) };
  }
}

async function book(c: StepContext, step: Extract<RoomStep, { kind: 'book' }>): Promise<StepOutcome> {
  const base = { roomId: step.roomId, spoke: step.spoke, spokeRoom: step.room, mode: 'book' as const };
  const held = step.previous?.status === 'booked' && step.previous.spokeEventId ? step.previous : undefined;
  const was = held as Partial<BookingRow> | undefined;
  if (was?.startAt?.getTime() === c.ev.start * 1000 && was?.endAt?.getTime() === c.ev.end * 1000) {
    // already held at this time: nothing to write, nothing to check again
    return { row: rowOf(c, { ...base, spokeEventId: held!.spokeEventId }, 'booked') };
  }
  try {
    const { connector, rooms } = access(c, step.spoke);
    const cal = rooms.calendar(step.room);
    const { event, key } = booking(c, !!step.parent);
    const slots = slotsOf(event, c.window.from, c.window.to);
    const from = Math.min(...slots.map((s) => s.start));
    const to = Math.max(...slots.map((s) => s.end));
    const agenda = slots.length ? await rooms.agenda(step.room, from, to) : [];
    const clashes = conflictsWith(slots, agenda, (e) => isBookingOf(e.tag, step.roomId, c.ev.key.uid));
    if (clashes.length) {
      // the meeting left its old slot: free that, and book nothing over the other booking
      const free: WriteOp | undefined = held
        ? { op: 'remove', ref: { id: held.spokeEventId! } }
        : step.parent?.spokeEventId
          ? {
              op: 'create',
              event: { ...event, status: 'cancelled' },
              tag: bookingTag(step.roomId, key),
              parent: { id: step.parent.spokeEventId },
            }
          : undefined;
      if (free) {
        const r = await writeOne(connector, cal, free);
        if (!r.ok)
          return {
            row: rowOf(c, { ...base, spokeEventId: held?.spokeEventId }, 'failed', describe(r.error)),
          };
      }
      const more = clashes.length > 1 ? ` (and ${clashes.length - 1} more)` : '';
      return { row: rowOf(c, base, 'conflict', `the room is busy: ${describeConflict(clashes[0])}${more}`) };
    }
    const tag = bookingTag(step.roomId, key);
    const parent = step.parent?.spokeEventId ? { id: step.parent.spokeEventId } : undefined;
    const op: WriteOp = held
      ? { op: 'update', ref: { id: held.spokeEventId! }, event, tag, ...(parent ? { parent } : {}) }
      : { op: 'create', event, tag, ...(parent ? { parent } : {}) };
    const r = await writeOne(connector, cal, op);
    if (!r.ok)
      return {
        row: rowOf(c, { ...base, spokeEventId: held?.spokeEventId ?? null }, 'failed', describe(r.error)),
      };
    return { row: rowOf(c, { ...base, spokeEventId: r.ref?.id ?? held?.spokeEventId ?? null }, 'booked') };
  } catch (e) {
    return { row: rowOf(c, { ...base, spokeEventId: held?.spokeEventId ?? null }, 'failed', describe(e)) };
  }
}
