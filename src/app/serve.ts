/**
 * `feisync serve`: event intake (long connection, webhook or polling), the job workers, the HTTP
 * endpoints, subscriptions and schedules, and a shutdown that loses nothing: an event is acknowledged
 * only once its job is stored, and on SIGTERM the running jobs finish before the database closes.
 */
import { setFlagsFromString } from 'node:v8';
import pino, { type Logger } from 'pino';
import { type FeishuHint, startLongConnection } from '../../connectors/feishu/events.ts';
import type { Config } from '../config/index.ts';
import { type AttendeesJob, type Boss, type Job, sendPull, startBoss } from '../jobs/boss.ts';
import { parseSecretKey } from '../store/credentials.ts';
import { PrismaDeduplicator } from '../store/inbound.ts';
import { retryDeadLetter } from '../web/console/retry.ts';
import {
  type ConflictsProvider,
  type HttpServer,
  type PushHandler,
  startWebServer,
  type WebLimits,
} from '../web/index.ts';
import { type App, type ComposeOptions, compose } from './compose.ts';
import { conflictsProvider } from './conflicts.ts';
import { createConsent } from './consent.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { cutoverWave } from './migrate-run.ts';
import { dueWaves } from './migrate-schedule.ts';
import { runReconcile } from './reconcile-run.ts';
import { roomsOfPair } from './rooms-report.ts';
import type { RoomHint } from './rooms-run.ts';
import { type SpokeJob, spokeIntake } from './spoke-intake.ts';
import { createSpokeWorker, sendSpoke } from './spoke-worker.ts';
import { createWorker, type PullJob, type Worker } from './worker.ts';

export interface ServeOptions extends ComposeOptions {
  /** Override config server.host / server.port (tests use port 0). */
  host?: string;
  port?: number;
  log?: Logger;
  /** Pull jobs handled at once in this process. Default 32. */
  concurrency?: number;
  /** Job retries before the dead-letter queue, and the first retry delay in seconds. */
  retryLimit?: number;
  retryDelay?: number;
  /** Override the web layer's limits (body cap, timeouts, requests in flight, consent rate). */
  limits?: Partial<WebLimits>;
  /** Provider webhooks to mount, by path (see src/web/index.ts). */
  push?: Record<string, PushHandler>;
  /** The conflicts store of two-way sync, for the console's Conflicts page. */
  conflicts?: ConflictsProvider;
}

export interface Service {
  url: string;
  app: App;
  boss: Boss;
  worker: Worker;
  metrics: Metrics;
  /** Graceful stop: no new work, running jobs finish, then everything closes. */
  close(): Promise<void>;
}

/**
 * A long-running service favours memory over peak speed (its pace is the providers' quotas). V8 reads
 * both flags when it needs them, so setting them here, before the database's WebAssembly is compiled,
 * takes effect:
 * - the heap is kept near what it holds: V8 would let the old generation grow to about three times
 *   the live heap between full collections (some 400 MB of garbage at 10,000 events, as the sync's
 *   page and batch buffers outlive their young-generation collections); 1.1 times is enough, for
 *   some 7% more CPU;
 * - WebAssembly, and so the embedded Postgres (PGlite, 8.7 MB of it), runs on V8's baseline
 *   compiler only: the optimising tier's code and work cost about 70 MB resident; it runs a query
 *   about 1.5x faster, but over a 10,000-event sync its compiling cost more CPU than it saved (2.8
 *   against 2.5 ms per event).
 * The flags are the process's: they hold for anything else it runs (the demo, tests).
 */
function leanRuntime() {
  setFlagsFromString('--heap-growing-percent=10');
  setFlagsFromString('--liftoff-only');
}

export async function startService(
  config: Config,
  configFile: string,
  options: ServeOptions = {},
): Promise<Service> {
  leanRuntime();
  const log =
    options.log ??
    pino(
      { name: 'feisync', redact: ['*.token', '*.access_token', '*.refresh_token', '*.app_secret'] },
      pino.destination(2),
    );
  const app = await compose(config, configFile, options);
  const closers: (() => Promise<void> | void)[] = [() => app.close()];
  const close = async () => {
    for (const c of closers.splice(0).reverse()) {
      try {
        await c();
      } catch (e) {
        log.warn({ err: (e as Error).message }, 'error while stopping');
      }
    }
  };
  try {
    const boss = await startBoss(app.db, { retryLimit: options.retryLimit, retryDelay: options.retryDelay });
    boss.on('error', (e) => log.error({ err: e.message }, 'job queue error'));
    closers.push(() => boss.stop({ graceful: true, wait: true, timeout: 60_000 }));
    const origins = {
      feishu: [config.feishu.domain],
      google: config.google ? [config.google.root_url, config.google.token_url] : [],
      graph: config.exchange ? [config.exchange.base_url, config.exchange.authority_url] : [],
    };
    const metrics = createMetrics(app.db, origins);
    closers.push(() => metrics.close());
    const worker = createWorker({ app, boss, metrics, log });
    let listening: string | undefined;
    const spokes = createSpokeWorker({
      app,
      boss,
      metrics,
      log,
      resolution: () => worker.resolution(),
      webhookBase: () => config.server.public_url ?? listening,
    });
    const dedup = new PrismaDeduplicator(app.db.prisma);

    // workers: each handler is timed and counted; a throw makes pg-boss retry with backoff
    const timed =
      <T>(queue: string, fn: (job: Job<T>) => Promise<void>) =>
      async (jobs: Job<T>[]) => {
        for (const job of jobs) {
          const end = metrics.jobSeconds.startTimer({ queue });
          try {
            await fn(job);
            metrics.jobs.inc({ queue, outcome: 'done' });
          } catch (e) {
            metrics.jobs.inc({ queue, outcome: 'failed' });
            log.warn({ queue, job: job.id, err: (e as Error).message }, 'job failed');
            throw e;
          } finally {
            end();
          }
        }
      };
    // A send from this process wakes its queue's workers, and a worker that did a job looks for the
    // next at once (jobs/boss.ts): polling finds what other processes send, deferred jobs and retries
    const poll = { pollingIntervalSeconds: 10, batchSize: 1 };
    // Pulls mostly wait on the spokes' per-user budgets, so an initial sync of many users needs many
    // at once to use the project's budget: Google's 10,000 a minute takes 17 users at their whole 600,
    // and up to 34 where their writes are spread over two windows or more (transport.ts). The first
    // four look every two seconds: a pull deferred while another process holds its calendar comes
    // back after two
    for (let i = 0; i < (options.concurrency ?? 32); i++) {
      await boss.work<PullJob>(
        'pull',
        i < 4 ? { ...poll, pollingIntervalSeconds: 2 } : poll,
        timed('pull', (j) => worker.pull(j)),
      );
    }
    // One refresh covers every user, so the jobs queued meanwhile (consents given one after another:
    // one each) are taken together and refreshed once; one at a time, the twentieth user of a
    // roll-out waited a minute for the nineteen refreshes before theirs
    const refresh = timed('calendars', async (job: Job<{ users?: string[]; consent?: boolean }>) => {
      await worker.refresh(job.data.consent ? job.data.users : [], 'new');
      await spokes.keep();
      await spokes.pollAll();
    });
    await boss.work<{ users?: string[]; consent?: boolean }>(
      'calendars',
      { ...poll, batchSize: 100 },
      async (jobs) => {
        const reconsented = jobs.flatMap((j) => (j.data.consent ? (j.data.users ?? []) : []));
        await refresh([{ ...jobs[0], data: { users: reconsented, consent: reconsented.length > 0 } }]);
      },
    );
    // attendees stages (busy time first): mostly waiting on Feishu's read budgets, which they share;
    // several at once so that every user's nearest events come early, and writes to each user's
    // spoke budget go side by side
    for (let i = 0; i < 8; i++) {
      await boss.work<AttendeesJob>(
        'attendees',
        // a stage deferred for ten seconds while Feishu's budgets are spent comes back soon after
        { ...poll, pollingIntervalSeconds: 5 },
        timed('attendees', (j) => worker.attendees(j)),
      );
    }
    for (let i = 0; i < 2; i++)
      await boss.work<SpokeJob>(
        'spoke',
        poll,
        timed('spoke', (j) => spokes.pull(j)),
      );
    await boss.work<RoomHint>(
      'room',
      poll,
      timed('room', (j) => worker.room(j)),
    );
    await boss.work(
      'maintain',
      poll,
      timed('maintain', async () => {
        await worker.maintain();
        await spokes.keep();
      }),
    );
    await boss.work(
      'reconcile',
      poll,
      timed('reconcile', () => worker.reconcile()),
    );
    // maintenance often enough to recheck room answers still pending; reconciliation on the config's cron
    await boss.schedule('maintain', '*/10 * * * *');
    await boss.schedule('reconcile', config.reconcile.schedule);
    // migration waves with a cutover time: checked every minute (and now); the pairs follow the cutover
    await boss.work(
      'migrate',
      poll,
      timed('migrate', async () => {
        for (const wave of await dueWaves(config, app.db.prisma)) {
          const r = await cutoverWave(app, wave);
          log.info({ wave, ok: r.ok, refused: !!r.refused, busy: !!r.busy }, 'migration wave cutover');
          // the moved users' pairs: two-way now, so their spoke calendars get subscriptions
          await worker.refresh();
          await spokes.keep();
        }
      }),
    );
    if (config.migration.waves.some((w) => w.cutover)) {
      await boss.schedule('migrate', '* * * * *');
      await boss.send('migrate', {}, { singletonKey: 'migrate' });
    }

    // intake: whatever the transport, an event becomes a stored job before it is acknowledged
    const onHint = async (hint: FeishuHint) => {
      const receivedAt = Date.now();
      if (hint.type === 'pull-calendar') {
        worker.changed(hint.calendarId, receivedAt);
        await sendPull(boss, hint.calendarId, { receivedAt });
      } else if (hint.type === 'relist-calendars') {
        await boss.send('calendars', { users: hint.userOpenIds }, { singletonKey: 'calendars' });
      } else {
        await boss.send('room', hint);
      }
    };
    const mode = config.feishu.events.mode;
    let connection: { close(): void; state(): string } | undefined;
    if (mode === 'websocket') {
      connection = await startLongConnection({
        appId: config.feishu.app_id,
        appSecret: config.feishu.app_secret,
        domain: config.feishu.domain,
        dedup,
        onHint: async (hint, meta) => {
          await onHint(hint);
          metrics.deliveries.inc({ transport: meta.transport, type: hint.type, outcome: 'accepted' });
        },
      });
      closers.push(() => connection?.close());
    }
    // polling: the whole intake in poll mode, a safety net otherwise (and users without events)
    const timer = setInterval(() => {
      for (const p of worker.resolution()?.pairs ?? []) void sendPull(boss, p.feishu.id).catch(() => {});
      void spokes.pollAll().catch(() => {});
    }, config.feishu.events.poll_interval);
    timer.unref();
    closers.push(() => clearInterval(timer));

    // reconciliations started from the console run here; the stop waits for them
    let reconciling: Promise<void> | undefined;
    closers.push(() => reconciling);
    const consoleOps = {
      resolution: () => worker.resolution(),
      retry: (queue: string, id: string) => retryDeadLetter(boss, app.db, queue, id),
      reconcile: async (mode: 'dry-run' | 'repair') => {
        if (reconciling) return;
        const run =
          mode === 'repair'
            ? worker.reconcile()
            : runReconcile(app, { dryRun: true, rooms: roomsOfPair(app.db.prisma) }).then(() => {});
        reconciling = run
          .catch((e) => log.warn({ err: (e as Error).message }, 'reconciliation from the console failed'))
          .finally(() => {
            reconciling = undefined;
          });
      },
      reconciling: () => reconciling !== undefined,
      conflicts: options.conflicts ?? conflictsProvider(app),
    };
    const http: HttpServer = await startWebServer(
      {
        app,
        metrics,
        dedup,
        consent: createConsent(app, parseSecretKey(config.secret_key)),
        onHint,
        onConsent: async (openId) => {
          log.info({ openId }, 'consent stored');
          // due a second later: consents given one after another are refreshed together
          await boss.send(
            'calendars',
            { users: [openId], consent: true },
            { singletonKey: `consent:${openId}`, startAfter: 1 },
          );
        },
        notReady: async () => {
          try {
            await app.db.executeSql('SELECT 1');
          } catch (e) {
            return `database: ${(e as Error).message}`;
          }
          if (connection && connection.state() !== 'connected') {
            return `long connection: ${connection.state()}`;
          }
          if (!worker.resolution()) return 'users and pairs not resolved yet';
          return undefined;
        },
        webhooks: mode === 'webhook',
        publicUrl: config.server.public_url,
        limits: options.limits,
        // spoke push notifications of two-way pairs (src/app/spoke-intake.ts), then any given by the caller
        push: {
          ...Object.fromEntries(
            (['google', 'graph'] as const).map((spoke) => [
              `/webhooks/${spoke}`,
              spokeIntake({
                app,
                spoke,
                queue: (job) => sendSpoke(boss, job).then(() => {}),
                onOutcome: (outcome, detail) =>
                  metrics.deliveries.inc({ transport: `${spoke}-push`, type: detail ?? 'none', outcome }),
              }),
            ]),
          ),
          ...options.push,
        },
        console: consoleOps,
        log,
      },
      { host: options.host ?? config.server.host, port: options.port ?? config.server.port },
    );
    // first in, last out: stop taking requests before the queue and the database go
    closers.push(() => http.close());

    listening = http.url;
    await worker.refresh();
    await spokes.keep();
    await spokes.pollAll();
    log.info({ url: http.url, mode }, 'serving');
    return { url: http.url, app, boss, worker, metrics, close };
  } catch (e) {
    await close();
    throw e;
  }
}
