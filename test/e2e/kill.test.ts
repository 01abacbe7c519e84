/**
 * Crash safety: `feisync sync` killed with SIGKILL at random moments of an initial sync of a few
 * thousand events, restarted each time, then run to the end: no event missing and none duplicated on
 * either spoke (read back through their APIs). The embedded database is the one being killed too.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compose, policyOf } from '../../src/app/compose.ts';
import { writeDemoFiles } from '../../src/app/demo/run.ts';
import { generateTenant } from '../../src/app/demo/tenant.ts';
import { type Emulators, startEmulators } from '../../src/app/emulators.ts';
import { resolvePairs } from '../../src/app/pairs.ts';
import { exact, readParity } from '../../src/app/parity-run.ts';
import { loadConfig } from '../../src/config/index.ts';
import { consentAll } from '../support/world.ts';

const bin = join(import.meta.dirname, '../../bin/feisync.mjs');
const dir = mkdtempSync(join(tmpdir(), 'feisync-kill-'));
const tenant = generateTenant({ users: 6, events: 2000, now: Math.floor(Date.now() / 1000) });
let em: Emulators;
let configFile: string;

beforeAll(async () => {
  em = await startEmulators({ seed: tenant.seeds, unlimited: true });
  // attendees cost one Feishu request per event (paced at Feishu's 50/s): this test is about crashes
  tenant.config.sync.fields = tenant.config.sync.fields.filter((f: string) => f !== 'attendees');
  configFile = writeDemoFiles(dir, tenant);
  Object.assign(process.env, { FEISHU_URL: em.feishu, GOOGLE_URL: em.google, GRAPH_URL: em.graph });
  const app = await compose(loadConfig(configFile), configFile);
  try {
    await consentAll(app, em, tenant);
  } finally {
    await app.close();
  }
});
afterAll(async () => {
  await em?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `feisync sync --json`; kills it with SIGKILL once `killAfter` events were reported, if given. */
function sync(killAfter?: number) {
  return new Promise<{ code: number | null; signal: string | null; events: number; out: string }>(
    (resolve, reject) => {
      const child = spawn(process.execPath, [bin, 'sync', '--config', configFile, '--json'], {
        cwd: dir,
        env: { ...process.env, FEISHU_URL: em.feishu, GOOGLE_URL: em.google, GRAPH_URL: em.graph },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let events = 0;
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        for (const line of out.split('\n').filter((l) => l.startsWith('{"type":"progress"'))) {
          events = Math.max(events, JSON.parse(line).total);
        }
        if (killAfter !== undefined && events >= killAfter) child.kill('SIGKILL');
      });
      child.stderr.on('data', (b: Buffer) => {
        out += b.toString();
      });
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, events, out });
      });
    },
  );
}

describe('an initial sync killed with SIGKILL and restarted', () => {
  it('ends with every event exactly once on both spokes', async () => {
    const kills: number[] = [];
    // kill points spread over the run, at random within each third
    for (const third of [0, 1, 2]) {
      const at = Math.floor(((third + Math.random()) / 3) * tenant.expected.events * 0.8);
      const r = await sync(at);
      if (r.signal === 'SIGKILL') kills.push(r.events);
      else expect(r.code, r.out.slice(-2000)).toBe(0); // it finished before the kill point came
    }
    expect(kills.length, 'at least one run was killed mid-way').toBeGreaterThan(0);
    const last = await sync();
    expect(last.code, last.out.slice(-2000)).toBe(0);

    const app = await compose(loadConfig(configFile), configFile);
    try {
      const { pairs, attendeeFor } = await resolvePairs(app);
      const { perSpoke } = await readParity(app, pairs, policyOf(app.config), attendeeFor);
      for (const [spoke, p] of Object.entries(perSpoke)) {
        expect({ spoke, missing: p.missing, extra: p.extra, differing: p.differing }).toEqual({
          spoke,
          missing: 0,
          extra: 0,
          differing: 0,
        });
        expect(exact(p)).toBe(true);
        expect(p.expected).toBeGreaterThan(500);
      }
    } finally {
      await app.close();
    }
  }, 400_000);
});
