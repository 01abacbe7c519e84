import { afterAll, describe, expect, it } from 'vitest';
import { SharedBudget } from './budget.ts';
import { type Database, openDatabase } from './db.ts';

const url = process.env.TEST_DATABASE_URL;
const opened: Database[] = [];
const schemas: string[] = [];
afterAll(async () => {
  if (schemas.length) {
    const db = opened.find((d) => d.kind === 'postgres')!;
    for (const s of schemas) await db.executeSql(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  }
  for (const d of opened) await d.close();
});

async function twoWorkers(kind: 'pglite' | 'postgres'): Promise<[SharedBudget, SharedBudget, Database]> {
  if (kind === 'pglite') {
    const db = await openDatabase({ inMemory: true, sharedBuffers: '16MB' });
    opened.push(db);
    return [new SharedBudget(db.executeSql), new SharedBudget(db.executeSql), db];
  }
  const schema = `quota_budget_${process.pid}`;
  const target = `${url}${url!.includes('?') ? '&' : '?'}schema=${schema}`;
  const a = await openDatabase({ url: target });
  if (!schemas.includes(schema)) schemas.push(schema);
  const b = await openDatabase({ url: target, migrate: false });
  opened.push(a, b);
  await a.executeSql(`DELETE FROM "RateWindow"`);
  return [new SharedBudget(a.executeSql), new SharedBudget(b.executeSql), a];
}

for (const kind of ['pglite', 'postgres'] as const) {
  describe.skipIf(kind === 'postgres' && !url)(`shared rate budget (${kind})`, () => {
    /** The most requests inside any sliding window of `ms` (the provider's count), given send instants. */
    const peak = (at: number[], ms: number) => {
      const t = [...at].sort((x, y) => x - y);
      let most = 0;
      for (let i = 0, j = 0; i < t.length; i++) {
        while (t[i] - t[j] >= ms) j++;
        most = Math.max(most, i - j + 1);
      }
      return most;
    };

    it('gives two workers together no more than the limit in any sliding window', async () => {
      const [a, b] = await twoWorkers(kind);
      const windows = [
        { count: 5, ms: 1000 },
        { count: 8, ms: 60_000 },
      ];
      const now = 600_000; // the start of a minute
      const at = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).reserve('feishu:app:get', windows, now)),
      );
      expect(peak(at, 1000)).toBeLessThanOrEqual(5);
      expect(peak(at, 60_000)).toBeLessThanOrEqual(8);
      expect(Math.min(...at)).toBe(now);
      // another key has its own budget
      expect(await a.reserve('feishu:app:list', windows, now)).toBe(now);
    });

    it('holds the limit across a window boundary when demand starts late in a window', async () => {
      const [a, b] = await twoWorkers(kind);
      const windows = [{ count: 10, ms: 1000 }];
      // fixed windows of the full length let 10 go at 600,900 and 10 more at 601,000: 20 in 100 ms
      const at: number[] = [];
      for (let i = 0; i < 40; i++)
        at.push(await (i % 2 ? a : b).reserve('google:p:user:x', windows, 600_900));
      expect(peak(at, 1000)).toBeLessThanOrEqual(10);
      // a batch larger than one sub-window spans several, and still fits the limit
      const batch = await a.reserve('graph:t:mbx', [{ count: 100, ms: 1000 }], 700_000, 40);
      const after = await a.reserve('graph:t:mbx', [{ count: 100, ms: 1000 }], 700_000, 40);
      expect(after).toBeGreaterThan(batch);
    });

    it('forgets windows that are long over', async () => {
      const [a, , db] = await twoWorkers(kind);
      await a.reserve('old', [{ count: 1, ms: 1000 }], 1000);
      await a.prune(200_000);
      const { rows } = await db.executeSql(`SELECT count(*)::int AS n FROM "RateWindow" WHERE "key" = 'old'`);
      expect(rows[0].n).toBe(0);
    });
  });
}
