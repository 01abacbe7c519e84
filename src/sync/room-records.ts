/**
 * Records the rooms of copies a pair just wrote or read (room-copies.ts decides what): one read of
 * the recorded bookings of the page's uids, one save of what changed. A room that newly declined is
 * the only case that asks the spoke anything more: its calendar, to name what holds it. A pull or
 * stage that writes page after page collects those asks (`RoomsContext.holders`) and names them all
 * at its end (`nameHolders`): one batched read then, not a short batch per page.
 */
import { BridgeError, type CanonicalEvent, formatKey, sameKey } from '../core/index.ts';
import type { CalendarConnector, Link, RoomAnswer, RoomEntry } from '../ports/index.ts';
import type { Pair, SyncPolicy } from './pair.ts';
import {
  type RecordedBooking,
  type RoomLedger,
  releasedWith,
  roomRecords,
  roomsRide,
} from './room-copies.ts';
import { conflictsWith, describeConflict, type Slot, slotsOf } from './rooms.ts';

export interface RoomsContext {
  pair: Pair;
  connector: CalendarConnector;
  policy: SyncPolicy;
  rooms?: RoomLedger;
  /** Declines whose holders are named at the end (nameHolders); unset: named as they are recorded. */
  holders?: HolderAsk[];
}

/** A newly declined booking, and the slots whose holder is to be named from the room's calendar. */
export interface HolderAsk {
  row: RecordedBooking;
  slots: Slot[];
  room: string;
  from: number;
  to: number;
}

/** A copy as written or read: the Feishu event, the copy, its id and its rooms' answers. */
export interface WrittenCopy {
  source?: CanonicalEvent;
  copy: CanonicalEvent;
  copyId: string | null;
  answers: RoomAnswer[] | undefined;
  /** It replaced an earlier version (which may have named rooms that are gone now). */
  replaced?: boolean;
}

/** Records the rooms of these copies; never throws (a booking record is not worth failing a sync). */
export async function recordRooms(ctx: RoomsContext, copies: WrittenCopy[]): Promise<void> {
  const ledger = ctx.rooms;
  if (!ledger) return;
  const riding = copies.filter(
    (c): c is WrittenCopy & { source: CanonicalEvent } =>
      !!c.source && roomsRide(ctx.pair, c.source, ctx.policy) && hasRooms(c),
  );
  try {
    const before = await ledger.bookings(ctx.pair.spoke, [...new Set(riding.map((c) => c.copy.key.uid))]);
    const rows = riding.flatMap((c) => roomRecords({ pair: ctx.pair, ...c }, ctx.policy, before));
    const asks = holderAsks(ctx, rows, before, riding);
    if (ctx.holders) ctx.holders.push(...asks.map((a) => ({ ...a, row: { ...a.row } })));
    else await name(ctx, asks);
    await ledger.save(rows);
  } catch {
    // the next write or read of the copy records it again; reconcile does at the latest
  }
}

/** Releases the bookings carried by these removed copies (their links, tombstoned). */
export async function releaseRooms(ctx: RoomsContext, removed: Link[]): Promise<void> {
  if (!ctx.rooms || removed.length === 0) return;
  try {
    const before = await ctx.rooms.bookings(ctx.pair.spoke, [...new Set(removed.map((l) => l.uid))]);
    const ids = new Set(removed.flatMap((l) => (l.spokeId ? [l.spokeId] : [])));
    const keys = new Set(removed.map((l) => formatKey(l)));
    await ctx.rooms.save(releasedWith(ids, { keys, organizerId: ctx.pair.feishu.owner }, before));
  } catch {
    // as above
  }
}

/** A copy worth looking at: it names rooms now, or may have named some before (an update). */
const hasRooms = (c: WrittenCopy) =>
  c.replaced ||
  c.copy.status === 'cancelled' ||
  c.source?.attendees.some((a) => a.kind === 'room') ||
  c.copy.attendees.some((a) => a.kind === 'room');

/** For each room that declined since last recorded: the span of its calendar that names what holds it. */
function holderAsks(
  ctx: RoomsContext,
  rows: RecordedBooking[],
  before: RecordedBooking[],
  copies: WrittenCopy[],
): HolderAsk[] {
  if (!ctx.connector.rooms) return [];
  const asks: HolderAsk[] = [];
  for (const row of rows) {
    if (row.status !== 'conflict' || !row.spokeRoom) continue;
    const copy = copies.find((c) => sameKey(c.copy.key, row.key))?.copy;
    const was = before.find(
      (b) => b.roomId === row.roomId && sameKey(b.key, row.key) && b.spoke === row.spoke,
    );
    // a conflict already recorded at this time kept its line (and holder): nothing to ask
    if (!copy || (was?.status === 'conflict' && was.startAt?.getTime() === row.startAt?.getTime())) continue;
    const slots = slotsOf(copy, ctx.policy.window.from, ctx.policy.window.to, 50);
    if (slots.length === 0) continue;
    const from = Math.min(...slots.map((s) => s.start));
    const to = Math.max(...slots.map((s) => s.end));
    asks.push({ row, slots, room: row.spokeRoom, from, to });
  }
  return asks;
}

/**
 * Names the holders of the declines collected since the last call (RoomsContext.holders), all in one
 * batched read, and saves those lines where the booking is still recorded as it was then (a later
 * write may have recorded it again). Never throws, as recordRooms.
 */
export async function nameHolders(ctx: RoomsContext): Promise<void> {
  const asks = ctx.holders?.splice(0) ?? [];
  if (!ctx.rooms || asks.length === 0) return;
  try {
    const recorded = asks.map((a) => a.row.lastError);
    await name(ctx, asks);
    const named = asks.flatMap((a, k) =>
      a.row.lastError !== recorded[k] ? [{ ...a, was: recorded[k] }] : [],
    );
    if (named.length === 0) return;
    const now = await ctx.rooms.bookings(ctx.pair.spoke, [...new Set(named.map((a) => a.row.key.uid))]);
    const rows = named.flatMap(({ row, was }) => {
      const cur = now.find(
        (b) => b.roomId === row.roomId && sameKey(b.key, row.key) && b.spoke === row.spoke,
      );
      return cur?.status === 'conflict' && cur.lastError === was
        ? [{ ...cur, lastError: row.lastError }]
        : [];
    });
    if (rows.length) await ctx.rooms.save(rows);
  } catch {
    // the holder is a courtesy: the decline is recorded all the same
  }
}

/**
 * Reads the rooms' calendars over the asks' spans and appends the holder to each ask's line. Asks
 * for one room whose spans overlap are read as one span; all of them in one batched read where the
 * spoke can (`agendas`), else one read each.
 */
async function name(ctx: RoomsContext, asks: HolderAsk[]) {
  const access = ctx.connector.rooms;
  if (!access || asks.length === 0) return;
  const spans: { room: string; from: number; to: number }[] = [];
  const spanOf: number[] = [];
  const order = asks.map((_, k) => k);
  order.sort((a, b) => asks[a].room.localeCompare(asks[b].room) || asks[a].from - asks[b].from);
  for (const k of order) {
    const { room, from, to } = asks[k];
    const last = spans.at(-1);
    if (last?.room === room && from <= last.to) last.to = Math.max(last.to, to);
    else spans.push({ room, from, to });
    spanOf[k] = spans.length - 1;
  }
  let read: (RoomEntry[] | BridgeError)[];
  try {
    read = access.agendas
      ? await access.agendas(spans)
      : await Promise.all(
          spans.map((a) =>
            access
              .agenda(a.room, a.from, a.to)
              .catch((e) => (e instanceof BridgeError ? e : Promise.reject(e))),
          ),
        );
  } catch (e) {
    // the rooms' calendars may not be readable (Google needs google.admin): the declines stand alone
    if (e instanceof BridgeError) return;
    throw e;
  }
  asks.forEach(({ row, slots }, k) => {
    const agenda = read[spanOf[k]];
    if (!agenda || agenda instanceof BridgeError) return;
    const holders = conflictsWith(slots, agenda, (e) => e.id === row.spokeEventId);
    if (holders.length === 0) return;
    const more = holders.length > 1 ? ` (and ${holders.length - 1} more)` : '';
    row.lastError = `${row.lastError}: ${describeConflict(holders[0])}${more}`;
  });
}
