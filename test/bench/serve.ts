/**
 * The initial sync through `feisync serve`, measured from outside: `npm run bench -- serve` (figures,
 * not a test).
 *
 * Each run: the three emulators in a child process (quota.ts `--host`), the service in another
 * (embedded database in a fresh folder), every user consenting through serve's own OAuth pages (the
 * emulator's signed-in browser, each user from their own loopback address as each person's browser
 * would be), and an admin reading serve's `/status` JSON every two seconds. The initial sync is complete
 * when every pair has its Feishu cursor (a calendar's first pull ends by saving it) and no copy waits
 * for its attendees any more (busy time first: the attendees stage comes after); every event is
 * on both spokes from the first `/status` on which each spoke's live links reached their final count
 * (checked at the end against the events the spoke emulators hold). The service's RSS is sampled
 * from /proc every 200 ms, with its VmHWM and CPU read before it stops.
 *
 * 1. Quotas ON: the real CLI (`bin/feisync.mjs serve`) at its own pacing, the emulators' documented
 *    limits and BENCH_SERVE_LATENCY_MS (50) on every provider request, BENCH_SERVE_USERS (20) x
 *    BENCH_SERVE_EVENTS_PER_USER (1,000) events with attendees. Wall time from the first consent
 *    against the quota-bound optimum, requests per provider against the minimum, rate-limit refusals
 *    (quota.ts `requests`).
 *    The time until every event is on both spokes is set against the spokes' bound (their quotas
 *    for the creates), and against the same counted from each user's consent (they come one after
 *    another). BENCH_SERVE_LOGS=file keeps the emulators' request logs and the /status samples
 *    there (timelines per user), BENCH_SERVE_KEEP=1 the service's folder.
 * 2. Memory: quotas off, no latency, BENCH_SERVE_MEMORY_EVENTS (10000,80000; empty: none) over the
 *    same users, the service unthrottled (serve-unthrottled.ts; BENCH_SERVE_MEMORY_CLI=1 runs the CLI
 *    at its own pacing instead): peak RSS and the ratio of the largest to the smallest.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { control } from '../../src/app/emulators.ts';
import { openDatabase } from '../../src/store/db.ts';
import { lastRuns } from '../../src/store/runs.ts';
import { Browser } from '../e2e/browserless.ts';
import { child, type HostInfo, ownerBoundSeconds, requests } from './quota.ts';
import { cpuSecondsOf, requestLog, writeFiles } from './sync.ts';

type Figures = Record<string, number | string>;
const BIN = fileURLToPath(new URL('../../bin/feisync.mjs', import.meta.url));
/** The node flags and the environment of the CLI's shebang: the unthrottled service runs with them too. */
const SHEBANG_WORDS = readFileSync(BIN, 'utf8').split('\n')[0].split(/\s+/).slice(1);
const SHEBANG = SHEBANG_WORDS.filter((t) => t.startsWith('--'));
const SHEBANG_ENV = Object.fromEntries(
  SHEBANG_WORDS.filter((t) => /^[A-Z_]+=/.test(t)).map((t) => t.split('=', 2) as [string, string]),
);
const UNTHROTTLED = fileURLToPath(new URL('./serve-unthrottled.ts', import.meta.url));
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const r2 = (x: number) => Math.round(x * 100) / 100;
const MB = 2 ** 20;
const STATUS_EVERY_MS = 2000;
const say = (line: string) => process.stderr.write(`[bench serve] ${line}\n`);
/** A ratio as printed: `1.2x`, or `n/a` (no bound to set it against). */
const times = (r: number | string) => (typeof r === 'number' ? `${r}x` : r);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface RunOptions {
  users: number;
  events: number;
  quotas: boolean;
  latencyMs: number;
  /** The real CLI at its own pacing, or the service with the connectors' pacing off. */
  cli: boolean;
  timeoutS: number;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** The service in a child process; resolves once it prints the URL it serves at. */
function startServe(
  o: RunOptions,
  configFile: string,
  port: number,
  urls: HostInfo['urls'],
  logFile: string,
) {
  // BENCH_SERVE_NODE_FLAGS: V8/Node flags for the service's process (experiments: --trace-gc, heap sizes)
  const flags = (process.env.BENCH_SERVE_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  // the CLI is run as `npx feisync serve` runs it: the file itself, so its shebang's flags apply
  // (unless flags are given: node then runs it with those)
  const args = o.cli
    ? [
        ...(flags.length ? [process.execPath, ...flags] : []),
        BIN,
        'serve',
        '--config',
        configFile,
        '--port',
        String(port),
      ]
    : [
        process.execPath,
        ...(flags.length ? flags : SHEBANG),
        ...process.execArgv,
        UNTHROTTLED,
        configFile,
        String(port),
      ];
  // BENCH_SERVE_WRAPPER: a command the service runs under (experiments: heaptrack, perf)
  const wrapper = (process.env.BENCH_SERVE_WRAPPER ?? '').split(' ').filter(Boolean);
  const [command, ...rest] = [...wrapper, ...args];
  const proc = spawn(command, rest, {
    env: {
      ...SHEBANG_ENV,
      ...process.env,
      FEISHU_URL: urls.feishu,
      GOOGLE_URL: urls.google,
      GRAPH_URL: urls.graph,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stderr!.pipe(createWriteStream(logFile));
  const serving = new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (l) => {
      if (l.startsWith('{"serving"')) resolve(JSON.parse(l).serving);
    });
    proc.once('exit', (code) =>
      reject(new Error(`serve exited with ${code} before serving (log: ${logFile})`)),
    );
  });
  return { proc, serving };
}

/**
 * Peak resident memory of a process, sampled from /proc every 200 ms (`stop` adds the kernel's VmHWM),
 * and of its child processes apart (the database's one-off preparation, db.ts).
 */
/** A process's resident memory and its peak (VmHWM), bytes; zeros once it is gone. */
function procStatus(p: number) {
  try {
    const text = readFileSync(`/proc/${p}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}

function rssSampler(pid: number) {
  const status = procStatus;
  const children = (p: number): number[] => {
    try {
      const ids = readFileSync(`/proc/${p}/task/${p}/children`, 'utf8')
        .split(' ')
        .filter(Boolean)
        .map(Number);
      return ids.flatMap((c) => [c, ...children(c)]);
    } catch {
      return [];
    }
  };
  let peak = 0;
  let peakAt = 0;
  let childPeak = 0;
  const t0 = performance.now();
  const timer = setInterval(() => {
    const { rss } = status(pid);
    if (rss > peak) [peak, peakAt] = [rss, (performance.now() - t0) / 1000];
    for (const c of children(pid)) childPeak = Math.max(childPeak, status(c).hwm);
  }, 200);
  return {
    stop() {
      clearInterval(timer);
      const { rss, hwm } = status(pid);
      return {
        peakMB: Math.round(Math.max(peak, rss) / MB),
        peakAtS: r2(peakAt),
        hwmMB: Math.round(hwm / MB),
        childPeakMB: Math.round(childPeak / MB),
      };
    },
  };
}

/** A GET from a given local address (a person's own browser), redirects not followed. */
function get(url: string, localAddress: string): Promise<{ status: number; location?: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { localAddress, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location }));
      })
      .on('error', reject);
  });
}

/** One user consents as a person would: signed in to Feishu, they open serve's consent link. */
async function consent(
  serveUrl: string,
  feishuUrl: string,
  user: { openId: string; email: string },
  i: number,
) {
  await control(feishuUrl, 'login', { open_id: user.openId });
  const from = `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
  let url = `${serveUrl}/oauth/feishu/start?user=${encodeURIComponent(user.email)}`;
  for (let hop = 0; hop < 10; hop++) {
    const r = await get(url, from);
    if (r.status >= 300 && r.status < 400 && r.location) url = new URL(r.location, url).toString();
    else if (r.status === 200) return;
    else throw new Error(`consent of ${user.email}: ${r.status} at ${url}`);
  }
  throw new Error(`consent of ${user.email}: too many redirects`);
}

interface Sample {
  t: number;
  live: Record<string, number>;
  pairs: number;
  cursors: number;
  /** Copies still waiting for their attendees (busy time first). */
  pending: number;
}

async function serveRun(o: RunOptions): Promise<Figures> {
  const h = child(['--host', String(o.users), String(o.events), o.quotas ? '1' : '0', String(o.latencyMs)]);
  const info = JSON.parse(await h.line) as HostInfo;
  const dir = mkdtempSync(join(tmpdir(), 'feisync-bench-serve-'));
  let serve: ChildProcess | undefined;
  try {
    const port = await freePort();
    const people = (info.config.users as { feishu: string }[]).map((u, i) => ({
      email: u.feishu,
      openId: info.users[i].openId,
    }));
    const config = {
      ...info.config,
      server: { host: '127.0.0.1', port, public_url: `http://127.0.0.1:${port}`, admins: [people[0].email] },
    };
    const configFile = writeFiles(dir, config);
    const since = {
      feishu: (await requestLog(info.urls.feishu, 0)).length,
      google: (await requestLog(info.urls.google, 0)).length,
      graph: (await requestLog(info.urls.graph, 0)).length,
    };
    const t0 = performance.now();
    const s = startServe(o, configFile, port, info.urls, join(dir, 'serve.log'));
    serve = s.proc;
    const rss = rssSampler(s.proc.pid!);
    const url = await s.serving;
    const composition = compositionSampler(url, s.proc.pid!);
    const startSeconds = (performance.now() - t0) / 1000;
    const admin = new Browser(url);
    const signedIn = await admin.signIn(info.urls.feishu, people[0].openId);
    if (signedIn.status !== 200) throw new Error(`admin sign-in answered ${signedIn.status}`);
    const hostCpu0 = cpuSecondsOf(h.proc.pid);
    const t1 = performance.now();
    const t1Epoch = Date.now();
    // when each user's consent was complete: no spoke can have their events before
    const consented: number[] = [];
    for (const [i, p] of people.entries()) {
      await consent(url, info.urls.feishu, p, i);
      consented.push((performance.now() - t1) / 1000);
    }
    const consentSeconds = (performance.now() - t1) / 1000;

    const samples: Sample[] = [];
    const wanted = 2 * o.users;
    let status: any;
    // /status every two seconds: it counts every link, which at 160,000 links costs serve a third of
    // a core when read every second
    for (const end = Date.now() + o.timeoutS * 1000; ; await sleep(STATUS_EVERY_MS)) {
      if (Date.now() > end) throw new Error(`the initial sync was not complete after ${o.timeoutS} s`);
      if (s.proc.exitCode !== null) throw new Error(`serve exited with ${s.proc.exitCode}`);
      const r = await admin.fetch(`${url}/status`);
      if (r.status !== 200) throw new Error(`/status answered ${r.status}`);
      status = await r.json();
      const live: Record<string, number> = {};
      for (const p of status.pairs) live[p.spoke] = (live[p.spoke] ?? 0) + p.links.live;
      const cursors = status.pairs.filter((p: any) => p.cursors.feishu !== null).length;
      const pending = status.pairs.reduce((n: number, p: any) => n + (p.links.attendeesPending ?? 0), 0);
      const t = (performance.now() - t1) / 1000;
      samples.push({ t, live, pairs: status.pairs.length, cursors, pending });
      if (status.pairs.length === wanted && cursors === wanted && pending === 0) break;
    }
    const seconds = samples.at(-1)!.t;
    const cpu = cpuSecondsOf(s.proc.pid);
    // what the service spends idle while observed as above (its /status read every two seconds, its
    // workers' polls): taken from its CPU over the sync's wall time for the figure less idle
    const idleS = 16;
    for (let k = 0; k < idleS / (STATUS_EVERY_MS / 1000); k++) {
      await sleep(STATUS_EVERY_MS);
      await (await admin.fetch(`${url}/status`)).json();
    }
    const idleCpuPerSecond = (cpuSecondsOf(s.proc.pid) - cpu) / idleS;
    const hostCpu = cpuSecondsOf(h.proc.pid) - hostCpu0;
    const memory = rss.stop();
    const parts = await composition.stop();
    // BENCH_SERVE_LOGS: a file for the emulators' request logs and the /status samples (timelines)
    if (process.env.BENCH_SERVE_LOGS) {
      const logs = Object.fromEntries(
        await Promise.all(
          (['feishu', 'google', 'graph'] as const).map(async (p) => [
            p,
            await requestLog(info.urls[p], since[p]),
          ]),
        ),
      );
      writeFileSync(process.env.BENCH_SERVE_LOGS, JSON.stringify({ t1: t1Epoch, samples, ...logs }));
      say(`request logs in ${process.env.BENCH_SERVE_LOGS}`);
    }
    const metrics = await (await fetch(`${url}/metrics`)).text();
    s.proc.kill('SIGTERM');
    await new Promise((r) => (s.proc.exitCode === null ? s.proc.once('exit', r) : r(null)));

    const final = samples.at(-1)!.live;
    const spokes = samples.find((x) => Object.keys(final).every((k) => x.live[k] === final[k]))!;
    const onSpokes = await spokeCounts(info.urls);
    // What the initial sync wrote (quota.ts counts writes from a report): each pull's and attendees
    // stage's run records its writes per pair; summed per pair from the service's database.
    const db = await openDatabase({ dataDir: join(dir, 'db'), brief: true, migrate: false, prisma: false });
    const runs = await lastRuns(db.reader, 100_000).finally(() => db.close());
    const written = new Map<string, { created: number; updated: number; deleted: number }>();
    for (const r of runs)
      for (const x of (r.report as any)?.written ?? []) {
        const k = `${x.spoke}|${String(x.owner).toLowerCase()}`;
        const t = written.get(k) ?? { created: 0, updated: 0, deleted: 0 };
        t.created += x.created;
        t.updated += x.updated;
        t.deleted += x.deleted;
        written.set(k, t);
      }
    const report = {
      pairs: status.pairs.map((p: any) => ({
        spoke: p.spoke,
        target: p.spokeOwner,
        counts: written.get(`${p.spoke}|${String(p.spokeOwner).toLowerCase()}`) ?? {
          created: 0,
          updated: 0,
          deleted: 0,
        },
      })),
      stages: { events: spokes.t },
    } as unknown as Parameters<typeof requests>[2];
    const failed = status.pairs.reduce((t: number, p: any) => t + p.links.failed, 0);
    const out: Figures = {
      events: info.events,
      users: o.users,
      service: o.cli ? 'feisync serve (CLI)' : 'serve, connectors unthrottled',
      startSeconds: r2(startSeconds),
      consentSeconds: r2(consentSeconds),
      seconds: r2(seconds),
      spokesSeconds: r2(spokes.t),
      ...Object.fromEntries(
        Object.keys(final).map((k) => [
          `spokesSeconds_${k}`,
          r2(samples.find((x) => x.live[k] === final[k])!.t),
        ]),
      ),
      eventsPerSecond: Math.round(info.events / seconds),
      links_google: final.google ?? 0,
      links_graph: final.graph ?? 0,
      spokeEvents_google: onSpokes.google,
      spokeEvents_graph: onSpokes.graph,
      failedLinks: failed,
      deadLetters: status.deadLetters.length,
      serveCpuSeconds: r2(cpu),
      serveCpuMsPerEvent: r2((cpu * 1000) / info.events),
      idleObservedCpuMsPerSecond: r2(idleCpuPerSecond * 1000),
      serveCpuMsPerEvent_lessIdle: r2(((cpu - idleCpuPerSecond * seconds) * 1000) / info.events),
      emulatorsCpuSeconds: r2(hostCpu),
      peakRssMB: memory.peakMB,
      vmHwmMB: memory.hwmMB,
      peakAtSeconds: memory.peakAtS,
      childProcessPeakRssMB: memory.childPeakMB,
      ...parts,
      ...metricFigures(metrics),
    };
    Object.assign(out, await requests(info, since, report, seconds));
    // The spokes' bound counting from each user's consent: their creates at their own quota from then
    // (the consents come one after another, so the last user's cannot all be in by the plain bound)
    const createdBy = (spoke: string, owner: string) =>
      report.pairs.find((p: any) => p.spoke === spoke && p.target.toLowerCase() === owner.toLowerCase())
        ?.counts.created ?? 0;
    const users = info.config.users as { google: string; exchange: string }[];
    const own = users.map((u) =>
      Math.max(
        ownerBoundSeconds('google', createdBy('google', u.google)),
        ownerBoundSeconds('graph', createdBy('graph', u.exchange)),
      ),
    );
    const consentBound = Math.max(
      Number(out.eventsOnSpokes_boundSeconds) || 0,
      ...own.map((b, i) => consented[i] + b),
    );
    out.eventsOnSpokes_fromConsentsBoundSeconds = r2(consentBound);
    // no ratio when every user's creates fit their first quota windows (as for the plain bound)
    out.ratio_eventsOnSpokesVsFromConsentsBound =
      Math.max(Number(out.eventsOnSpokes_boundSeconds) || 0, ...own) > 0
        ? r2(spokes.t / consentBound)
        : 'n/a';
    return out;
  } finally {
    if (serve && serve.exitCode === null) serve.kill('SIGKILL');
    h.proc.stdin?.end();
    if (!process.env.BENCH_SERVE_KEEP) rmSync(dir, { recursive: true, force: true });
    else say(`kept ${dir}`);
  }
}

/** The live events each spoke emulator holds (they start empty; a Google exception is an event of its own). */
async function spokeCounts(urls: HostInfo['urls']) {
  const google = (await (await fetch(`${urls.google}/_emulator/state`)).json()) as any;
  const graph = (await (await fetch(`${urls.graph}/_emulator/state`)).json()) as any;
  const live = (e: any) => e.status !== 'cancelled' && !e.isCancelled;
  return {
    google: (google.events ?? []).filter(live).length as number,
    graph: (graph.events ?? []).filter(live).length as number,
  };
}

/**
 * What the service's memory held when it was largest: its own figures (prom-client's default
 * metrics), read whenever the resident memory (from /proc, twice a second) has grown 4 MB past the
 * largest reading so far: the metrics count the database's links, a scan of them the service would
 * otherwise do twice a second for the bench alone. Heap used is V8's live and not yet collected
 * objects; external is mostly the embedded database's WebAssembly memory, which never shrinks.
 */
function compositionSampler(url: string, pid: number) {
  let best = { rss: 0, heapUsed: 0, heapTotal: 0, external: 0 };
  let busy = false;
  const timer = setInterval(async () => {
    if (busy || procStatus(pid).rss < best.rss + 4 * MB) return;
    busy = true;
    try {
      const text = await (await fetch(`${url}/metrics`)).text();
      const read = (name: string) =>
        Number(new RegExp(`^feisync_${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
      const now = {
        rss: read('process_resident_memory_bytes'),
        heapUsed: read('nodejs_heap_size_used_bytes'),
        heapTotal: read('nodejs_heap_size_total_bytes'),
        external: read('nodejs_external_memory_bytes'),
      };
      if (now.rss > best.rss) best = now;
    } catch {
      // the service is stopping
    } finally {
      busy = false;
    }
  }, 500);
  return {
    async stop(): Promise<Figures> {
      clearInterval(timer);
      return {
        atPeakRssMB: Math.round(best.rss / MB),
        atPeakHeapUsedMB: Math.round(best.heapUsed / MB),
        atPeakHeapTotalMB: Math.round(best.heapTotal / MB),
        atPeakExternalMB: Math.round(best.external / MB),
      };
    },
  };
}

/** The service's own memory figures at the end (prom-client's default metrics), in MB. */
function metricFigures(text: string): Figures {
  const pick = (name: string) => {
    const m = new RegExp(`^feisync_${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    return m ? Math.round(Number(m[1]) / MB) : -1;
  };
  // jobs run per queue (deferred ones counted apart): how much work the figures above took
  const jobs: Figures = {};
  for (const m of text.matchAll(/^feisync_jobs_total\{([^}]*)\} (\S+)$/gm)) {
    const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    const key = `jobs_${labels.queue}${labels.outcome === 'done' ? '' : `_${labels.outcome}`}`;
    jobs[key] = Number(jobs[key] ?? 0) + Number(m[2]);
  }
  return {
    ...jobs,
    endRssMB: pick('process_resident_memory_bytes'),
    endHeapUsedMB: pick('nodejs_heap_size_used_bytes'),
    endHeapTotalMB: pick('nodejs_heap_size_total_bytes'),
    endExternalMB: pick('nodejs_external_memory_bytes'),
  };
}

export async function run(): Promise<Figures> {
  const users = env('BENCH_SERVE_USERS', 20);
  const perUser = env('BENCH_SERVE_EVENTS_PER_USER', 1000);
  const latencyMs = env('BENCH_SERVE_LATENCY_MS', 50);
  const memory = (process.env.BENCH_SERVE_MEMORY_EVENTS ?? '10000,80000')
    .split(',')
    .filter(Boolean)
    .map(Number);
  const out: Figures = {};
  if (perUser > 0) {
    say(`quotas on, ${latencyMs} ms latency: ${users} users x ${perUser} events through feisync serve`);
    const on = await serveRun({
      users,
      events: users * perUser,
      quotas: true,
      latencyMs,
      cli: true,
      timeoutS: env('BENCH_SERVE_TIMEOUT_S', 3600),
    });
    for (const [k, v] of Object.entries(on)) out[`quotasOn_${k}`] = v;
    say(`${on.seconds} s against an optimum of ${on.optimum_seconds} s (${on.ratio_wallVsOptimum}x)`);
    say(
      `every event on both spokes after ${on.spokesSeconds} s: ${times(on.ratio_eventsOnSpokesVsBound)} the spokes' bound (${on.eventsOnSpokes_boundSeconds} s), ${times(on.ratio_eventsOnSpokesVsFromConsentsBound)} counted from each consent (${on.eventsOnSpokes_fromConsentsBoundSeconds} s); peak RSS ${on.peakRssMB} MB`,
    );
  }
  const peaks: number[] = [];
  for (const events of memory) {
    say(`memory: quotas off, no latency, ${events} events`);
    const f = await serveRun({
      users,
      events,
      quotas: false,
      latencyMs: 0,
      cli: process.env.BENCH_SERVE_MEMORY_CLI === '1',
      timeoutS: env('BENCH_SERVE_TIMEOUT_S', 3600),
    });
    const tag = `memory${events >= 1000 ? `${events / 1000}k` : events}`;
    for (const k of [
      'events',
      'service',
      'seconds',
      'eventsPerSecond',
      'serveCpuMsPerEvent',
      'serveCpuMsPerEvent_lessIdle',
      'idleObservedCpuMsPerSecond',
      'peakRssMB',
      'vmHwmMB',
      'peakAtSeconds',
      'childProcessPeakRssMB',
      'atPeakRssMB',
      'atPeakHeapUsedMB',
      'atPeakHeapTotalMB',
      'atPeakExternalMB',
      'endRssMB',
      'endHeapUsedMB',
      'endHeapTotalMB',
      'endExternalMB',
      'failedLinks',
      ...Object.keys(f).filter((k) => k.startsWith('jobs_')),
    ])
      out[`${tag}_${k}`] = f[k];
    peaks.push(Number(f.vmHwmMB));
    say(`${events} events: peak RSS ${f.vmHwmMB} MB (${f.seconds} s)`);
  }
  if (peaks.length > 1) out.memory_ratio_largestVsSmallest = r2(Math.max(...peaks) / Math.min(...peaks));
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await run(), null, 2));
  process.exit(0);
}
