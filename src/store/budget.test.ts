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
    it('gives two workers together no more than the limit of each window, in order', async () => {
      const [a, b] = await twoWorkers(kind);
      const windows = [
        { count: 5, ms: 1000 },
        { count: 8, ms: 60_000 },
      ];
      const now = 600_000; // the start of a minute
      const at = await Promise.all(
        Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).reserve('feishu:app:get', windows, now)),
      );
      const bySecond = new Map<number, number>();
      for (const t of at) bySecond.set(t, (bySecond.get(t) ?? 0) + 1);
      // 5 in the first second, 3 in the next (8 a minute), the other 4 in the next minute
      expect([...bySecond].sort((x, y) => x[0] - y[0])).toEqual([
        [600_000, 5],
        [601_000, 3],
        [660_000, 4],
      ]);
      // another key has its own budget
      expect(await a.reserve('feishu:app:list', windows, now)).toBe(now);
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
