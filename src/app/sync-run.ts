/**
 * `feisync sync`: resolve pairs, pull every Feishu calendar (several at once), fan out to the
 * spokes, record the run. Progress and results go to callbacks; the CLI decides how to show them.
 */
import PQueue from 'p-queue';
import { roomLedger } from '../store/bookings.ts';
import { addCounts, type Counts, zeroCounts } from '../sync/apply.ts';
import type { Pair, Spoke } from '../sync/pair.ts';
import { type PairResult, pullCalendar } from '../sync/pull.ts';
import { type App, policyOf } from './compose.ts';
import { type Resolution, resolvePairs } from './pairs.ts';
import { pullSpokes, type ReverseReport, reverseOk, reverseReport } from './reverse-run.ts';
import { formatTable } from './table.ts';

export interface SyncOptions {
  user?: string;
  dryRun?: boolean;
  full?: boolean;
  /** Calendars pulled at once. */
  concurrency?: number;
  onStart?: (info: { calendars: number; pairs: number; users: string[] }) => void;
  onProgress?: (p: { user: string; calendar: string; events: number; calendarDone: boolean }) => void;
}

export interface SyncReport {
  runId: number;
  ok: boolean;
  problems: Resolution['problems'];
  pairs: PairReport[];
  totals: Counts;
  events: number;
  seconds: number;
  /** Rooms on synced events that the rooms table does not map to a spoke: left off there (warnings). */
  unmappedRooms: { room: string; spokes: Spoke[] }[];
  /** Two-way pairs: what the spoke side brought (read before the Feishu side). */
  reverse: ReverseReport[];
}

export interface PairReport {
  pair: string;
  user: string;
  spoke: string;
  target: string;
  counts: Counts;
  held?: string;
  failures: PairResult['failures'];
  plan?: PairResult['plan'];
}

export async function runSync(app: App, options: SyncOptions = {}): Promise<SyncReport> {
  const started = performance.now();
  const run = await app.db.prisma.syncRun.create({ data: { kind: 'sync' } });
  const resolution = await resolvePairs(app, options.user);
  const { pairs, problems, attendeeFor, unmappedRooms } = resolution;
  // two-way pairs: the spokes' changes first, so the Feishu pulls that follow see them as echoes
  const reverse = (
    await pullSpokes(app, resolution, pairs, { full: options.full, dryRun: options.dryRun })
  ).map(reverseReport);
  const byCalendar = new Map<string, Pair[]>();
  for (const p of pairs) byCalendar.set(p.feishu.id, [...(byCalendar.get(p.feishu.id) ?? []), p]);
  options.onStart?.({
    calendars: byCalendar.size,
    pairs: pairs.length,
    users: [...new Set(pairs.map((p) => p.userKey))],
  });
  const policy = policyOf(app.config);
  const deleteBudget = { remaining: policy.maxDeletesPerRun };
  const queue = new PQueue({ concurrency: options.concurrency ?? 4 });
  const results: PairResult[] = [];
  let events = 0;
  await Promise.all(
    [...byCalendar.values()].map((group) =>
      queue.add(async () => {
        const user = group[0].userKey;
        let seen = 0;
        const out = await pullCalendar(
          group,
          {
            feishu: app.feishu,
            spokes: app.spokes,
            store: app.links,
            policy,
            deleteBudget,
            attendeeFor,
            rooms: roomLedger(app.db.prisma),
            onProgress: ({ calendar, events: n }) => {
              events += n - seen;
              seen = n;
              options.onProgress?.({ user, calendar, events: n, calendarDone: false });
            },
          },
          { full: options.full, dryRun: options.dryRun },
        );
        options.onProgress?.({ user, calendar: group[0].feishu.id, events: seen, calendarDone: true });
        results.push(...out);
      }),
    ),
  );
  const reports = results.map(
    (r): PairReport => ({
      pair: r.pair.id,
      user: r.pair.userKey,
      spoke: r.pair.spoke,
      target: r.pair.target.owner,
      counts: r.counts,
      held: r.held,
      failures: r.failures,
      plan: r.plan,
    }),
  );
  reports.sort((a, b) => a.user.localeCompare(b.user) || a.spoke.localeCompare(b.spoke));
  const totals = reports.reduce((t, r) => addCounts(t, r.counts), zeroCounts());
  const rooms = [...unmappedRooms].map(([room, spokes]) => ({ room, spokes: [...spokes].sort() }));
  const ok =
    problems.length === 0 && totals.failed === 0 && reports.every((r) => !r.held) && reverseOk(reverse);
  const status = ok
    ? 'ok'
    : totals.failed || reports.some((r) => r.held) || problems.length
      ? 'partial'
      : 'failed';
  await app.db.prisma.syncRun.update({
    where: { id: run.id },
    data: {
      finishedAt: new Date(),
      status: options.dryRun ? `${status} (dry run)` : status,
      counts: { ...totals },
      report: {
        problems,
        held: reports.filter((r) => r.held).map((r) => ({ pair: r.pair, held: r.held })),
        unmappedRooms: rooms,
        ...(reverse.length ? { reverse: JSON.parse(JSON.stringify(reverse)) } : {}),
      },
    },
  });
  return {
    runId: run.id,
    ok,
    problems,
    pairs: reports,
    totals,
    events,
    seconds: (performance.now() - started) / 1000,
    unmappedRooms: rooms,
    reverse,
  };
}

/** The final table: one line per pair, then totals. */
export function formatSyncReport(r: SyncReport): string {
  const head = ['user', 'spoke', 'created', 'updated', 'deleted', 'unchanged', 'skipped', 'failed'];
  const row = (user: string, spoke: string, c: Counts) => [
    user,
    spoke,
    ...[c.created, c.updated, c.deleted, c.unchanged, c.skipped, c.failed].map(String),
  ];
  const rows = [head, ...r.pairs.map((p) => row(p.user, p.spoke, p.counts)), row('total', '', r.totals)];
  const lines = formatTable(rows, 2);
  const notes = [
    ...r.problems.map((p) => `! ${p.user}: ${p.problem}`),
    ...r.pairs.filter((p) => p.held).map((p) => `! ${p.user} -> ${p.spoke}: ${p.held}`),
    ...r.pairs.flatMap((p) =>
      p.failures.slice(0, 5).map((f) => `! ${p.user} -> ${p.spoke} ${f.key}: ${f.error}`),
    ),
    ...r.unmappedRooms.map(
      (u) =>
        `! room ${u.room} is on events but has no ${u.spokes.join('/')} room in the rooms table: left off`,
    ),
  ];
  for (const v of r.reverse) {
    const c = v.counts;
    notes.push(
      `${v.user} <- ${v.spoke}: ${c.toFeishu} to Feishu, ${c.toSpoke} to the copy, ${v.fanout.created + v.fanout.updated + v.fanout.deleted} to the other spokes, ${c.echoes} echoes, ${c.conflicts} conflicts, ${c.refused} refused, ${c.failed} failed${v.error ? `; read failed: ${v.error}` : ''}`,
      ...v.refusals.slice(0, 5).map((f) => `! ${v.user} <- ${v.spoke} ${f.key}: ${f.error}`),
      ...v.failures.slice(0, 5).map((f) => `! ${v.user} <- ${v.spoke} ${f.key}: ${f.error}`),
    );
  }
  const rate = r.seconds > 0 ? Math.round(r.events / r.seconds) : 0;
  return [
    ...lines,
    '',
    `${r.events} Feishu events in ${r.seconds.toFixed(1)} s (${rate}/s); run #${r.runId}`,
    ...notes,
  ].join('\n');
}
