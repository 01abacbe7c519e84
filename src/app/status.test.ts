import PgBoss from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../store/db.ts';
import { finishRun, startRun } from '../store/runs.ts';
import { displayWidth, formatStatus, readStatus } from './status.ts';

let db: Database;
const pair = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  userKey: 'alice@example.com',
  feishuOwner: 'ou_alice',
  feishuCalendar: `feishu_${id}`,
  spoke: 'google',
  spokeOwner: 'alice@example.com',
  spokeCalendar: `cal_${id}`,
  direction: 'one-way',
  ...extra,
});
const link = (pairId: string, uid: string, extra: Record<string, unknown> = {}) => ({
  pairId,
  uid,
  originalTime: 0n,
  ...extra,
});

beforeAll(async () => {
  db = await openDatabase({ inMemory: true });
  const p = db.prisma;
  await p.syncPair.createMany({
    data: [
      pair('p1'),
      pair('p2', { spoke: 'graph', direction: 'two-way', feishuCalendar: '团队日历', userKey: 'bob' }),
      pair('p_old', { active: false, spokeCalendar: 'retired' }),
    ],
  });
  await p.eventLink.createMany({
    data: [
      link('p1', 'u1'),
      link('p1', 'u2', { attendeesPending: true }),
      link('p1', 'u5', { attendeesPending: true, tombstone: true }),
      link('p1', 'u3', { tombstone: true }),
      link('p1', 'u4', { lastError: 'Google 403 rateLimitExceeded\n  retry later' }),
      link('p1', 'u4', { originalTime: 1_900_000_000n, lastError: 'precondition failed' }),
      link('p_old', 'u9'),
    ],
  });
  await p.cursor.create({ data: { pairId: 'p1', side: 'feishu', value: 'tok' } });
  const r1 = await startRun(p, 'sync');
  await finishRun(p, r1, { status: 'partial', counts: { created: 3, updated: 0, failed: 2 } });
  await startRun(p, 'pull');
  const blob = new Uint8Array([1, 2, 3]);
  await p.credential.createMany({
    data: [
      { provider: 'feishu', subject: 'ou_alice', blob, refreshExpiresAt: new Date(Date.now() + 86400_000) },
      { provider: 'feishu', subject: 'ou_bob', blob, status: 'lapsed' },
      { provider: 'feishu', subject: 'ou_carol', blob, refreshExpiresAt: new Date(Date.now() - 1000) },
      { provider: 'other', subject: 'ou_dave', blob },
    ],
  });
  const room = {
    roomId: 'omm_1',
    originalTime: 0n,
    spoke: 'graph',
    startAt: new Date('2026-01-05T02:00:00Z'),
  };
  await p.roomBooking.createMany({
    data: [
      { ...room, uid: 'r1', status: 'booked' },
      { ...room, uid: 'r2', status: 'conflict', lastError: 'room declined' },
      { ...room, uid: 'r3', status: 'unmapped', spokeRoom: null },
    ],
  });
});
afterAll(() => db.close());

describe('readStatus', () => {
  it('gathers pairs with link counts and cursors, runs, users, failures and rooms', async () => {
    const s = await readStatus(db.prisma);
    expect(s.pairs.map((x) => x.id)).toEqual(['p1', 'p2']); // active only, by user
    const p1 = s.pairs.find((x) => x.id === 'p1')!;
    expect(p1).toMatchObject({
      userKey: 'alice@example.com',
      feishuCalendar: 'feishu_p1',
      spoke: 'google',
      spokeCalendar: 'cal_p1',
      direction: 'one-way',
      links: { live: 4, tombstoned: 2, failed: 2, attendeesPending: 1 },
      cursors: { spoke: null },
    });
    expect(p1.cursors.feishu).toBeInstanceOf(Date);
    expect(s.pairs[1].links).toEqual({ live: 0, tombstoned: 0, failed: 0, attendeesPending: 0 });

    expect(s.runs.map((r) => [r.kind, r.status])).toEqual([
      ['pull', 'running'],
      ['sync', 'partial'],
    ]);
    expect(s.runs[1].counts).toEqual({ created: 3, updated: 0, failed: 2 });
    expect(s.users).toEqual({ consented: ['ou_alice'], lapsed: ['ou_bob', 'ou_carol'] });
    expect(s.failures.map((f) => [f.pair, f.key]).sort()).toEqual([
      ['p1', 'u4_0'],
      ['p1', 'u4_1900000000'],
    ]);
    expect(s.rooms.map((r) => [r.key, r.status, r.error])).toEqual([
      ['r2_0', 'conflict', 'room declined'],
      ['r3_0', 'unmapped', null],
    ]);
    expect(s.roomSummary.rooms).toEqual([
      {
        roomId: 'omm_1',
        spoke: 'graph',
        counts: { booked: 1, pending: 0, conflict: 1, released: 0, unmapped: 1, failed: 0 },
      },
    ]);
    expect(formatStatus(s)).toMatch(
      /Room bookings by room \(1\)\n.*\n {2}omm_1 +- +graph +- +1 +0 +1 +1 +0 +0/,
    );
    expect(s.deadLetters).toEqual([]); // no pgboss schema yet
    // `feisync status` reads the same through the driver alone, without Prisma
    expect(await readStatus(db.reader)).toEqual(s);
  });

  it('reads failed pg-boss jobs from the job table and the archive once the schema exists', async () => {
    await db.executeSql(`
      CREATE SCHEMA pgboss;
      CREATE TYPE pgboss.job_state AS ENUM ('created','retry','active','completed','cancelled','failed');
      CREATE TABLE pgboss.job (id uuid PRIMARY KEY, name text NOT NULL, state pgboss.job_state NOT NULL,
        retry_count int NOT NULL DEFAULT 0, output jsonb, created_on timestamptz NOT NULL DEFAULT now(),
        completed_on timestamptz);
      CREATE TABLE pgboss.archive (LIKE pgboss.job);
      ALTER TABLE pgboss.archive ADD archived_on timestamptz NOT NULL DEFAULT now();
      INSERT INTO pgboss.job VALUES
        ('00000000-0000-0000-0000-000000000001', 'feishu-event', 'failed', 3, '{"message":"boom"}', now(), now()),
        ('00000000-0000-0000-0000-000000000002', 'feishu-event', 'completed', 0, null, now(), now());
      INSERT INTO pgboss.archive VALUES
        ('00000000-0000-0000-0000-000000000003', 'renew', 'failed', 1, '{"value":{"message":"old"}}',
         now(), now() - interval '1 day', now());`);
    const s = await readStatus(db.prisma);
    expect(s.deadLetters.map((d) => [d.queue, d.state, d.retries, d.error, d.archived])).toEqual([
      ['feishu-event', 'failed', 3, 'boom', false],
      ['renew', 'failed', 1, 'old', true],
    ]);
    expect(formatStatus(s)).toMatch(/Dead letters \(2\)[\s\S]*feishu-event\s+3\s+\S+ \S+\s+boom/);
    expect(await readStatus(db.reader)).toEqual(s);
  });

  it('gives every time as it was stored when the process runs off UTC, through Prisma and the driver', async () => {
    // 8 hours late in Shanghai before: timestamptz through Prisma on a PGlite started off UTC
    const zone = process.env.TZ;
    process.env.TZ = 'Asia/Shanghai';
    const own = await openDatabase({ inMemory: true });
    try {
      await own.executeSql(`CREATE SCHEMA pgboss;
        CREATE TABLE pgboss.job (id uuid, name text, state text, retry_count int, output jsonb, completed_on timestamptz);
        INSERT INTO pgboss.job VALUES ('00000000-0000-0000-0000-000000000004', 'pull', 'failed', 0,
          '{"message":"late"}', '2030-01-05T02:00:00Z');`);
      for (const reader of [own.prisma, own.reader]) {
        const s = await readStatus(reader);
        expect(s.deadLetters[0]).toMatchObject({ error: 'late', at: new Date('2030-01-05T02:00:00Z') });
      }
    } finally {
      await own.close();
      process.env.TZ = zone;
    }
  });
});

describe('readStatus with a real pg-boss', () => {
  it('lists a job that pg-boss itself marked failed', async () => {
    const own = await openDatabase({ inMemory: true });
    const boss = new PgBoss({ db: { executeSql: own.executeSql }, supervise: false, schedule: false });
    try {
      await boss.start();
      await boss.createQueue('feishu-event');
      const id = await boss.send('feishu-event', { n: 1 }, { retryLimit: 0 });
      const [job] = await boss.fetch('feishu-event');
      await boss.fail('feishu-event', job.id, new Error('handler exploded'));
      const s = await readStatus(own.prisma);
      expect(s.deadLetters).toEqual([
        expect.objectContaining({ id, queue: 'feishu-event', state: 'failed', error: 'handler exploded' }),
      ]);
    } finally {
      await boss.stop({ graceful: false, wait: true });
      await own.close();
    }
  });
});

describe('formatStatus', () => {
  it('prints aligned tables for every section, CJK counted as double width', async () => {
    const text = formatStatus(await readStatus(db.prisma, { bossSchema: 'nothere' }));
    expect(text).toContain('Pairs (2)');
    expect(text).toContain('Users: 1 consented, 2 lapsed');
    expect(text).toContain('lapsed (must consent again): ou_bob, ou_carol');
    expect(text).toContain('created=3 failed=2');
    expect(text).toContain('Dead letters (0)\n  none');
    expect(text).toContain('Google 403 rateLimitExceeded retry later');
    const lines = text.split('\n');
    const header = lines.find((l) => l.startsWith('  PAIR  USER'))!;
    const rows = lines.slice(lines.indexOf(header) + 1, lines.indexOf(header) + 3);
    const col = (line: string, at: number) => displayWidth(line.slice(0, at));
    // the LIVE column starts at the same terminal column in the header and in both rows
    const liveAt = displayWidth(header.slice(0, header.indexOf('LIVE')));
    expect(rows.map((r) => col(r, r.search(/ {2}\d+ {2,}\d+ {2,}\d+ {2,}\d+ {2,}feishu/) + 2))).toEqual([
      liveAt,
      liveAt,
    ]);
    expect(rows[1]).toContain('团队日历');
    // events on the spoke still waiting for their attendees: one on p1
    expect(header).toContain('NO ATTENDEES YET');
    expect(rows[0]).toMatch(/ 4 {2,}2 {2,}2 {2,}1 {2,}feishu/);
    expect(displayWidth('团队a')).toBe(5);
  });
});
