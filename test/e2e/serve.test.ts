/**
 * `feisync serve` end to end against the three emulators: consent through the OAuth pages, the initial
 * sync it triggers, change events delivered as real signed webhooks and queued as jobs, a duplicate
 * delivery handled once, health and metrics, a stop with work still queued that loses nothing, and
 * failing jobs landing in the dead-letter queue.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { encryptPayload, signDelivery } from '../../connectors/feishu/crypto.ts';
import { policyOf } from '../../src/app/compose.ts';
import { writeDemoFiles } from '../../src/app/demo/run.ts';
import { generateTenant } from '../../src/app/demo/tenant.ts';
import { control, type Emulators, startEmulators } from '../../src/app/emulators.ts';
import { exact, readParity } from '../../src/app/parity-run.ts';
import { type Service, startService } from '../../src/app/serve.ts';
import { readStatus } from '../../src/app/status.ts';
import { type Config, parseConfig } from '../../src/config/index.ts';
import { Browser } from './browserless.ts';

const dir = mkdtempSync(join(tmpdir(), 'feisync-serve-'));
const tenant = generateTenant({ users: 3, events: 90, now: Math.floor(Date.now() / 1000) });
const app0 = tenant.seeds.feishu.apps[0];
let em: Emulators;
let config: Config;
let configFile: string;
let service: Service | undefined;
const silent = { level: process.env.SERVE_LOG ?? 'silent' } as const;

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const start = async () => {
  const { default: pino } = await import('pino');
  service = await startService(config, configFile, {
    unthrottled: true,
    port: 0,
    log: pino(silent),
    retryLimit: 1,
    retryDelay: 1,
  });
  // the emulator delivers change events to this service's webhook
  await control(em.feishu, 'seed', { apps: [{ ...app0, event_url: `${service.url}/webhooks/feishu` }] });
  return service;
};

const googleEvents = async () => {
  const state = (await (await fetch(`${em.google}/_emulator/state`)).json()) as any;
  return (state.events ?? []) as { summary?: string; status?: string }[];
};
const graphEvents = async () => {
  const state = (await (await fetch(`${em.graph}/_emulator/state`)).json()) as any;
  return (state.events ?? []) as { subject?: string }[];
};
const parity = async (s: Service) => {
  const r = s.worker.resolution()!;
  return (await readParity(s.app, r.pairs, policyOf(s.app.config), r.attendeeFor)).perSpoke;
};

beforeAll(async () => {
  em = await startEmulators({ seed: tenant.seeds, unlimited: true });
  await control(em.feishu, 'push', { aggregateMs: 50, retryDelaysMs: [200, 400, 800] });
  configFile = writeDemoFiles(dir, tenant);
  config = parseConfig(stringify(tenant.config), configFile, {
    FEISHU_URL: em.feishu,
    GOOGLE_URL: em.google,
    GRAPH_URL: em.graph,
  });
  // the consent callback comes back to wherever this test's service listens
  config.server.public_url = undefined;
  config.server.admins = [tenant.users[0].feishuEmail];
  await start();
});
afterAll(async () => {
  await service?.close();
  await em?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('feisync serve', () => {
  it('answers /healthz at once and reports users without consent', async () => {
    const s = service!;
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    expect(s.worker.resolution()?.pairs).toEqual([]);
    const problems = s.worker.resolution()!.problems.map((p) => p.problem);
    expect(problems.filter((p) => p.includes('not consented'))).toHaveLength(3);
    expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
  });

  it('takes consent through the OAuth pages, then syncs the user to both spokes in exact parity', async () => {
    const s = service!;
    const bad = await fetch(`${s.url}/oauth/feishu/start?user=nobody@example.org`);
    expect(bad.status).toBe(404);
    for (const u of tenant.users) {
      // the person signed in to Feishu in their browser
      await control(em.feishu, 'login', { open_id: u.openId });
      const done = await fetch(`${s.url}/oauth/feishu/start?user=${encodeURIComponent(u.feishuEmail)}`);
      expect(done.status).toBe(200);
      expect(await done.text()).toMatch(/can now keep your calendars in sync/);
    }
    // a link made for one user but completed by another is refused
    await control(em.feishu, 'login', { open_id: tenant.users[1].openId });
    const start = await fetch(`${s.url}/oauth/feishu/start?user=${tenant.users[0].feishuEmail}`, {
      redirect: 'manual',
    });
    const mixed = await fetch(start.headers.get('location')!);
    expect(mixed.status).toBe(403);

    await until('all three users paired', async () => (s.worker.resolution()?.pairs.length ?? 0) === 6);
    const perSpoke = await until('exact parity after the initial sync', async () => {
      const p = await parity(s);
      return Object.values(p).every(exact) && Object.keys(p).length === 2 ? p : undefined;
    });
    expect(perSpoke.google.expected).toBeGreaterThan(0);
    const status = await readStatus(s.app.db.prisma, { bossSchema: s.app.db.bossSchema });
    expect(status.pairs).toHaveLength(6);
    expect(status.users.consented).toHaveLength(3);
    // the rooms of the meetings the initial sync mirrored are bookings, before any room event: /status counts them
    const admin = new Browser(s.url);
    expect((await admin.signIn(em.feishu, tenant.users[0].openId)).status).toBe(200);
    const served = (await (await admin.fetch(`${s.url}/status`)).json()) as any;
    expect(served.roomSummary.totals.booked).toBeGreaterThan(0);
    expect([...new Set(served.roomSummary.rooms.map((r: any) => r.spoke))].sort()).toEqual([
      'google',
      'graph',
    ]);

    // consenting again (after tokens lapsed or were revoked) subscribes again with the new token, and
    // pulls that user's calendar (in case pulls failed meanwhile), not everyone's
    const requests = async () =>
      (await (await fetch(`${em.feishu}/_emulator/requests`)).json()) as { method: string; path: string }[];
    const subscriptions = async () =>
      (await requests()).filter((r) => r.method === 'POST' && r.path.endsWith('/subscription')).length;
    const listed = async () => {
      const log = (await requests()).filter(
        (r) => r.method === 'GET' && /\/calendars\/[^/]+\/events$/.test(r.path),
      );
      return tenant.users.map(
        (u) => log.filter((r) => decodeURIComponent(r.path).includes(u.calendarId)).length,
      );
    };
    // (parity can come before the last pulls of the initial sync have run: wait for them)
    const queued = async (name: string) => s.boss.getQueueSize(name, { before: 'completed' });
    await until('no pull queued or running', async () =>
      (await Promise.all(['calendars', 'pull', 'attendees'].map(queued))).every((n) => n === 0),
    );
    const before = await subscriptions();
    const listedBefore = await listed();
    await control(em.feishu, 'login', { open_id: tenant.users[0].openId });
    expect((await fetch(`${s.url}/oauth/feishu/start?user=${tenant.users[0].feishuEmail}`)).status).toBe(200);
    await until('the calendars subscribed again', async () => (await subscriptions()) >= before + 2);
    await until('the calendar pulled again', async () => (await listed())[0] > listedBefore[0]);
    expect((await listed()).slice(1)).toEqual(listedBefore.slice(1));
  });

  it('refreshes users and pairs once for the consents queued while a refresh runs', async () => {
    const s = service!;
    const refreshes = async () => {
      const text = await (await fetch(`${s.url}/metrics`)).text();
      const m = /^feisync_jobs_total\{queue="calendars",outcome="done"\} (\d+)/m.exec(text);
      return Number(m?.[1] ?? 0);
    };
    const before = await refreshes();
    const sent = await Promise.all(
      tenant.users.flatMap((u) =>
        [1, 2].map((n) =>
          s.boss.send(
            'calendars',
            { users: [u.openId], consent: true },
            { singletonKey: `again:${u.openId}:${n}` },
          ),
        ),
      ),
    );
    expect(sent.every(Boolean)).toBe(true);
    await until(
      'the queue taken',
      async () => (await s.boss.getQueueSize('calendars')) === 0 && (await refreshes()) > before,
    );
    await until('the refreshes ended', async () => (await s.worker.resolution()?.pairs.length) === 6);
    await new Promise((r) => setTimeout(r, 1500));
    // six consents: the first taken alone at most, the rest together (one each: six refreshes)
    expect((await refreshes()) - before).toBeLessThanOrEqual(2);
  });

  it('applies a change event delivered to the webhook on both spokes, and a duplicate delivery once', async () => {
    const s = service!;
    const u = tenant.users[0];
    const now = Math.floor(Date.now() / 1000);
    await control(em.feishu, 'events', {
      op: 'create',
      calendar_id: u.calendarId,
      event: {
        summary: 'Serve webhook check',
        start_time: { timestamp: String(now + 86_400) },
        end_time: { timestamp: String(now + 90_000) },
      },
    });
    await until('the new event on Google', async () =>
      (await googleEvents()).some((e) => e.summary === 'Serve webhook check'),
    );
    await until('the new event on Exchange', async () =>
      (await graphEvents()).some((e) => e.subject === 'Serve webhook check'),
    );

    const { deliveries } = await control(em.feishu, 'deliveries');
    const last = deliveries.filter((d: any) => d.event_type === 'calendar.calendar.event.changed_v4').at(-1);
    const post = async () => {
      const body = JSON.stringify({ encrypt: encryptPayload(app0.encrypt_key!, JSON.stringify(last.body)) });
      const ts = String(Math.floor(Date.now() / 1000));
      return fetch(`${s.url}/webhooks/feishu`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-lark-request-timestamp': ts,
          'x-lark-request-nonce': 'n1',
          'x-lark-signature': signDelivery(ts, 'n1', app0.encrypt_key!, body),
        },
        body,
      });
    };
    const again = await post();
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ duplicate: true });
    // a forged delivery is refused
    const forged = await fetch(`${s.url}/webhooks/feishu`, { method: 'POST', body: '{"encrypt":"x"}' });
    expect(forged.status).toBe(400);

    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(
      /feisync_deliveries_total\{transport="webhook",type="unknown",outcome="duplicate"\} 1/,
    );
    expect(metrics).toMatch(
      /feisync_deliveries_total\{transport="webhook",type="pull-calendar",outcome="accepted"\} [1-9]/,
    );
    expect(metrics).toMatch(/feisync_sync_latency_seconds_count [1-9]/);
    expect(metrics).toMatch(/feisync_api_requests_total\{provider="google",status="200"\} [1-9]/);
    expect(metrics).toMatch(/feisync_links\{spoke="graph",state="live"\} [1-9]/);
    expect((await googleEvents()).filter((e) => e.summary === 'Serve webhook check')).toHaveLength(1);
  });

  it('loses no accepted event when stopped with work queued, and finishes it after a restart', async () => {
    const s = service!;
    const u = tenant.users[1];
    const now = Math.floor(Date.now() / 1000);
    // hold the Google writes back so that the pull is still running when the stop comes
    await control(em.google, 'faults', [{ match: { path: '^/batch/' }, action: { delayMs: 1500 } }]);
    for (let i = 0; i < 3; i++) {
      await control(em.feishu, 'events', {
        op: 'create',
        calendar_id: u.calendarId,
        event: {
          summary: `Stop check ${i}`,
          start_time: { timestamp: String(now + 86_400 * (i + 2)) },
          end_time: { timestamp: String(now + 86_400 * (i + 2) + 1800) },
        },
      });
    }
    // wait until the change events were acknowledged (stored as jobs), then stop at once
    await until('the deliveries acknowledged', async () => {
      const { deliveries } = await control(em.feishu, 'deliveries');
      return deliveries.filter((d: any) => d.done).length === deliveries.length;
    });
    await s.close();
    service = undefined;
    await fetch(`${em.google}/_emulator/faults`, { method: 'DELETE' });
    const restarted = await start();
    await until('exact parity after the restart', async () => {
      const p = await parity(restarted);
      return Object.values(p).every(exact) && Object.keys(p).length === 2;
    });
    for (let i = 0; i < 3; i++) {
      expect((await googleEvents()).filter((e) => e.summary === `Stop check ${i}`)).toHaveLength(1);
      expect((await graphEvents()).filter((e) => e.subject === `Stop check ${i}`)).toHaveLength(1);
    }
  });

  it('books the room of a third-party room event through its job, and serves the last reconciliation report', async () => {
    const s = service!;
    const withRoom = tenant.seeds.feishu.events.find(
      (e: any) =>
        !e.recurrence && !e.is_exception && (e.attendees ?? []).some((a: any) => a.type === 'resource'),
    ) as any;
    expect(withRoom).toBeDefined();
    await control(em.feishu, 'room-event', {
      calendar_id: withRoom.organizer_calendar_id,
      event_id: withRoom.event_id,
    });
    const rows = await until('a room booking recorded', async () => {
      const r = await s.app.db.prisma.roomBooking.findMany({
        where: { uid: withRoom.event_id.split('_')[0] },
      });
      // one row per room and spoke, written as each spoke is done
      return new Set(r.map((x) => x.spoke)).size === 2 ? r : undefined;
    });
    expect([...new Set(rows.map((r) => r.spoke))].sort()).toEqual(['google', 'graph']);

    // the report is for signed-in admins only
    expect((await fetch(`${s.url}/reports/latest`)).status).toBe(401);
    const admin = new Browser(s.url);
    expect((await admin.signIn(em.feishu, tenant.users[0].openId)).status).toBe(200);
    expect((await admin.fetch(`${s.url}/reports/latest`)).status).toBe(404);
    await s.boss.send('reconcile', {});
    const report = await until('a reconciliation report', async () => {
      const r = await admin.fetch(`${s.url}/reports/latest`);
      return r.status === 200 ? ((await r.json()) as any) : undefined;
    });
    expect(report.rows.length).toBe(6);
    expect(report.rows.every((r: any) => r.missing === 0 && r.differing === 0)).toBe(true);
  });

  it('moves a pull that keeps failing to the dead-letter queue, shown by status', async () => {
    const s = service!;
    const u = tenant.users[2];
    // a refusal the connector does not retry itself (transient errors it retries for minutes first)
    const refusal = {
      status: 403,
      body: { error: { code: 'ErrorAccessDenied', message: 'Access is denied.' } },
    };
    await control(em.graph, 'faults', [{ match: { path: '^/v1\\.0/\\$batch' }, action: refusal }]);
    const now = Math.floor(Date.now() / 1000);
    await control(em.feishu, 'events', {
      op: 'create',
      calendar_id: u.calendarId,
      event: {
        summary: 'Dead letter check',
        start_time: { timestamp: String(now + 86_400) },
        end_time: { timestamp: String(now + 88_000) },
      },
    });
    const status = await until(
      'a dead letter',
      async () => {
        const st = await readStatus(s.app.db.prisma, { bossSchema: s.app.db.bossSchema });
        return st.deadLetters.some((d) => d.queue === 'pull') ? st : undefined;
      },
      60_000,
    );
    expect(status.deadLetters.find((d) => d.queue === 'pull')?.error).toMatch(/writes failed/);
    await fetch(`${em.graph}/_emulator/faults`, { method: 'DELETE' });
  });
});
