/** Requests per event for a full and an incremental Feishu pull, against the emulator (limits relaxed). */
import { createFeishuConnector } from '../../connectors/feishu/client.ts';
import { APP_ID, APP_SECRET, CAL, sampleSeed } from '../../connectors/feishu/emulator/fixture.ts';
import { startFeishuEmulator } from '../../connectors/feishu/emulator/index.ts';

const N = Number(process.env.BENCH_EVENTS ?? 5000);
const CHANGES = 50;
const em = await startFeishuEmulator({ seed: sampleSeed() });
const post = (path: string, body: unknown = {}) =>
  fetch(em.url + path, { method: 'POST', body: JSON.stringify(body) });
const count = async () =>
  ((await (await fetch(`${em.url}/_emulator/requests?since=0`)).json()) as unknown[]).length;
try {
  await post('/_emulator/limits', { enabled: false });
  const events = Array.from({ length: N - 2 }, (_, i) => ({
    calendar_id: CAL.alice,
    event_id: `bench-${i}_0`,
    summary: `Bench ${i}`,
    start_time: { timestamp: String(1767225600 + i * 3600) },
    end_time: { timestamp: String(1767229200 + i * 3600) },
  }));
  await post('/_emulator/seed', { events });
  for (const attendees of [false, true]) {
    const c = createFeishuConnector({ appId: APP_ID, appSecret: APP_SECRET, domain: em.url, attendees });
    const ref = { owner: 'ou_alice', id: CAL.alice };
    await post('/_emulator/reset');
    await post('/_emulator/seed', { ...sampleSeed(), events: [...sampleSeed().events, ...events] });
    await post('/_emulator/limits', { enabled: false });
    let t0 = performance.now();
    let cursor = '';
    let n = 0;
    for await (const p of c.listChanges(ref, null)) {
      n += p.upserts.length;
      cursor = p.cursor ?? cursor;
    }
    const full = await count();
    const fullMs = performance.now() - t0;
    for (let i = 0; i < CHANGES; i++) {
      await post('/_emulator/events', {
        op: 'patch',
        calendar_id: CAL.alice,
        event_id: `bench-${i}_0`,
        event: { summary: 'x' },
      });
    }
    t0 = performance.now();
    let m = 0;
    for await (const p of c.listChanges(ref, cursor)) m += p.upserts.length + p.removals.length;
    const inc = (await count()) - full;
    console.log(
      JSON.stringify({
        attendees,
        full: { events: n, requests: full, perEvent: +(full / n).toFixed(4), ms: Math.round(fullMs) },
        incremental: {
          changes: m,
          requests: inc,
          perEvent: +(inc / m).toFixed(4),
          ms: Math.round(performance.now() - t0),
        },
      }),
    );
  }
} finally {
  await em.close();
}
