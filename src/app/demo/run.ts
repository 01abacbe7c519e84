/**
 * `feisync demo`: the whole product against the three emulators and a generated tenant, run on
 * `feisync serve` itself. Every user consents, an initial sync fills both spokes, then a round of
 * changes made in Feishu is delivered as real (encrypted, signed) change events to serve's webhook
 * and applied by its job workers; parity is read back through the spokes' APIs. With `keep`, the
 * service stays up and the console's sign-in URL (the first user is the demo admin) is printed.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { stringify } from 'yaml';
import { parseConfig } from '../../config/index.ts';
import { expandRecurrence } from '../../core/recurrence/index.ts';
import type { Parity } from '../../sync/parity.ts';
import { policyOf } from '../compose.ts';
import { control, type Emulators, startEmulators } from '../emulators.ts';
import { exact, readParity } from '../parity-run.ts';
import { type Service, startService } from '../serve.ts';
import { runSync, type SyncReport } from '../sync-run.ts';
import { type FeishuEvent, generateTenant, localToUnix, type Tenant } from './tenant.ts';

export interface DemoResult {
  ok: boolean;
  tenant: { users: number; events: number; rooms: number };
  initial: Pick<SyncReport, 'totals' | 'events' | 'seconds' | 'problems'>;
  /** Per change: the change events Feishu delivered, and what serve's pulls wrote on the spokes. */
  changes: { change: string; deliveries: number; applied: { pulls: number; written: string } }[];
  parity: Record<string, Omit<Parity, 'examples'> & { examples?: Parity['examples'] }>;
  /** The console: open `signIn` to be signed in as `admin` through the Feishu emulator. */
  console: { url: string; signIn: string; admin: string };
}

export interface DemoOptions {
  users?: number;
  events?: number;
  log?: (line: string) => void;
  /** Keep the service and the emulators up until this resolves (e.g. Ctrl-C), after the result. */
  keep?: (result: DemoResult) => Promise<void>;
  host?: string;
  port?: number;
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const log = options.log ?? (() => {});
  const now = Math.floor(Date.now() / 1000);
  const tenant = generateTenant({ users: options.users ?? 20, events: options.events ?? 2000, now });
  const dir = mkdtempSync(join(tmpdir(), 'feisync-demo-'));
  const app0 = tenant.seeds.feishu.apps[0];
  let emulators: Emulators | undefined;
  let service: Service | undefined;
  try {
    emulators = await startEmulators({ seed: tenant.seeds, unlimited: true });
    const em = emulators;
    await control(em.feishu, 'push', { aggregateMs: 200, retryDelaysMs: [200, 500, 1000] });
    const configFile = writeDemoFiles(dir, tenant);
    const config = parseConfig(
      stringify({
        ...tenant.config,
        users: tenant.config.users.map((u: any) => ({ ...u, calendars: 'all' })),
      }),
      configFile,
      { FEISHU_URL: em.feishu, GOOGLE_URL: em.google, GRAPH_URL: em.graph },
    );
    const admin = tenant.users[0];
    config.server.admins = [admin.feishuEmail];
    config.server.public_url = undefined;
    service = await startService(config, configFile, {
      unthrottled: true,
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      log: pino({ level: 'silent' }),
    });
    const s = service;
    // Feishu delivers this app's change events to serve's webhook
    await control(em.feishu, 'seed', { apps: [{ ...app0, event_url: `${s.url}/webhooks/feishu` }] });
    // every user consents (OAuth in real life, through serve's consent page): their tokens, stored
    // encrypted, let Feisync read and subscribe to their calendars
    for (const u of tenant.users) {
      const grant = await control(em.feishu, 'user-token', { app_id: app0.app_id, open_id: u.openId });
      await s.app.userTokens.adopt(u.openId, grant);
    }
    log(
      `tenant: ${tenant.users.length} users, ${tenant.expected.events} Feishu events, ${tenant.rooms.length} rooms`,
    );
    const initial = await runSync(s.app);
    log(
      `initial sync: ${initial.events} events in ${initial.seconds.toFixed(1)} s; created ${initial.totals.created}, failed ${initial.totals.failed}`,
    );
    // serve takes over: users and pairs resolved, calendars subscribed, each calendar pulled once
    await s.worker.refresh();
    await settle(s, em.feishu);
    log(`serving at ${s.url}: webhook ${s.url}/webhooks/feishu`);

    const changes: DemoResult['changes'] = [];
    for (const [label, act] of changeRound(tenant, em.feishu)) {
      const before = ((await control(em.feishu, 'deliveries')).deliveries ?? []).length;
      const lastRun = (await s.app.db.prisma.syncRun.findFirst({ orderBy: { id: 'desc' } }))?.id ?? 0;
      await act();
      await settle(s, em.feishu);
      const after = ((await control(em.feishu, 'deliveries')).deliveries ?? []).length;
      const pulls = await s.app.db.prisma.syncRun.findMany({ where: { id: { gt: lastRun }, kind: 'pull' } });
      const sum = (k: string) => pulls.reduce((t, r) => t + Number((r.counts as any)?.[k] ?? 0), 0);
      const failed = sum('failed');
      const written = `+${sum('created')} ~${sum('updated')} -${sum('deleted')}${failed ? ` !${failed}` : ''}`;
      changes.push({ change: label, deliveries: after - before, applied: { pulls: pulls.length, written } });
      log(`${label}: ${after - before} change event(s); ${pulls.length} pull(s) wrote ${written}`);
    }

    const r = s.worker.resolution()!;
    const { perSpoke } = await readParity(s.app, r.pairs, policyOf(config), r.attendeeFor);
    const parity: DemoResult['parity'] = {};
    for (const [spoke, p] of Object.entries(perSpoke)) {
      parity[spoke === 'graph' ? 'exchange' : spoke] = exact(p) ? { ...p, examples: undefined } : p;
    }
    const ok = Object.values(perSpoke).every(exact) && initial.totals.failed === 0;
    // the browser that opens the console is signed in to Feishu as the demo admin
    await control(em.feishu, 'login', { open_id: admin.openId });
    const result: DemoResult = {
      ok,
      tenant: { users: tenant.users.length, events: tenant.expected.events, rooms: tenant.rooms.length },
      initial: {
        totals: initial.totals,
        events: initial.events,
        seconds: initial.seconds,
        problems: initial.problems,
      },
      changes,
      parity,
      console: { url: `${s.url}/`, signIn: `${s.url}/auth/feishu/start`, admin: admin.feishuEmail },
    };
    if (options.keep) await options.keep(result);
    return result;
  } finally {
    await service?.close();
    await emulators?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Deliver now instead of after the aggregation window, then wait until every delivery is answered
 * and serve's queues hold no pull or calendar-list job. */
async function settle(s: Service, feishuUrl: string) {
  const schema = s.app.db.bossSchema;
  let quiet = 0;
  for (let round = 0; round < 600 && quiet < 3; round++) {
    await control(feishuUrl, 'deliver');
    const { deliveries = [] } = await control(feishuUrl, 'deliveries');
    const { rows } = await s.app.db.executeSql(
      `SELECT count(*)::int AS n FROM "${schema}".job WHERE name IN ('pull', 'calendars') AND state IN ('created', 'retry', 'active')`,
    );
    const busy = deliveries.some((d: any) => !d.done) || Number(rows[0]?.n ?? 0) > 0;
    quiet = busy ? 0 : quiet + 1;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function changeRound(t: Tenant, feishuUrl: string): [string, () => Promise<unknown>][] {
  const events = t.seeds.feishu.events;
  const single = events.find((e) => !e.recurrence && !e.is_exception && e.visibility !== 'private')!;
  const series = events.filter(
    (e) => e.recurrence && /FREQ=(DAILY|WEEKLY)/.test(e.recurrence) && 'timestamp' in e.start_time,
  );
  const [moved, cancelled, deleted] = [series[0], series[1], series[2]];
  const edit = (body: object) => control(feishuUrl, 'events', body);
  const owner = t.users.find((u) => u.calendarId === single.organizer_calendar_id) ?? t.users[0];
  const start = Number((single.start_time as { timestamp: string }).timestamp);
  return [
    [
      'create an event',
      () =>
        edit({
          op: 'create',
          calendar_id: owner.calendarId,
          event: {
            summary: 'Feisync demo: new event',
            start_time: { timestamp: String(t.now + 2 * 86_400), timezone: 'Asia/Shanghai' },
            end_time: { timestamp: String(t.now + 2 * 86_400 + 1800), timezone: 'Asia/Shanghai' },
          },
        }),
    ],
    [
      'edit an event',
      () =>
        edit({
          op: 'patch',
          calendar_id: single.organizer_calendar_id,
          event_id: single.event_id,
          event: { summary: `${single.summary} (edited)` },
        }),
    ],
    [
      'move one occurrence',
      () => {
        const at = occurrence(moved, 2);
        return edit({
          op: 'patch',
          calendar_id: moved.organizer_calendar_id,
          event_id: `${moved.event_id.replace(/_0$/, '')}_${at}`,
          event: {
            start_time: { timestamp: String(at + 3600), timezone: moved.start_time.timezone },
            end_time: { timestamp: String(at + 3600 + duration(moved)), timezone: moved.start_time.timezone },
          },
        });
      },
    ],
    [
      'cancel one occurrence',
      () =>
        edit({
          op: 'delete',
          calendar_id: cancelled.organizer_calendar_id,
          event_id: `${cancelled.event_id.replace(/_0$/, '')}_${occurrence(cancelled, 3)}`,
        }),
    ],
    [
      'delete a series',
      () => edit({ op: 'delete', calendar_id: deleted.organizer_calendar_id, event_id: deleted.event_id }),
    ],
    [
      'add a calendar',
      async () => {
        const calendar_id = `feishu.cn_demo${start}@group.calendar.feishu.cn`;
        await control(feishuUrl, 'calendars', {
          op: 'create',
          calendar: {
            calendar_id,
            owner_open_id: owner.openId,
            type: 'shared',
            summary: 'Projects',
            role: 'owner',
          },
        });
        await edit({
          op: 'create',
          calendar_id,
          event: {
            summary: 'Kick-off in the new calendar',
            start_time: { timestamp: String(t.now + 3 * 86_400), timezone: 'Europe/Berlin' },
            end_time: { timestamp: String(t.now + 3 * 86_400 + 3600), timezone: 'Europe/Berlin' },
          },
        });
      },
    ],
  ];
}

const duration = (e: FeishuEvent) =>
  Number((e.end_time as { timestamp: string }).timestamp) -
  Number((e.start_time as { timestamp: string }).timestamp);

/** Unix start of the n-th occurrence of a timed series, in its own zone. */
function occurrence(e: FeishuEvent, n: number): number {
  const zone = e.start_time.timezone ?? 'UTC';
  const start = Number((e.start_time as { timestamp: string }).timestamp);
  const local = new Intl.DateTimeFormat('sv-SE', {
    timeZone: zone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  })
    .format(new Date(start * 1000))
    .replace(' ', 'T');
  const list = expandRecurrence(e.recurrence!, local, zone, { count: n + 1 });
  const pick = list[Math.min(n, list.length - 1)];
  const day = Date.parse(`${pick.slice(0, 10)}T00:00:00Z`) / 86_400_000;
  return localToUnix(day, Number(pick.slice(11, 13)) * 60 + Number(pick.slice(14, 16)), zone);
}

/** Writes the tenant's config (emulator URLs as ${FEISHU_URL} etc.) and a Google service-account key. */
export function writeDemoFiles(dir: string, t: Tenant): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(
    join(dir, 'google-service-account.json'),
    JSON.stringify({
      type: 'service_account',
      client_email: 'feisync-demo@feisync-demo.iam.gserviceaccount.com',
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
      private_key_id: 'demo',
    }),
  );
  const file = join(dir, 'feisync.yaml');
  writeFileSync(file, stringify(t.config));
  return file;
}
