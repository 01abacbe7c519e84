/**
 * Room reports: bookings counted per room and spoke (for `feisync status`, the report and metrics),
 * and the config's rooms checked against each spoke's room directory (for `feisync status` and
 * `feisync config check --online`).
 */
import type { Config } from '../config/index.ts';
import type { CalendarConnector, RoomInfo } from '../ports/index.ts';
import { bookingCounts, type StatusCounts, zeroStatusCounts } from '../store/bookings.ts';
import type { PrismaClient } from '../store/db.ts';
import type { SqlReader } from '../store/sql.ts';
import type { Spoke } from '../sync/pair.ts';

export interface RoomCount {
  roomId: string;
  name?: string;
  spoke: string;
  /** The room's address on the spoke, from the rooms table. */
  room?: string;
  counts: StatusCounts;
}

export interface RoomSummary {
  rooms: RoomCount[];
  totals: StatusCounts;
}

const addressOf = (r: Config['rooms'][number] | undefined, spoke: string) =>
  spoke === 'google' ? r?.google : spoke === 'graph' ? r?.exchange : undefined;

/** Bookings per room and spoke by status (booked, pending, conflict, unmapped, failed, released). */
export async function roomSummary(app: {
  db: { prisma: SqlReader };
  config?: Pick<Config, 'rooms'>;
}): Promise<RoomSummary> {
  const totals = zeroStatusCounts();
  const rooms = (await bookingCounts(app.db.prisma)).map((g): RoomCount => {
    const mapping = app.config?.rooms.find((r) => r.feishu === g.roomId);
    for (const k of Object.keys(totals) as (keyof StatusCounts)[]) totals[k] += g.counts[k];
    const room = addressOf(mapping, g.spoke);
    return {
      roomId: g.roomId,
      ...(mapping?.name ? { name: mapping.name } : {}),
      spoke: g.spoke,
      ...(room ? { room } : {}),
      counts: g.counts,
    };
  });
  return { rooms, totals };
}

export interface RoomDirectoryCheck {
  /** Spokes whose directory was read. */
  checked: Spoke[];
  /** Config rooms the spoke's directory does not have. */
  missing: { roomId: string; name?: string; spoke: Spoke; room: string }[];
  /** Spokes whose directory could not be read (or `config` when no connector could be built), and why. */
  errors: { spoke: Spoke | 'config'; error: string }[];
}

type Spokes = Partial<Record<Spoke, CalendarConnector>>;

/** Reads each spoke's room directory and lists the config rooms it does not have. */
export async function checkRoomDirectories(
  config: Pick<Config, 'rooms'>,
  connect: Spokes | (() => Spokes),
): Promise<RoomDirectoryCheck> {
  const out: RoomDirectoryCheck = { checked: [], missing: [], errors: [] };
  let spokes: Spokes;
  try {
    spokes = typeof connect === 'function' ? connect() : connect;
  } catch (e) {
    out.errors.push({ spoke: 'config', error: e instanceof Error ? e.message : String(e) });
    return out;
  }
  for (const spoke of ['google', 'graph'] as const) {
    const connector = spokes[spoke];
    const wanted = config.rooms.filter((r) => addressOf(r, spoke));
    if (!connector || wanted.length === 0) continue;
    if (!connector.listRooms) {
      out.errors.push({ spoke, error: 'this spoke cannot list its rooms' });
      continue;
    }
    let known: RoomInfo[];
    try {
      known = await connector.listRooms();
    } catch (e) {
      out.errors.push({ spoke, error: e instanceof Error ? e.message : String(e) });
      continue;
    }
    out.checked.push(spoke);
    const emails = new Set(known.map((r) => r.email.toLowerCase()));
    for (const r of wanted) {
      const room = addressOf(r, spoke)!;
      if (!emails.has(room.toLowerCase()))
        out.missing.push({ roomId: r.feishu, ...(r.name ? { name: r.name } : {}), spoke, room });
    }
  }
  return out;
}

export interface Section {
  title: string;
  headers: string[];
  rows: string[][];
  empty: string;
}

const NUMBERS = ['booked', 'pending', 'conflict', 'unmapped', 'failed', 'released'] as const;

/** The room sections of `feisync status`. */
export function roomSections(
  summary: RoomSummary | undefined,
  directory: RoomDirectoryCheck | undefined,
): Section[] {
  const out: Section[] = [];
  if (summary) {
    out.push({
      title: 'Room bookings by room',
      headers: ['ROOM', 'NAME', 'SPOKE', 'ADDRESS', ...NUMBERS.map((n) => n.toUpperCase())],
      rows: summary.rooms.map((r) => [
        r.roomId,
        r.name ?? '-',
        r.spoke,
        r.room ?? '-',
        ...NUMBERS.map((n) => String(r.counts[n])),
      ]),
      empty: 'no room bookings yet',
    });
  }
  if (directory) {
    out.push({
      title: 'Rooms missing from a spoke directory',
      headers: ['ROOM', 'NAME', 'SPOKE', 'ADDRESS'],
      rows: [
        ...directory.missing.map((m) => [m.roomId, m.name ?? '-', m.spoke, m.room]),
        ...directory.errors.map((e) => ['?', '-', e.spoke, `directory not read: ${e.error}`]),
      ],
      empty: directory.checked.length
        ? `none (checked ${directory.checked.join(', ')})`
        : 'no directory checked',
    });
  }
  return out;
}

/** Spokes as the config names them. */
const label = (spoke: string) => (spoke === 'graph' ? 'exchange' : spoke);

/** The rooms table as `feisync config check` prints it, with what the directories lack if read. */
export function formatConfigRooms(config: Pick<Config, 'rooms'>, directory?: RoomDirectoryCheck): string {
  const lines = [`Rooms table (${config.rooms.length})`];
  for (const r of config.rooms) {
    const missing = directory?.missing.filter((m) => m.roomId === r.feishu).map((m) => m.spoke) ?? [];
    const where = [r.google ? `google ${r.google}` : '', r.exchange ? `exchange ${r.exchange}` : '']
      .filter(Boolean)
      .join(', ');
    const note = missing.length
      ? `  NOT IN THE ${missing.map(label).join(', ').toUpperCase()} DIRECTORY`
      : '';
    lines.push(`  ${r.feishu}${r.name ? ` (${r.name})` : ''} -> ${where}${note}`);
  }
  if (directory) {
    if (directory.checked.length)
      lines.push(`  directories read: ${directory.checked.map(label).join(', ')}`);
    for (const e of directory.errors) lines.push(`  ${label(e.spoke)} directory not read: ${e.error}`);
  } else if (config.rooms.length)
    lines.push("  (offline: run with --online to check the spokes' room directories)");
  return lines.join('\n');
}

/** Bookings of the meetings one pair's user organizes on that pair's spoke, by outcome. */
export function roomsOfPair(prisma: PrismaClient) {
  return async (pair: { feishu: { owner: string }; spoke: Spoke }) => {
    const groups = await prisma.roomBooking.groupBy({
      by: ['status'],
      where: { organizerId: pair.feishu.owner, spoke: pair.spoke },
      _count: { _all: true },
    });
    const count = (status: string) => groups.find((g) => g.status === status)?._count._all ?? 0;
    return {
      roomsBooked: count('booked'),
      roomsPending: count('pending'),
      roomsConflict: count('conflict'),
      roomsUnmapped: count('unmapped'),
    };
  };
}
