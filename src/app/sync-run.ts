/**
 * `feisync sync`: resolve pairs, pull every Feishu calendar (several at once), fan out to the
 * spokes, record the run. Progress and results go to callbacks; the CLI decides how to show them.
 */
import PQueue from 'p-queue';
import { roomLedger } from '../store/bookings.ts';
import { addCounts, type Counts, zeroCounts } from '../sync/apply.ts';
import { type AttendeeDeps, type AttendeeResult, fillAttendees } from '../sync/attendees.ts';
import type { Pair, Spoke } from '../sync/pair.ts';
import { expectWrites, type PairResult, pullCalendar } from '../sync/pull.ts';
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
  /** The attendees stage, per calendar: events done of those whose attendees are to be read. */
  onAttendees?: (p: {
    user: string;
    calendar: string;
    done: number;
    of: number;
    calendarDone: boolean;
  }) => void;
  /** A stage ended for every pair: `events` (every event on the spokes), then `attendees`. */
  onStage?: (s: { stage: 'events' | 'attendees'; seconds: number }) => void;
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
  /**
   * Busy time first: seconds from the start until every event was on the spokes, and until the
   * attendees stage ended; events still waiting for their attendees at the end (a failed or gone
   * read: the next run, or `serve`, goes on with them).
   */
  stages: { events: number; attendees: number };
  attendeesPending: number;
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
  /** Events of the pair whose copies still wait for their attendees. */
  attendeesPending: number;
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
  // Calendars listed at once: enough that every user's spoke budget is in use from the start (the
  // spokes' limits are per user; Feishu's list budget is far from reached)
  const queue = new PQueue({ concurrency: options.concurrency ?? 32 });
  // as many attendees stages at once, each holding its calendar's events: enough to keep Feishu's
  // read budgets busy, and memory bounded however many calendars there are
  const attendeeQueue = new PQueue({ concurrency: options.concurrency ?? 32 });
  const results: PairResult[] = [];
  const rooms = roomLedger(app.db.prisma);
  const deps = { feishu: app.feishu, spokes: app.spokes, store: app.links, policy, attendeeFor, rooms };
  // busy time first: the attendees stage of a calendar lists and reads from the moment its pull has
  // listed (Feishu's read budgets are apart from its list budget), and writes once every pair's
  // events are on the spokes, so that no spoke budget goes to attendees while events still wait
  let eventsOnSpokes!: () => void;
  let stopped!: (e: unknown) => void;
  const gate = new Promise<void>((resolve, reject) => {
    eventsOnSpokes = resolve;
    stopped = reject;
  });
  gate.catch(() => {});
  const stage2: Promise<AttendeeResult[]>[] = [];
  if (!options.dryRun) expectWrites(app.spokes, pairs);
  let events = 0;
  const stage1 = Promise.all(
    [...byCalendar.values()].map((group) => {
      const user = group[0].userKey;
      let listed!: (info?: { deferred: boolean }) => void;
      const ready = new Promise<{ deferred: boolean } | undefined>((resolve) => {
        listed = resolve;
      });
      if (!options.dryRun)
        stage2.push(
          ready.then((info) =>
            attendeeQueue.add(() => attendeesStage(group, deps, gate, info?.deferred, options)),
          ),
        );
      return queue.add(async () => {
        let seen = 0;
        try {
          const out = await pullCalendar(
            group,
            {
              ...deps,
              deleteBudget,
              onProgress: ({ calendar, events: n }) => {
                events += n - seen;
                seen = n;
                options.onProgress?.({ user, calendar, events: n, calendarDone: false });
              },
              onListed: listed,
            },
            { full: options.full, dryRun: options.dryRun },
          );
          options.onProgress?.({ user, calendar: group[0].feishu.id, events: seen, calendarDone: true });
          results.push(...out);
        } finally {
          // a listing that failed: the stage goes on with what earlier runs left waiting
          listed();
        }
      });
    }),
  );
  try {
    await stage1;
  } catch (e) {
    // the attendees stages read no further (a closed gate stops them) before the error goes on
    stopped(e);
    await Promise.allSettled(stage2);
    throw e;
  }
  const eventsSeconds = (performance.now() - started) / 1000;
  if (!options.dryRun) options.onStage?.({ stage: 'events', seconds: eventsSeconds });
  eventsOnSpokes();
  const filled = (await Promise.all(stage2)).flat();
  const attendeesSeconds = (performance.now() - started) / 1000;
  if (stage2.length) options.onStage?.({ stage: 'attendees', seconds: attendeesSeconds });
  const left = await app.links.pendingAttendees(results.map((r) => r.pair.id));
  const reports = results.map((r): PairReport => {
    const counts = { ...r.counts };
    const failures = [...r.failures];
    for (const a of filled.filter((f) => f.pair.id === r.pair.id)) {
      addCounts(counts, a.counts);
      failures.push(...a.failures);
    }
    return {
      pair: r.pair.id,
      user: r.pair.userKey,
      spoke: r.pair.spoke,
      target: r.pair.target.owner,
      counts,
      held: r.held,
      failures,
      plan: r.plan,
      attendeesPending: left.get(r.pair.id) ?? 0,
    };
  });
  reports.sort((a, b) => a.user.localeCompare(b.user) || a.spoke.localeCompare(b.spoke));
  const totals = reports.reduce((t, r) => addCounts(t, r.counts), zeroCounts());
  const attendeesPending = reports.reduce((n, r) => n + r.attendeesPending, 0);
  const unmapped = [...unmappedRooms].map(([room, spokes]) => ({ room, spokes: [...spokes].sort() }));
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
        unmappedRooms: unmapped,
        attendeesPending,
        stages: { events: eventsSeconds, attendees: attendeesSeconds },
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
    unmappedRooms: unmapped,
    reverse,
    stages: { events: eventsSeconds, attendees: attendeesSeconds },
    attendeesPending,
  };
}

/** The attendees stage of one calendar, started when its pull has listed it (see runSync). */
async function attendeesStage(
  group: Pair[],
  deps: Omit<AttendeeDeps, 'gate' | 'onProgress'>,
  gate: Promise<void>,
  afterDeferredPull: boolean | undefined,
  options: SyncOptions,
): Promise<AttendeeResult[]> {
  const user = group[0].userKey;
  const calendar = group[0].feishu.id;
  let last = { done: 0, of: 0 };
  const out = await fillAttendees(
    group,
    {
      ...deps,
      gate,
      onProgress: ({ done, of }) => {
        last = { done, of };
        if (of) options.onAttendees?.({ user, calendar, done, of, calendarDone: false });
      },
    },
    { includeNew: afterDeferredPull },
  );
  if (last.of) options.onAttendees?.({ user, calendar, ...last, calendarDone: true });
  return out;
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
  const stages =
    r.stages.attendees > r.stages.events
      ? [
          `every event on the spokes after ${r.stages.events.toFixed(1)} s, attendees after ${r.stages.attendees.toFixed(1)} s`,
        ]
      : [];
  if (r.attendeesPending)
    stages.push(
      `! ${r.attendeesPending} events on the spokes still wait for their attendees: the next sync (or serve) adds them`,
    );
  return [
    ...lines,
    '',
    `${r.events} Feishu events in ${r.seconds.toFixed(1)} s (${rate}/s); run #${r.runId}`,
    ...stages,
    ...notes,
  ].join('\n');
}
