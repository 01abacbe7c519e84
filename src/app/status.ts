/**
 * `feisync status`: pairs with their link counts and cursors, last runs, user consent, recent link
 * failures, pg-boss dead letters and room bookings needing attention. Read-only.
 */
import { formatKey } from '../core/index.ts';
import { lastRuns, type RunRecord } from '../store/runs.ts';
import { epochMs, limit, type SqlReader, toDate } from '../store/sql.ts';
import { type ConflictView, listConflicts } from './conflicts.ts';
import { readMigration, type WaveConfig, type WaveStatus } from './migrate-status.ts';
import { type RoomDirectoryCheck, type RoomSummary, roomSections, roomSummary } from './rooms-report.ts';

export interface PairStatus {
  id: string;
  userKey: string;
  feishuCalendar: string;
  spoke: string;
  spokeOwner: string;
  spokeCalendar: string;
  direction: string;
  /** `attendeesPending`: live links whose copies still wait for their attendees (busy time first). */
  links: { live: number; tombstoned: number; failed: number; attendeesPending: number };
  /** When each side's cursor was last written; null when the side has no cursor. */
  cursors: { feishu: Date | null; spoke: Date | null };
}
export interface LinkFailure {
  pair: string;
  key: string;
  error: string;
  at: Date;
}
export interface DeadLetter {
  id: string;
  queue: string;
  state: string;
  retries: number;
  error: string | null;
  at: Date | null;
  archived: boolean;
}
export interface RoomIssue {
  roomId: string;
  /** The room's name in the rooms table. */
  name?: string;
  /** The Feishu instance key of the meeting's occurrence (`uid_originalTime`). */
  key: string;
  spoke: string;
  spokeRoom: string | null;
  status: string;
  /** The occurrence's start (a series: its first). */
  startAt: Date | null;
  /** The meeting's title, when the sync recorded it. */
  meeting: string | null;
  organizer: string | null;
  /** What happened: the holder of a declined room, the missing mapping, the failure. */
  error: string | null;
}
export interface Status {
  pairs: PairStatus[];
  runs: RunRecord[];
  users: { consented: string[]; lapsed: string[] };
  failures: LinkFailure[];
  deadLetters: DeadLetter[];
  rooms: RoomIssue[];
  /** Bookings per room and spoke by status. */
  roomSummary: RoomSummary;
  /** Config rooms missing from a spoke's room directory, when the directories were read. */
  roomDirectory?: RoomDirectoryCheck;
  /** Two-way conflicts held for review (sync.conflicts: report). */
  conflicts: ConflictView[];
  /** Migration waves: users done, in cutover, pending, failed, rolled back. */
  migration: WaveStatus[];
}

export interface StatusOptions {
  runs?: number;
  failures?: number;
  /** pg-boss schema name; default 'pgboss'. */
  bossSchema?: string;
  now?: Date;
  /** The config's rooms table, to name the rooms. */
  rooms?: { feishu: string; name?: string; google?: string; exchange?: string }[];
  /** The config's migration waves, to list those not started too. */
  waves?: WaveConfig;
}

/**
 * Reads everything with raw SQL (`db` is a PrismaClient or `Database.reader`), so `feisync status`
 * runs without Prisma's query compiler.
 */
export async function readStatus(db: SqlReader, options: StatusOptions = {}): Promise<Status> {
  const now = options.now ?? new Date();
  type Row = Record<string, any>;
  const q = (sql: string) => db.$queryRawUnsafe<Row[]>(sql);
  const [pairs, counts, cursors, runs, creds, failed, deadLetters, rooms, summary, conflicts, migration] =
    await Promise.all([
      q(`SELECT id, "userKey", "feishuCalendar", spoke, "spokeOwner", "spokeCalendar", direction
        FROM "SyncPair" WHERE active ORDER BY "userKey", id`),
      db.$queryRawUnsafe<{ pairId: string; live: bigint; tomb: bigint; failed: bigint; waiting: bigint }[]>(
        `SELECT "pairId", count(*) FILTER (WHERE NOT "tombstone") AS live, count(*) FILTER (WHERE "tombstone") AS tomb,
       count(*) FILTER (WHERE "lastError" IS NOT NULL) AS failed,
       count(*) FILTER (WHERE "attendeesPending" AND NOT "tombstone") AS waiting FROM "EventLink" GROUP BY "pairId"`,
      ),
      q(`SELECT "pairId", side, ${epochMs('"updatedAt"')} FROM "Cursor"`),
      lastRuns(db, options.runs ?? 10),
      q(`SELECT subject, status, ${epochMs('"refreshExpiresAt"')} FROM "Credential"
        WHERE provider = 'feishu' ORDER BY subject`),
      q(`SELECT "pairId", uid, "originalTime"::float8 AS "originalTime", "lastError", ${epochMs('"updatedAt"')}
        FROM "EventLink" WHERE "lastError" IS NOT NULL ORDER BY "updatedAt" DESC, id DESC ${limit(options.failures ?? 50)}`),
      readDeadLetters(db, options.bossSchema ?? 'pgboss'),
      // conflicts first (then failed, pending, unmapped), each by start
      q(`SELECT "roomId", uid, "originalTime"::float8 AS "originalTime", spoke, "spokeRoom", status,
        ${epochMs('"startAt"')}, summary, organizer, "lastError" FROM "RoomBooking"
        WHERE status IN ('pending', 'conflict', 'unmapped', 'failed') ORDER BY status, "startAt", id LIMIT 50`),
      roomSummary({ db: { prisma: db }, config: { rooms: options.rooms ?? [] } }),
      listConflicts(db),
      readMigration(db, options.waves),
    ]);
  const byPair = new Map(counts.map((c) => [c.pairId, c]));
  const lapsed = (c: Row) =>
    c.status === 'lapsed' || (c.refreshExpiresAt !== null && c.refreshExpiresAt <= now.getTime());
  return {
    pairs: pairs.map((p) => {
      const c = byPair.get(p.id);
      const at = (side: string) =>
        toDate(cursors.find((x) => x.pairId === p.id && x.side === side)?.updatedAt);
      return {
        ...(p as Omit<PairStatus, 'links' | 'cursors'>),
        links: {
          live: Number(c?.live ?? 0),
          tombstoned: Number(c?.tomb ?? 0),
          failed: Number(c?.failed ?? 0),
          attendeesPending: Number(c?.waiting ?? 0),
        },
        cursors: { feishu: at('feishu'), spoke: at('spoke') },
      };
    }),
    runs,
    users: {
      consented: creds.filter((c) => !lapsed(c)).map((c) => c.subject),
      lapsed: creds.filter(lapsed).map((c) => c.subject),
    },
    failures: failed.map((l) => ({
      pair: l.pairId,
      key: formatKey({ uid: l.uid, originalTime: l.originalTime }),
      error: l.lastError ?? '',
      at: toDate(l.updatedAt)!,
    })),
    deadLetters,
    rooms: rooms.map((r) => {
      const name = options.rooms?.find((m) => m.feishu === r.roomId)?.name;
      return {
        roomId: r.roomId,
        ...(name ? { name } : {}),
        key: formatKey({ uid: r.uid, originalTime: r.originalTime }),
        spoke: r.spoke,
        spokeRoom: r.spokeRoom,
        status: r.status,
        startAt: toDate(r.startAt),
        meeting: r.summary,
        organizer: r.organizer,
        error: r.lastError,
      };
    }),
    roomSummary: summary,
    conflicts,
    migration,
  };
}

/** Failed pg-boss jobs (live table and archive), only when pg-boss has created its schema. */
async function readDeadLetters(db: SqlReader, schema: string): Promise<DeadLetter[]> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(schema)) throw new Error(`invalid pg-boss schema name: ${schema}`);
  // to_regclass rather than information_schema, whose views cost a cold process some 7 ms to plan
  const tables = await db.$queryRawUnsafe<{ table_name: string }[]>(
    `SELECT t AS table_name FROM unnest(ARRAY['job', 'archive']) AS t
      WHERE to_regclass(format('%I.%I', $1::text, t)) IS NOT NULL`,
    schema,
  );
  const parts = tables.map(
    ({ table_name: t }) => `SELECT id::text AS id, name, state::text AS state, retry_count, output,
      ${epochMs('completed_on')}, ${t === 'archive'} AS archived FROM "${schema}"."${t}" WHERE state::text = 'failed'`,
  );
  if (parts.length === 0) return [];
  type Row = { id: string; name: string; state: string; retry_count: number; output: unknown };
  const rows = await db.$queryRawUnsafe<(Row & { completed_on: number | null; archived: boolean })[]>(
    `${parts.join(' UNION ALL ')} ORDER BY completed_on DESC NULLS LAST LIMIT 50`,
  );
  return rows.map((r) => ({
    id: r.id,
    queue: r.name,
    state: r.state,
    retries: Number(r.retry_count ?? 0),
    error: jobError(r.output),
    at: toDate(r.completed_on),
    archived: Boolean(r.archived),
  }));
}

/** pg-boss stores a failure as `{message, stack}` or `{value: {message}}` in `output`. */
function jobError(output: unknown): string | null {
  if (output === null || output === undefined) return null;
  const o = (typeof output === 'string' ? safeParse(output) : output) as any;
  const msg = o?.message ?? o?.value?.message ?? (typeof o?.value === 'string' ? o.value : undefined);
  return typeof msg === 'string' ? msg : JSON.stringify(o).slice(0, 200);
}
function safeParse(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

/** Readable terminal text: one aligned table per section. */
export function formatStatus(s: Status): string {
  const out: string[] = [];
  const section = (title: string, headers: string[], rows: string[][], empty: string) => {
    out.push(`${title} (${rows.length})`);
    out.push(rows.length ? table(headers, rows) : `  ${empty}`, '');
  };
  section(
    'Pairs',
    [
      ...['PAIR', 'USER', 'FEISHU CALENDAR', 'SPOKE', 'TARGET', 'DIRECTION', 'LIVE', 'TOMB', 'FAILED'],
      ...['NO ATTENDEES YET', 'CURSORS'],
    ],
    s.pairs.map((p) => [
      p.id,
      p.userKey,
      p.feishuCalendar,
      p.spoke,
      `${p.spokeOwner}/${p.spokeCalendar}`,
      p.direction,
      String(p.links.live),
      String(p.links.tombstoned),
      String(p.links.failed),
      String(p.links.attendeesPending),
      `feishu ${when(p.cursors.feishu)}, spoke ${when(p.cursors.spoke)}`,
    ]),
    'no active pairs',
  );
  section(
    'Last runs',
    ['RUN', 'KIND', 'STARTED', 'FINISHED', 'STATUS', 'COUNTS'],
    s.runs.map((r) => [
      String(r.id),
      r.kind,
      when(r.startedAt),
      when(r.finishedAt),
      r.status,
      counts(r.counts),
    ]),
    'no runs yet',
  );
  out.push(`Users: ${s.users.consented.length} consented, ${s.users.lapsed.length} lapsed`);
  if (s.users.consented.length) out.push(`  consented: ${s.users.consented.join(', ')}`);
  if (s.users.lapsed.length) out.push(`  lapsed (must consent again): ${s.users.lapsed.join(', ')}`);
  out.push('');
  section(
    'Recent failures',
    ['PAIR', 'KEY', 'AT', 'ERROR'],
    s.failures.map((f) => [f.pair, f.key, when(f.at), oneLine(f.error)]),
    'none',
  );
  section(
    'Dead letters',
    ['JOB', 'QUEUE', 'RETRIES', 'AT', 'ERROR'],
    s.deadLetters.map((d) => [d.id, d.queue, String(d.retries), when(d.at), oneLine(d.error ?? '')]),
    'none',
  );
  section(
    'Room bookings needing attention',
    ['ROOM', 'SPOKE', 'STATUS', 'START', 'MEETING', 'KEY', 'DETAIL'],
    s.rooms.map((r) => [
      r.name ? `${r.name} (${r.roomId})` : r.roomId,
      r.spoke,
      r.status,
      when(r.startAt),
      oneLine(r.meeting ?? '-'),
      r.key,
      oneLine(r.error ?? ''),
    ]),
    'none',
  );
  for (const x of roomSections(s.roomSummary, s.roomDirectory)) section(x.title, x.headers, x.rows, x.empty);
  section(
    'Conflicts held for review (feisync conflicts resolve ID --keep ...)',
    ['ID', 'USER', 'SPOKE', 'KEY', 'FIELDS', 'SINCE'],
    (s.conflicts ?? []).map((c) => [
      String(c.id),
      c.user,
      c.spoke,
      c.key,
      c.fields.map((f) => f.field).join(','),
      c.since.slice(0, 19).replace('T', ' '),
    ]),
    'none',
  );
  // a section only where a migration is configured or recorded
  if (s.migration?.length)
    section(
      'Migration waves (feisync migrate status)',
      ['WAVE', 'TARGET', 'DONE', 'CUTOVER', 'PENDING', 'FAILED', 'ROLLED BACK'],
      s.migration.map((w) => [
        w.wave,
        w.target,
        ...[w.counts.done, w.counts.cutover, w.counts.pending, w.counts.failed, w.counts.rolled_back].map(
          String,
        ),
      ]),
      'none',
    );
  return `${out.join('\n').trimEnd()}\n`;
}

const when = (d: Date | null) => (d ? d.toISOString().slice(0, 19).replace('T', ' ') : '-');
const oneLine = (t: string) => {
  const flat = t.replace(/\s+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 119)}…` : flat;
};
const ORDER = ['created', 'updated', 'deleted', 'unchanged', 'skipped', 'failed'];
const rank = (k: string) => (ORDER.includes(k) ? ORDER.indexOf(k) : ORDER.length);
/** Non-zero counts in a fixed order (jsonb does not keep the written key order). */
const counts = (c: Record<string, number> | null) =>
  Object.entries(c ?? {})
    .filter(([, n]) => n)
    .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
    .map(([k, n]) => `${k}=${n}`)
    .join(' ') || '-';

const WIDE =
  /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1faff}\u{20000}-\u{3fffd}]/u;
/** Terminal columns taken by a string: CJK and full-width characters take two. */
export function displayWidth(t: string): number {
  let w = 0;
  for (const ch of t) w += WIDE.test(ch) ? 2 : 1;
  return w;
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) =>
    Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i] ?? ''))),
  );
  const line = (cells: string[]) =>
    `  ${cells.map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i] - displayWidth(c)))).join('  ')}`;
  return [line(headers), ...rows.map(line)].map((l) => l.trimEnd()).join('\n');
}
