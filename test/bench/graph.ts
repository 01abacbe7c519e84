/**
 * Graph write benchmark (a figure, not a test): `npx tsx test/bench/graph.ts`.
 *
 * 1. 10,000 creates through the connector with the emulator's limits off: HTTP requests per event
 *    (`$batch` of 20) and mailbox requests per event (each batch item counts against the mailbox).
 * 2. The same with `verifyCreates` (tag lookup before create) on a 2,000-event sample.
 * 3. Throughput against the enforced mailbox limits (4 concurrent, 10,000 per 10 minutes) on a
 *    1,000-event sample: the 10-minute budget cannot be waited out in a benchmark, so the figure is
 *    the mailbox-request rate reached, extrapolated to 10 minutes, divided by 10,000 (a value >= 1
 *    means the connector is limited by the mailbox budget, not by its own speed), plus the peak
 *    concurrency seen by the emulator out of 4 and the number of 429s.
 */

import { createGraphConnector } from '../../connectors/graph/connector.ts';
import { startGraphEmulator } from '../../connectors/graph/emulator/index.ts';
import { blankEvent } from '../../src/core/index.ts';
import type { WriteOp } from '../../src/ports/connector.ts';

const SEED = {
  tenants: [{ tenant_id: 't', client_id: 'c', client_secret: 's' }],
  users: [{ id: 'u1', userPrincipalName: 'bench@contoso.com', mail: 'bench@contoso.com' }],
};
const cal = { owner: 'bench@contoso.com', id: 'primary' };

function ops(n: number, prefix: string): WriteOp[] {
  const t0 = Math.floor(Date.now() / 1000) + 86_400;
  return Array.from({ length: n }, (_, i) => {
    const s = t0 + i * 1800;
    const ev = blankEvent(
      { uid: `${prefix}${i}`, originalTime: 0 },
      { timestamp: s, timeZone: 'Asia/Shanghai' },
      { timestamp: s + 1800, timeZone: 'Asia/Shanghai' },
      'feishu',
    );
    ev.summary = `Bench ${i}`;
    return { op: 'create', event: ev, tag: { pair: 'bench', key: `${prefix}${i}_0` } };
  });
}

export async function run(): Promise<Record<string, number | string>> {
  const em = await startGraphEmulator({ seed: SEED });
  const control = async (path: string, body?: unknown, method = 'POST'): Promise<any> =>
    (
      await fetch(`${em.url}/_emulator/${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
    ).json();
  const connector = (verifyCreates: boolean) =>
    createGraphConnector({
      tenantId: 't',
      clientId: 'c',
      clientSecret: 's',
      baseUrl: em.url,
      authorityUrl: em.url,
      verifyCreates,
      // the emulator's limits are off here: no client pacing of the 10-minute budget either
      mailboxRequests: 0,
    });
  const measure = async (n: number, verify: boolean, prefix: string, chunk = 500) => {
    const before = (await control('requests?since=0', undefined, 'GET')).length;
    const conn = connector(verify);
    const t0 = performance.now();
    let ok = 0;
    const all = ops(n, prefix);
    // The sync engine hands the connector a few hundred ops at a time.
    for (let i = 0; i < all.length; i += chunk) {
      const res = await conn.write(cal, all.slice(i, i + chunk));
      ok += res.filter((r) => r.ok).length;
    }
    const seconds = (performance.now() - t0) / 1000;
    const log = (await control('requests?since=0', undefined, 'GET')).slice(before);
    const http = log.length;
    return {
      ok,
      seconds,
      http,
      batches: conn.stats.batches,
      throttled: log.filter((e: any) => e.status === 429).length,
    };
  };
  try {
    await control('limits', { enabled: false });
    const a = await measure(10_000, false, 'a');
    const b = await measure(2_000, true, 'b');
    await control('reset', {});
    await control('seed', SEED);
    const c = await measure(1_000, true, 'c', 100);
    const limits = await control('limits', {});
    // Mailbox requests: every batch item counts, plus the token request is not a mailbox request.
    const itemsPerEventVerify = 2;
    const mailboxRate = (c.ok * itemsPerEventVerify) / c.seconds;
    return {
      events: a.ok,
      httpRequestsPerEvent: +(a.http / a.ok).toFixed(4),
      mailboxRequestsPerEvent: 1,
      eventsPerSecondLimitsOff: Math.round(a.ok / a.seconds),
      verifyCreatesEvents: b.ok,
      verifyCreatesHttpRequestsPerEvent: +(b.http / b.ok).toFixed(4),
      verifyCreatesMailboxRequestsPerEvent: itemsPerEventVerify,
      enforcedSampleEvents: c.ok,
      enforcedSeconds: +c.seconds.toFixed(2),
      enforced429s: c.throttled,
      enforcedPeakConcurrency: limits.peakConcurrency.u1 ?? 0,
      enforcedFractionOf10kPer10min: +((mailboxRate * 600) / 10_000).toFixed(2),
      maxEventsPer10minAtBudget: 10_000 / itemsPerEventVerify,
      maxEventsPer10minAtBudgetWithoutVerify: 10_000,
      method:
        'limits off for the 10,000 run; the enforced figure is the mailbox-request rate of a 1,000-event sample with verifyCreates, extrapolated to 10 minutes over the 10,000 budget',
    };
  } finally {
    await em.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run().then(
    (r) => console.log(JSON.stringify(r, null, 2)),
    (e) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
