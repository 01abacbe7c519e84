import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deduplicator } from '../../connectors/feishu/intake.ts';
import { type Database, openDatabase } from './db.ts';
import { PrismaDeduplicator } from './inbound.ts';

let db: Database;
beforeAll(async () => {
  db = await openDatabase({ inMemory: true });
});
afterAll(() => db.close());

describe('PrismaDeduplicator', () => {
  it('answers false the first time and true after; forget lets a redelivery through', async () => {
    const dedup: Deduplicator = new PrismaDeduplicator(db.prisma);
    expect(await dedup.seen('ev_1')).toBe(false);
    expect(await dedup.seen('ev_1')).toBe(true);
    expect(await dedup.seen('ev_2')).toBe(false);
    await dedup.forget('ev_1');
    expect(await dedup.seen('ev_1')).toBe(false);
    const rows = await db.prisma.inboundEvent.findMany({
      where: { provider: 'feishu' },
      orderBy: { eventId: 'asc' },
    });
    expect(rows.map((r) => [r.eventId, r.type])).toEqual([
      ['ev_1', 'event'],
      ['ev_2', 'event'],
    ]);
  });

  it('lets exactly one of many concurrent callers (two stores, like two processes) claim an id', async () => {
    const a = new PrismaDeduplicator(db.prisma);
    const b = new PrismaDeduplicator(db.prisma);
    const answers = await Promise.all([a.seen('ev_race'), b.seen('ev_race')]);
    expect(answers.filter((x) => x === false)).toHaveLength(1);
    const many = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).seen('ev_race2')));
    expect(many.filter((x) => x === false)).toHaveLength(1);
  });

  it('keeps providers apart, records processing and prunes old ids', async () => {
    const google = new PrismaDeduplicator(db.prisma, { provider: 'google', type: 'push' });
    const feishu = new PrismaDeduplicator(db.prisma);
    expect(await google.seen('ev_2')).toBe(false); // same id, other provider
    await google.markProcessed('ev_2');
    const row = await db.prisma.inboundEvent.findUniqueOrThrow({
      where: { provider_eventId: { provider: 'google', eventId: 'ev_2' } },
    });
    expect(row.type).toBe('push');
    expect(row.processedAt).toBeInstanceOf(Date);

    await db.prisma.inboundEvent.create({
      data: {
        provider: 'feishu',
        eventId: 'ev_old',
        type: 'event',
        receivedAt: new Date(Date.now() - 9 * 3600_000),
      },
    });
    expect(await feishu.prune(8 * 3600_000)).toBe(1);
    expect(await feishu.seen('ev_old')).toBe(false);
    expect(await feishu.seen('ev_2')).toBe(true);
    expect(await db.prisma.inboundEvent.count({ where: { provider: 'google' } })).toBe(1);
  });
});

const url = process.env.TEST_DATABASE_URL;
describe.skipIf(!url)('PrismaDeduplicator on a Postgres server (TEST_DATABASE_URL)', () => {
  it('two separate connection pools (as two processes) racing on one id: exactly one claims it', async () => {
    const schema = `feisync_dedup_${process.pid}_${Date.now()}`;
    const scoped = new URL(url!);
    scoped.searchParams.set('schema', schema);
    const first = await openDatabase({ url: url!, migrate: false });
    await first.executeSql(`CREATE SCHEMA "${schema}"`);
    const a = await openDatabase({ url: scoped.toString() });
    const b = await openDatabase({ url: scoped.toString(), migrate: false });
    try {
      const da = new PrismaDeduplicator(a.prisma);
      const db2 = new PrismaDeduplicator(b.prisma);
      for (let round = 0; round < 5; round++) {
        const id = `ev_pg_${round}`;
        const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? da : db2).seen(id)));
        expect(answers.filter((x) => x === false)).toHaveLength(1);
      }
      expect(await a.prisma.inboundEvent.count()).toBe(5);
    } finally {
      await a.close();
      await b.close();
      await first.executeSql(`DROP SCHEMA "${schema}" CASCADE`);
      await first.close();
    }
  });
});
