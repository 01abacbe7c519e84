/**
 * The initial sync at the providers' documented quotas: `npm run bench -- quota` (figures, not a test).
 *
 * Run through the sync engine (`runSync`, as `feisync sync` runs it), not through `serve`. Two runs,
 * each in a fresh process with the three emulators in a further child process:
 *
 * 1. Quotas ON (the emulators' documented limits: Feishu 50/s and 1000/min per app and API, Google
 *    600/min per user and 10,000/min per project, Graph 4 concurrent and 10,000 per 10 minutes per
 *    mailbox) and 50 ms latency on every provider request (fault `delayMs`), BENCH_QUOTA_USERS (20) x
 *    BENCH_QUOTA_EVENTS_PER_USER (1,000) events with attendees, the connectors at their own pacing.
 *    Wall time against the quota-bound optimum: for each rate-limited API, the calls it had to take
 *    (Feishu: list pages, and the attendee reads split over event get and attendee list; Google: the
 *    batched writes of each user and of the project; Graph: each mailbox's writes) over its limit,
 *    the slowest of them. Requests per provider against the minimum; rate-limit refusals. Busy time
 *    first: seconds until every event is on both spokes against the spokes' bound for the creates.
 * 2. Quotas OFF, 0 ms latency, BENCH_QUOTA_CPU_EVENTS (10,000): engine CPU ms per event (this
 *    process alone; the emulators' CPU apart) and peak RSS.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { compose } from '../../src/app/compose.ts';
import { generateTenant } from '../../src/app/demo/tenant.ts';
import { control, startEmulators } from '../../src/app/emulators.ts';
import { runSync } from '../../src/app/sync-run.ts';
import { parseConfig } from '../../src/config/index.ts';
import { cpuSecondsOf, requestLog, shape, writeFiles } from './sync.ts';

type Figures = Record<string, number | string>;
const SELF = fileURLToPath(import.meta.url);
const MARK = '@@feisync-quota ';
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const r2 = (x: number) => Math.round(x * 100) / 100;
const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
const say = (line: string) => process.stderr.write(`[bench quota] ${line}\n`);

export interface HostInfo {
  urls: { feishu: string; google: string; graph: string };
  appId: string;
  config: Record<string, any>;
  users: { openId: string }[];
  perCalendar: Record<string, number>;
  /** Feishu items an attendee read is needed for: listed, not cancelled. */
  liveItems: number;
  /** Per Exchange mailbox (lower case): the series with exceptions, each needs its occurrences read once. */
  seriesWithExceptions: Record<string, number>;
  events: number;
}

export function child(args: string[]): { proc: ChildProcess; line: Promise<string> } {
  const proc = spawn(process.execPath, [...process.execArgv, SELF, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (l) => {
      if (l.startsWith(MARK)) resolve(l.slice(MARK.length));
    });
    proc.once('exit', (code) => reject(new Error(`quota bench child ${args[0]} exited with ${code}`)));
  });
  return { proc, line };
}

async function host(users: number, events: number, quotas: boolean, latencyMs: number) {
  const tenant = generateTenant({ users, events, now: Math.floor(Date.now() / 1000) });
  const em = await startEmulators({ seed: tenant.seeds, unlimited: !quotas });
  if (latencyMs > 0)
    for (const url of [em.feishu, em.google, em.graph])
      await control(url, 'faults', [{ match: { path: '^/(?!_emulator)' }, action: { delayMs: latencyMs } }]);
  const perCalendar: Record<string, number> = {};
  let liveItems = 0;
  for (const e of tenant.seeds.feishu.events as any[]) {
    perCalendar[e.calendar_id] = (perCalendar[e.calendar_id] ?? 0) + 1;
    if (e.status !== 'cancelled') liveItems++;
  }
  const seriesWithExceptions: Record<string, number> = {};
  for (const u of tenant.users) {
    const series = new Set(
      (tenant.seeds.feishu.events as any[])
        .filter((e) => e.calendar_id === u.calendarId && e.is_exception)
        .map((e) => e.recurring_event_id),
    );
    seriesWithExceptions[u.exchangeEmail.toLowerCase()] = series.size;
  }
  const info: HostInfo = {
    urls: { feishu: em.feishu, google: em.google, graph: em.graph },
    appId: tenant.seeds.feishu.apps[0].app_id,
    config: tenant.config,
    users: tenant.users.map((u) => ({ openId: u.openId })),
    perCalendar,
    liveItems,
    seriesWithExceptions,
    events: tenant.expected.events,
  };
  process.stdout.write(`${MARK}${JSON.stringify(info)}\n`);
  process.stdin.resume();
  process.stdin.once('end', () => void em.close().then(() => process.exit(0)));
}

/**
 * Seconds that `n` calls need under `count` per `windowS` seconds and `perSecond`: each window's
 * calls at `perSecond`, the next window once the first has passed.
 */
export function boundSeconds(n: number, count: number, windowS: number, perSecond: number): number {
  if (n <= 0) return 0;
  const windows = Math.floor((n - 1) / count);
  return windows * windowS + (((n - 1) % count) + 1) / perSecond;
}

/**
 * Seconds one owner's `n` writes need under their own documented quota: a Google user's 600 a
 * minute, a Graph mailbox's 10,000 in 10 minutes (Google counts each call of a batch and documents
 * no per-second limit: a window's calls at once).
 */
export function ownerBoundSeconds(spoke: string, n: number): number {
  return spoke === 'google' ? boundSeconds(n, 600, 60, Infinity) : boundSeconds(n, 10_000, 600, Infinity);
}

async function engine(users: number, events: number, quotas: boolean, latencyMs: number): Promise<Figures> {
  const h = child(['--host', String(users), String(events), quotas ? '1' : '0', String(latencyMs)]);
  const info = JSON.parse(await h.line) as HostInfo;
  const dir = mkdtempSync(join(tmpdir(), 'feisync-quota-'));
  let app: Awaited<ReturnType<typeof compose>> | undefined;
  try {
    const file = writeFiles(dir, info.config);
    const config = parseConfig(stringify(info.config), file, {
      FEISHU_URL: info.urls.feishu,
      GOOGLE_URL: info.urls.google,
      GRAPH_URL: info.urls.graph,
    });
    // the connectors at their own pacing when the quotas are on
    app = await compose(config, file, { unthrottled: !quotas });
    for (const u of info.users) {
      const grant = await control(info.urls.feishu, 'user-token', { app_id: info.appId, open_id: u.openId });
      await app.userTokens.adopt(u.openId, grant);
    }
    const since = {
      feishu: (await requestLog(info.urls.feishu, 0)).length,
      google: (await requestLog(info.urls.google, 0)).length,
      graph: (await requestLog(info.urls.graph, 0)).length,
    };
    let peak = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 100);
    const cpu0 = process.cpuUsage();
    const hostCpu0 = cpuSecondsOf(h.proc.pid);
    const t0 = performance.now();
    const report = await runSync(app);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const hostCpu = cpuSecondsOf(h.proc.pid) - hostCpu0;
    clearInterval(sampler);
    const out: Figures = {
      events: info.events,
      users: users,
      seconds: r2(seconds),
      eventsPerSecond: Math.round(info.events / seconds),
      created: report.totals.created,
      // busy time first: every event on both spokes (the first stage), before their attendees
      eventsOnSpokes_seconds: r2(report.stages.events),
      attendeesPending: report.attendeesPending,
      failed: report.totals.failed,
      engineCpuMsPerEvent: r2((cpu.user + cpu.system) / 1000 / info.events),
      emulatorsCpuSeconds: r2(hostCpu),
      peakRssMB: Math.round(peak / 2 ** 20),
    };
    Object.assign(out, await requests(info, since, report, seconds));
    return out;
  } finally {
    await app?.close();
    h.proc.stdin?.end();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function requests(
  info: HostInfo,
  since: Record<'feishu' | 'google' | 'graph', number>,
  report: Awaited<ReturnType<typeof runSync>>,
  seconds: number,
): Promise<Figures> {
  const feishu = (await requestLog(info.urls.feishu, since.feishu)) as any[];
  const google = (await requestLog(info.urls.google, since.google)) as any[];
  const graph = (await requestLog(info.urls.graph, since.graph)) as any[];
  const count = (log: any[], re: RegExp, method = 'GET') =>
    log.filter((x) => x.method === method && re.test(x.path)).length;
  const f = {
    list: count(feishu, /\/calendars\/[^/]+\/events$/),
    get: count(feishu, /\/events\/[^/]+$/),
    attendeeList: count(feishu, /\/events\/[^/]+\/attendees$/),
    limited: feishu.filter((x) => x.status === 429).length,
  };
  const pairsOf = (spoke: string) => report.pairs.filter((p) => p.spoke === spoke);
  const writes = (spoke: string) =>
    pairsOf(spoke).map((p) => p.counts.created + p.counts.updated + p.counts.deleted);
  const googleWrites = writes('google');
  const graphWrites = writes('graph');
  const googleState: any = await (await fetch(`${info.urls.google}/_emulator/state`)).json();
  const graphLimits: any = await control(info.urls.graph, 'limits', {});
  // the least each provider needs
  const listMin = Object.values(info.perCalendar).reduce((s, n) => s + Math.max(1, Math.ceil(n / 1000)), 0);
  const readsMin = info.liveItems; // one attendee read per listed, live item
  const googleMin = googleWrites.reduce((s, n) => s + Math.ceil(n / 100), 0);
  const graphMin = graphWrites.reduce((s, n) => s + Math.ceil(n / 20), 0);
  // Requests no client can avoid beside the batched writes. Google: one token per user (domain-wide
  // delegation signs a token per subject). Graph: one app token; per calendar, the listing of tagged
  // copies at the start of a full pull (idempotent creates, issue 11); per series with exceptions,
  // the read of its occurrences (their ids are Exchange's own), which rides in the $batches too.
  const googleUsers = new Set(pairsOf('google').map((p) => p.target.toLowerCase())).size;
  const googleFloor = googleMin + googleUsers;
  // Reads of room calendars, naming what holds a room that declined (a feature; counted as taken).
  const roomReads = graph
    .flatMap((x) => x.parts ?? [])
    .filter((p: string) => /^GET .*\/calendarView$/.test(p)).length;
  const graphFloor =
    1 +
    Math.ceil(roomReads / 20) +
    pairsOf('graph').reduce((sum, p, i) => {
      const reads = info.seriesWithExceptions[p.target.toLowerCase()] ?? 0;
      return sum + 1 + Math.ceil((graphWrites[i] + reads) / 20);
    }, 0);
  // the quota-bound optimum: each API's calls over its limit, the slowest
  const bounds = {
    feishuList: boundSeconds(listMin, 1000, 60, 50),
    feishuAttendeeReads: boundSeconds(Math.ceil(readsMin / 2), 1000, 60, 50),
    // Google counts each request of a batch and documents no per-second limit: a window's calls at once
    googlePerUser: Math.max(0, ...googleWrites.map((n) => ownerBoundSeconds('google', n))),
    googleProject: boundSeconds(sum(googleWrites), 10_000, 60, Infinity),
    graphPerMailbox: Math.max(0, ...graphWrites.map((n) => ownerBoundSeconds('graph', n))),
  };
  // the spokes' own bound for the events alone (the creates of the first stage), reasoned as above
  const created = (spoke: string) =>
    report.pairs.filter((p) => p.spoke === spoke).map((p) => p.counts.created);
  const spokesBound = Math.max(
    0,
    ...created('google').map((n) => ownerBoundSeconds('google', n)),
    boundSeconds(sum(created('google')), 10_000, 60, Infinity),
    ...created('graph').map((n) => ownerBoundSeconds('graph', n)),
  );
  const optimum = Math.max(...Object.values(bounds));
  const slowest = Object.entries(bounds).sort((a, b) => b[1] - a[1])[0][0];
  const total = feishu.length + google.length + graph.length;
  // how full the spokes' batches went out, and what else they were asked (ids replaced)
  const batches = (log: any[], max: number) => {
    const sent = log.filter((x) => x.items);
    const sizes = sent.map((x) => x.items as number);
    const other = new Map<string, number>();
    for (const x of log.filter((x) => !x.items)) other.set(shape(x), (other.get(shape(x)) ?? 0) + 1);
    // items sent per minute from the first batch (a spoke's quota windows, as the tenant saw them)
    const first = sent[0]?.at ?? 0;
    const perMinute: number[] = [];
    for (const x of sent) {
      const m = Math.floor((x.at - first) / 60_000);
      while (perMinute.length <= m) perMinute.push(0);
      perMinute[m] += x.items;
    }
    // what the batches carried, and what the batches not full carried (their kinds of request)
    const tallyOf = (list: any[]) => {
      const t = new Map<string, number>();
      for (const x of list)
        for (const p of x.parts ?? []) {
          const [method, path] = p.split(' ');
          const k = shape({ method, path } as any);
          t.set(k, (t.get(k) ?? 0) + 1);
        }
      return [...t]
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k} x${n}`)
        .join('; ');
    };
    const partial = sent.filter((x) => x.items < max);
    return {
      perMinute: perMinute.join('/'),
      batches: sizes.length,
      batchItems: sum(sizes),
      notFull: partial.length,
      carried: tallyOf(sent),
      notFullCarried: tallyOf(partial),
      other: [...other].map(([k, n]) => `${k} x${n}`).join('; '),
    };
  };
  const gb = batches(google, 100);
  const mb = batches(graph, 20);
  const limited = f.limited + Number(googleState.quotaRejections ?? 0) + Number(graphLimits.throttled ?? 0);
  return {
    req_feishu_total: feishu.length,
    req_feishu_list: f.list,
    req_feishu_eventGet: f.get,
    req_feishu_attendeeList: f.attendeeList,
    min_feishu: listMin + readsMin,
    ratio_feishu_vsMin: r2(feishu.length / (listMin + readsMin)),
    req_google_total: google.length,
    min_google_batches: googleMin,
    min_google: googleFloor,
    ratio_google_vsMin: r2(google.length / Math.max(1, googleFloor)),
    req_google_batches: gb.batches,
    req_google_itemsPerMinute: gb.perMinute,
    req_google_batchItems: gb.batchItems,
    req_google_batchesNotFull: gb.notFull,
    req_google_batchCarried: gb.carried,
    req_google_notFullCarried: gb.notFullCarried,
    req_google_other: gb.other,
    req_graph_total: graph.length,
    req_graph_batches: mb.batches,
    req_graph_itemsPerMinute: mb.perMinute,
    req_graph_batchItems: mb.batchItems,
    req_graph_batchesNotFull: mb.notFull,
    req_graph_batchCarried: mb.carried,
    req_graph_notFullCarried: mb.notFullCarried,
    req_graph_other: mb.other,
    min_graph_batches: graphMin,
    min_graph_roomReads: roomReads,
    min_graph: graphFloor,
    ratio_graph_vsMin: r2(graph.length / Math.max(1, graphFloor)),
    rateLimited_feishu429: f.limited,
    rateLimited_googleQuotaRejections: Number(googleState.quotaRejections ?? 0),
    rateLimited_graphThrottled: Number(graphLimits.throttled ?? 0),
    rateLimited_percentOfRequests: r2((100 * limited) / Math.max(1, total)),
    optimum_seconds: r2(optimum),
    optimum_boundBy: slowest,
    ...Object.fromEntries(Object.entries(bounds).map(([k, v]) => [`optimum_${k}Seconds`, r2(v)])),
    ratio_wallVsOptimum: r2(seconds / Math.max(optimum, 1e-9)),
    eventsOnSpokes_boundSeconds: r2(spokesBound),
    // no ratio when the creates fit in the spokes' first quota windows (a bound of 0 s)
    ratio_eventsOnSpokesVsBound: spokesBound > 0 ? r2(report.stages.events / spokesBound) : 'n/a',
  };
}

async function engineChild(args: string[]): Promise<Figures> {
  const c = child(['--engine', ...args]);
  const text = await c.line;
  await new Promise((r) => c.proc.once('exit', r));
  return JSON.parse(text) as Figures;
}

export async function run(): Promise<Figures> {
  const users = env('BENCH_QUOTA_USERS', 20);
  const perUser = env('BENCH_QUOTA_EVENTS_PER_USER', 1000);
  const latency = env('BENCH_QUOTA_LATENCY_MS', 50);
  const cpuEvents = env('BENCH_QUOTA_CPU_EVENTS', 10_000);
  const out: Figures = {};
  say(`quotas on, ${latency} ms latency: ${users} users x ${perUser} events`);
  const on = await engineChild([String(users), String(users * perUser), '1', String(latency)]);
  for (const [k, v] of Object.entries(on)) out[`quotasOn_${k}`] = v;
  say(`${on.seconds} s against an optimum of ${on.optimum_seconds} s (${on.ratio_wallVsOptimum}x)`);
  say(
    `every event on both spokes after ${on.eventsOnSpokes_seconds} s against the spokes' own ${on.eventsOnSpokes_boundSeconds} s (${on.ratio_eventsOnSpokesVsBound}x)`,
  );
  if (cpuEvents > 0) {
    say(`quotas off, no latency: ${cpuEvents} events`);
    const off = await engineChild([String(users), String(cpuEvents), '0', '0']);
    for (const k of [
      'events',
      'seconds',
      'eventsPerSecond',
      'engineCpuMsPerEvent',
      'emulatorsCpuSeconds',
      'peakRssMB',
      'failed',
    ])
      out[`quotasOff_${k}`] = off[k];
    say(`${off.engineCpuMsPerEvent} engine CPU ms/event, peak RSS ${off.peakRssMB} MB`);
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [mode, ...rest] = process.argv.slice(2);
  const n = rest.map(Number);
  if (mode === '--host') await host(n[0], n[1], n[2] === 1, n[3]);
  else if (mode === '--engine') {
    const f = await engine(n[0], n[1], n[2] === 1, n[3]);
    process.stdout.write(`${MARK}${JSON.stringify(f)}\n`);
    process.exit(0);
  } else console.log(JSON.stringify(await run(), null, 2));
}
