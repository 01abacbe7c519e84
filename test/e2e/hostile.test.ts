/**
 * Issue 15: `feisync serve`'s public routes against hostile traffic, on a running service with the
 * three emulators. Oversized bodies (one huge, many at once), slow headers and bodies, fuzzed and
 * malformed deliveries, and a burst of forgeries against each public route while a genuine change
 * event is delivered and must still be applied; memory stays bounded and /healthz answers throughout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { signDelivery } from '../../connectors/feishu/crypto.ts';
import { writeDemoFiles } from '../../src/app/demo/run.ts';
import { generateTenant } from '../../src/app/demo/tenant.ts';
import { control, type Emulators, startEmulators } from '../../src/app/emulators.ts';
import { type Service, startService } from '../../src/app/serve.ts';
import { parseConfig } from '../../src/config/index.ts';
import { DEFAULT_LIMITS } from '../../src/web/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'feisync-hostile-'));
const tenant = generateTenant({ users: 2, events: 20, now: Math.floor(Date.now() / 1000) });
const app0 = tenant.seeds.feishu.apps[0];
let em: Emulators;
let service: Service;
let host: { hostname: string; port: number };
/** Secret of the test's own provider webhook, mounted like the Google and Graph routes are. */
const PUSH_SECRET = 'push-secret';
let pushAccepted = 0;

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Sends raw bytes; resolves with what came back and when the server closed the socket. */
function rawExchange(
  text: string,
  opts: { holdMs: number },
): Promise<{ reply: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    let reply = '';
    const socket = connect(host.port, host.hostname, () => socket.write(text));
    socket.setEncoding('utf8');
    socket.on('data', (d) => {
      reply += d;
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve({ reply, closedAfterMs: Date.now() - t0 }));
    setTimeout(() => {
      socket.destroy();
      reject(
        new Error(`socket still open after ${opts.holdMs} ms; got ${JSON.stringify(reply.slice(0, 80))}`),
      );
    }, opts.holdMs).unref();
  });
}

/** POSTs a chunked body of `bytes` (generated lazily: the test does not hold it in memory). */
function chunkedPost(path: string, bytes: number): Promise<{ status: number; ms: number }> {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const t0 = Date.now();
  return new Promise((resolve) => {
    const req = request({ ...host, path, method: 'POST', headers: { 'content-type': 'application/json' } });
    req.on('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, ms: Date.now() - t0 });
      req.destroy();
    });
    req.on('error', () => resolve({ status: -1, ms: Date.now() - t0 }));
    Readable.from(
      (function* () {
        for (let sent = 0; sent < bytes; sent += chunk.length) yield chunk;
      })(),
    ).pipe(req);
  });
}

const timedFetch = async (path: string, init?: RequestInit) => {
  const t0 = Date.now();
  const r = await fetch(`${service.url}${path}`, init);
  await r.arrayBuffer();
  return { status: r.status, ms: Date.now() - t0 };
};

beforeAll(async () => {
  em = await startEmulators({ seed: tenant.seeds, unlimited: true });
  await control(em.feishu, 'push', { aggregateMs: 50, retryDelaysMs: [200, 400, 800, 1600, 3200, 6400] });
  const configFile = writeDemoFiles(dir, tenant);
  const config = parseConfig(stringify(tenant.config), configFile, {
    FEISHU_URL: em.feishu,
    GOOGLE_URL: em.google,
    GRAPH_URL: em.graph,
  });
  config.server.public_url = undefined;
  const { default: pino } = await import('pino');
  service = await startService(config, configFile, {
    unthrottled: true,
    port: 0,
    log: pino({ level: 'silent' }),
    push: {
      '/webhooks/test': async (req) => {
        if (req.headers['x-secret'] !== PUSH_SECRET) return { status: 403, body: 'forged' };
        pushAccepted++;
        return { status: 202 };
      },
    },
  });
  const u = new URL(service.url);
  host = { hostname: u.hostname, port: Number(u.port) };
  await control(em.feishu, 'seed', { apps: [{ ...app0, event_url: `${service.url}/webhooks/feishu` }] });
  // consent for one user, so that a genuine change event has somewhere to go
  await control(em.feishu, 'login', { open_id: tenant.users[0].openId });
  const done = await fetch(`${service.url}/oauth/feishu/start?user=${tenant.users[0].feishuEmail}`);
  expect(done.status).toBe(200);
  await until('the user paired', async () => (service.worker.resolution()?.pairs.length ?? 0) === 2);
});
afterAll(async () => {
  await service?.close();
  await em?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('public routes under hostile traffic', () => {
  it('puts security headers on its HTML pages', async () => {
    await control(em.feishu, 'login', { open_id: tenant.users[0].openId });
    const r = await fetch(`${service.url}/oauth/feishu/start?user=${tenant.users[0].feishuEmail}`);
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    expect(r.headers.get('x-frame-options')).toBe('DENY');
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('content-security-policy')).toMatch(/default-src 'self'.*frame-ancestors 'none'/);
  });

  it('answers a 64 MB body with 413 from its declared length, before reading it', async () => {
    const head = `POST /webhooks/feishu HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${64 * 1024 * 1024}\r\n\r\n{"a":`;
    const { reply, closedAfterMs } = await rawExchange(head, { holdMs: 5000 });
    expect(reply).toMatch(/^HTTP\/1\.1 413 /);
    expect(closedAfterMs).toBeLessThan(2000);
  });

  it('stops oversized chunked bodies, 16 at once of 64 MB each, with memory bounded', async () => {
    const before = process.memoryUsage().rss;
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        chunkedPost(i % 2 ? '/webhooks/feishu' : '/webhooks/test', 64 * 1024 * 1024),
      ),
    );
    for (const r of results) expect(r.status).toBe(413);
    expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(5000);
    // 1 GB was offered; at most a few cap-sized buffers were held
    expect(process.memoryUsage().rss - before).toBeLessThan(150 * 1024 * 1024);
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
  });

  it('closes a connection whose headers never finish, and one whose body never finishes, in seconds', async () => {
    const slowHeaders = rawExchange('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ', {
      holdMs: DEFAULT_LIMITS.headersTimeoutMs + 5000,
    });
    const slowBody = rawExchange(
      'POST /webhooks/feishu HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"x"',
      { holdMs: DEFAULT_LIMITS.requestTimeoutMs + 5000 },
    );
    const [h, b] = await Promise.all([slowHeaders, slowBody]);
    expect(h.closedAfterMs).toBeLessThan(DEFAULT_LIMITS.headersTimeoutMs + 2000);
    expect(b.closedAfterMs).toBeLessThan(DEFAULT_LIMITS.requestTimeoutMs + 2000);
    expect(h.reply).toMatch(/^(HTTP\/1\.1 408 |$)/);
  }, 30_000);

  it('answers fuzzed and malformed deliveries with a 4xx, never a 5xx', async () => {
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const body = fc.oneof(
      fc.string({ maxLength: 2000 }),
      fc.json({ maxDepth: 6 }),
      fc.uint8Array({ maxLength: 4000 }).map((a) => Buffer.from(a).toString('latin1')),
      fc
        .record({ encrypt: fc.string(), schema: fc.string(), header: fc.anything() })
        .map((o) => JSON.stringify(o)),
      fc.constant(deep),
    );
    const headers = fc.record(
      {
        'content-type': fc.constantFrom('application/json', 'text/plain', 'application/octet-stream', 'x/y'),
        'x-lark-request-timestamp': fc.oneof(fc.string(), fc.constant(String(Math.floor(Date.now() / 1000)))),
        'x-lark-request-nonce': fc.string({ maxLength: 40 }),
        'x-lark-signature': fc.oneof(
          fc.string({ maxLength: 80 }),
          fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }),
        ),
      },
      { requiredKeys: [] },
    );
    const printable = (h: Record<string, string>) =>
      Object.fromEntries(Object.entries(h).map(([k, v]) => [k, v.replace(/[^\x20-\x7e]/g, '?')]));
    await fc.assert(
      fc.asyncProperty(body, headers, async (b, h) => {
        const r = await timedFetch('/webhooks/feishu', { method: 'POST', headers: printable(h), body: b });
        expect(r.status).toBeGreaterThanOrEqual(400);
        expect(r.status).toBeLessThan(500);
      }),
      { numRuns: 150 },
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }), fc.string({ maxLength: 300 }), async (code, state) => {
        const q = new URLSearchParams({ code, state });
        const r = await timedFetch(`/oauth/feishu/callback?${q}`);
        expect(r.status).toBeGreaterThanOrEqual(400);
        expect(r.status).toBeLessThan(500);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses a burst of forgeries on every public route, applies a genuine change meanwhile, stays healthy', async () => {
    const before = process.memoryUsage().rss;
    const ts = () => String(Math.floor(Date.now() / 1000));
    const forged = {
      feishu: () => {
        const body = JSON.stringify({ encrypt: 'Zm9yZ2Vk' });
        const t = ts();
        const sig = signDelivery(t, 'n', 'not-the-key', body);
        return timedFetch('/webhooks/feishu', {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-lark-request-timestamp': t,
            'x-lark-request-nonce': 'n',
            'x-lark-signature': sig,
          },
          body,
        });
      },
      push: () =>
        timedFetch('/webhooks/test', { method: 'POST', headers: { 'x-secret': 'guess' }, body: '{}' }),
      callback: () => timedFetch('/oauth/feishu/callback?code=c&state=ou_x.99999999999999.Zm9yZ2Vk'),
      start: () => timedFetch(`/oauth/feishu/start?user=${encodeURIComponent(tenant.users[1].feishuEmail)}`),
      signin: () => timedFetch('/auth/feishu/callback?code=c-x&state=99999999999999.Zm9yZ2Vk'),
      action: () =>
        timedFetch('/actions/retry', {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            cookie: 'feisync_session=forged.x',
          },
          body: 'queue=pull&id=x&_csrf=y',
        }),
    };
    let healthy = true;
    let healthChecks = 0;
    let stop = false;
    // health answers that came while the burst was still in flight: /healthz is not starved by it
    let burstDone = false;
    let healthDuringBurst = 0;
    const health = (async () => {
      while (!stop) {
        const r = await timedFetch('/healthz');
        healthChecks++;
        if (!burstDone) healthDuringBurst++;
        if (r.status !== 200) healthy = false;
        await new Promise((res) => setTimeout(res, 50));
      }
    })();
    const now = Math.floor(Date.now() / 1000);
    const genuine = control(em.feishu, 'events', {
      op: 'create',
      calendar_id: tenant.users[0].calendarId,
      event: {
        summary: 'Genuine during the burst',
        start_time: { timestamp: String(now + 86_400) },
        end_time: { timestamp: String(now + 88_000) },
      },
    });
    const genuinePush = (async () => {
      for (;;) {
        const r = await timedFetch('/webhooks/test', {
          method: 'POST',
          headers: { 'x-secret': PUSH_SECRET },
        });
        if (r.status !== 429) return r.status;
        await new Promise((res) => setTimeout(res, 200));
      }
    })();
    const burst = await Promise.all(
      Object.entries(forged).flatMap(([route, send]) =>
        Array.from({ length: 500 }, async () => ({ route, ...(await send()) })),
      ),
    );
    burstDone = true;
    await genuine;
    expect(await genuinePush).toBe(202);
    stop = true;
    await health;

    for (const r of burst) {
      expect(r.status, r.route).toBeGreaterThanOrEqual(400);
      expect(r.status, r.route).toBeLessThan(500);
    }
    // the consent start is limited per address: most of that burst was turned away
    expect(burst.filter((r) => r.route === 'start' && r.status === 429).length).toBeGreaterThan(450);
    expect(healthy).toBe(true);
    expect(healthChecks).toBeGreaterThan(0);
    expect(healthDuringBurst).toBeGreaterThanOrEqual(2);
    expect(pushAccepted).toBe(1);
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024);

    // the genuine change event, delivered by the emulator during the burst, reached Google
    await until('the genuine event on Google', async () => {
      const state = (await (await fetch(`${em.google}/_emulator/state`)).json()) as any;
      return (state.events ?? []).some((e: any) => e.summary === 'Genuine during the burst');
    });
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
  }, 60_000);
});
