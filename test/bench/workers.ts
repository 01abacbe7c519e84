/**
 * Several `serve` workers against one: `npm run bench -- workers` (figures, not a test; needs
 * BENCH_DATABASE_URL or TEST_DATABASE_URL, a Postgres server).
 *
 * The emulators at their documented quotas, BENCH_WORKERS_LATENCY_MS (50) on every provider request,
 * BENCH_WORKERS_USERS (4) x BENCH_WORKERS_EVENTS_PER_USER (2,000) events (attendees not synced), every
 * user consented before the workers start. Each user needs several of Google's per-user windows, so
 * the run is bound by the quotas the workers share rather than by this machine's cores (12 x 400 fit
 * the first windows: on 2 cores that measured the CPU serve, Postgres and the emulators share).
 * Then 1 and then 3 `feisync serve` processes (the real CLI) on a fresh Postgres schema each: seconds
 * from their spawn until every calendar's initial sync is done (its first pull run closed `ok`),
 * events per second, and the spokes' rate-limit refusals.
 * The schemas are dropped afterwards.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { compose, policyOf } from '../../src/app/compose.ts';
import { writeDemoFiles } from '../../src/app/demo/run.ts';
import { generateTenant } from '../../src/app/demo/tenant.ts';
import { control, startEmulators } from '../../src/app/emulators.ts';
import { resolvePairs } from '../../src/app/pairs.ts';
import { exact, readParity } from '../../src/app/parity-run.ts';
import { loadConfig } from '../../src/config/index.ts';
import { consentAll } from '../support/world.ts';

type Figures = Record<string, number | string>;
const bin = fileURLToPath(new URL('../../bin/feisync.mjs', import.meta.url));
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const say = (line: string) => process.stderr.write(`[bench workers] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function once(workers: number, base: string): Promise<Figures> {
  const users = env('BENCH_WORKERS_USERS', 4);
  const perUser = env('BENCH_WORKERS_EVENTS_PER_USER', 2000);
  const latency = env('BENCH_WORKERS_LATENCY_MS', 50);
  const schema = `bench_workers_${process.pid}_${workers}`;
  const dir = mkdtempSync(join(tmpdir(), 'feisync-bench-workers-'));
  const tenant = generateTenant({ users, events: users * perUser, now: Math.floor(Date.now() / 1000) });
  const em = await startEmulators({ seed: tenant.seeds });
  const sql = new pg.Client({ connectionString: base });
  await sql.connect();
  const procs: ChildProcess[] = [];
  try {
    for (const url of [em.feishu, em.google, em.graph]) {
      await control(url, 'faults', [{ match: { path: '^/(?!_emulator)' }, action: { delayMs: latency } }]);
    }
    tenant.config.sync.fields = tenant.config.sync.fields.filter((f: string) => f !== 'attendees');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the config file's own interpolation
    (tenant.config.database as { url: string }).url = '${BENCH_WORKERS_DB_URL}';
    const configFile = writeDemoFiles(dir, tenant);
    Object.assign(process.env, {
      FEISHU_URL: em.feishu,
      GOOGLE_URL: em.google,
      GRAPH_URL: em.graph,
      BENCH_WORKERS_DB_URL: `${base}${base.includes('?') ? '&' : '?'}schema=${schema}`,
    });
    const app = await compose(loadConfig(configFile), configFile, { unthrottled: true });
    try {
      await consentAll(app, em, tenant);
      const { pairs, attendeeFor } = await resolvePairs(app);
      const calendars = new Set(pairs.map((p) => p.feishu.id));
      const t0 = Date.now();
      for (let i = 0; i < workers; i++) {
        const child = spawn(process.execPath, [bin, 'serve', '--config', configFile, '--port', '0'], {
          cwd: dir,
          env: process.env,
          stdio: ['ignore', 'ignore', 'ignore'],
        });
        procs.push(child);
      }
      let seconds = 0;
      for (const end = Date.now() + 900_000; Date.now() < end; await sleep(250)) {
        const { rows } = await sql.query(
          `SELECT report->>'calendar' AS calendar, min("finishedAt") AS at FROM "${schema}"."SyncRun"
            WHERE kind = 'pull' AND status = 'ok' GROUP BY 1`,
        );
        if (rows.filter((r) => calendars.has(r.calendar)).length === calendars.size) {
          seconds = (Math.max(...rows.map((r) => +r.at)) - t0) / 1000;
          break;
        }
      }
      if (!seconds) throw new Error(`${workers} worker(s): the initial sync did not finish in 15 minutes`);
      const parity = (await readParity(app, pairs, policyOf(app.config), attendeeFor)).perSpoke;
      const google = (await (await fetch(`${em.google}/_emulator/state`)).json()) as any;
      const graph = (await control(em.graph, 'limits', {})) as any;
      return {
        seconds: Math.round(seconds * 10) / 10,
        events_per_second: Math.round((users * perUser) / seconds),
        parity: Object.values(parity).every(exact) ? 'exact' : JSON.stringify(parity),
        google_quota_refusals: google.quotaRejections ?? 0,
        graph_throttled: graph.throttled ?? 0,
      };
    } finally {
      await app.close();
    }
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => (p.exitCode === null ? new Promise((r) => p.once('exit', r)) : null)));
    await sql.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await sql.query(`DROP SCHEMA IF EXISTS "${schema}_pgboss" CASCADE`);
    await sql.end();
    await em.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<Figures> {
  const base = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (!base) return { skipped: 'set BENCH_DATABASE_URL (or TEST_DATABASE_URL) to a Postgres server' };
  const out: Figures = {};
  for (const n of [1, 3]) {
    say(`${n} worker(s)`);
    const f = await once(n, base);
    for (const [k, v] of Object.entries(f)) out[`workers${n}_${k}`] = v;
    say(JSON.stringify(f));
  }
  out.speedup_3vs1 =
    Math.round(((out.workers1_seconds as number) / (out.workers3_seconds as number)) * 100) / 100;
  return out;
}
