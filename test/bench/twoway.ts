/**
 * Two-way through `feisync serve`: one spoke edit at a time (Google, then Exchange, alternating), made
 * through the spoke's SDK; measured until the other spoke holds it (latency), and the requests each
 * edit cost once everything settled (spoke delta reads, Feishu reads and writes, writes on the other
 * spoke), plus the writes our own writes caused when they came back (echo writes; goal 0).
 * `npm run bench -- twoway`, or `npx tsx test/bench/twoway.ts [edits]`.
 */
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { control } from '../../src/app/emulators.ts';
import { type Service, startService } from '../../src/app/serve.ts';
import { loadConfig } from '../../src/config/index.ts';
import { NOW, openTwoWay, pairsOf, someSingle, type TwoWayWorld } from '../e2e/twoway-world.ts';
import { googleDrift, graphDrift } from '../support/drift.ts';

type Log = { seq: number; method: string; path: string }[];

async function requests(url: string, since: number): Promise<Log> {
  return (await (await fetch(`${url}/_emulator/requests?since=${since}`)).json()) as Log;
}
/** Change keys of one mailbox's events (a write moves one). */
async function changeKeys(url: string, userId: string): Promise<Map<string, string>> {
  const state = (await (await fetch(`${url}/_emulator/state`)).json()) as any;
  return new Map(state.events.filter((e: any) => e.userId === userId).map((e: any) => [e.id, e.changeKey]));
}
const lastSeq = async (url: string) => (await requests(url, 0)).at(-1)?.seq ?? 0;

async function settle(service: Service) {
  let quietSince = 0;
  for (let i = 0; i < 600; i++) {
    let busy = 0;
    for (const q of ['pull', 'spoke', 'calendars'])
      busy += await service.boss.getQueueSize(q, { before: 'completed' });
    if (busy) quietSince = 0;
    else if (!quietSince) quietSince = Date.now();
    else if (Date.now() - quietSince > 1000) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('did not settle');
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

export async function run(edits = 20): Promise<Record<string, number | string>> {
  const w: TwoWayWorld = await openTwoWay('feishu-wins', { users: 2, events: 60 });
  await w.app.close();
  const config = loadConfig(w.configFile);
  config.server.public_url = undefined;
  await control(w.em.feishu, 'push', { aggregateMs: 50, retryDelaysMs: [200, 400, 800] });
  const service = await startService(config, w.configFile, {
    unthrottled: true,
    port: 0,
    log: pino({ level: 'silent' }),
  });
  try {
    w.app = service.app;
    await control(w.em.feishu, 'seed', {
      apps: [{ ...w.tenant.seeds.feishu.apps[0], event_url: `${service.url}/webhooks/feishu` }],
    });
    const pairs = await pairsOf(w);
    for (let i = 0; i < 300 && !(await someSingle(w, pairs.graph, 0)); i++)
      await new Promise((r) => setTimeout(r, 100));
    await settle(service);
    const user = w.tenant.users[0];
    const gd = googleDrift(w.em.google, user.googleEmail);
    const md = graphDrift(w.em.graph, w.tenant.seeds.graph.tenants[0], user.exchangeEmail);
    const latencies: number[] = [];
    const per = { spokeReads: 0, feishuReads: 0, feishuWrites: 0, otherSpokeWrites: 0, echoWrites: 0 };
    for (let i = 0; i < edits; i++) {
      const fromGoogle = i % 2 === 0;
      const pair = fromGoogle ? pairs.google : pairs.graph;
      const copy = (await someSingle(w, pair, i % 8))!;
      const summary = `Bench edit ${i} at ${NOW}`;
      const marks = {
        feishu: await lastSeq(w.em.feishu),
        google: await lastSeq(w.em.google),
        graph: await lastSeq(w.em.graph),
      };
      const graphBefore = await changeKeys(w.em.graph, user.graphUserId);
      const t0 = performance.now();
      await (fromGoogle ? gd : md).edit(copy.ref.id, summary);
      const other = fromGoogle ? w.em.graph : w.em.google;
      for (let k = 0; k < 1000; k++) {
        const state = (await (await fetch(`${other}/_emulator/state`)).json()) as any;
        if (state.events.some((e: any) => (e.subject ?? e.summary) === summary)) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      latencies.push(performance.now() - t0);
      await settle(service);
      const [f, g, m] = await Promise.all([
        requests(w.em.feishu, marks.feishu),
        requests(w.em.google, marks.google),
        requests(w.em.graph, marks.graph),
      ]);
      const write = (r: Log[number]) =>
        r.method !== 'GET' && !/token|batch_get_id|\/_emulator\//.test(r.path);
      // Google: every write is a request (a batch counts once); Graph writes may ride in $batch (with
      // reads): counted as events whose changeKey moved
      const googleWrites = g.filter((r) => write(r) && !/watch|channels/.test(r.path)).length;
      const graphAfter = await changeKeys(w.em.graph, user.graphUserId);
      const graphWrites = [...graphAfter].filter(([id, k]) => graphBefore.get(id) !== k).length;
      per.spokeReads += (fromGoogle ? g : m).filter(
        (r) => r.method === 'GET' && /events|delta|calendarView/.test(r.path),
      ).length;
      per.feishuReads += f.filter((r) => r.method === 'GET' && /events/.test(r.path)).length;
      per.feishuWrites += f.filter(write).length;
      const [srcWrites, dstWrites] = fromGoogle ? [googleWrites, graphWrites] : [graphWrites, googleWrites];
      per.otherSpokeWrites += dstWrites;
      // the source spoke's only write is the user's edit, the other spoke's only one the fan-out:
      // anything more is a write caused by our own writes coming back
      per.echoWrites += Math.max(0, srcWrites - 1) + Math.max(0, dstWrites - 1);
    }
    const avg = (n: number) => Math.round((n / edits) * 100) / 100;
    return {
      edits,
      latencyP50Ms: Math.round(pct(latencies, 50)),
      latencyP99Ms: Math.round(pct(latencies, 99)),
      latencyMaxMs: Math.round(Math.max(...latencies)),
      spokeReadsPerEdit: avg(per.spokeReads),
      feishuReadsPerEdit: avg(per.feishuReads),
      feishuWritesPerEdit: avg(per.feishuWrites),
      otherSpokeWritesPerEdit: avg(per.otherSpokeWrites),
      echoWrites: per.echoWrites,
    };
  } finally {
    await service.close();
    await w.em.close();
    rmSync(w.dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const figures = await run(Number(process.argv[2] ?? 20));
  console.log(JSON.stringify({ twoway: figures }));
  process.exit(0);
}
