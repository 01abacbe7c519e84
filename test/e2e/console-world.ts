/**
 * A running `feisync serve` for the console tests: three emulators, a small tenant, two users consented
 * (one of them the admin), one not, and a pull that failed into the dead-letter queue.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { writeDemoFiles } from '../../src/app/demo/run.ts';
import { generateTenant } from '../../src/app/demo/tenant.ts';
import { control, type Emulators, startEmulators } from '../../src/app/emulators.ts';
import { type Service, startService } from '../../src/app/serve.ts';
import { readStatus } from '../../src/app/status.ts';
import { runSync } from '../../src/app/sync-run.ts';
import { type Config, parseConfig } from '../../src/config/index.ts';
import type { Pair } from '../../src/sync/pair.ts';
import { googleDrift } from '../support/drift.ts';
import { feishuEdit, pairsOf, spokeEvents, type TwoWayWorld } from './twoway-world.ts';

export const METRICS_TOKEN = 'metrics-token-for-tests';

export interface ConsoleWorld {
  em: Emulators;
  service: Service;
  config: Config;
  tenant: ReturnType<typeof generateTenant>;
  admin: { openId: string; email: string };
  other: { openId: string; email: string };
  /** The dead letter's job id. */
  deadLetter: string;
  close(): Promise<void>;
}

export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  ms = 30_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startConsoleWorld(): Promise<ConsoleWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'feisync-console-'));
  const tenant = generateTenant({ users: 3, events: 40, now: Math.floor(Date.now() / 1000) });
  const app0 = tenant.seeds.feishu.apps[0];
  const em = await startEmulators({ seed: tenant.seeds, unlimited: true });
  await control(em.feishu, 'push', { aggregateMs: 50, retryDelaysMs: [200, 400, 800] });
  const configFile = writeDemoFiles(dir, tenant);
  const config = parseConfig(stringify(tenant.config), configFile, {
    FEISHU_URL: em.feishu,
    GOOGLE_URL: em.google,
    GRAPH_URL: em.graph,
  });
  config.server.public_url = undefined;
  const [a, b] = tenant.users;
  config.server.admins = [a.feishuEmail];
  config.server.metrics_token = METRICS_TOKEN;
  // Google pairs run both ways and hold same-field conflicts for review, so the console has one to settle
  config.sync.direction.google = 'two-way';
  config.sync.conflicts = 'report';
  // a wave with no cutover time: listed by the Waves page, never started by serve on its own
  config.migration.waves = [
    { name: 'wave-1', users: [b.feishuEmail], target: 'google' },
  ] as typeof config.migration.waves;
  const { default: pino } = await import('pino');
  const service = await startService(config, configFile, {
    unthrottled: true,
    port: 0,
    log: pino({ level: process.env.SERVE_LOG ?? 'silent' }),
    retryLimit: 1,
    retryDelay: 1,
  });
  await control(em.feishu, 'seed', { apps: [{ ...app0, event_url: `${service.url}/webhooks/feishu` }] });
  for (const u of [a, b]) {
    await control(em.feishu, 'login', { open_id: u.openId });
    const r = await fetch(`${service.url}/oauth/feishu/start?user=${encodeURIComponent(u.feishuEmail)}`);
    if (r.status !== 200) throw new Error(`consent of ${u.feishuEmail}: ${r.status}`);
  }
  await until('two users paired', async () => (service.worker.resolution()?.pairs.length ?? 0) === 4);
  // their initial pulls are done (each pair has its Feishu cursor): only the pull below meets the fault
  await until(
    'the initial pulls done',
    async () => (await service.app.db.prisma.cursor.count({ where: { side: 'feishu' } })) === 4,
    60_000,
  );

  // a pull that keeps failing on Exchange ends in the dead-letter queue
  await control(em.graph, 'faults', [
    {
      match: { path: '^/v1\\.0/\\$batch' },
      action: { status: 403, body: { error: { code: 'ErrorAccessDenied', message: 'Access is denied.' } } },
    },
  ]);
  const now = Math.floor(Date.now() / 1000);
  await control(em.feishu, 'events', {
    op: 'create',
    calendar_id: b.calendarId,
    event: {
      summary: 'Dead letter for the console',
      start_time: { timestamp: String(now + 86_400) },
      end_time: { timestamp: String(now + 88_000) },
    },
  });
  const st = await until(
    'a dead letter',
    async () => {
      const s = await readStatus(service.app.db.prisma, { bossSchema: service.app.db.bossSchema });
      return s.deadLetters.some((d) => d.queue === 'pull') ? s : undefined;
    },
    60_000,
  );
  await fetch(`${em.graph}/_emulator/faults`, { method: 'DELETE' });
  return {
    em,
    service,
    config,
    tenant,
    admin: { openId: a.openId, email: a.feishuEmail },
    other: { openId: b.openId, email: b.feishuEmail },
    deadLetter: st.deadLetters.find((d) => d.queue === 'pull')!.id,
    close: async () => {
      await service.close();
      await em.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Holds a two-way conflict for review: the title of one of the admin's meetings typed differently in
 * Feishu (through the Lark SDK) and on Google (through googleapis), then a sync of the admin's pairs.
 */
export async function makeConflict(w: ConsoleWorld): Promise<{ key: string; google: Pair }> {
  const app = w.service.app;
  const tw: TwoWayWorld = { dir: '', tenant: w.tenant, em: w.em, app, configFile: app.configFile };
  const user = w.tenant.users.find((u) => u.openId === w.admin.openId)!;
  const { google } = await pairsOf(tw, user);
  const now = Date.now() / 1000;
  const copy = (await spokeEvents(tw, google)).find(
    (r) =>
      r.tag?.pair === google.id &&
      r.event.key.originalTime === 0 &&
      r.event.recurrence.length === 0 &&
      r.event.visibility !== 'private' &&
      'timestamp' in r.event.start &&
      r.event.start.timestamp > now,
  );
  if (!copy) throw new Error('no future single meeting of the admin on Google');
  const key = copy.tag!.key;
  await feishuEdit(tw, google, key, { summary: 'Title typed in Feishu' });
  await googleDrift(w.em.google, user.googleEmail).edit(copy.ref.id, 'Title typed in Google');
  await runSync(app, { user: user.feishuEmail });
  await until(
    'the conflict held',
    async () => (await app.db.prisma.conflict.count({ where: { resolvedAt: null } })) > 0,
  );
  return { key, google };
}
