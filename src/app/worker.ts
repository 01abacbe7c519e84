/**
 * The job handlers of `feisync serve`: pull one calendar, re-read the calendar lists (new pairs,
 * subscriptions), and hourly maintenance. A pull holds the calendar's lock, so two workers (in one
 * process or several on one Postgres) never pull the same calendar at once; a pull that finds the
 * lock taken re-queues itself a moment later and the queue's singleton key folds it into any pull
 * already waiting.
 */
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import { type AttendeesJob, type Boss, type Job, sendAttendees, sendPull } from '../jobs/boss.ts';
import { roomLedger } from '../store/bookings.ts';
import { finishRun, type RunFinish, startRun } from '../store/runs.ts';
import { vacuumIfDue } from '../store/vacuum.ts';
import { addCounts, type Counts, zeroCounts } from '../sync/apply.ts';
import { fillAttendees } from '../sync/attendees.ts';
import type { Pair } from '../sync/pair.ts';
import { expectWrites, pullCalendar } from '../sync/pull.ts';
import { type App, policyOf } from './compose.ts';
import type { Metrics } from './metrics.ts';
import { type Resolution, resolvePairs } from './pairs.ts';
import { runReconcile } from './reconcile-run.ts';
import { roomsOfPair } from './rooms-report.ts';
import { handleRoomEvent, type RoomHint, recheckRoomBookings } from './rooms-run.ts';

export interface PullJob {
  calendarId: string;
  /** When the change event that caused it arrived (ms), for the end-to-end latency metric. */
  receivedAt?: number;
}

export interface WorkerContext {
  app: App;
  boss: Boss;
  metrics: Metrics;
  log: Logger;
}

export interface Worker {
  /** Pairs as last resolved. */
  resolution(): Resolution | undefined;
  /**
   * Re-resolve users and pairs, subscribe what is new, and queue a pull of every calendar (`all`, at a
   * start: changes may have come while the service was down) or of the calendars with a pair new to
   * the sync or an owner who consented again (`new`, after a consent or a calendar list changed).
   */
  refresh(reconsented?: string[], pulls?: 'all' | 'new'): Promise<Resolution>;
  /** A change event for the calendar arrived (ms): its pull, whichever job runs it, reports the latency. */
  changed(calendarId: string, receivedAt: number): void;
  pull(job: Job<PullJob>): Promise<void>;
  /** The attendees stage of one calendar (busy time first), while its pulls go on between chunks. */
  attendees(job: Job<AttendeesJob>): Promise<void>;
  /** One meeting-room event; the events of one meeting are handled one at a time. */
  room(job: Job<RoomHint>): Promise<void>;
  /** Reconcile everything, unless another process is already at it. */
  reconcile(): Promise<void>;
  maintain(): Promise<void>;
}

/** Waits for a named lock (held by a pull for seconds at a time). */
async function waitLock(
  name: string,
  locks: { tryLock(name: string): Promise<(() => Promise<void>) | null> },
) {
  for (let wait = 100; ; wait = Math.min(wait * 2, 1000)) {
    const release = await locks.tryLock(name);
    if (release) return release;
    await new Promise((r) => setTimeout(r, wait));
  }
}

/** What a run wrote on each pair's calendar, for its report (the counts beside it sum the pairs). */
const written = (results: { pair: Pair; counts: Counts }[]) =>
  results.map(({ pair, counts }) => ({
    spoke: pair.spoke,
    owner: pair.target.owner,
    created: counts.created,
    updated: counts.updated,
    deleted: counts.deleted,
  }));

export function createWorker(ctx: WorkerContext): Worker {
  const { app, boss, metrics, log } = ctx;
  let current: Resolution | undefined;
  let byCalendar = new Map<string, Pair[]>();
  const subscribed = new Set<string>();
  /** Oldest change event not yet pulled, per calendar (a queued pull absorbs later sends). */
  const waiting = new Map<string, number>();
  /** The pairs of each calendar whose pull runs in this process now. */
  const pulling = new Map<string, Set<string>>();
  /** A pull running here covers every pair the calendar has now (another would only be deferred). */
  const covered = (calendarId: string) =>
    byCalendar.get(calendarId)?.every((p) => pulling.get(calendarId)?.has(p.id)) ?? false;

  /**
   * Subscribes to the changes of the pairs' owners and calendars not subscribed yet: eight owners at
   * a time (each new one costs two requests before their pulls are sent; one after another, the
   * last of four consents given together waited three seconds for the others').
   */
  async function subscribe(pairs: Pair[]) {
    const byOwner = new Map<string, Pair[]>();
    for (const p of pairs) byOwner.set(p.feishu.owner, [...(byOwner.get(p.feishu.owner) ?? []), p]);
    const queue = new PQueue({ concurrency: 8 });
    await queue.addAll(
      [...byOwner.values()].map((own) => async () => {
        for (const p of own) {
          const { owner, id } = p.feishu;
          const keys = [`list|${owner}`, `events|${owner}|${id}`];
          if (keys.every((k) => subscribed.has(k))) continue;
          try {
            if (!subscribed.has(keys[0])) await app.feishu.subscribeCalendarList(owner);
            subscribed.add(keys[0]);
            if (!subscribed.has(keys[1])) await app.feishu.subscribeEvents(owner, id);
            subscribed.add(keys[1]);
          } catch (e) {
            log.warn({ user: p.userKey, calendar: id, err: (e as Error).message }, 'subscription failed');
          }
        }
      }),
    );
  }

  /** What a calendar's sync steps need of the app. */
  const deps = () => ({
    feishu: app.feishu,
    spokes: app.spokes,
    store: app.links,
    policy: policyOf(app.config),
    attendeeFor: current?.attendeeFor,
    rooms: roomLedger(app.db.prisma),
  });

  /**
   * A job on one calendar's pairs, under `lock` and recorded as a run of `kind`: sent again later
   * (`defer`) while another holds the lock. A body that throws is recorded as failed; one that asks
   * for a `retry` is recorded as it ended, then thrown, so pg-boss retries it with backoff.
   */
  async function calendarJob(
    kind: 'pull' | 'attendees',
    calendarId: string,
    lock: string,
    job: {
      defer: () => Promise<unknown>;
      run: (group: Pair[]) => Promise<RunFinish<{ [k: string]: number }> & { retry?: string }>;
    },
  ): Promise<void> {
    const group = byCalendar.get(calendarId);
    if (!group) {
      metrics.jobs.inc({ queue: kind, outcome: 'unmapped' });
      return;
    }
    const release = await app.db.locks.tryLock(lock);
    if (!release) {
      await job.defer();
      metrics.jobs.inc({ queue: kind, outcome: 'deferred' });
      return;
    }
    const runId = await startRun(app.db.prisma, kind, { calendar: calendarId });
    try {
      let ended: Awaited<ReturnType<typeof job.run>>;
      try {
        ended = await job.run(group);
      } catch (e) {
        const failed = { status: 'failed', counts: zeroCounts(), report: { calendar: calendarId } } as const;
        await finishRun(app.db.prisma, runId, { ...failed, error: (e as Error).message }).catch(() => {});
        throw e;
      }
      const { retry, ...finish } = ended;
      await finishRun(app.db.prisma, runId, finish);
      if (retry) throw new Error(retry);
    } finally {
      await release();
    }
  }

  return {
    resolution: () => current,

    async refresh(reconsented = [], pulls = 'all') {
      // a user who consented again (tokens lapsed, or revoked) is subscribed again with the new token
      for (const key of [...subscribed]) {
        if (reconsented.some((openId) => key.includes(`|${openId}`))) subscribed.delete(key);
      }
      const r = await resolvePairs(app);
      current = r;
      byCalendar = new Map();
      for (const p of r.pairs) byCalendar.set(p.feishu.id, [...(byCalendar.get(p.feishu.id) ?? []), p]);
      for (const p of r.problems) log.warn({ user: p.user }, p.problem);
      await subscribe(r.pairs);
      // a new calendar has no cursor: its first pull is the initial sync; the others are cheap. The
      // spokes of the initial syncs share their quotas among them from the start
      const fresh: Pair[] = [];
      for (const p of r.pairs) if ((await app.links.cursor(p.id, 'feishu')) === null) fresh.push(p);
      expectWrites(app.spokes, fresh);
      const wanted = new Set([
        ...fresh.map((p) => p.feishu.id),
        ...r.pairs.filter((p) => reconsented.includes(p.feishu.owner)).map((p) => p.feishu.id),
      ]);
      // not a calendar whose initial pull is under way here for the same pairs: sent again, it would
      // wait for that pull's lock, sent again every two seconds for as long as that pull writes
      for (const calendarId of byCalendar.keys())
        if ((pulls === 'all' || wanted.has(calendarId)) && !covered(calendarId))
          await sendPull(boss, calendarId);
      // attendees still to add (a restart in the middle of the stage): on with them. Not on a calendar
      // whose initial pull has not ended: that pull starts the stage once it has listed, one that also
      // reads the events it has not written yet; a stage started here would leave those to another
      const initial = new Set(fresh.map((p) => p.feishu.id));
      const waiting = await app.links.pendingAttendees(r.pairs.map((p) => p.id));
      for (const [calendarId, group] of byCalendar)
        if (!initial.has(calendarId) && group.some((p) => waiting.get(p.id)))
          await sendAttendees(boss, { calendarId });
      return r;
    },

    changed(calendarId, receivedAt) {
      if (!waiting.has(calendarId)) waiting.set(calendarId, receivedAt);
    },

    async pull(job) {
      const { calendarId } = job.data;
      // changes that arrive once the pull has begun are listed by the next pull
      let receivedAt = Infinity;
      await calendarJob('pull', calendarId, `pull:${calendarId}`, {
        defer: () => sendPull(boss, calendarId, { receivedAt: job.data.receivedAt }, 2),
        async run(group) {
          receivedAt = Math.min(job.data.receivedAt ?? Infinity, waiting.get(calendarId) ?? Infinity);
          waiting.delete(calendarId);
          const policy = policyOf(app.config);
          pulling.set(calendarId, new Set(group.map((p) => p.id)));
          const results = await pullCalendar(group, {
            ...deps(),
            deleteBudget: { remaining: policy.maxDeletesPerRun },
            // busy time first: the attendees stage starts reading as soon as the listing is complete
            // (its writes wait for this pull's lock)
            onListed: ({ deferred }) => {
              if (!deferred) return;
              sendAttendees(boss, { calendarId, includeNew: true }).catch((e) =>
                log.warn({ calendar: calendarId, err: (e as Error).message }, 'attendees stage not queued'),
              );
            },
          }).finally(() => pulling.delete(calendarId));
          const held = results.filter((r) => r.held).map((r) => ({ pair: r.pair.id, held: r.held }));
          const failures = results.flatMap((r) => r.failures.map((f) => ({ pair: r.pair.id, ...f })));
          return {
            status: failures.length || held.length ? 'partial' : 'ok',
            counts: { ...results.reduce((t, r) => addCounts(t, r.counts), zeroCounts()) },
            report: {
              calendar: calendarId,
              written: written(results),
              held,
              failures: failures.slice(0, 20),
              // change event to applied, for the console's latency chart
              ...(receivedAt < Infinity ? { latencyMs: Date.now() - receivedAt } : {}),
            },
            // the cursor stayed where it was: a retry (with backoff) redoes what failed
            retry: failures.length
              ? `${failures.length} writes failed on ${calendarId}: ${failures[0].error}`
              : undefined,
          };
        },
      });
      if (receivedAt < Infinity) metrics.syncLatency.observe((Date.now() - receivedAt) / 1000);
    },

    async attendees(job) {
      const { calendarId, includeNew } = job.data;
      // one stage per calendar at a time; another waits for it (the singleton key folds repeats)
      await calendarJob('attendees', calendarId, `attendees:${calendarId}`, {
        defer: () => sendAttendees(boss, job.data, 10),
        async run(group) {
          const results = await fillAttendees(
            group,
            // each chunk is written under the calendar's pull lock: never between a pull's reads and writes
            { ...deps(), lock: () => waitLock(`pull:${calendarId}`, app.db.locks) },
            { includeNew },
          );
          const counts = results.reduce((t, r) => addCounts(t, r.counts), zeroCounts());
          const failures = results.flatMap((r) => r.failures.map((f) => ({ pair: r.pair.id, ...f })));
          const error = results.find((r) => r.error)?.error;
          return {
            status: failures.length ? 'partial' : 'ok',
            counts: { ...counts, attendeesPending: results.reduce((n, r) => n + r.left, 0) },
            report: { calendar: calendarId, written: written(results), failures: failures.slice(0, 20) },
            ...(error ? { error } : {}),
            // the stage stopped early (Feishu refused the reads): pg-boss retries it with backoff
            retry: error ? `attendees of ${calendarId}: ${error}` : undefined,
          };
        },
      });
    },

    async room(job) {
      const release = await app.db.locks.tryLock(`room:${job.data.uid}`);
      if (!release) {
        await boss.send('room', job.data, { startAfter: 2 });
        metrics.jobs.inc({ queue: 'room', outcome: 'deferred' });
        return;
      }
      try {
        const r = await handleRoomEvent(app, job.data);
        log.info({ event: r.key, action: r.action, bookings: r.bookings.length }, 'room event handled');
        for (const b of r.bookings.filter((x) => x.status === 'conflict' || x.status === 'unmapped')) {
          log.warn({ room: b.roomId, spoke: b.spoke, event: r.key, detail: b.detail }, `room ${b.status}`);
        }
      } finally {
        await release();
      }
    },

    async reconcile() {
      const release = await app.db.locks.tryLock('reconcile');
      if (!release) {
        log.info('reconciliation already running elsewhere: skipped');
        return;
      }
      try {
        const r = await runReconcile(app, { rooms: roomsOfPair(app.db.prisma) });
        log.info({ run: r.runId, ok: r.ok }, 'reconciliation done');
      } finally {
        await release();
      }
    },

    async maintain() {
      // a refresh token lives 30 days and is renewed only by use: use it before it lapses
      const owners = new Set((current?.pairs ?? []).map((p) => p.feishu.owner));
      for (const openId of owners) {
        try {
          await app.userTokens.get(openId);
        } catch (e) {
          log.warn({ openId, err: (e as Error).message }, 'token refresh failed');
        }
      }
      // rooms whose answer was pending or failed: ask again, unless recorded since the last round
      // (maintenance runs every 10 minutes). A room held by another meeting stays so for a while: ask
      // again after an hour (a round during an initial sync asked for every room declined five minutes
      // before: 158 meetings, each a Feishu read and a read of the copy and of the room's calendar)
      await recheckRoomBookings(app, { statuses: ['pending', 'failed'], freshMs: 5 * 60_000 });
      await recheckRoomBookings(app, { statuses: ['conflict'], freshMs: 60 * 60_000 });
      // Feishu redelivers for about 7 hours; ids older than a day are no longer needed
      await app.db.prisma.inboundEvent.deleteMany({
        where: { receivedAt: { lt: new Date(Date.now() - 86_400_000) } },
      });
      // the embedded database has no autovacuum
      const vacuumed = await vacuumIfDue(app.db);
      if (vacuumed.length > 0) log.info({ tables: vacuumed }, 'embedded database vacuumed');
    },
  };
}
