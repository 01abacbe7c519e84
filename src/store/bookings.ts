/** Room bookings on Prisma: one RoomBooking row per (Feishu room, instance key, spoke). */
import type { InstanceKey } from '../core/index.ts';
import type { Spoke } from '../sync/pair.ts';
import type { RecordedBooking, RoomLedger } from '../sync/room-copies.ts';
import type { BookingMode, BookingStatus } from '../sync/rooms.ts';
import type { PrismaClient } from './db.ts';
import type { SqlReader } from './sql.ts';

/** A booking with what the report shows about it. */
export type BookingRow = RecordedBooking;

/** Every recorded booking of a Feishu event (all its occurrences, every room and spoke). */
export async function bookingsOf(prisma: PrismaClient, uid: string): Promise<BookingRow[]> {
  // a stable order whichever path recorded them first (the sync records both spokes at once)
  const orderBy = [{ originalTime: 'asc' as const }, { roomId: 'asc' as const }, { spoke: 'asc' as const }];
  return toRows(await prisma.roomBooking.findMany({ where: { uid }, orderBy }));
}

/** Bookings in these states (oldest first), e.g. to check pending answers and conflicts again. */
export async function bookingsIn(
  prisma: PrismaClient,
  statuses: BookingStatus[],
  take = 500,
  /** Only rows last recorded before this time. */
  recordedBefore?: Date,
): Promise<BookingRow[]> {
  return toRows(
    await prisma.roomBooking.findMany({
      where: { status: { in: statuses }, ...(recordedBefore ? { updatedAt: { lt: recordedBefore } } : {}) },
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
    summary: r.summary,
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
    ...(b.summary !== undefined ? { summary: b.summary } : {}),
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

const COLUMNS = [
  ...['roomId', 'uid', 'originalTime', 'spoke', 'spokeRoom', 'mode', 'spokeEventId', 'status'],
  ...['startAt', 'endAt', 'organizer', 'organizerId', 'lastError', 'summary'],
] as const;
const TYPES = [
  ...['text', 'text', 'bigint', 'text', 'text', 'text', 'text', 'text'],
  ...['timestamp(3)', 'timestamp(3)', 'text', 'text', 'text', 'text'],
];
/** One statement per batch; a row whose summary is unknown (null) keeps the recorded one. */
const UPSERT = `INSERT INTO "RoomBooking" (${COLUMNS.map((c) => `"${c}"`).join(', ')}, "updatedAt")
SELECT *, now() FROM unnest(${TYPES.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})
ON CONFLICT ("roomId", "uid", "originalTime", "spoke") DO UPDATE SET
${COLUMNS.slice(4)
  .map((c) =>
    c === 'summary'
      ? `"summary" = COALESCE(EXCLUDED."summary", "RoomBooking"."summary")`
      : `"${c}" = EXCLUDED."${c}"`,
  )
  .join(',\n')}, "updatedAt" = now()`;

/** The bookings the sync records as it writes and reads mirrored meetings (src/sync/room-copies.ts). */
export function roomLedger(prisma: PrismaClient): RoomLedger {
  return {
    async bookings(spoke, uids) {
      if (uids.length === 0) return [];
      return toRows(await prisma.roomBooking.findMany({ where: { uid: { in: uids }, spoke } }));
    },
    async save(rows) {
      if (rows.length === 0) return;
      const key = (b: RecordedBooking) =>
        `${b.roomId}\u0000${b.key.uid}\u0000${b.key.originalTime}\u0000${b.spoke}`;
      // one statement cannot upsert a row twice: the last one of a key wins
      const unique = [...new Map(rows.map((b) => [key(b), b])).values()];
      const value = (b: RecordedBooking, c: (typeof COLUMNS)[number]) => {
        if (c === 'uid') return b.key.uid;
        if (c === 'originalTime') return String(b.key.originalTime);
        return b[c] ?? null;
      };
      await prisma.$executeRawUnsafe(UPSERT, ...COLUMNS.map((c) => unique.map((b) => value(b, c))));
    },
  };
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
  db: SqlReader,
): Promise<{ roomId: string; spoke: string; counts: StatusCounts }[]> {
  const groups = await db.$queryRawUnsafe<{ roomId: string; spoke: string; status: string; n: number }[]>(
    `SELECT "roomId", spoke, status, count(*)::int AS n FROM "RoomBooking"
     GROUP BY "roomId", spoke, status ORDER BY "roomId", spoke`,
  );
  const out = new Map<string, { roomId: string; spoke: string; counts: StatusCounts }>();
  for (const g of groups) {
    const k = `${g.roomId} ${g.spoke}`;
    const row = out.get(k) ?? { roomId: g.roomId, spoke: g.spoke, counts: zeroStatusCounts() };
    if (g.status in row.counts) row.counts[g.status as BookingStatus] += g.n;
    out.set(k, row);
  }
  return [...out.values()];
}

export type { InstanceKey };
