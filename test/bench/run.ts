/**
 * `npm run bench [-- name ...]`: every benchmark in sequence (or the named ones: sync, google, graph,
 * reconcile, twoway, quota, workers, serve, feishu, cli), each figure set printed as a block, then one JSON line with all figures. Figures, never
 * pass/fail: the exit code is 1 only when a benchmark crashed.
 *
 * sync, google, graph and reconcile export `run()` and only run themselves when executed directly, so they are
 * imported. feishu runs itself at import (top-level await, JSON lines on stdout), so it is started as
 * a child process and its JSON lines are collected.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

type Figures = Record<string, number | string | boolean | null | object>;

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

const BENCHES: Record<string, () => Promise<Figures>> = {
  sync: async () => (await import('./sync.ts')).run(),
  google: async () => (await import('./google.ts')).run(),
  graph: async () => (await import('./graph.ts')).run(),
  reconcile: async () => (await import('./reconcile.ts')).run(),
  twoway: async () => (await import('./twoway.ts')).run(),
  quota: async () => (await import('./quota.ts')).run(),
  workers: async () => (await import('./workers.ts')).run(),
  serve: async () => (await import('./serve.ts')).run(),
  feishu: () => childJsonLines(here('./feishu.ts')),
  cli: async () => (await import('./cli.ts')).run(),
};

/** Runs a self-running bench file in a child node (same tsx loader); its JSON stdout lines are its figures. */
function childJsonLines(file: string): Promise<Figures> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [...process.execArgv, file], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let text = '';
    proc.stdout.on('data', (d) => {
      text += d;
    });
    proc.once('error', reject);
    proc.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`${file} exited with ${code}`));
      const out: Figures = {};
      const lines = text.split('\n').filter((l) => l.trim().startsWith('{'));
      lines.forEach((l, i) => {
        const o = JSON.parse(l) as Figures;
        // feishu.ts prints one line per variant; name each by its `attendees` flag when it has one
        const name = 'attendees' in o ? `attendees_${o.attendees}` : `line${i + 1}`;
        for (const [k, v] of Object.entries(flatten(o))) if (k !== 'attendees') out[`${name}_${k}`] = v;
      });
      resolve(out);
    });
  });
}

function flatten(o: Record<string, unknown>, prefix = ''): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(o)) {
    const key = prefix ? `${prefix}_${k}` : k;
    if (v && typeof v === 'object') Object.assign(out, flatten(v as Record<string, unknown>, key));
    else out[key] = typeof v === 'number' || typeof v === 'string' ? v : String(v);
  }
  return out;
}

function block(name: string, figures: Figures, seconds: number): string {
  const width = Math.max(...Object.keys(figures).map((k) => k.length), 10);
  const lines = Object.entries(figures).map(([k, v]) => `  ${k.padEnd(width)}  ${v}`);
  return [`== ${name} (${seconds.toFixed(1)} s)`, ...lines, ''].join('\n');
}

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((n) => !(n in BENCHES));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}
const all: Record<string, Figures | { crashed: string }> = {};
let crashed = false;
for (const name of wanted.length ? wanted : Object.keys(BENCHES)) {
  const t0 = performance.now();
  console.log(`-- running ${name} ...`);
  try {
    const figures = await BENCHES[name]();
    all[name] = figures;
    console.log(block(name, figures, (performance.now() - t0) / 1000));
  } catch (e) {
    crashed = true;
    all[name] = { crashed: (e as Error).stack ?? String(e) };
    console.log(`== ${name}: CRASHED\n${(e as Error).stack ?? e}\n`);
  }
}
console.log(JSON.stringify(all));
process.exit(crashed ? 1 : 0);
