/**
 * The overview's chart: events synced and sync latency per hour over the last day, from the SyncRun
 * journal (pull and sync runs: their counts, and a pull's `latencyMs` from change event to applied).
 * Drawn as inline SVG markup: no script, nothing fetched.
 */
import type { PrismaClient } from '../../store/db.ts';
import { esc } from '../page.ts';

export interface HourBucket {
  /** Start of the hour, ms. */
  at: number;
  /** Events created, updated or deleted on a spoke. */
  synced: number;
  /** Mean latency of the pulls that carried one, ms; null when none. */
  latencyMs: number | null;
  runs: number;
}

const HOUR = 3600_000;

export async function syncedPerHour(prisma: PrismaClient, now = Date.now()): Promise<HourBucket[]> {
  const first = Math.floor(now / HOUR) * HOUR - 23 * HOUR;
  const rows = await prisma.syncRun.findMany({
    where: { kind: { in: ['pull', 'sync'] }, startedAt: { gte: new Date(first) } },
    select: { startedAt: true, counts: true, report: true },
    take: 20_000,
  });
  const buckets: HourBucket[] = Array.from({ length: 24 }, (_, i) => ({
    at: first + i * HOUR,
    synced: 0,
    latencyMs: null,
    runs: 0,
  }));
  const latency: number[][] = buckets.map(() => []);
  for (const r of rows) {
    const i = Math.floor((r.startedAt.getTime() - first) / HOUR);
    if (i < 0 || i >= 24) continue;
    const c = (r.counts ?? {}) as Record<string, unknown>;
    const n = (k: string) => (typeof c[k] === 'number' ? (c[k] as number) : 0);
    buckets[i].synced += n('created') + n('updated') + n('deleted');
    buckets[i].runs++;
    const ms = (r.report as { latencyMs?: unknown } | null)?.latencyMs;
    if (typeof ms === 'number' && Number.isFinite(ms)) latency[i].push(ms);
  }
  latency.forEach((l, i) => {
    if (l.length) buckets[i].latencyMs = l.reduce((a, b) => a + b, 0) / l.length;
  });
  return buckets;
}

/** Bars: events synced per hour; line: mean latency (its own scale, on the right). */
export function chartSvg(buckets: HourBucket[]): string {
  const W = 720;
  const H = 180;
  const pad = { l: 44, r: 56, t: 12, b: 24 };
  const iw = W - pad.l - pad.r;
  const ih = H - pad.t - pad.b;
  const maxSynced = Math.max(1, ...buckets.map((b) => b.synced));
  const lat = buckets.map((b) => b.latencyMs).filter((x): x is number => x !== null);
  const maxLat = Math.max(1, ...lat);
  const bw = iw / buckets.length;
  const x = (i: number) => pad.l + i * bw;
  const bars = buckets
    .map((b, i) => {
      const h = (b.synced / maxSynced) * ih;
      const label = `${hour(b.at)}: ${b.synced} events synced in ${b.runs} runs`;
      return `<rect class="bar" x="${(x(i) + 1).toFixed(1)}" y="${(pad.t + ih - h).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${h.toFixed(1)}"><title>${esc(label)}</title></rect>`;
    })
    .join('');
  const points = buckets
    .map((b, i) =>
      b.latencyMs === null
        ? null
        : `${(x(i) + bw / 2).toFixed(1)},${(pad.t + ih - (b.latencyMs / maxLat) * ih).toFixed(1)}`,
    )
    .filter(Boolean);
  const line = points.length ? `<polyline class="latency" points="${points.join(' ')}"/>` : '';
  const dots = buckets
    .map((b, i) =>
      b.latencyMs === null
        ? ''
        : `<circle class="latency-dot" cx="${(x(i) + bw / 2).toFixed(1)}" cy="${(pad.t + ih - (b.latencyMs / maxLat) * ih).toFixed(1)}" r="3"><title>${esc(`${hour(b.at)}: mean latency ${seconds(b.latencyMs)}`)}</title></circle>`,
    )
    .join('');
  const ticks = buckets
    .map((b, i) =>
      i % 4 === 0 ? `<text class="tick" x="${x(i).toFixed(1)}" y="${H - 6}">${esc(hour(b.at))}</text>` : '',
    )
    .join('');
  return [
    `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="Events synced and sync latency per hour, last 24 hours">`,
    `<line class="axis" x1="${pad.l}" y1="${pad.t + ih}" x2="${pad.l + iw}" y2="${pad.t + ih}"/>`,
    `<text class="tick" x="4" y="${pad.t + 10}">${maxSynced}</text><text class="tick" x="4" y="${pad.t + ih}">0</text>`,
    `<text class="tick lat" x="${pad.l + iw + 4}" y="${pad.t + 10}">${esc(lat.length ? seconds(maxLat) : '')}</text>`,
    bars,
    line,
    dots,
    ticks,
    '</svg>',
    `<p class="legend"><span class="key bar"></span> events synced per hour · <span class="key latency"></span> mean sync latency (change event to applied)${lat.length ? '' : ': no change events in the last day'}</p>`,
  ].join('');
}

const hour = (ms: number) => `${new Date(ms).toISOString().slice(11, 13)}:00`;
const seconds = (ms: number) => (ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`);
