/**
 * Durable jobs on pg-boss, in the same database as everything else (PGlite through its SQL hook, or
 * the Postgres pool). Queues:
 * - `pull`      one Feishu calendar's incremental pull; singleton key = calendar, so a burst of change
 *               events while one is waiting coalesces into it (policy `short`);
 * - `calendars` re-read the users' calendar lists and pairs (seed 000), then (re)subscribe;
 * - `room`      one third-party meeting-room event (seed 004);
 * - `reconcile` the scheduled reconciliation (cron from the config);
 * - `maintain`  every ten minutes: refresh user tokens before their refresh token lapses, prune old
 *               delivery ids, recheck room answers, vacuum the embedded database;
 * - `spoke`     two-way pairs: one spoke calendar's changes (a push notification or the poll timer);
 * - `attendees` busy time first: the attendees stage of one Feishu calendar (src/sync/attendees.ts),
 *               after a full pull wrote its events without them; minutes long, so apart from `pull`.
 * Failures retry with exponential backoff, then land in the `dead` queue (shown by `feisync status`).
 */
import PgBoss from 'pg-boss';
import type { Database } from '../store/db.ts';

export const QUEUES = [
  ...['pull', 'calendars', 'room', 'reconcile', 'maintain', 'spoke', 'migrate'],
  'attendees',
] as const;
export type QueueName = (typeof QUEUES)[number];
export const DEAD_LETTER = 'dead';

export type Boss = PgBoss;
export type Job<T> = PgBoss.Job<T>;

export interface BossOptions {
  /** Retries before a job goes to the dead-letter queue. Default 5. */
  retryLimit?: number;
  /** First retry delay in seconds; doubled each time (pg-boss backoff, with jitter). Default 2. */
  retryDelay?: number;
}

/** Starts pg-boss (creating or upgrading its schema) and the queues. */
export async function startBoss(db: Database, options: BossOptions = {}): Promise<Boss> {
  const boss = new PgBoss({
    db: { executeSql: db.executeSql },
    schema: db.bossSchema,
    // archive finished jobs after a day, keep failed ones a week (status shows them)
    archiveCompletedAfterSeconds: 86_400,
    archiveFailedAfterSeconds: 7 * 86_400,
  } as PgBoss.ConstructorOptions);
  await boss.start();
  wakeOnWork(boss);
  const retry = {
    retryLimit: options.retryLimit ?? 5,
    retryDelay: options.retryDelay ?? 2,
    retryBackoff: true,
    deadLetter: DEAD_LETTER,
  };
  await ensureQueue(boss, { name: DEAD_LETTER, policy: 'standard', retentionMinutes: 7 * 24 * 60 });
  for (const name of QUEUES) {
    const policy = name === 'room' ? 'standard' : 'short';
    // an attendees stage reads as Feishu's budgets allow: a large calendar takes a while
    const expireInSeconds = name === 'attendees' ? 4 * 3600 : 15 * 60;
    await ensureQueue(boss, { name, policy, expireInSeconds, ...retry });
  }
  return boss;
}

/**
 * Every poll of a worker is a query on the job table, and the embedded database runs them in this
 * process: 33 workers polling every half second or two kept an idle `serve` at 9% of a core. So
 * workers poll slowly and are woken instead: when a job this process sends to their queue is due (at
 * once, or when its `startAfter` in seconds comes), one idle worker of the queue looks; and after a
 * job, a worker looks for the next at once rather than after its polling interval. A job sent while
 * every worker is busy is taken by the first to finish. Polling remains for jobs that other processes
 * send, and for pg-boss's retries.
 */
function wakeOnWork(boss: Boss) {
  const workers = new Map<string, string[]>();
  // working: running a job; woken: told to look, not yet seen taking a job (cleared after a second,
  // as it may have found nothing: another process or worker took the job)
  const working = new Set<string>();
  const woken = new Set<string>();
  const wake = (queue: string) => {
    const id = workers.get(queue)?.find((w) => !working.has(w) && !woken.has(w));
    if (!id) return;
    woken.add(id);
    setTimeout(() => woken.delete(id), 1000).unref();
    boss.notifyWorker(id);
  };
  const work = boss.work.bind(boss) as (...args: unknown[]) => Promise<string>;
  boss.work = (async (name: string, ...rest: unknown[]) => {
    const handler = rest.pop() as (jobs: unknown) => Promise<unknown>;
    let id: string | undefined;
    id = await work(name, ...rest, async (jobs: unknown) => {
      if (id) {
        working.add(id);
        woken.delete(id);
      }
      try {
        return await handler(jobs);
      } finally {
        if (id) {
          working.delete(id);
          boss.notifyWorker(id);
        }
      }
    });
    workers.set(name, [...(workers.get(name) ?? []), id]);
    return id;
  }) as Boss['work'];
  const send = boss.send.bind(boss) as (...args: unknown[]) => Promise<string | null>;
  boss.send = (async (...args: unknown[]) => {
    const id = await send(...args);
    const [first, , options] = args as [
      string | { name: string; options?: PgBoss.SendOptions },
      unknown,
      PgBoss.SendOptions?,
    ];
    const name = typeof first === 'string' ? first : first.name;
    const after = (typeof first === 'string' ? options : first.options)?.startAfter;
    if (!id) return id;
    if (after === undefined) wake(name);
    // a little after it is due: pg-boss compares with the database's clock
    else if (typeof after === 'number') setTimeout(() => wake(name), after * 1000 + 50).unref();
    return id;
  }) as Boss['send'];
}

/**
 * Creates or updates a queue. Workers starting together on one Postgres create the same queues at
 * once, and pg-boss's creation can deadlock against another's (Postgres then aborts one of them):
 * that one looks again, a moment later, and finds the queue or creates it.
 */
async function ensureQueue(boss: Boss, queue: PgBoss.Queue) {
  for (let attempt = 1; ; attempt++) {
    try {
      if (await boss.getQueue(queue.name)) await boss.updateQueue(queue.name, queue);
      else await boss.createQueue(queue.name, queue);
      return;
    } catch (e) {
      const code = (e as { code?: string }).code;
      // 40P01 deadlock; 23505 unique violation (the other created it first); 42P07 table exists
      if (attempt >= 5 || !['40P01', '23505', '42P07'].includes(code ?? '')) throw e;
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 200 * attempt));
    }
  }
}

/** Queue a pull of one Feishu calendar; a pull already waiting for it absorbs this one. */
export function sendPull(
  boss: Boss,
  calendarId: string,
  data: { receivedAt?: number } = {},
  startAfterSeconds?: number,
) {
  return boss.send(
    'pull',
    { calendarId, ...data },
    { singletonKey: calendarId, ...(startAfterSeconds ? { startAfter: startAfterSeconds } : {}) },
  );
}

export interface AttendeesJob {
  calendarId: string;
  /**
   * Sent by a full pull as soon as it has listed: also read the events it is still writing (see
   * AttendeeOptions.includeNew). Its own singleton key, so a waiting job of the other kind never
   * absorbs it.
   */
  includeNew?: boolean;
}

/** Queue the attendees stage of one Feishu calendar; one waiting per calendar and kind. */
export function sendAttendees(boss: Boss, job: AttendeesJob, startAfterSeconds?: number) {
  return boss.send('attendees', job, {
    singletonKey: `${job.calendarId}${job.includeNew ? ':new' : ''}`,
    ...(startAfterSeconds ? { startAfter: startAfterSeconds } : {}),
  });
}
