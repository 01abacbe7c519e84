/**
 * A two-way world run by `feisync serve`: the generated tenant on the three emulators, both spokes
 * two-way, the service subscribed to its own webhook routes (Feishu change events, Google channels,
 * Graph subscriptions), and helpers to wait for the queues to drain and to run a quiet period.
 */
import { rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { control } from '../../src/app/emulators.ts';
import { type Service, startService } from '../../src/app/serve.ts';
import { type Config, loadConfig } from '../../src/config/index.ts';
import { graphVersions, marks, openTwoWay, type TwoWayWorld, writesSince } from './twoway-world.ts';

export interface ServeWorld extends TwoWayWorld {
  service: Service;
  /** Present when opened with `relay`: every provider delivery passes through it. */
  relay?: Relay;
}

/**
 * The network between the providers and `serve`: forwards every webhook delivery, and on demand
 * loses some (answered as if received, never forwarded) or delivers some twice. Handshakes (Graph's
 * validationToken) always pass.
 */
export interface Relay {
  url: string;
  /** Share of deliveries lost, 0..1. */
  drop: number;
  /** Share of deliveries forwarded twice, 0..1. */
  duplicate: number;
  counts: { forwarded: number; dropped: number; duplicated: number };
  close(): Promise<void>;
}

async function startRelay(target: string): Promise<Relay> {
  const forward = async (method: string, path: string, headers: Headers, body: Buffer) => {
    const res = await fetch(`${target}${path}`, {
      method,
      headers,
      ...(body.length ? { body } : {}),
      signal: AbortSignal.timeout(10_000),
    });
    return {
      status: res.status,
      type: res.headers.get('content-type'),
      body: Buffer.from(await res.arrayBuffer()),
    };
  };
  const relay: Relay = {
    url: '',
    drop: 0,
    duplicate: 0,
    counts: { forwarded: 0, dropped: 0, duplicated: 0 },
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers))
      if (typeof v === 'string' && !['host', 'content-length', 'connection'].includes(k)) headers.set(k, v);
    const handshake = (req.url ?? '').includes('validationToken=');
    try {
      if (!handshake && Math.random() < relay.drop) {
        relay.counts.dropped += 1;
        res.writeHead(200).end();
        return;
      }
      const out = await forward(req.method ?? 'POST', req.url ?? '/', headers, body);
      relay.counts.forwarded += 1;
      if (!handshake && Math.random() < relay.duplicate) {
        relay.counts.duplicated += 1;
        void forward(req.method ?? 'POST', req.url ?? '/', headers, body).catch(() => {});
      }
      res.writeHead(out.status, out.type ? { 'content-type': out.type } : {}).end(out.body);
    } catch {
      res.writeHead(502).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  relay.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return relay;
}

/** Polls `probe` every 100 ms until it gives something truthy. */
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

/** No pull or spoke job waiting or running for `quietMs`. */
export async function settle(service: Service, quietMs = 1500, timeoutMs = 60_000) {
  let quietSince = 0;
  await until(
    'the queues to drain',
    async () => {
      let busy = 0;
      for (const q of ['pull', 'spoke', 'calendars'])
        busy += await service.boss.getQueueSize(q, { before: 'completed' });
      if (busy > 0) quietSince = 0;
      else if (!quietSince) quietSince = Date.now();
      return quietSince > 0 && Date.now() - quietSince > quietMs;
    },
    timeoutMs,
  );
}

/**
 * Opens the world, lets `prepare` seed it, then starts `serve` on the same database (the world's app
 * steps aside) with Feishu's webhook pointed at it, and waits for the initial sync to settle.
 */
export async function openServe(
  conflicts: Parameters<typeof openTwoWay>[0],
  options: Parameters<typeof openTwoWay>[1] & {
    ready?: (w: ServeWorld) => Promise<boolean>;
    /** Deliveries pass through a Relay (server.public_url points at it). */
    relay?: boolean;
  } = {},
  prepare?: (w: TwoWayWorld) => Promise<void>,
): Promise<ServeWorld> {
  const w = await openTwoWay(conflicts, options);
  await prepare?.(w);
  await w.app.close();
  const config: Config = loadConfig(w.configFile);
  // the relay must know serve's address before serve subscribes (Graph validates at once)
  const port = options.relay ? await freePort() : 0;
  const relay = options.relay ? await startRelay(`http://127.0.0.1:${port}`) : undefined;
  config.server.public_url = relay?.url;
  await control(w.em.feishu, 'push', { aggregateMs: 50, retryDelaysMs: [200, 400, 800] });
  const { default: pino } = await import('pino');
  const service = await startService(config, w.configFile, {
    unthrottled: true,
    port,
    log: pino({ level: process.env.SERVE_LOG ?? 'silent' }),
    retryLimit: 1,
    retryDelay: 1,
  });
  const sw: ServeWorld = Object.assign(w, { service, app: service.app, ...(relay ? { relay } : {}) });
  const app0 = w.tenant.seeds.feishu.apps[0];
  const base = relay?.url ?? service.url;
  await control(w.em.feishu, 'seed', { apps: [{ ...app0, event_url: `${base}/webhooks/feishu` }] });
  if (options.ready) await until('the initial sync', () => options.ready!(sw), 60_000);
  await settle(service);
  return sw;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as AddressInfo;
  await new Promise((r) => probe.close(r));
  return port;
}

export async function closeServe(w: ServeWorld | undefined) {
  if (!w) return;
  await w.service?.close();
  await w.relay?.close();
  await w.em.close();
  rmSync(w.dir, { recursive: true, force: true });
}

/**
 * A quiet period: once settled, every Feishu calendar and every spoke calendar is read again (the
 * polling safety net) and nothing may be written anywhere (Graph checked on its change keys too).
 */
export async function quietPeriod(w: ServeWorld, waitMs = 3000) {
  const { service } = w;
  await settle(service);
  const before = await marks(w);
  const versions = await graphVersions(w);
  const { sendPull } = await import('../../src/jobs/boss.ts');
  const { sendSpoke } = await import('../../src/app/spoke-worker.ts');
  for (const p of service.worker.resolution()!.pairs) {
    await sendPull(service.boss, p.feishu.id);
    if (p.direction === 'two-way') await sendSpoke(service.boss, { pairId: p.id, action: 'pull' });
  }
  await new Promise((r) => setTimeout(r, waitMs));
  await settle(service);
  return {
    writes: await writesSince(w, before),
    graphSame: (await graphVersions(w)).join() === versions.join(),
  };
}
