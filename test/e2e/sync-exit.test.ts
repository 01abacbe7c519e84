/** `feisync sync` exits 1 whenever its result says ok:false (here: users who have not consented). */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeDemoFiles } from '../../src/app/demo/run.ts';
import { generateTenant } from '../../src/app/demo/tenant.ts';
import { type Emulators, startEmulators } from '../../src/app/emulators.ts';

const bin = join(import.meta.dirname, '../../bin/feisync.mjs');
const dir = mkdtempSync(join(tmpdir(), 'feisync-exit-'));
let em: Emulators;
let configFile: string;

beforeAll(async () => {
  const tenant = generateTenant({ users: 2, events: 10, now: Math.floor(Date.now() / 1000) });
  em = await startEmulators({ seed: tenant.seeds, unlimited: true });
  configFile = writeDemoFiles(dir, tenant);
});
afterAll(async () => {
  await em?.close();
  rmSync(dir, { recursive: true, force: true });
});

const run = (args: string[]) =>
  new Promise<{ code: number; stdout: string }>((resolve) => {
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      FEISHU_URL: em.feishu,
      GOOGLE_URL: em.google,
      GRAPH_URL: em.graph,
    };
    execFile(process.execPath, [bin, ...args], { cwd: dir, env, timeout: 120_000 }, (err, stdout) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout }),
    );
  });

it('exits 1 when the sync result is not ok, with --json and without', async () => {
  const json = await run(['sync', '--config', configFile, '--json']);
  const result = json.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .find((l) => l.type === 'result');
  expect(result.ok).toBe(false);
  expect(result.problems.length).toBeGreaterThan(0);
  expect(json.code).toBe(1);
  expect((await run(['sync', '--config', configFile])).code).toBe(1);
  expect((await run(['sync', '--config', configFile, '--dry-run'])).code).toBe(1);
});

it('and so does reconcile', async () => {
  expect((await run(['reconcile', '--config', configFile, '--dry-run'])).code).toBe(1);
});
