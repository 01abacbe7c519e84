import { afterEach, describe, expect, it } from 'vitest';
import { type HttpServer, startWebServer, type WebDeps } from './index.ts';
import { RateLimiter } from './limits.ts';

const deps = (push: WebDeps['push']) =>
  ({
    app: {
      config: {
        feishu: { events: {} },
        server: { admins: [], metrics_token: '' },
        secret_key: Buffer.alloc(32, 1).toString('base64'),
      },
    },
    metrics: {},
    dedup: {},
    consent: {},
    onHint: async () => {},
    onConsent: async () => {},
    notReady: async () => undefined,
    webhooks: false,
    push,
  }) as unknown as Omit<WebDeps, 'limits'>;

let server: HttpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('limits', () => {
  it('answers 429 above the bound on requests in flight, while /healthz still answers', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    server = await startWebServer(
      {
        ...deps({
          '/webhooks/slow': async () => {
            await held;
            return { status: 200, body: 'ok' };
          },
        }),
        limits: { maxInFlight: 3 },
      },
      { host: '127.0.0.1', port: 0 },
    );
    const url = server.url;
    const slow = Array.from({ length: 3 }, () =>
      fetch(`${url}/webhooks/slow`, { method: 'POST', body: 'x' }),
    );
    while (server.inFlight() < 3) await new Promise((r) => setTimeout(r, 10));
    const over = await fetch(`${url}/webhooks/slow`, { method: 'POST', body: 'x' });
    expect(over.status).toBe(429);
    expect(over.headers.get('retry-after')).toBe('1');
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    release();
    expect((await Promise.all(slow)).map((r) => r.status)).toEqual([200, 200, 200]);
    while (server.inFlight() > 0) await new Promise((r) => setTimeout(r, 10));
    expect((await fetch(`${url}/webhooks/slow`, { method: 'POST', body: 'x' })).status).toBe(200);
  });

  it('gives each address its own bucket, refilled over time, and keeps the table bounded', () => {
    let now = 0;
    const limiter = new RateLimiter(3, 2, () => now);
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([0, 0, 0]);
    expect(limiter.take('a')).toBeGreaterThan(0);
    expect(limiter.take('b')).toBe(0);
    now += 20_000; // a third of a minute: one token back
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBeGreaterThan(0);
    limiter.take('c'); // the table holds two addresses: the least recent goes
    expect((limiter as any).buckets.size).toBe(2);
  });
});
