/**
 * Several `serve` processes start at once on one Postgres: each starts pg-boss and creates or
 * updates the same queues. pg-boss's queue creation can deadlock against another's; every start
 * must still succeed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../store/db.ts';
import { type Boss, QUEUES, startBoss } from './boss.ts';

const url = process.env.TEST_DATABASE_URL;
const opened: Database[] = [];
const bosses: Boss[] = [];

afterAll(async () => {
  for (const b of bosses) await b.stop({ graceful: false, wait: true });
  const first = opened[0];
  for (let round = 0; first && round < 2; round++) {
    await first.executeSql(`DROP SCHEMA IF EXISTS "workers_boss_${process.pid}_${round}_pgboss" CASCADE`);
  }
  for (const d of opened) await d.close();
});

describe.skipIf(!url)('pg-boss started by several workers at once (Postgres)', () => {
  it('starts in every worker, the queues created once', async () => {
    for (let round = 0; round < 2; round++) {
      const schema = `workers_boss_${process.pid}_${round}`;
      const target = `${url}${url!.includes('?') ? '&' : '?'}schema=${schema}`;
      const dbs = await Promise.all([0, 1, 2, 3].map(() => openDatabase({ url: target, migrate: false })));
      opened.push(...dbs);
      const started = await Promise.allSettled(dbs.map((db) => startBoss(db)));
      for (const s of started) if (s.status === 'fulfilled') bosses.push(s.value);
      expect(started.filter((s) => s.status === 'rejected').map((s) => String((s as any).reason))).toEqual(
        [],
      );
      const queues = (await bosses[bosses.length - 1].getQueues()).map((q) => q.name);
      for (const q of QUEUES) expect(queues).toContain(q);
      for (const b of bosses.splice(0)) await b.stop({ graceful: false, wait: true });
      await dbs[0].executeSql(`DROP SCHEMA IF EXISTS "${schema}_pgboss" CASCADE`);
    }
  });
});
