/**
 * `feisync reconcile` (and the scheduled job of `feisync serve`): resolve pairs, reconcile each user's
 * pairs (several users at once), record the run with its full parity report, and render the report.
 * Progress and results go to callbacks; the CLI decides how to show them.
 */
import PQueue from 'p-queue';
import { roomLedger } from '../store/bookings.ts';
import { finishRun, lastRuns, type RunOutcome, startRun } from '../store/runs.ts';
import type { Pair } from '../sync/pair.ts';
import { type PairReconcile, reconcile } from '../sync/reconcile.ts';
import { type App, policyOf } from './compose.ts';
import { type ConflictView, listConflicts } from './conflicts.ts';
import { readMigration, type WaveStatus } from './migrate-status.ts';
import { type Resolution, resolvePairs } from './pairs.ts';
import { pullSpokes, type ReverseReport, reverseOk, reverseReport } from './reverse-run.ts';
import { type RoomSummary, roomSummary } from './rooms-report.ts';
import type { SyncOptions } from './sync-run.ts';
import { formatTable } from './table.ts';

type RoomColumns = 'roomsBooked' | 'roomsPending' | 'roomsConflict' | 'roomsUnmapped';
/** Room bookings of the meetings a pair's user organizes, on the pair's spoke (absent: 0). */
export type RoomCounter = (pair: Pair) => Promise<Record<RoomColumns, number>>;
const NO_ROOMS: Record<RoomColumns, number> = {
  roomsBooked: 0,
  roomsPending: 0,
  roomsConflict: 0,
  roomsUnmapped: 0,
};

export interface ReconcileRunOptions extends Pick<SyncOptions, 'onStart' | 'onProgress'> {
  user?: string;
  /** Judge and report only (as `reconcile.repair: false` does). */
  dryRun?: boolean;
  /** Users reconciled at once. */
  concurrency?: number;
  rooms?: RoomCounter;
}

const NUMBERS = [
  'expected',
  'found',
  'missing',
  'extra',
  'duplicates',
  'differing',
  'repaired',
  'relinked',
  'failed',
  'leftForReverse',
  'untagged',
  'roomsBooked',
  'roomsPending',
  'roomsConflict',
  'roomsUnmapped',
] as const;
export type ParityTotals = Record<(typeof NUMBERS)[number], number>;

/** One line of the parity report: one pair (user, Feishu calendar, spoke). */
export interface ParityRow extends ParityTotals {
  pair: string;
  user: string;
  calendar: string;
  spoke: string;
  target: string;
  /** Writes made, or that would be made without repair. */
  writes: { created: number; updated: number; deleted: number };
  held?: string;
  failures: PairReconcile['failures'];
  examples: PairReconcile['parity']['examples'];
  plan?: PairReconcile['plan'];
}

export interface ReconcileReport {
  runId: number;
  /** The run did what it set out to: no failure, nothing held, every user resolved. */
  ok: boolean;
  /** Repairs were made (false: `--dry-run` or `reconcile.repair: false`). */
  repair: boolean;
  /** Every pair was in parity before the run, or everything found was repaired. */
  inParity: boolean;
  problems: Resolution['problems'];
  rows: ParityRow[];
  totals: ParityTotals;
  /** Room bookings per room and spoke after the run (every meeting's, not only these users'). */
  rooms: RoomSummary['rooms'];
  /** Feishu events read. */
  events: number;
  startedAt: string;
  seconds: number;
  /** Two-way pairs: the spoke side read in full first, its changes merged by sync.conflicts. */
  reverse: ReverseReport[];
  /** Conflicts held for review (sync.conflicts: report), open after the run. */
  conflicts: ConflictView[];
  /** Migration waves, where configured or recorded: users done, pending, failed... */
  migration?: WaveStatus[];
}

export async function runReconcile(app: App, options: ReconcileRunOptions = {}): Promise<ReconcileReport> {
  const started = new Date();
  const runId = await startRun(app.db.prisma, 'reconcile');
  try {
    const report = await reconcileAll(app, options, runId, started);
    const status: RunOutcome = report.ok ? 'ok' : 'partial';
    const { created, updated, deleted } = sumWrites(report.rows);
    await finishRun(app.db.prisma, runId, {
      status,
      counts: { ...report.totals, created, updated, deleted },
      report,
    });
    return report;
  } catch (e) {
    await finishRun(app.db.prisma, runId, {
      status: 'failed',
      counts: {},
      error: e instanceof Error ? e.message : String(e),
    });
    throw e;
  }
}

/** The report of the newest finished reconciliation, as recorded (for `/reports/latest`). */
export async function latestReconcileReport(app: App): Promise<ReconcileReport | null> {
  const runs = await lastRuns(app.db.prisma, 5, 'reconcile');
  const done = runs.find((r) => r.finishedAt && r.report && typeof r.report === 'object');
  return done ? (done.report as ReconcileReport) : null;
}

async function reconcileAll(
  app: App,
  options: ReconcileRunOptions,
  runId: number,
  started: Date,
): Promise<ReconcileReport> {
  const repair = app.config.reconcile.repair && !options.dryRun;
  const resolution = await resolvePairs(app, options.user);
  const { pairs, problems, attendeeFor } = resolution;
  // two-way pairs: the spokes in full first (edits merged by the pair's policy, copies gone from a
  // complete listing taken as deleted there), so the comparison that follows sees one truth
  const reverse = (
    await pullSpokes(app, resolution, pairs, { full: true, dryRun: !repair, absentAreDeleted: true })
  ).map(reverseReport);
  const byUser = new Map<string, Pair[]>();
  for (const p of pairs) byUser.set(p.userKey, [...(byUser.get(p.userKey) ?? []), p]);
  options.onStart?.({
    calendars: new Set(pairs.map((p) => p.feishu.id)).size,
    pairs: pairs.length,
    users: [...byUser.keys()],
  });
  const policy = policyOf(app.config);
  const deleteBudget = { remaining: policy.maxDeletesPerRun };
  const queue = new PQueue({ concurrency: options.concurrency ?? 4 });
  const results: PairReconcile[] = [];
  const seen = new Map<string, number>();
  await Promise.all(
    [...byUser].map(([user, group]) =>
      queue.add(async () => {
        const deps = {
          feishu: app.feishu,
          spokes: app.spokes,
          store: app.links,
          policy,
          deleteBudget,
          attendeeFor,
          rooms: roomLedger(app.db.prisma),
        };
        const out = await reconcile(
          group,
          {
            ...deps,
            onProgress: ({ calendar, events }) => {
              seen.set(calendar, events);
              options.onProgress?.({ user, calendar, events, calendarDone: false });
            },
          },
          { repair },
        );
        for (const cal of new Set(group.map((p) => p.feishu.id)))
          options.onProgress?.({ user, calendar: cal, events: seen.get(cal) ?? 0, calendarDone: true });
        results.push(...out);
      }),
    ),
  );
  const rows = await Promise.all(results.map((r) => rowOf(r, repair, options.rooms)));
  rows.sort(
    (a, b) =>
      a.user.localeCompare(b.user) || a.calendar.localeCompare(b.calendar) || a.spoke.localeCompare(b.spoke),
  );
  const totals = Object.fromEntries(
    NUMBERS.map((k) => [k, rows.reduce((s, r) => s + r[k], 0)]),
  ) as ParityTotals;
  const drift = (t: ParityTotals) => t.missing + t.extra + t.differing - t.leftForReverse;
  return {
    runId,
    ok: problems.length === 0 && totals.failed === 0 && rows.every((r) => !r.held) && reverseOk(reverse),
    repair,
    inParity:
      rows.every((r) => !r.held) &&
      (drift(totals) === 0 || (repair && totals.repaired >= drift(totals) && totals.failed === 0)),
    problems,
    rows,
    totals,
    rooms: (await roomSummary(app)).rooms,
    events: [...seen.values()].reduce((a, b) => a + b, 0),
    startedAt: started.toISOString(),
    seconds: (Date.now() - started.getTime()) / 1000,
    reverse,
    conflicts: await listConflicts(app.db.prisma),
    migration: await readMigration(app.db.prisma, app.config.migration.waves),
  };
}

async function rowOf(r: PairReconcile, repair: boolean, rooms?: RoomCounter): Promise<ParityRow> {
  const c = r.counts;
  const p = r.parity;
  const booked = rooms ? await rooms(r.pair) : NO_ROOMS;
  return {
    pair: r.pair.id,
    user: r.pair.userKey,
    calendar: r.pair.feishu.id,
    spoke: r.pair.spoke,
    target: r.pair.target.owner,
    expected: p.expected,
    found: p.found,
    missing: p.missing,
    extra: p.extra,
    duplicates: p.duplicates,
    differing: p.differing,
    repaired: repair ? c.created + c.updated + c.deleted : 0,
    relinked: p.relinked,
    failed: c.failed,
    leftForReverse: p.leftForReverse,
    untagged: p.untagged,
    ...booked,
    writes: { created: c.created, updated: c.updated, deleted: c.deleted },
    ...(r.held ? { held: r.held } : {}),
    failures: r.failures,
    examples: p.examples,
    ...(r.plan ? { plan: r.plan } : {}),
  };
}

const sumWrites = (rows: ParityRow[]) =>
  rows.reduce(
    (s, r) => ({
      created: s.created + r.writes.created,
      updated: s.updated + r.writes.updated,
      deleted: s.deleted + r.writes.deleted,
    }),
    { created: 0, updated: 0, deleted: 0 },
  );

const ROOM_COLUMNS = ['roomsBooked', 'roomsPending', 'roomsConflict', 'roomsUnmapped'] as const;
const ROOM_STATES = ['booked', 'pending', 'conflict', 'unmapped'] as const;

/** The parity report as a table: one line per user, calendar and spoke, then totals and notes. */
export function formatReconcileReport(r: ReconcileReport): string {
  const rooms = ROOM_COLUMNS.some((c) => r.totals[c] > 0);
  const cols: (typeof NUMBERS)[number][] = [
    'expected',
    'found',
    'missing',
    'extra',
    'differing',
    'repaired',
    'relinked',
    'failed',
    ...(rooms ? ROOM_COLUMNS : []),
  ];
  const head = ['user', 'calendar', 'spoke', ...cols.map((c) => c.replace('rooms', 'rooms ').toLowerCase())];
  const short = (s: string) => (s.length > 24 ? `${s.slice(0, 21)}...` : s);
  const line = (user: string, cal: string, spoke: string, t: ParityTotals) => [
    user,
    short(cal),
    spoke,
    ...cols.map((c) => String(t[c])),
  ];
  const rows = [
    head,
    ...r.rows.map((x) => line(x.user, x.calendar, x.spoke, x)),
    line('total', '', '', r.totals),
  ];
  const lines = formatTable(rows, 3);
  const notes = [
    ...r.problems.map((p) => `! ${p.user}: ${p.problem}`),
    ...r.rows.filter((x) => x.held).map((x) => `! ${x.user} -> ${x.spoke}: ${x.held}`),
    ...r.rows.flatMap((x) =>
      x.failures.slice(0, 5).map((f) => `! ${x.user} -> ${x.spoke} ${f.key}: ${f.error}`),
    ),
  ];
  for (const v of r.reverse ?? []) {
    const c = v.counts;
    if (c.toFeishu + c.toSpoke + c.conflicts + c.refused + c.failed === 0 && !v.plan?.length && !v.error)
      continue;
    notes.push(
      `${v.user} <- ${v.spoke}: ${c.toFeishu} to Feishu, ${c.toSpoke} to the copy, ${c.conflicts} conflicts, ${c.refused} refused, ${c.failed} failed${v.error ? `; read failed: ${v.error}` : ''}`,
      ...(v.plan ?? []).map((a) => `  ${v.user} <- ${v.spoke}: ${a.kind} ${a.key} (${a.reason})`),
      ...[...v.refusals, ...v.failures]
        .slice(0, 5)
        .map((f) => `! ${v.user} <- ${v.spoke} ${f.key}: ${f.error}`),
    );
  }
  for (const c of r.conflicts ?? [])
    notes.push(
      `! conflict #${c.id} ${c.user} <-> ${c.spoke} ${c.key}: ${c.fields.map((f) => f.field).join(', ')} changed on both sides (feisync conflicts)`,
    );
  const held = (r.rooms ?? []).filter((x) => ROOM_STATES.some((k) => x.counts[k] > 0));
  const roomLines = held.length
    ? [
        '',
        ...formatTable(
          [
            ['room', 'spoke', ...ROOM_STATES],
            ...held.map((x) => [
              x.name ? `${x.name} (${x.roomId})` : x.roomId,
              x.spoke,
              ...ROOM_STATES.map((k) => String(x.counts[k])),
            ]),
          ],
          2,
        ),
      ]
    : [];
  const mode = r.repair ? 'repaired' : 'report only (nothing written)';
  const untagged = r.totals.untagged ? `; ${r.totals.untagged} events not written by Feisync left alone` : '';
  return [
    ...lines,
    ...roomLines,
    '',
    `${r.events} Feishu events in ${r.seconds.toFixed(1)} s; ${mode}; ${r.inParity ? 'in parity' : 'NOT in parity'}${untagged}; run #${r.runId}`,
    ...notes,
    ...(r.migration ?? []).map(
      (w) =>
        `wave ${w.wave} -> ${w.target}: ${w.counts.done} done, ${w.counts.cutover} in cutover, ${w.counts.pending} pending, ${w.counts.failed} failed, ${w.counts.rolled_back} rolled back`,
    ),
  ].join('\n');
}
