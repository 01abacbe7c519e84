/**
 * A wave's cutover at its `cutover` time inside `feisync serve`: the service's `migrate` job finds the
 * wave due, cuts it over once, and its pairs follow (a Google edit by the moved user reaches Feishu
 * and Exchange through the service's spoke intake). Read back through the SDKs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTenant } from '../../src/app/demo/tenant.ts';
import { type Service, startService } from '../../src/app/serve.ts';
import { loadConfig } from '../../src/config/index.ts';
import type { Pair } from '../../src/sync/pair.ts';
import { googleDrift } from '../support/drift.ts';
import { openWorld } from '../support/world.ts';
import {
  copyOf,
  feishuEvent,
  NOW,
  pairsOf,
  someSingle,
  spokeEvents,
  type TwoWayWorld,
} from './twoway-world.ts';

let w: TwoWayWorld;
let service: Service;

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'feisync-migrate-serve-'));
  const tenant = generateTenant({ users: 3, events: 16, now: NOW, seed: 7 });
  const config = tenant.config as any;
  config.sync.direction = { google: 'one-way', exchange: 'one-way' };
  config.migration = {
    waves: [
      {
        name: 'due',
        users: [tenant.users[1].feishuEmail],
        target: 'google',
        cutover: '2026-01-01T09:00:00+08:00',
      },
      {
        name: 'later',
        users: [tenant.users[2].feishuEmail],
        target: 'google',
        cutover: '2099-01-01T00:00:00Z',
      },
    ],
  };
  const world = await openWorld(tenant, dir);
  w = { dir, tenant, ...world };
  await w.app.close();
  const loaded = loadConfig(w.configFile);
  loaded.server.public_url = undefined;
  const { default: pino } = await import('pino');
  service = await startService(loaded, w.configFile, {
    unthrottled: true,
    port: 0,
    log: pino({ level: process.env.SERVE_LOG ?? 'silent' }),
    retryLimit: 1,
    retryDelay: 1,
  });
  w.app = service.app;
}, 120_000);
afterAll(async () => {
  await service?.close();
  await w?.em.close();
  if (w) rmSync(w.dir, { recursive: true, force: true });
});

describe('cutover at the wave time inside serve', () => {
  it('cuts the due wave over once, leaves the later one, and the moved user edits in Google', async () => {
    const prisma = w.app.db.prisma;
    const row = await until('the due wave to be cut over', async () => {
      const r = await prisma.migrationUser.findFirst({ where: { wave: 'due' } });
      return r?.state === 'done' ? r : undefined;
    });
    expect((row.steps as any[]).filter((s) => s.step === 'switch')).toHaveLength(1);
    expect(await prisma.migrationUser.count({ where: { wave: 'later' } })).toBe(0);
    const p: Record<'google' | 'graph', Pair> = await pairsOf(w, w.tenant.users[1]);
    expect(p.google).toMatchObject({ direction: 'two-way', conflicts: 'spoke-wins' });
    const copy = await until('a copy on Google', async () => someSingle(w, p.google));
    const key = copy.tag!.key;
    await googleDrift(w.em.google, w.tenant.users[1].googleEmail).edit(
      copy.ref.id,
      'Edited in Google, serve',
    );
    // the service subscribed the moved user's Google calendar at cutover: the notice brings the edit in
    await until(
      'the Google edit in Feishu',
      async () => (await feishuEvent(w, p.google, key))?.summary === 'Edited in Google, serve',
    );
    await until(
      'the edit on Exchange',
      async () => (await copyOf(w, p.graph, key))?.event.summary === 'Edited in Google, serve',
    );
    // one copy per key on Google
    const keys = (await spokeEvents(w, p.google))
      .filter((r) => r.tag?.pair === p.google.id)
      .map((r) => r.tag!.key);
    expect(new Set(keys).size).toBe(keys.length);
  }, 180_000);
});
