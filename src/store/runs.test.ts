import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from './db.ts';
import { finishRun, lastRuns, startRun } from './runs.ts';

let db: Database;
beforeAll(async () => {
  db = await openDatabase({ inMemory: true });
});
afterAll(() => db.close());

interface Counts {
  created: number;
  failed: number;
}

describe('runs', () => {
  it('opens a run as running, closes it with counts/report/error, lists newest first', async () => {
    const first = await startRun(db.prisma, 'sync');
    const running = await lastRuns(db.prisma, 5);
    expect(running[0]).toMatchObject({
      id: first,
      kind: 'sync',
      status: 'running',
      finishedAt: null,
      counts: null,
    });

    const counts: Counts = { created: 3, failed: 1 };
    await finishRun(db.prisma, first, {
      status: 'partial',
      counts,
      report: { held: [{ pair: 'p1', at: new Date(0), skip: undefined }] },
    });
    const second = await startRun(db.prisma, 'pull');
    await finishRun(db.prisma, second, { status: 'failed', counts: {}, error: 'feishu auth refused' });
    const third = await startRun(db.prisma, 'reconcile');

    const runs = await lastRuns(db.prisma, 10);
    expect(runs.map((r) => r.id)).toEqual([third, second, first]);
    expect(runs[2]).toMatchObject({
      kind: 'sync',
      status: 'partial',
      counts: { created: 3, failed: 1 },
      report: { held: [{ pair: 'p1', at: '1970-01-01T00:00:00.000Z' }] },
      error: null,
    });
    expect(runs[2].finishedAt!.getTime()).toBeGreaterThanOrEqual(runs[2].startedAt.getTime());
    expect(runs[1]).toMatchObject({
      kind: 'pull',
      status: 'failed',
      error: 'feishu auth refused',
      report: null,
    });
    expect(await lastRuns(db.prisma, 1)).toHaveLength(1);
    expect((await lastRuns(db.prisma, 10, 'pull')).map((r) => r.id)).toEqual([second]);
  });

  it('rejects unknown kinds, statuses and ids', async () => {
    await expect(startRun(db.prisma, 'nope' as 'sync')).rejects.toThrow(/unknown run kind/);
    const id = await startRun(db.prisma, 'sync');
    await expect(finishRun(db.prisma, id, { status: 'done' as 'ok', counts: {} })).rejects.toThrow(
      /unknown run status/,
    );
    await expect(finishRun(db.prisma, 999_999, { status: 'ok', counts: {} })).rejects.toThrow();
  });
});
