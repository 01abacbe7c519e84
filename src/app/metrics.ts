/**
 * Prometheus metrics of `feisync serve`. API calls are counted from Node's own HTTP diagnostics
 * channels (undici for fetch, `http` for axios), attributed to a provider by the request's origin,
 * so no connector needs a hook and nothing escapes the count.
 */
import dc from 'node:diagnostics_channel';
import client from 'prom-client';
import type { Database } from '../store/db.ts';

export interface Metrics {
  registry: client.Registry;
  deliveries: client.Counter<'transport' | 'type' | 'outcome'>;
  jobs: client.Counter<'queue' | 'outcome'>;
  jobSeconds: client.Histogram<'queue'>;
  /** From the moment a change event arrived to the moment its pull finished writing to the spokes. */
  syncLatency: client.Histogram;
  apiRequests: client.Counter<'provider' | 'status'>;
  /** Stop listening to the HTTP channels. */
  close(): void;
}

/** `origins`: base URL per provider (Feishu domain, Google root and token URLs, Graph base and authority). */
export function createMetrics(db: Database, origins: Record<string, string[]>): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'feisync_' });
  const deliveries = new client.Counter({
    name: 'feisync_deliveries_total',
    help: 'Feishu event deliveries by transport, event type and outcome (accepted, duplicate, rejected)',
    labelNames: ['transport', 'type', 'outcome'] as const,
    registers: [registry],
  });
  const jobs = new client.Counter({
    name: 'feisync_jobs_total',
    help: 'Jobs handled by queue and outcome (done, failed, deferred)',
    labelNames: ['queue', 'outcome'] as const,
    registers: [registry],
  });
  const jobSeconds = new client.Histogram({
    name: 'feisync_job_seconds',
    help: 'Time spent handling one job',
    labelNames: ['queue'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
    registers: [registry],
  });
  const syncLatency = new client.Histogram({
    name: 'feisync_sync_latency_seconds',
    help: 'From a change event received to its changes written on every spoke',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const apiRequests = new client.Counter({
    name: 'feisync_api_requests_total',
    help: 'HTTP requests to each provider by status (a number, or "error" when no answer came)',
    labelNames: ['provider', 'status'] as const,
    registers: [registry],
  });
  new client.Gauge({
    name: 'feisync_links',
    help: 'Event links by spoke and state (live, tombstoned, failed)',
    labelNames: ['spoke', 'state'] as const,
    registers: [registry],
    async collect() {
      const rows = await db.prisma.$queryRaw<{ spoke: string; live: bigint; tomb: bigint; failed: bigint }[]>`
        SELECT p."spoke" AS spoke,
          count(*) FILTER (WHERE NOT l."tombstone") AS live,
          count(*) FILTER (WHERE l."tombstone") AS tomb,
          count(*) FILTER (WHERE l."lastError" IS NOT NULL) AS failed
        FROM "EventLink" l JOIN "SyncPair" p ON p."id" = l."pairId" GROUP BY p."spoke"`;
      this.reset();
      for (const r of rows) {
        this.set({ spoke: r.spoke, state: 'live' }, Number(r.live));
        this.set({ spoke: r.spoke, state: 'tombstoned' }, Number(r.tomb));
        this.set({ spoke: r.spoke, state: 'failed' }, Number(r.failed));
      }
    },
  });
  new client.Gauge({
    name: 'feisync_room_bookings',
    help: 'Meeting-room bookings (one per room, meeting occurrence and spoke) by Feishu room id, spoke and status (booked, pending, conflict, unmapped, released, failed)',
    labelNames: ['room', 'spoke', 'status'] as const,
    registers: [registry],
    async collect() {
      const rows = await db.prisma.roomBooking.groupBy({
        by: ['roomId', 'spoke', 'status'],
        _count: { _all: true },
      });
      this.reset();
      for (const r of rows) this.set({ room: r.roomId, spoke: r.spoke, status: r.status }, r._count._all);
    },
  });

  const byOrigin = new Map<string, string>();
  for (const [provider, urls] of Object.entries(origins)) {
    for (const u of urls) {
      try {
        byOrigin.set(new URL(u).host, provider);
      } catch {
        // not a URL: nothing to attribute
      }
    }
  }
  const count = (host: string | undefined, status: string) => {
    const provider = host ? byOrigin.get(host) : undefined;
    if (provider) apiRequests.inc({ provider, status });
  };
  const onFetch = (m: any) => count(hostOf(m.request?.origin), String(m.response?.statusCode));
  const onFetchError = (m: any) => count(hostOf(m.request?.origin), 'error');
  const onHttp = (m: any) =>
    count(String(m.request?.getHeader?.('host') ?? ''), String(m.response?.statusCode));
  dc.subscribe('undici:request:headers', onFetch);
  dc.subscribe('undici:request:error', onFetchError);
  dc.subscribe('http.client.response.finish', onHttp);
  return {
    registry,
    deliveries,
    jobs,
    jobSeconds,
    syncLatency,
    apiRequests,
    close() {
      dc.unsubscribe('undici:request:headers', onFetch);
      dc.unsubscribe('undici:request:error', onFetchError);
      dc.unsubscribe('http.client.response.finish', onHttp);
    },
  };
}

function hostOf(origin: unknown): string | undefined {
  try {
    return new URL(String(origin)).host;
  } catch {
    return undefined;
  }
}
