/**
 * `serve`'s spoke side of two-way pairs: the `spoke` job (read one spoke calendar's changes and bring
 * them to Feishu and the other spokes, holding the Feishu calendars' pull locks so a Feishu pull of the
 * same calendar never runs at once), and the subscriptions: one per spoke calendar of a consented
 * user's two-way pairs, renewed before they expire, stopped when their pair retires.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Boss, Job } from '../jobs/boss.ts';
import { finishRun, startRun } from '../store/runs.ts';
import { PrismaSubscriptionStore } from '../store/spoke-subscriptions.ts';
import { addCounts, zeroCounts } from '../sync/apply.ts';
import type { Pair } from '../sync/pair.ts';
import { pullSpoke } from '../sync/reverse.ts';
import type { App } from './compose.ts';
import type { Metrics } from './metrics.ts';
import type { Resolution } from './pairs.ts';
import { reverseDeps, spokeCalendarKey, spokeGroups } from './reverse-run.ts';
import type { SpokeJob } from './spoke-intake.ts';

export interface SpokeWorkerContext {
  app: App;
  boss: Boss;
  metrics: Metrics;
  log: Logger;
  resolution(): Resolution | undefined;
  /** Where the spokes reach our webhooks (server.public_url, else the listening URL). */
  webhookBase(): string | undefined;
  /** Renew a subscription when less than this is left (ms). Default 6 hours. */
  renewWithinMs?: number;
}

/** Queue a spoke pull; one waiting for the same pair absorbs it. */
export function sendSpoke(boss: Boss, job: SpokeJob, startAfterSeconds?: number) {
  return boss.send('spoke', job, {
    singletonKey: `spoke:${job.pairId}:${job.action}`,
    ...(startAfterSeconds ? { startAfter: startAfterSeconds } : {}),
  });
}

export function createSpokeWorker(ctx: SpokeWorkerContext) {
  const { app, boss, log } = ctx;
  const subs = new PrismaSubscriptionStore(app.db.prisma);
  const address = (p: Pair) => `${ctx.webhookBase()}/webhooks/${p.spoke}`;

  async function subscribe(home: Pair) {
    const feed = app.spokes[home.spoke]?.feed;
    if (!feed || !ctx.webhookBase()) return;
    const secret = randomBytes(24).toString('hex');
    const sub = await feed.subscribe(home.target, address(home), secret);
    await subs.save(home.id, home.spoke, sub, secret);
    log.info({ pair: home.id, spoke: home.spoke, subscription: sub.id }, 'spoke subscription started');
  }

  async function renew(id: string, home: Pair) {
    const stored = await subs.get(id);
    const feed = app.spokes[home.spoke]?.feed;
    if (!stored || !feed) return subscribe(home);
    const next = await feed.renew(stored.sub, address(home), stored.secret);
    if (next.id !== stored.sub.id) await subs.remove(stored.sub.id);
    await subs.save(home.id, home.spoke, next, stored.secret);
  }

  /** Two-way groups of the current pairs, by their first pair's id. */
  const groups = () => {
    const out = new Map<string, Pair[]>();
    for (const g of spokeGroups(ctx.resolution()?.pairs ?? []).values()) out.set(g[0].id, g);
    return out;
  };

  return {
    /** Subscribe what has none, renew what expires soon, stop what no pair wants any more. */
    async keep() {
      if (!ctx.resolution() || !ctx.webhookBase()) return;
      const wanted = groups();
      const stored = await subs.all();
      for (const s of stored) {
        if (wanted.has(s.pairId)) continue;
        try {
          await app.spokes[s.spoke as Pair['spoke']]?.feed?.unsubscribe(s.sub);
        } catch (e) {
          log.warn({ subscription: s.sub.id, err: (e as Error).message }, 'stopping a subscription failed');
        }
        await subs.remove(s.sub.id);
      }
      const within = ctx.renewWithinMs ?? 6 * 3_600_000;
      for (const [id, group] of wanted) {
        const mine = stored.filter((s) => s.pairId === id);
        try {
          if (mine.length === 0) await subscribe(group[0]);
          for (const s of mine) if (s.sub.expiresAt - Date.now() < within) await renew(s.sub.id, group[0]);
        } catch (e) {
          log.warn({ pair: id, err: (e as Error).message }, 'spoke subscription failed (polling continues)');
        }
      }
    },

    /** Pull jobs of every two-way spoke calendar (the polling safety net). */
    async pollAll() {
      for (const id of groups().keys()) await sendSpoke(boss, { pairId: id, action: 'pull' });
    },

    async pull(job: Job<SpokeJob>) {
      const r = ctx.resolution();
      if (!r) throw new Error('users and pairs not resolved yet');
      const pair = r.pairs.find((p) => p.id === job.data.pairId && p.direction === 'two-way');
      if (!pair) {
        ctx.metrics.jobs.inc({ queue: 'spoke', outcome: 'unmapped' });
        return;
      }
      const group = spokeGroups(r.pairs).get(spokeCalendarKey(pair))!;
      if (job.data.action === 'renew' && job.data.subscription) await renew(job.data.subscription, group[0]);
      if (job.data.action === 'resubscribe') {
        if (job.data.subscription) await subs.remove(job.data.subscription);
        await subscribe(group[0]);
      }
      const calendars = [...new Set(group.map((p) => p.feishu.id))].sort();
      const held: (() => Promise<void>)[] = [];
      for (const c of calendars) {
        const release = await app.db.locks.tryLock(`pull:${c}`);
        if (!release) break;
        held.push(release);
      }
      if (held.length < calendars.length) {
        for (const release of held) await release();
        await sendSpoke(boss, { ...job.data, action: 'pull' }, 2);
        ctx.metrics.jobs.inc({ queue: 'spoke', outcome: 'deferred' });
        return;
      }
      const runId = await startRun(app.db.prisma, 'pull');
      try {
        const results = await pullSpoke(group, reverseDeps(app, r));
        const fanout = results.reduce((t, x) => addCounts(t, x.fanout), zeroCounts());
        const failures = results.flatMap((x) => x.failures.map((f) => ({ pair: x.pair.id, ...f })));
        const errors = results.flatMap((x) => (x.error ? [x.error] : []));
        await finishRun(app.db.prisma, runId, {
          status: failures.length || errors.length ? 'partial' : 'ok',
          counts: {
            ...Object.fromEntries(
              Object.entries(
                results.reduce(
                  (t, x) => {
                    for (const [k, v] of Object.entries(x.counts)) t[k] = (t[k] ?? 0) + v;
                    return t;
                  },
                  {} as Record<string, number>,
                ),
              ),
            ),
            fanoutCreated: fanout.created,
            fanoutUpdated: fanout.updated,
            fanoutDeleted: fanout.deleted,
          },
          report: {
            spoke: spokeCalendarKey(pair),
            failures: failures.slice(0, 20),
            refusals: results.flatMap((x) => x.refusals).slice(0, 20),
            errors,
          },
        });
        if (job.data.receivedAt) ctx.metrics.syncLatency.observe((Date.now() - job.data.receivedAt) / 1000);
        if (failures.length || errors.length)
          throw new Error(`spoke pull ${spokeCalendarKey(pair)}: ${errors[0] ?? failures[0].error}`);
      } finally {
        for (const release of held) await release();
      }
    },
  };
}

export type SpokeWorker = ReturnType<typeof createSpokeWorker>;
