/**
 * Google connector write benchmark (a figure, not a test): `npx tsx test/bench/google.ts`.
 *
 * - 10,000 creates through `write()` against the emulator with quotas off, at 0 ms and at 50 ms
 *   injected latency per batch request: HTTP requests per event (from the emulator's request log,
 *   token requests included) and events per second.
 * - Quota run: the emulator enforces a per-user quota scaled down in time (100 requests per 1 s
 *   window instead of 600 per 60 s; the connector paces to the same figures), 500 creates. The
 *   fraction of the bound is (least time the quota allows) / (measured time), where the least time
 *   is (n / perUser - 1) windows (the first window's worth may go at once). It does not depend on
 *   the time scale as long as a batch fits in one window; times 600 it is events per minute at the
 *   real quota in steady state.
 */
import { generateKeyPairSync } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { createGoogleConnector } from '../../connectors/google/client.ts';
import { startGoogleEmulator } from '../../connectors/google/emulator/index.ts';
import { blankEvent } from '../../src/core/index.ts';
import type { WriteOp } from '../../src/ports/index.ts';

const OWNER = 'bench@example.com';

function ops(n: number, prefix: string): WriteOp[] {
  const t0 = Date.UTC(2025, 0, 1) / 1000;
  return Array.from({ length: n }, (_, i) => {
    const start = t0 + i * 1800;
    const event = {
      ...blankEvent(
        { uid: `${prefix}${i}`, originalTime: 0 },
        { timestamp: start, timeZone: 'Asia/Shanghai' },
        { timestamp: start + 1800, timeZone: 'Asia/Shanghai' },
        'feishu',
      ),
      summary: `Event ${i}`,
    };
    return { op: 'create', event, tag: { pair: 'bench', key: `${prefix}${i}_0` } };
  });
}

export async function run(): Promise<Record<string, number | string>> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const credentials = {
    client_email: 'bench@bench-project.iam.gserviceaccount.com',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
  const em = await startGoogleEmulator({ seed: { users: [{ email: OWNER }] } });
  const control = (path: string, body: unknown = {}) =>
    fetch(`${em.url}/_emulator/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const requests = async () =>
    ((await (await fetch(`${em.url}/_emulator/requests`)).json()) as unknown[]).length;
  const out: Record<string, number | string> = {};
  try {
    for (const latency of [0, 50]) {
      await control('reset');
      await control('seed', { users: [{ email: OWNER }], limits: { enabled: false } });
      if (latency) await control('faults', { match: { path: '^/batch/' }, action: { delayMs: latency } });
      const c = createGoogleConnector({
        credentials,
        rootUrl: em.url,
        tokenUrl: `${em.url}/token`,
        rate: { perUser: 0 },
      });
      const n = 10_000;
      const t = performance.now();
      const res = await c.write({ owner: OWNER, id: 'primary' }, ops(n, `l${latency}_`));
      const s = (performance.now() - t) / 1000;
      const failed = res.filter((r) => !r.ok).length;
      out[`latency${latency}ms_events`] = n;
      out[`latency${latency}ms_failed`] = failed;
      out[`latency${latency}ms_httpRequestsPerEvent`] = (await requests()) / n;
      out[`latency${latency}ms_eventsPerSecond`] = Math.round(n / s);
    }
    await control('reset');
    const perUser = 100;
    await control('seed', {
      users: [{ email: OWNER }],
      limits: { enabled: true, perUser, windowSeconds: 1 },
    });
    const c = createGoogleConnector({
      credentials,
      rootUrl: em.url,
      tokenUrl: `${em.url}/token`,
      rate: { perUser, windowMs: 1000 },
    });
    const n = 500;
    const t = performance.now();
    const res = await c.write({ owner: OWNER, id: 'primary' }, ops(n, 'q_'));
    const s = (performance.now() - t) / 1000;
    const state = (await (await fetch(`${em.url}/_emulator/state`)).json()) as { quotaRejections: number };
    out.quota_scaled = `${perUser} requests / 1 s window (real: 600 / 60 s)`;
    out.quota_events = n;
    out.quota_failed = res.filter((r) => !r.ok).length;
    out.quota_eventsPerSecond = Math.round((n / s) * 10) / 10;
    // The quota lets the first window's worth through at once, then one window per `perUser` more:
    // the least time any client can take is (n / perUser - 1) windows.
    const boundSeconds = n / perUser - 1;
    out.quota_boundSeconds = boundSeconds;
    out.quota_seconds = Math.round(s * 100) / 100;
    out.quota_fractionOfBound = Math.round((boundSeconds / s) * 1000) / 1000;
    out.quota_rejections = state.quotaRejections;
    out.quota_realEventsPerMinuteEquivalent = Math.round((boundSeconds / s) * 600);
  } finally {
    await em.close();
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  run().then((r) => console.log(JSON.stringify(r, null, 2)));
}
