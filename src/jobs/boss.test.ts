import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Database, openDatabase } from '../store/db.ts';
import { type Boss, sendPull, startBoss } from './boss.ts';

const open: { db: Database; boss: Boss }[] = [];
afterEach(async () => {
  for (const { db, boss } of open.splice(0)) {
    await boss.stop({ graceful: false, wait: true, close: false });
    await db.close();
  }
});

async function check(db: Database) {
  const boss = await startBoss(db, { retryLimit: 0 });
  open.push({ db, boss });
  // bursts coalesce: while a pull of a calendar waits, more pulls of it are absorbed
  const first = await sendPull(boss, 'cal-a', { receivedAt: 1 });
  expect(first).toEqual(expect.any(String));
  expect(await sendPull(boss, 'cal-a', { receivedAt: 2 })).toBeNull();
  expect(await sendPull(boss, 'cal-b')).toEqual(expect.any(String));
  const job = await boss.getJobById('pull', first!);
  expect(job?.data).toEqual({ calendarId: 'cal-a', receivedAt: 1 });
  // a failed job goes to the dead-letter queue
  const [fetched] = await boss.fetch('pull', { batchSize: 1 });
  expect(fetched.id).toBe(first);
  await boss.fail('pull', fetched.id, new Error('broken'));
  const dead = await boss.fetch('dead', { batchSize: 10 });
  expect(dead.map((d) => d.data)).toEqual([{ calendarId: 'cal-a', receivedAt: 1 }]);
  // starting again over an existing schema is fine (a second process, or a restart)
  await (await startBoss(db)).stop({ graceful: false, wait: true, close: false });
}

describe('jobs on pg-boss', () => {
  it('runs on the embedded database', async () => {
    await check(await openDatabase({ inMemory: true }));
  });
  const url = process.env.TEST_DATABASE_URL;
  it.skipIf(!url)('runs on a Postgres server, in a pg-boss schema beside the app schema', async () => {
    const schema = `boss_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
    const db = await openDatabase({ url: `${url}?schema=${schema}` });
    expect(db.bossSchema).toBe(`${schema}_pgboss`);
    await check(db);
    await db.executeSql(`DROP SCHEMA "${schema}_pgboss" CASCADE; DROP SCHEMA "${schema}" CASCADE`);
  });
});

describe('workers polling slowly', () => {
  it('take a job this process sends when it is due, and after a job look for the next at once', async () => {
    const db = await openDatabase({ inMemory: true });
    const boss = await startBoss(db);
    open.push({ db, boss });
    const done: string[] = [];
    // two polls a minute: without being woken, three jobs would take more than a minute
    await boss.work<{ n: string }>('room', { pollingIntervalSeconds: 30, batchSize: 1 }, async ([job]) => {
      done.push(job.data.n);
    });
    await boss.send('room', { n: 'a' });
    await vi.waitFor(() => expect(done).toEqual(['a']), { timeout: 20_000, interval: 50 });
    // the worker has looked since its job, found nothing, and waits for its next poll
    for (const n of ['b', 'c']) await boss.send('room', { n });
    await vi.waitFor(() => expect(done).toEqual(['a', 'b', 'c']), { timeout: 20_000, interval: 50 });
    // a job due later is taken when it is due
    await boss.send('room', { n: 'd' }, { startAfter: 1 });
    await vi.waitFor(() => expect(done).toEqual(['a', 'b', 'c', 'd']), { timeout: 20_000, interval: 50 });
  });

  it('a job sent wakes one idle worker, not every worker of its queue', async () => {
    const db = await openDatabase({ inMemory: true });
    // pg-boss's fetch of work: counted as the database sees it
    let fetches = 0;
    const run = db.executeSql;
    db.executeSql = (text, values) => {
      if (/WITH next as/.test(text)) fetches++;
      return run(text, values);
    };
    const boss = await startBoss(db);
    open.push({ db, boss });
    const done: string[] = [];
    for (let i = 0; i < 8; i++)
      await boss.work<{ n: string }>('room', { pollingIntervalSeconds: 30, batchSize: 1 }, async ([job]) => {
        done.push(job.data.n);
      });
    await new Promise((r) => setTimeout(r, 500)); // each worker's first look, at its start
    fetches = 0;
    for (const n of ['a', 'b', 'c']) {
      await boss.send('room', { n });
      await vi.waitFor(() => expect(done).toContain(n), { timeout: 20_000, interval: 50 });
    }
    await new Promise((r) => setTimeout(r, 300)); // the last worker's look after its job
    // a look that takes the job and one after it, per job; every worker woken would be 8 or more each
    expect(fetches).toBeLessThanOrEqual(6);
  });

  it('jobs sent together run side by side, and one sent while all are busy after the first job', async () => {
    const db = await openDatabase({ inMemory: true });
    const boss = await startBoss(db);
    open.push({ db, boss });
    const started = new Map<string, number>();
    for (let i = 0; i < 2; i++)
      await boss.work<{ n: string }>('room', { pollingIntervalSeconds: 30, batchSize: 1 }, async ([job]) => {
        started.set(job.data.n, Date.now());
        await new Promise((r) => setTimeout(r, 1000));
      });
    await new Promise((r) => setTimeout(r, 500));
    const t0 = Date.now();
    for (const n of ['x', 'y', 'z']) await boss.send('room', { n });
    await vi.waitFor(() => expect(started.size).toBe(3), { timeout: 20_000, interval: 50 });
    expect(started.get('x')! - t0).toBeLessThan(900);
    expect(started.get('y')! - t0).toBeLessThan(900);
    expect(started.get('z')! - t0).toBeGreaterThanOrEqual(900);
    expect(started.get('z')! - t0).toBeLessThan(5000);
  });
});
