import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '../../bin/feisync.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'feisync-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function feisync(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^(FEISYNC_|DATABASE_URL)/.test(k)),
    );
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd: tmp, env: { ...clean, ...env } },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('feisync CLI', () => {
  it('--help lists only the commands that exist, --version prints the version', async () => {
    const help = await feisync(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/config/);
    expect(help.stdout).toMatch(/db/);
    expect((await feisync(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('config check passes the example with no environment set', async () => {
    const r = await feisync([
      'config',
      'check',
      join(import.meta.dirname, '../../config/feisync.example.yaml'),
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/OK/);
  });

  it('config check exits 2 naming a misspelt key and a wrong type with line and column', async () => {
    const file = join(tmp, 'bad.yaml');
    writeFileSync(
      file,
      [
        'feishu:',
        '  app_id: cli_a1b2c3d4e5f60718',
        '  app_secret: s3cr3t-value',
        'google:',
        '  credentials_file: ./sa.json',
        'sync:',
        '  max_deletes_per_run: lots',
        'servr:',
        '  port: 80',
        'secret_key: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
      ].join('\n'),
    );
    const r = await feisync(['config', 'check', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:7:24 sync.max_deletes_per_run`);
    expect(r.stderr).toContain(`${file}:8:1 servr: unknown key`);
    expect(r.stderr).not.toContain('s3cr3t-value');
  });

  it('exits 2 on an unknown command and on a missing config file', async () => {
    expect((await feisync(['frobnicate'])).code).toBe(2);
    const missing = await feisync(['config', 'check', join(tmp, 'nope.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.yaml/);
  });

  it('db migrate twice on a fresh data folder: the second applies nothing; db status agrees', async () => {
    const dataDir = join(tmp, 'data');
    const first = await feisync(['db', 'migrate', '--data-dir', dataDir, '--json']);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).applied.length).toBeGreaterThan(0);
    const second = await feisync(['db', 'migrate', '--data-dir', dataDir, '--json']);
    expect(JSON.parse(second.stdout).applied).toEqual([]);
    const status = JSON.parse((await feisync(['db', 'status', '--data-dir', dataDir, '--json'])).stdout);
    expect(status.pending).toEqual([]);
    expect(status.applied).toEqual(JSON.parse(first.stdout).applied);
  });

  it("db migrate with --config keeps the database in the config's data_dir, relative to the config file", async () => {
    const conf = join(tmp, 'elsewhere');
    mkdirSync(conf, { recursive: true });
    copyFileSync(join(import.meta.dirname, '../fixtures/config/minimal.yaml'), join(conf, 'feisync.yaml'));
    const r = await feisync(['db', 'migrate', '--config', join('elsewhere', 'feisync.yaml'), '--json']);
    expect(r.code).toBe(0);
    // where `sync` and `serve` (compose) open it; not ./.feisync of the working directory
    expect(existsSync(join(conf, '.feisync'))).toBe(true);
    expect(existsSync(join(tmp, '.feisync'))).toBe(false);
  });
});

describe('feisync emulators', () => {
  it('prints the three URLs as one JSON line, serves them, and stops on SIGTERM', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [bin, 'emulators'], { cwd: tmp });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(out.split('\n')[0]);
      });
      child.on('exit', () => reject(new Error(`exited early: ${out}`)));
    });
    const urls = JSON.parse(line);
    expect(Object.keys(urls).sort()).toEqual(['feishu', 'google', 'graph']);
    for (const url of Object.values<string>(urls)) {
      expect((await fetch(`${url}/_emulator/requests`)).status).toBe(200);
    }
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
