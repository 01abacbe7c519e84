/**
 * The command line's own cost (figures, not a test): `npm run bench -- cli`.
 *
 * `feisync --help`, `config check`, `status --offline` and `db migrate` on a current database, each
 * run BENCH_CLI_RUNS (5) times as a user runs them (`node bin/feisync.mjs ...`, a fresh process each):
 * median wall time from spawn to exit, median CPU seconds and the highest peak RSS. The database is
 * the embedded one of a small tenant (BENCH_CLI_USERS (3) x BENCH_CLI_EVENTS (300) events) after one
 * `feisync sync`. Each command runs compiled (.build, what `npm install` makes; rebuilt first) and
 * from the sources through tsx (FEISYNC_FROM_SOURCE=1), and the ratios compare them with the goal
 * (0.5 s and 150 MB, issue 11) and the compiled with the sources. `pglite_floor` is PGlite alone
 * opening that database and answering one query with the same settings, the bound of `status`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateTenant } from '../../src/app/demo/tenant.ts';
import { BRIEF } from '../../src/store/db.ts';
import { openWorld } from '../support/world.ts';

type Figures = Record<string, number | string>;
const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin/feisync.mjs');
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const say = (line: string) => process.stderr.write(`[bench cli] ${line}\n`);
const GOAL = { seconds: 0.5, mb: 150 };

/**
 * Prints the process's peak RSS and CPU at exit, on stderr after a mark: loaded by --import. Peak RSS
 * from Linux's VmHWM: getrusage's maxRSS starts from the parent's at fork (this process, hundreds of MB).
 */
const PROBE = `import { readFileSync } from 'node:fs';
process.on('exit', () => {
  const u = process.resourceUsage();
  let rss = u.maxRSS * 1024;
  try {
    rss = Number(/VmHWM:\\s*(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
  } catch {}
  process.stderr.write('\\n@@probe ' + JSON.stringify({ rss, cpu: (u.userCPUTime + u.systemCPUTime) / 1e6 }) + '\\n');
});`;

interface Sample {
  wall: number;
  cpu: number;
  rss: number;
}

function runOnce(probe: string, args: string[], cwd: string, extra: Record<string, string>): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--import', probe, ...args], {
      cwd,
      env: { ...process.env, ...extra },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      const wall = (performance.now() - t0) / 1000;
      const m = /@@probe (\{.*\})/.exec(err);
      if (code !== 0 || !m)
        return reject(new Error(`${args.join(' ')} exited ${code}: ${err.slice(0, 2000)}`));
      const { rss, cpu } = JSON.parse(m[1]);
      resolve({ wall, cpu, rss: rss / 2 ** 20 });
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const r2 = (x: number) => Math.round(x * 100) / 100;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

async function measure(
  probe: string,
  args: string[],
  cwd: string,
  extra: Record<string, string>,
  runs: number,
) {
  const samples: Sample[] = [];
  for (let i = 0; i < runs; i++) samples.push(await runOnce(probe, args, cwd, extra));
  return {
    wall: r3(median(samples.map((s) => s.wall))),
    cpu: r3(median(samples.map((s) => s.cpu))),
    rss: Math.round(Math.max(...samples.map((s) => s.rss))),
  };
}

export async function run(): Promise<Figures> {
  const runs = env('BENCH_CLI_RUNS', 5);
  const users = env('BENCH_CLI_USERS', 3);
  const events = env('BENCH_CLI_EVENTS', 300);
  const dir = mkdtempSync(join(tmpdir(), 'feisync-bench-cli-'));
  const probe = join(dir, 'probe.mjs');
  writeFileSync(probe, PROBE);
  const probeUrl = pathToFileURL(probe).href;
  const built = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`build failed: ${built.stderr}`);
  const out: Figures = { runs, users, events };
  const tenant = generateTenant({ users, events, now: Math.floor(Date.now() / 1000) });
  const { em, app, configFile } = await openWorld(tenant, dir);
  try {
    await app.close(); // the sync below opens the same embedded database
    say(`initial sync of ${events} events`);
    const sync = await measure(probeUrl, [bin, 'sync', '--config', configFile, '--json'], dir, {}, 1);
    out.sync_seconds = sync.wall;
    const commands: Record<string, string[]> = {
      help: ['--help'],
      config_check: ['config', 'check', configFile],
      status_offline: ['status', '--offline', '--config', configFile],
      db_migrate: ['db', 'migrate', '--config', configFile],
    };
    for (const [name, args] of Object.entries(commands)) {
      say(name);
      const compiled = await measure(probeUrl, [bin, ...args], dir, {}, runs);
      const source = await measure(probeUrl, [bin, ...args], dir, { FEISYNC_FROM_SOURCE: '1' }, runs);
      Object.assign(out, {
        [`${name}_seconds`]: compiled.wall,
        [`${name}_cpu_seconds`]: compiled.cpu,
        [`${name}_peak_rss_mb`]: compiled.rss,
        [`${name}_seconds_vs_goal`]: r2(compiled.wall / GOAL.seconds),
        [`${name}_rss_vs_goal`]: r2(compiled.rss / GOAL.mb),
        [`${name}_source_seconds`]: source.wall,
        [`${name}_source_peak_rss_mb`]: source.rss,
        [`${name}_compiled_vs_source_seconds`]: r2(compiled.wall / source.wall),
      });
    }
    // PGlite alone on that database, as `status` opens it (brief): what no command can go below
    const floor = join(dir, 'floor.mjs');
    writeFileSync(
      floor,
      `import { setFlagsFromString } from 'node:v8';
setFlagsFromString('--liftoff-only');
const { PGlite } = await import(${JSON.stringify(pathToFileURL(join(root, 'node_modules/@electric-sql/pglite/dist/index.js')).href)});
const settings = ${JSON.stringify(Object.entries(BRIEF).map(([k, v]) => `${k}=${v}`))};
const db = new PGlite(${JSON.stringify(join(dir, '.feisync-demo/db'))}, { startParams: [...PGlite.defaultStartParams, ...settings.flatMap((s) => ['-c', s])] });
await db.query('SELECT count(*) FROM "EventLink"');
await db.close();`,
    );
    const bound = await measure(probeUrl, [floor], dir, {}, runs);
    Object.assign(out, {
      pglite_floor_seconds: bound.wall,
      pglite_floor_peak_rss_mb: bound.rss,
      status_offline_vs_pglite_floor_seconds: r2(Number(out.status_offline_seconds) / bound.wall),
    });
  } finally {
    await em.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(await run()));
  process.exit(0);
}
