/**
 * Reconciliation benchmark (figures, not a test): `npx tsx test/bench/reconcile.ts` or
 * `npm run bench -- reconcile`.
 *
 * For each size (BENCH_RECONCILE_EVENTS, 50,000, and BENCH_RECONCILE_SMALL, 10,000, over BENCH_USERS,
 * 20, users): the three emulators run in a child process (limits off); a setup child runs the initial
 * sync on embedded PGlite in a temp folder (not measured); then `runReconcile()` runs in a fresh
 * process of its own, so that its peak RSS (sampled every 100 ms) is the reconciliation's alone:
 * 1. with no drift: wall time, events/s, HTTP requests per Feishu event per provider (from each
 *    emulator's request log), peak RSS;
 * 2. after 1% drift made on the spokes through their own APIs by another child (a quarter each: copies
 *    edited, copies deleted, strays, duplicates): the same figures plus what was found and repaired.
 * `sync.max_deletes_per_run` is BENCH_RECONCILE_MAX_DELETES (default 2% of the events, at least 200).
 * A size whose setup sync is not done within BENCH_RECONCILE_TIMEOUT (900) s is reported as such.
 *
 * Internal modes: `--host <events> <users>`, `--setup <info>`, `--measure <info>`, `--drift <info> <n>`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { compose } from '../../src/app/compose.ts';
import { generateTenant } from '../../src/app/demo/tenant.ts';
import { control, startEmulators } from '../../src/app/emulators.ts';
import { resolvePairs } from '../../src/app/pairs.ts';
import { runReconcile } from '../../src/app/reconcile-run.ts';
import { runSync } from '../../src/app/sync-run.ts';
import { parseConfig } from '../../src/config/index.ts';
import { type Drift, googleDrift, graphDrift } from '../support/drift.ts';

type Figures = Record<string, number | string>;
type Provider = 'feishu' | 'google' | 'graph';
const PROVIDERS: Provider[] = ['feishu', 'google', 'graph'];
const SELF = fileURLToPath(import.meta.url);
const MARK = '@@feisync-reconcile-bench ';
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const r2 = (x: number) => Math.round(x * 100) / 100;
const r4 = (x: number) => Math.round(x * 10_000) / 10_000;
const mb = (b: number) => Math.round(b / 2 ** 20);
const say = (line: string) => process.stderr.write(`[bench reconcile] ${line}\n`);

interface Info {
  urls: Record<Provider, string>;
  appId: string;
  config: Record<string, any>;
  openIds: string[];
  events: number;
  now: number;
  dir: string;
}

/** Starts this file in a child node (same tsx loader); resolves with its one marked stdout line. */
function child(args: string[]): { proc: ChildProcess; line: Promise<string> } {
  const proc = spawn(process.execPath, [...process.execArgv, SELF, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (l) => {
      if (l.startsWith(MARK)) resolve(l.slice(MARK.length));
    });
    proc.once('exit', (code) => reject(new Error(`bench child ${args[0]} exited with ${code}`)));
  });
  return { proc, line };
}

const answer = (x: unknown) => process.stdout.write(`${MARK}${JSON.stringify(x)}\n`);

async function host(events: number, users: number) {
  const now = Math.floor(Date.now() / 1000);
  const tenant = generateTenant({ users, events, now });
  const em = await startEmulators({ seed: tenant.seeds, unlimited: true });
  answer({
    urls: { feishu: em.feishu, google: em.google, graph: em.graph },
    appId: tenant.seeds.feishu.apps[0].app_id,
    config: tenant.config,
    openIds: tenant.users.map((u) => u.openId),
    events: tenant.expected.events,
    now,
  });
  process.stdin.resume();
  process.stdin.once('end', () => void em.close().then(() => process.exit(0)));
}

async function open(info: Info) {
  const file = join(info.dir, 'feisync.yaml');
  // deletes allowed per run: enough for the 1% drift to be repaired in one run (the default, 200,
  // holds part of it at 50,000 events, as a guard should)
  const maxDeletes = env('BENCH_RECONCILE_MAX_DELETES', Math.max(200, Math.ceil(info.events / 50)));
  const yaml = {
    ...info.config,
    sync: { ...info.config.sync, max_deletes_per_run: maxDeletes },
    database: { url: '', data_dir: './db' },
  };
  const config = parseConfig(stringify(yaml), file, {
    FEISHU_URL: info.urls.feishu,
    GOOGLE_URL: info.urls.google,
    GRAPH_URL: info.urls.graph,
  });
  return compose(config, file, { unthrottled: true });
}

/** The initial sync (the state a reconciliation starts from), users' consent first. */
async function setup(info: Info) {
  const app = await open(info);
  try {
    for (const openId of info.openIds) {
      const grant = await control(info.urls.feishu, 'user-token', { app_id: info.appId, open_id: openId });
      await app.userTokens.adopt(openId, grant);
    }
    const t0 = performance.now();
    const r = await runSync(app);
    answer({
      seconds: r2((performance.now() - t0) / 1000),
      created: r.totals.created,
      failed: r.totals.failed,
    });
  } finally {
    await app.close();
  }
}

async function logLength(url: string): Promise<number> {
  const log = (await (await fetch(`${url}/_emulator/requests`)).json()) as { seq: number }[];
  return log.length ? log[log.length - 1].seq : 0;
}

/** One reconciliation, measured: time, requests per provider (request logs), peak RSS. */
async function measure(info: Info) {
  const app = await open(info);
  try {
    const since = Object.fromEntries(
      await Promise.all(PROVIDERS.map(async (p) => [p, await logLength(info.urls[p])])),
    ) as Record<Provider, number>;
    const before = process.memoryUsage();
    const peak = { rss: before.rss, heap: before.heapUsed, external: before.external };
    const sample = () => {
      const m = process.memoryUsage();
      peak.rss = Math.max(peak.rss, m.rss);
      peak.heap = Math.max(peak.heap, m.heapUsed);
      peak.external = Math.max(peak.external, m.external);
    };
    const timer = setInterval(sample, 100);
    const t0 = performance.now();
    const r = await runReconcile(app);
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(timer);
    sample();
    const out: Figures = {
      seconds: r2(seconds),
      eventsPerSecond: Math.round(info.events / seconds),
      rssBeforeMB: mb(before.rss),
      heapUsedBeforeMB: mb(before.heapUsed),
      peakRssMB: mb(peak.rss),
      peakHeapUsedMB: mb(peak.heap),
      peakExternalMB: mb(peak.external),
    };
    let all = 0;
    for (const p of PROVIDERS) {
      const n = (await logLength(info.urls[p])) - since[p];
      all += n;
      out[`req_${p}`] = n;
      out[`req_${p}_perEvent`] = r4(n / info.events);
    }
    out.req_all_perEvent = r4(all / info.events);
    const t = r.totals;
    Object.assign(out, {
      expected: t.expected,
      found: t.found,
      missing: t.missing,
      differing: t.differing,
      extra: t.extra,
      duplicates: t.duplicates,
      repaired: t.repaired,
      relinked: t.relinked,
      failed: t.failed,
      held: r.rows.filter((x) => x.held).length,
      heldWhy:
        [...new Set(r.rows.flatMap((x) => (x.held ? [x.held.replace(/^\d+ /, 'N ')] : [])))].join(' | ') ||
        'none',
      inParity: String(r.inParity),
    });
    answer(out);
  } finally {
    await app.close();
  }
}

/** `n` drifts on the spokes through their own APIs, spread over every pair. */
async function drift(info: Info, n: number) {
  const app = await open(info);
  const made = { edited: 0, deleted: 0, strays: 0, duplicates: 0 };
  try {
    const { pairs } = await resolvePairs(app);
    const per = Math.ceil(n / pairs.length);
    const ex = info.config.exchange;
    let left = n;
    for (const pair of pairs) {
      if (left <= 0) break;
      const d: Drift =
        pair.spoke === 'google'
          ? googleDrift(info.urls.google, pair.target.owner)
          : graphDrift(
              info.urls.graph,
              { tenant_id: ex.tenant_id, client_id: ex.client_id, client_secret: ex.client_secret },
              pair.target.owner,
            );
      const singles = [];
      for await (const page of app.spokes[pair.spoke]!.listChanges(pair.target, null))
        for (const r of page.upserts)
          if (r.tag?.pair === pair.id && r.event.key.originalTime === 0 && r.event.recurrence.length === 0)
            singles.push(r);
      for (let i = 0; i < Math.min(per, left, singles.length); i++) {
        const r = singles[i];
        const at = info.now + 86_400 + i * 60;
        const kind = (n - left + i) % 4; // a quarter of each kind over the whole run
        if (kind === 0) {
          await d.edit(r.ref.id, `Drift ${i}`);
          made.edited++;
        } else if (kind === 1) {
          await d.remove(r.ref.id);
          made.deleted++;
        } else if (kind === 2) {
          await d.insert('Stray', at, { pair: pair.id, key: `stray${i}_0` });
          made.strays++;
        } else {
          await d.insert('Duplicate', at, r.tag!);
          made.duplicates++;
        }
      }
      left -= Math.min(per, left, singles.length);
    }
    answer(made);
  } finally {
    await app.close();
  }
}

function writeKey(dir: string) {
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
}

async function step(mode: string, info: Info, ...more: string[]): Promise<any> {
  const c = child([mode, JSON.stringify(info), ...more]);
  const text = await c.line;
  await new Promise((r) => (c.proc.exitCode === null ? c.proc.once('exit', r) : r(null)));
  return JSON.parse(text);
}

/** One size: setup sync, reconcile with no drift, 1% drift, reconcile again. */
async function size(events: number, users: number, timeoutS: number): Promise<Figures> {
  const h = child(['--host', String(events), String(users)]);
  const dir = mkdtempSync(join(tmpdir(), 'feisync-bench-reconcile-'));
  const out: Figures = {};
  try {
    const info = { ...(JSON.parse(await h.line) as Omit<Info, 'dir'>), dir } as Info;
    writeKey(dir);
    out.events = info.events;
    say(`${info.events} events: initial sync (setup, given ${timeoutS} s)`);
    const late = new Promise<undefined>((r) => setTimeout(r, timeoutS * 1000, undefined).unref());
    const s = await Promise.race([step('--setup', info), late]);
    if (!s) {
      out.note = `the setup sync of ${info.events} events was not done within ${timeoutS} s: not measured`;
      return out;
    }
    Object.assign(out, { setup_syncSeconds: s.seconds, setup_created: s.created, setup_failed: s.failed });
    say('reconcile, no drift');
    for (const [k, v] of Object.entries(await step('--measure', info))) out[`clean_${k}`] = v as number;
    const n = Math.max(4, Math.round(info.events / 100));
    say(`${n} drifts on the spokes`);
    const made = await step('--drift', info, String(n));
    for (const [k, v] of Object.entries(made)) out[`drift_${k}`] = v as number;
    out.drift_total = Object.values(made as Record<string, number>).reduce((a, b) => a + b, 0);
    say('reconcile, 1% drift');
    for (const [k, v] of Object.entries(await step('--measure', info))) out[`drift1pct_${k}`] = v as number;
  } finally {
    h.proc.stdin?.end();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

export async function run(): Promise<Figures> {
  const users = env('BENCH_USERS', 20);
  const timeoutS = env('BENCH_RECONCILE_TIMEOUT', 900);
  const out: Figures = { users };
  for (const [label, n] of [
    ['large', env('BENCH_RECONCILE_EVENTS', 50_000)],
    ['small', env('BENCH_RECONCILE_SMALL', 10_000)],
  ] as const) {
    for (const [k, v] of Object.entries(await size(n, users, timeoutS))) out[`${label}_${k}`] = v;
  }
  const ratio = (k: string) => r2(Number(out[`large_${k}`]) / Number(out[`small_${k}`]));
  if (out.large_clean_peakRssMB !== undefined) {
    out.ratio_events_largeVsSmall = ratio('events');
    out.ratio_clean_peakRss_largeVsSmall = ratio('clean_peakRssMB');
    out.ratio_clean_seconds_largeVsSmall = ratio('clean_seconds');
    out.ratio_clean_reqPerEvent_largeVsSmall = ratio('clean_req_all_perEvent');
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [mode, arg, extra] = process.argv.slice(2);
  if (mode === '--host') await host(Number(arg), Number(extra));
  else if (mode?.startsWith('--')) {
    const info = JSON.parse(arg) as Info;
    if (mode === '--setup') await setup(info);
    else if (mode === '--measure') await measure(info);
    else if (mode === '--drift') await drift(info, Number(extra));
    process.exit(0);
  } else console.log(JSON.stringify(await run(), null, 2));
}
