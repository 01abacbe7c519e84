/**
 * Three `feisync serve` processes (the real CLI, as child processes) on one Postgres database: a
 * tenant consented, the initial sync running in all of them, one killed with SIGKILL while it holds a
 * calendar's pull. The other two finish: exact parity on both spokes (read back through their APIs),
 * no duplicates, and no calendar pulled by two processes at once (each pull's SyncRun row, opened
 * under the calendar's lock and naming its calendar from the start; the killed process's open rows
 * end when it died). The workers pace themselves at the providers' real quotas through the shared
 * budgets in the database.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, compose, policyOf } from '../../src/app/compose.ts';
import { writeDemoFiles } from '../../src/app/demo/run.ts';
import { generateTenant } from '../../src/app/demo/tenant.ts';
import { control, type Emulators, startEmulators } from '../../src/app/emulators.ts';
import { resolvePairs } from '../../src/app/pairs.ts';
import { exact, readParity } from '../../src/app/parity-run.ts';
import { loadConfig } from '../../src/config/index.ts';
import { consentAll } from '../support/world.ts';

const url = process.env.TEST_DATABASE_URL;
const bin = join(import.meta.dirname, '../../bin/feisync.mjs');
const schema = `workers_serve_${process.pid}`;
const dbUrl = url ? `${url}${url.includes('?') ? '&' : '?'}schema=${schema}` : '';
const dir = mkdtempSync(join(tmpdir(), 'feisync-workers-'));
const tenant = generateTenant({ users: 6, events: 900, now: Math.floor(Date.now() / 1000) });
let em: Emulators;
let app: App | undefined;
let sql: pg.Client | undefined;
let configFile: string;

interface Proc {
  name: string;
  child: ChildProcess;
  log: string;
  exited: Promise<{ code: number | null; signal: string | null }>;
}
const procs: Proc[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** `feisync serve` as a child process; each names its database connections (application_name). */
function serve(name: string): Promise<Proc> {
  const child = spawn(process.execPath, [bin, 'serve', '--config', configFile, '--port', '0'], {
    cwd: dir,
    env: { ...process.env, PGAPPNAME: name },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc: Proc = {
    name,
    child,
    log: '',
    exited: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal }))),
  };
  procs.push(proc);
  const keep = (b: Buffer) => {
    proc.log = (proc.log + b.toString()).slice(-20_000);
  };
  child.stderr!.on('data', keep);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${proc.log}`)), 40_000);
    child.stdout!.on('data', (b: Buffer) => {
      keep(b);
      if (proc.log.includes('"serving"')) {
        clearTimeout(timer);
        resolve(proc);
      }
    });
    void proc.exited.then(({ code }) => reject(new Error(`${name} exited (${code}): ${proc.log}`)));
  });
}

/** Which of our processes hold which calendars' pull locks right now (Postgres advisory locks). */
async function pullHolders(calendars: string[]): Promise<Map<string, string[]>> {
  const { rows } = await sql!.query(
    `SELECT a.application_name AS name, c AS calendar
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
       JOIN unnest($1::text[]) c ON hashtextextended('pull:' || c, 0) = ((l.classid::bigint << 32) | l.objid::bigint)
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND a.application_name LIKE $2`,
    [calendars, `${schema}-%`],
  );
  const out = new Map<string, string[]>();
  for (const r of rows) out.set(r.name, [...(out.get(r.name) ?? []), r.calendar]);
  return out;
}

beforeAll(async () => {
  if (!url) return;
  em = await startEmulators({ seed: tenant.seeds, unlimited: true });
  // attendees cost a Feishu request per event: this test is about workers, not attendees
  tenant.config.sync.fields = tenant.config.sync.fields.filter((f: string) => f !== 'attendees');
  // the safety net that pulls every calendar again: it picks up the pull of the killed worker
  tenant.config.feishu.events.poll_interval = '3s';
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the config file's own interpolation
  (tenant.config.database as { url: string }).url = '${WORKERS_DB_URL}';
  configFile = writeDemoFiles(dir, tenant);
  Object.assign(process.env, {
    FEISHU_URL: em.feishu,
    GOOGLE_URL: em.google,
    GRAPH_URL: em.graph,
    WORKERS_DB_URL: dbUrl,
  });
  // migrates the schema and stores every user's consent before the workers start
  app = await compose(loadConfig(configFile), configFile, { unthrottled: true });
  await consentAll(app, em, tenant);
  sql = new pg.Client({ connectionString: url });
  await sql.connect();
  // slow the spokes a little, so that a pull is still running when the kill comes. (Small calendars:
  // a worker that finishes a killed one's initial sync meets the copies it left, at two Google
  // requests each (a create answered 409, then a read), paced at 600 a minute per user.)
  await control(em.google, 'faults', [{ match: { path: '^/batch/' }, action: { delayMs: 1000 } }]);
  await control(em.graph, 'limits', { latencyMs: 30 });
}, 60_000);

afterAll(async () => {
  for (const p of procs)
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  await app?.close();
  if (sql) {
    await sql.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await sql.query(`DROP SCHEMA IF EXISTS "${schema}_pgboss" CASCADE`);
    await sql.end();
  }
  await em?.close();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe.skipIf(!url)('three serve workers on one Postgres, one killed mid-sync', () => {
  it('ends in exact parity without duplicates, no calendar pulled by two at once', async () => {
    const t0 = Date.now();
    const { pairs } = await resolvePairs(app!);
    const calendars = [...new Set(pairs.map((p) => p.feishu.id))];
    expect(calendars).toHaveLength(6);
    await Promise.all([1, 2, 3].map((i) => serve(`${schema}-w${i}`)));

    // the victim: a worker holding a calendar's pull, once some of the initial sync is written
    const { victim, held } = await until(
      'a worker mid-pull',
      async () => {
        const { rows } = await sql!.query(`SELECT count(*)::int AS n FROM "${schema}"."EventLink"`);
        if (rows[0].n === 0) return undefined;
        const holders = await pullHolders(calendars);
        const [name, cals] = [...holders].sort((a, b) => b[1].length - a[1].length)[0] ?? [];
        return name ? { victim: procs.find((p) => p.name === name)!, held: cals } : undefined;
      },
      40_000,
    );
    // read before the kill: a survivor may take a freed calendar before this process sees the exit
    const killedAt: Date = (await sql!.query('SELECT now() AS t')).rows[0].t;
    victim.child.kill('SIGKILL');
    expect((await victim.exited).signal).toBe('SIGKILL');
    // its locks go with its connections: nobody holds them in its name once Postgres has seen them
    // close (a backend in the middle of a statement notices when it next talks to its client)
    await until(
      "the killed worker's locks released",
      async () => !(await pullHolders(calendars)).has(victim.name),
      10_000,
    );

    // the other two finish the initial sync, the killed worker's calendars included
    const checker = (await resolvePairs(app!)).attendeeFor;
    const perSpoke = await until(
      'exact parity on both spokes',
      async () => {
        const p = (await readParity(app!, pairs, policyOf(app!.config), checker)).perSpoke;
        return Object.keys(p).length === 2 && Object.values(p).every(exact) ? p : undefined;
      },
      Math.max(20_000, 80_000 - (Date.now() - t0)),
    );
    for (const [spoke, p] of Object.entries(perSpoke)) {
      expect({ spoke, missing: p.missing, extra: p.extra, differing: p.differing }).toEqual({
        spoke,
        missing: 0,
        extra: 0,
        differing: 0,
      });
      expect(p.expected).toBeGreaterThan(300);
    }
    // the survivors stop cleanly (their open runs close)
    const survivors = procs.filter((p) => p !== victim);
    for (const p of survivors) p.child.kill('SIGTERM');
    for (const p of survivors) expect((await p.exited).code, p.log.slice(-2000)).toBe(0);

    // every pull's run, per calendar: [start, finish], or [start, the kill] for the killed worker's
    const { rows: runs } = await sql!.query(
      `SELECT id, "startedAt", "finishedAt", status, report->>'calendar' AS calendar
         FROM "${schema}"."SyncRun" WHERE kind = 'pull' ORDER BY "startedAt", id`,
    );
    expect(runs.every((r) => calendars.includes(r.calendar))).toBe(true);
    const open = runs.filter((r) => r.finishedAt === null);
    // the victim died inside the pulls it held: their runs stayed open
    for (const cal of held) expect(open.map((r) => r.calendar)).toContain(cal);
    for (const cal of calendars) {
      const spans = runs
        .filter((r) => r.calendar === cal)
        .map((r) => ({ id: r.id, from: +r.startedAt, to: +(r.finishedAt ?? killedAt) }));
      for (let i = 1; i < spans.length; i++) {
        expect(
          spans[i].from,
          `calendar ${cal}: run ${spans[i].id} began before ${spans[i - 1].id} ended`,
        ).toBeGreaterThanOrEqual(spans[i - 1].to);
      }
      // and a survivor pulled each calendar the victim held to the end after the kill
      if (held.includes(cal)) {
        expect(runs.some((r) => r.calendar === cal && r.status === 'ok' && +r.startedAt >= +killedAt)).toBe(
          true,
        );
      }
    }
  }, 120_000);
});
