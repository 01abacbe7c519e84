/**
 * The main job's benchmark (figures, not a test): `npx tsx test/bench/sync.ts` or `npm run bench -- sync`.
 *
 * Three engine runs, each in a fresh process so that peak RSS belongs to that run alone, each with the
 * three emulators in a further child process (limits off, 0 ms latency) so that the emulators' own
 * stores and CPU do not count against the engine. The engine is the product as `feisync sync` runs it:
 * `compose()` on embedded PGlite in a temp folder (removed after), `runSync()` for the initial sync.
 *
 * 1. Main run, BENCH_EVENTS (20,000) events over BENCH_USERS (20) users: wall time, events/s, HTTP
 *    requests per Feishu event per provider against the minimum, then BENCH_CHANGES (200) single
 *    event creates in Feishu, each pulled for its calendar (`pullCalendar`, as the demo's change
 *    handler does): requests of the first one vs the minimum, and p50/p99 of the pull's duration.
 * 2. Memory: peak RSS (sampled every 100 ms during the initial sync; JS heap and external memory,
 *    which holds PGlite's WASM heap, beside it) at BENCH_MEM_SMALL (10,000) and BENCH_MEM_LARGE
 *    (80,000) events. A large run not done within BENCH_MEM_TIMEOUT (240) s is stopped and measured at
 *    BENCH_MEM_FALLBACK (40,000) instead, and `memory_note` says so.
 *
 * Requests come from each emulator's log (`GET /_emulator/requests?since=N`), sorted by kind; the
 * minimum is Feishu ceil(events/1000) list pages per calendar, Google ceil(writes/100) batches per user,
 * Graph ceil(writes/20) `$batch` per mailbox (plus one listing of tagged copies per calendar in a full pull). The
 * Feishu connector's per-event GET for attendees and Graph's series-instance lookups are reported on
 * their own. Engine and emulator CPU seconds show which side bounds the rate.
 *
 * Internal modes: `--host <events> <users>` (emulators) and `--engine <events> <users> <changes>`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { compose, policyOf } from '../../src/app/compose.ts';
import { generateTenant } from '../../src/app/demo/tenant.ts';
import { control, startEmulators } from '../../src/app/emulators.ts';
import { resolvePairs } from '../../src/app/pairs.ts';
import { runSync } from '../../src/app/sync-run.ts';
import { parseConfig } from '../../src/config/index.ts';
import { roomLedger } from '../../src/store/bookings.ts';
import { pullCalendar } from '../../src/sync/pull.ts';

type Figures = Record<string, number | string>;
type Provider = 'feishu' | 'google' | 'graph';
const PROVIDERS: Provider[] = ['feishu', 'google', 'graph'];
const SELF = fileURLToPath(import.meta.url);
/** Prefix of the one stdout line a child answers with (anything else it prints is ignored). */
const MARK = '@@feisync-bench ';
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const r2 = (x: number) => Math.round(x * 100) / 100;
const r4 = (x: number) => Math.round(x * 10_000) / 10_000;

interface HostInfo {
  urls: Record<Provider, string>;
  appId: string;
  config: Record<string, any>;
  users: { openId: string; calendarId: string }[];
  perCalendar: Record<string, number>;
  events: number;
  now: number;
}

// ------------------------------------------------------------------ child processes

/** Starts this file in a child node (same tsx loader); resolves with the first stdout line. */
function child(args: string[]): { proc: ChildProcess; line: Promise<string> } {
  const proc = spawn(process.execPath, [...process.execArgv, SELF, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: proc.stdout! });
    rl.on('line', (l) => {
      if (l.startsWith(MARK)) resolve(l.slice(MARK.length));
    });
    proc.once('exit', (code) => reject(new Error(`bench child ${args[0]} exited with ${code}`)));
  });
  return { proc, line };
}

/** Emulator host: generate the tenant, start the emulators, print what the engine needs, wait. */
async function host(events: number, users: number) {
  const now = Math.floor(Date.now() / 1000);
  const tenant = generateTenant({ users, events, now });
  const emulators = await startEmulators({ seed: tenant.seeds, unlimited: true });
  const perCalendar: Record<string, number> = {};
  for (const e of tenant.seeds.feishu.events)
    perCalendar[e.calendar_id] = (perCalendar[e.calendar_id] ?? 0) + 1;
  const info: HostInfo = {
    urls: { feishu: emulators.feishu, google: emulators.google, graph: emulators.graph },
    appId: tenant.seeds.feishu.apps[0].app_id,
    config: tenant.config,
    users: tenant.users.map((u) => ({ openId: u.openId, calendarId: u.calendarId })),
    perCalendar,
    events: tenant.expected.events,
    now,
  };
  process.stdout.write(`${MARK}${JSON.stringify(info)}\n`);
  // Lives until the engine closes stdin (or dies).
  process.stdin.resume();
  process.stdin.once('end', () => void emulators.close().then(() => process.exit(0)));
}

// ------------------------------------------------------------------ request log

interface Logged {
  seq: number;
  method: string;
  path: string;
  status: number;
}

export async function requestLog(url: string, since: number): Promise<Logged[]> {
  const r = await fetch(`${url}/_emulator/requests?since=${since}`);
  return ((await r.json()) as Logged[]).filter((x) => x.seq > since);
}

/**
 * Kind of a logged request: token, list (Feishu event pages), attendees (Feishu event gets with
 * attendees), batch (spoke writes), other (Graph: the listing of tagged copies of a full pull).
 */
function kind(p: Provider, x: Logged): string {
  if (/token|oauth2|\/auth\//.test(x.path)) return 'token';
  if (p === 'feishu') {
    // the connector fetches each listed event again for its attendees (list items carry none)
    if (x.method === 'GET' && /\/events\/[^/]+(\/attendees)?$/.test(x.path)) return 'attendees';
    if (x.method === 'GET' && /\/calendars\/[^/]+\/events$/.test(x.path)) return 'list';
  } else if (/batch/i.test(x.path)) return 'batch';
  // Graph: a series' occurrences, looked up to write its exceptions
  if (p === 'graph' && /\/instances$/.test(x.path)) return 'instances';
  return 'other';
}

/** `METHOD path` with ids replaced, for the breakdown of requests of no known kind. */
export const shape = (x: Logged) =>
  `${x.method} ${x.path.replace(/\/(?!(?:v\d+(?:\.\d+)?|open-apis)(?:\/|$))(?:[^/]*[\d@_.%][^/]*|[^/]{20,})/g, '/:id')}`;

/** Requests of one provider by kind, plus the shapes of those of no known kind. */
type Tally = Record<'total' | 'token' | 'list' | 'attendees' | 'batch' | 'instances' | 'other', number> & {
  shapes: string;
};
type Tallies = Record<Provider, Tally>;

/** Counts each provider's requests logged after `since` (and moves `since` on). */
async function tally(urls: Record<Provider, string>, since: Record<Provider, number>): Promise<Tallies> {
  const out = {} as Tallies;
  for (const p of PROVIDERS) {
    const log = await requestLog(urls[p], since[p]);
    const t: Tally = {
      total: log.length,
      token: 0,
      list: 0,
      attendees: 0,
      batch: 0,
      instances: 0,
      other: 0,
      shapes: '',
    };
    const other = new Map<string, number>();
    for (const x of log) {
      const k = kind(p, x) as Exclude<keyof Tally, 'shapes' | 'total'>;
      t[k]++;
      if (k === 'other') other.set(shape(x), (other.get(shape(x)) ?? 0) + 1);
    }
    t.shapes = [...other].map(([s, n]) => `${n}x ${s}`).join(', ');
    out[p] = t;
    since[p] = log.length ? log[log.length - 1].seq : since[p];
  }
  return out;
}

// ------------------------------------------------------------------ engine run

async function engine(events: number, users: number, changes: number): Promise<Figures> {
  const h = child(['--host', String(events), String(users)]);
  const info = JSON.parse(await h.line) as HostInfo;
  const dir = mkdtempSync(join(tmpdir(), 'feisync-bench-'));
  let app: Awaited<ReturnType<typeof compose>> | undefined;
  const out: Figures = { events: info.events, users: info.users.length };
  try {
    const configFile = writeFiles(dir, info.config);
    const config = parseConfig(stringify(info.config), configFile, {
      FEISHU_URL: info.urls.feishu,
      GOOGLE_URL: info.urls.google,
      GRAPH_URL: info.urls.graph,
    });
    app = await compose(config, configFile, { unthrottled: true });
    // every user consents (OAuth in real life), as in the demo: tokens stored encrypted in the database
    for (const u of info.users) {
      const grant = await control(info.urls.feishu, 'user-token', { app_id: info.appId, open_id: u.openId });
      await app.userTokens.adopt(u.openId, grant);
    }
    const since = { feishu: 0, google: 0, graph: 0 };
    await tally(info.urls, since); // anything before the sync (none expected) is not counted

    const before = process.memoryUsage();
    const peak = { rss: before.rss, heapUsed: before.heapUsed, external: before.external };
    const sample = () => {
      const m = process.memoryUsage();
      peak.rss = Math.max(peak.rss, m.rss);
      peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
      peak.external = Math.max(peak.external, m.external);
    };
    const sampler = setInterval(sample, 100);
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const hostCpu0 = cpuSecondsOf(h.proc.pid);
    const report = await runSync(app);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const hostCpu = cpuSecondsOf(h.proc.pid) - hostCpu0;
    clearInterval(sampler);
    sample();
    const t = report.totals;
    const mb = (b: number) => Math.round(b / 2 ** 20);
    Object.assign(out, {
      initial_seconds: r2(seconds),
      initial_eventsPerSecond: Math.round(info.events / seconds),
      initial_engineCpuSeconds: r2((cpu.user + cpu.system) / 1e6),
      initial_emulatorsCpuSeconds: Number.isNaN(hostCpu) ? 'n/a' : r2(hostCpu),
      initial_created: t.created,
      initial_updated: t.updated,
      initial_failed: t.failed,
      initial_skipped: t.skipped,
      initial_problems: report.problems.length
        ? report.problems.map((p) => `${p.user}: ${p.problem}`).join('; ')
        : 'none',
      rss_beforeSyncMB: mb(before.rss),
      rss_peakMB: mb(peak.rss),
      heapUsed_peakMB: mb(peak.heapUsed),
      external_peakMB: mb(peak.external),
    });
    const counts = await tally(info.urls, since);
    Object.assign(out, initialRequests(info, report.pairs, counts));
    if (changes > 0) Object.assign(out, await changeRound(app, info, since, changes));
  } finally {
    await app?.close();
    h.proc.stdin?.end();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

/** Requests of the initial sync per Feishu event and against the minimum. */
function initialRequests(
  info: HostInfo,
  pairs: { spoke: string; counts: { created: number; updated: number; deleted: number } }[],
  c: Tallies,
): Figures {
  const n = info.events;
  const feishuMin = Object.values(info.perCalendar).reduce((s, k) => s + Math.max(1, Math.ceil(k / 1000)), 0);
  const writes = (spoke: string, per: number) =>
    pairs
      .filter((p) => p.spoke === spoke)
      .reduce((s, p) => s + Math.ceil((p.counts.created + p.counts.updated + p.counts.deleted) / per), 0);
  const googleMin = writes('google', 100);
  const graphMin = writes('graph', 20);
  const f: Figures = {};
  for (const p of PROVIDERS) {
    f[`req_${p}_total`] = c[p].total;
    f[`req_${p}_token`] = c[p].token;
    f[`req_${p}_perEvent`] = r4(c[p].total / n);
    if (c[p].shapes) f[`req_${p}_otherKinds`] = c[p].shapes;
  }
  Object.assign(f, {
    req_feishu_listPages: c.feishu.list,
    req_feishu_attendeeGets: c.feishu.attendees, // GET of each listed event, for its attendees
    req_feishu_other: c.feishu.other,
    min_feishu_listPages: feishuMin,
    ratio_feishu_listPagesVsMin: r2(c.feishu.list / feishuMin),
    ratio_feishu_allVsMin: r2(c.feishu.total / feishuMin),
    ratio_feishu_allVsMinPlusAttendeeGets: r2(c.feishu.total / (feishuMin + c.feishu.attendees)),
    req_google_batch: c.google.batch,
    req_google_other: c.google.other,
    min_google_batch: googleMin,
    ratio_google_allVsMin: r2(c.google.total / googleMin),
    req_graph_batch: c.graph.batch,
    req_graph_instanceLookups: c.graph.instances,
    req_graph_other: c.graph.other,
    min_graph_batch: graphMin,
    min_graph_batchPlusTaggedListings: graphMin + info.users.length,
    ratio_graph_allVsMin: r2(c.graph.total / graphMin),
    ratio_graph_allVsMinPlusTaggedListings: r2(c.graph.total / (graphMin + info.users.length)),
  });
  const all = PROVIDERS.reduce((s, p) => s + c[p].total, 0);
  const allMin = feishuMin + googleMin + graphMin + info.users.length;
  f.req_allProviders_perEvent = r4(all / n);
  f.ratio_allProviders_vsMin_withoutAttendeeGets = r2(all / allMin);
  f.ratio_allProviders_vsMin_withAttendeeGets = r2(all / (allMin + c.feishu.attendees));
  return f;
}

/** Single-event creates in Feishu, each followed by a pull of its calendar to both spokes. */
async function changeRound(
  app: Awaited<ReturnType<typeof compose>>,
  info: HostInfo,
  since: Record<Provider, number>,
  changes: number,
): Promise<Figures> {
  const resolved = await resolvePairs(app);
  const policy = policyOf(app.config);
  const deps = {
    feishu: app.feishu,
    spokes: app.spokes,
    store: app.links,
    policy,
    attendeeFor: resolved.attendeeFor,
    rooms: roomLedger(app.db.prisma),
  };
  await tally(info.urls, since); // the pair resolution above is not part of a change
  const ms: number[] = [];
  let first: Tallies | undefined;
  let incomplete = 0;
  for (let i = 0; i < changes; i++) {
    const cal = info.users[i % info.users.length].calendarId;
    const start = info.now + 2 * 86_400 + i * 3600;
    await control(info.urls.feishu, 'events', {
      op: 'create',
      calendar_id: cal,
      event: {
        summary: `Bench change ${i}`,
        start_time: { timestamp: String(start), timezone: 'Asia/Shanghai' },
        end_time: { timestamp: String(start + 1800), timezone: 'Asia/Shanghai' },
      },
    });
    const t0 = performance.now();
    const rs = await pullCalendar(
      resolved.pairs.filter((p) => p.feishu.id === cal),
      deps,
    );
    ms.push(performance.now() - t0);
    if (rs.length !== 2 || rs.some((r) => r.counts.created !== 1 || r.counts.failed)) incomplete++;
    if (i === 0) first = await tally(info.urls, since);
  }
  const rest = await tally(info.urls, since);
  ms.sort((a, b) => a - b);
  const q = (p: number) => r2(ms[Math.min(ms.length - 1, Math.ceil((p / 100) * ms.length) - 1)]);
  const c = first!;
  const sum = (t: Tallies) => PROVIDERS.reduce((s, p) => s + t[p].total, 0);
  const other = (t: Tally) => (t.shapes ? ` [${t.shapes}]` : '');
  // the least any engine can do: one incremental list, one write per spoke; with this connector's
  // design on top: one attendee read of the changed event (Feishu); Graph needs no lookup since the tagged listing replaced it
  const designed = 4;
  return {
    change_count: changes,
    change_notExactlyOneCreatePerSpoke: incomplete,
    change_latencyP50ms: q(50),
    change_latencyP99ms: q(99),
    change_latencyMaxMs: r2(ms[ms.length - 1]),
    change_first_feishu: `${c.feishu.total}: list ${c.feishu.list}, attendee gets ${c.feishu.attendees}, token ${c.feishu.token}, other ${c.feishu.other}${other(c.feishu)}; min 1 list`,
    change_first_google: `${c.google.total}: batch ${c.google.batch}, token ${c.google.token}, other ${c.google.other}${other(c.google)}; min 1 write`,
    change_first_graph: `${c.graph.total}: batch ${c.graph.batch}, instances ${c.graph.instances}, token ${c.graph.token}, other ${c.graph.other}${other(c.graph)}; min 1 write`,
    change_first_reqTotal: sum(c),
    change_min: 3,
    change_minWithAttendeeRead: designed,
    ratio_change_firstVsMin: r2(sum(c) / 3),
    ratio_change_firstVsMinWithAttendeeRead: r2(sum(c) / designed),
    ...Object.fromEntries(
      PROVIDERS.map((p) => [`change_avgReq_${p}`, r2((c[p].total + rest[p].total) / changes)]),
    ),
    ratio_change_avgVsMin: r2((sum(c) + sum(rest)) / changes / 3),
  };
}

/** CPU seconds (user + system) a process has used so far, from /proc; NaN where there is none. */
export function cpuSecondsOf(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100 on Linux)
  } catch {
    return Number.NaN;
  }
}

export function writeFiles(dir: string, config: Record<string, any>): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(
    join(dir, 'google-service-account.json'),
    JSON.stringify({
      type: 'service_account',
      client_email: 'feisync-bench@feisync-bench.iam.gserviceaccount.com',
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
      private_key_id: 'bench',
    }),
  );
  const file = join(dir, 'feisync.yaml');
  writeFileSync(file, stringify({ ...config, database: { url: '', data_dir: './db' } }));
  return file;
}

// ------------------------------------------------------------------ the benchmark

/** One engine run in a fresh process; undefined when it is not done within `timeoutS`. */
async function engineChild(
  events: number,
  users: number,
  changes: number,
  timeoutS = Number.POSITIVE_INFINITY,
): Promise<Figures | undefined> {
  const c = child(['--engine', String(events), String(users), String(changes)]);
  const exited = new Promise((r) => c.proc.once('exit', r));
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((r) => {
    if (Number.isFinite(timeoutS)) timer = setTimeout(r, timeoutS * 1000, undefined);
  });
  const text = await Promise.race([c.line, late]);
  clearTimeout(timer);
  if (text === undefined) c.proc.kill(); // its emulator host exits when its stdin closes
  await exited;
  return text === undefined ? undefined : (JSON.parse(text) as Figures);
}

const say = (line: string) => process.stderr.write(`[bench sync] ${line}\n`);

export async function run(): Promise<Figures> {
  const users = env('BENCH_USERS', 20);
  const events = env('BENCH_EVENTS', 20_000);
  say(`initial sync of ${events} events (${users} users), then ${env('BENCH_CHANGES', 200)} change events`);
  const main = (await engineChild(events, users, env('BENCH_CHANGES', 200)))!;
  const out: Figures = {};
  for (const [k, v] of Object.entries(main)) out[k === 'events' || k === 'users' ? k : `main_${k}`] = v;
  say(`${main.initial_eventsPerSecond} events/s; change p99 ${main.change_latencyP99ms} ms`);
  const small = env('BENCH_MEM_SMALL', 10_000);
  const large = env('BENCH_MEM_LARGE', 80_000);
  const fallback = env('BENCH_MEM_FALLBACK', 40_000);
  const limitS = env('BENCH_MEM_TIMEOUT', 240);
  const memory = async (label: string, n: number, timeoutS?: number) => {
    say(`memory: initial sync of ${n} events${timeoutS ? ` (given ${timeoutS} s)` : ''}`);
    const m = await engineChild(n, users, 0, timeoutS);
    if (!m) return false;
    out[`memory_${label}_events`] = m.events;
    out[`memory_${label}_peakRssMB`] = m.rss_peakMB;
    out[`memory_${label}_rssBeforeSyncMB`] = m.rss_beforeSyncMB;
    out[`memory_${label}_peakHeapUsedMB`] = m.heapUsed_peakMB;
    out[`memory_${label}_peakExternalMB`] = m.external_peakMB;
    out[`memory_${label}_seconds`] = m.initial_seconds;
    out[`memory_${label}_eventsPerSecond`] = m.initial_eventsPerSecond;
    out[`memory_${label}_engineCpuSeconds`] = m.initial_engineCpuSeconds;
    out[`memory_${label}_emulatorsCpuSeconds`] = m.initial_emulatorsCpuSeconds;
    out[`memory_${label}_failed`] = m.initial_failed;
    say(`${n} events: peak RSS ${m.rss_peakMB} MB, ${m.initial_eventsPerSecond} events/s`);
    return true;
  };
  await memory('small', small);
  if (!(await memory('large', large, limitS))) {
    out.memory_note = `${large} events were not done within ${limitS} s on this machine: measured at ${fallback} instead`;
    say(out.memory_note);
    await memory('large', fallback);
  }
  out.ratio_memory_peakRss_largeVsSmall = r2(
    Number(out.memory_large_peakRssMB) / Number(out.memory_small_peakRssMB),
  );
  out.ratio_memory_events_largeVsSmall = r2(
    Number(out.memory_large_events) / Number(out.memory_small_events),
  );
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [mode, ...rest] = process.argv.slice(2);
  const nums = rest.map(Number);
  if (mode === '--host') await host(nums[0], nums[1]);
  else if (mode === '--engine') {
    const f = await engine(nums[0], nums[1], nums[2]);
    process.stdout.write(`${MARK}${JSON.stringify(f)}\n`);
    process.exit(0);
  } else console.log(JSON.stringify(await run(), null, 2));
}
