/** Room bookings on Prisma: one RoomBooking row per (Feishu room, instance key, spoke). */
import type { InstanceKey } from '../core/index.ts';
import type { Spoke } from '../sync/pair.ts';
import type { Booking, BookingMode, BookingStatus } from '../sync/rooms.ts';
import type { PrismaClient } from './db.ts';

/** A booking with what the report shows about it. */
export interface BookingRow extends Booking {
  startAt: Date | null;
  endAt: Date | null;
  organizer: string | null;
  /** The organizer's Feishu open_id. */
  organizerId: string | null;
  /** Why it is not booked (a conflict's holder, a failure, an unmapped room). */
  lastError: string | null;
}

/** Every recorded booking of a Feishu event (all its occurrences, every room and spoke). */
export async function bookingsOf(prisma: PrismaClient, uid: string): Promise<BookingRow[]> {
  return toRows(await prisma.roomBooking.findMany({ where: { uid }, orderBy: { id: 'asc' } }));
}

/** Bookings in these states (oldest first), e.g. to check pending answers and conflicts again. */
export async function bookingsIn(
  prisma: PrismaClient,
  statuses: BookingStatus[],
  take = 500,
): Promise<BookingRow[]> {
  return toRows(
    await prisma.roomBooking.findMany({
      where: { status: { in: statuses } },
      orderBy: [{ updatedAt: 'asc' }, { id: 'asc' }],
      take,
    }),
  );
}

type Row = Awaited<ReturnType<PrismaClient['roomBooking']['findMany']>>[number];

function toRows(rows: Row[]): BookingRow[] {
  return rows.map((r) => ({
    roomId: r.roomId,
    key: { uid: r.uid, originalTime: Number(r.originalTime) },
    spoke: r.spoke as Spoke,
    spokeRoom: r.spokeRoom,
    mode: (r.mode as BookingMode | null) ?? null,
    spokeEventId: r.spokeEventId,
    status: r.status as BookingStatus,
    startAt: r.startAt,
    endAt: r.endAt,
    organizer: r.organizer,
    organizerId: r.organizerId,
    lastError: r.lastError,
  }));
}

/** Inserts or updates the row of (room, key, spoke). */
export async function saveBooking(prisma: PrismaClient, b: BookingRow): Promise<void> {
  const where = {
    roomId_uid_originalTime_spoke: {
      roomId: b.roomId,
      uid: b.key.uid,
      originalTime: BigInt(b.key.originalTime),
      spoke: b.spoke,
    },
  };
  const data = {
    spokeRoom: b.spokeRoom,
    mode: b.mode,
    spokeEventId: b.spokeEventId,
    status: b.status,
    startAt: b.startAt,
    endAt: b.endAt,
    organizer: b.organizer,
    organizerId: b.organizerId,
    lastError: b.lastError,
  };
  await prisma.roomBooking.upsert({
    where,
    create: {
      roomId: b.roomId,
      uid: b.key.uid,
      originalTime: BigInt(b.key.originalTime),
      spoke: b.spoke,
      ...data,
    },
    update: data,
  });
}

export type StatusCounts = Record<BookingStatus, number>;
export const zeroStatusCounts = (): StatusCounts => ({
  booked: 0,
  pending: 0,
  conflict: 0,
  released: 0,
  unmapped: 0,
  failed: 0,
});

/** Bookings counted by room, spoke and status. */
export async function bookingCounts(
  prisma: PrismaClient,
): Promise<{ roomId: string; spoke: string; counts: StatusCounts }[]> {
  const groups = await prisma.roomBooking.groupBy({
    by: ['roomId', 'spoke', 'status'],
    _count: { _all: true },
    orderBy: [{ roomId: 'asc' }, { spoke: 'asc' }],
  });
  const out = new Map<string, { roomId: string; spoke: string; counts: StatusCounts }>();
  for (const g of groups) {
    const k = `${g.roomId} ${g.spoke}`;
    const row = out.get(k) ?? { roomId: g.roomId, spoke: g.spoke, counts: zeroStatusCounts() };
    if (g.status in row.counts) row.counts[g.status as BookingStatus] += g._count._all;
    out.set(k, row);
  }
  return [...out.values()];
}

export type { InstanceKey };
