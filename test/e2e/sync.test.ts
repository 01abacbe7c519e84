/**
 * The main job through the CLI, against the three emulators: initial sync, a no-op re-run, a dry run
 * that writes nothing, status, and the demo's parity check.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compose } from '../../src/app/compose.ts';
import { writeDemoFiles } from '../../src/app/demo/run.ts';
import { generateTenant, type Tenant } from '../../src/app/demo/tenant.ts';
import { control, type Emulators, startEmulators } from '../../src/app/emulators.ts';
import { loadConfig } from '../../src/config/index.ts';

const bin = join(import.meta.dirname, '../../bin/feisync.mjs');
const dir = mkdtempSync(join(tmpdir(), 'feisync-e2e-'));
let tenant: Tenant;
let em: Emulators;
let configFile: string;
let env: Record<string, string>;

function feisync(args: string[]) {
  return new Promise<{ code: number; stdout: string; stderr: string; lines: any[] }>((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: dir, env, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({
        code: err ? Number(err.code ?? 1) : 0,
        stdout,
        stderr,
        lines: stdout
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l)),
      }),
    );
  });
}
const result = (r: { lines: any[] }) => r.lines.find((l) => l.type === 'result');

beforeAll(async () => {
  tenant = generateTenant({ users: 3, events: 40, now: Math.floor(Date.now() / 1000) });
  em = await startEmulators({ seed: tenant.seeds, unlimited: true });
  configFile = writeDemoFiles(dir, tenant);
  env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? dir,
    FEISHU_URL: em.feishu,
    GOOGLE_URL: em.google,
    GRAPH_URL: em.graph,
  };
  // the users consent (the OAuth callback of `serve` does this): their tokens go into the store
  Object.assign(process.env, { FEISHU_URL: em.feishu, GOOGLE_URL: em.google, GRAPH_URL: em.graph });
  const app = await compose(loadConfig(configFile), configFile);
  try {
    for (const u of tenant.users) {
      const appId = tenant.seeds.feishu.apps[0].app_id;
      await app.userTokens.adopt(
        u.openId,
        await control(em.feishu, 'user-token', { app_id: appId, open_id: u.openId }),
      );
    }
  } finally {
    await app.close();
  }
});
afterAll(async () => {
  await em?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('feisync sync against the emulators', () => {
  it('mirrors every calendar to both spokes, then a second run changes nothing', async () => {
    const first = await feisync(['sync', '--config', configFile, '--json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const r1 = result(first);
    expect(r1.pairs).toHaveLength(tenant.users.length * 2);
    expect(r1.totals.created).toBeGreaterThan(40);
    expect(r1.totals.failed).toBe(0);
    expect(first.lines[0]).toMatchObject({ type: 'start', calendars: tenant.users.length });

    const second = result(await feisync(['sync', '--config', configFile, '--json']));
    expect(second.totals).toMatchObject({ created: 0, updated: 0, deleted: 0, failed: 0 });
  });

  it('--dry-run plans a Feishu edit without writing it; the next sync writes it once per spoke', async () => {
    const ev = tenant.seeds.feishu.events.find(
      (e) => !e.recurrence && !e.is_exception && e.visibility !== 'private',
    )!;
    await control(em.feishu, 'events', {
      op: 'patch',
      calendar_id: ev.organizer_calendar_id,
      event_id: ev.event_id,
      event: { summary: 'Renamed in Feishu' },
    });
    const dry = await feisync(['sync', '--config', configFile, '--dry-run', '--json']);
    const planned = result(dry).pairs.flatMap((p: any) => p.plan ?? []);
    expect(planned).toEqual([
      { kind: 'update', key: ev.event_id, reason: 'changed in Feishu' },
      { kind: 'update', key: ev.event_id, reason: 'changed in Feishu' },
    ]);
    const google = await (await fetch(`${em.google}/_emulator/state`)).json();
    expect(JSON.stringify(google)).not.toContain('Renamed in Feishu');

    const real = result(await feisync(['sync', '--config', configFile, '--json']));
    expect(real.totals).toMatchObject({ updated: 2, created: 0, failed: 0 });
    const after = await (await fetch(`${em.google}/_emulator/state`)).json();
    expect(JSON.stringify(after)).toContain('Renamed in Feishu');
  });

  it('status shows the pairs, their cursors and the runs', async () => {
    const r = await feisync(['status', '--config', configFile, '--json']);
    expect(r.code).toBe(0);
    const status = JSON.parse(r.stdout);
    expect(status.pairs).toHaveLength(tenant.users.length * 2);
    expect(status.runs.length).toBeGreaterThanOrEqual(3);
    expect(status.users.consented).toHaveLength(tenant.users.length);
  });

  it('a config whose Google key file is missing exits 2 with a clear message', async () => {
    const text = readFileSync(configFile, 'utf8').replace('./google-service-account.json', './missing.json');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, text);
    const r = await feisync(['sync', '--config', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/google.credentials_file/);
  });
});

describe('feisync demo', () => {
  it('ends in exact parity on both spokes and exits 0', async () => {
    const r = await feisync(['demo', '--users', '4', '--events', '150', '--json']);
    expect(r.code).toBe(0);
    const demo = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(demo.ok).toBe(true);
    expect(demo.changes.map((c: any) => c.change)).toEqual([
      'create an event',
      'edit an event',
      'move one occurrence',
      'cancel one occurrence',
      'delete a series',
      'add a calendar',
    ]);
    for (const c of demo.changes) expect(c.deliveries).toBeGreaterThan(0);
    for (const p of Object.values<any>(demo.parity))
      expect(p).toMatchObject({ missing: 0, extra: 0, differing: 0 });
  });
});
