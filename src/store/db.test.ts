import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from './db.ts';
import { applyMigrations, driftScript, isCurrent, migrationStatus } from './migrate.ts';
import { migrationsList } from './schema-engine.ts';

const allMigrations = migrationsList().migrationDirectories.map((d) => d.path);
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('embedded PGlite', () => {
  it('applies every migration from empty, then nothing on a second open, with no drift', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'feisync-db-'));
    dirs.push(dataDir);
    const first = await openDatabase({ dataDir });
    expect(allMigrations.length).toBeGreaterThan(0);
    expect(first.applied).toEqual(allMigrations);
    expect(await driftScript(first.adapter)).toBe('');
    await first.close();

    const second = await openDatabase({ dataDir });
    expect(second.applied).toEqual([]);
    expect(await migrationStatus(second.adapter)).toMatchObject({ pending: [], applied: allMigrations });
    // the tables are really there and usable through Prisma
    await second.prisma.syncRun.create({ data: { kind: 'sync' } });
    expect(await second.prisma.syncRun.count()).toBe(1);
    await second.close();
  });

  it('creates a new folder from the template, and says why when that fails', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'feisync-db-'));
    dirs.push(dataDir);
    // the folder the database would go in is a file: it cannot be created
    writeFileSync(join(dataDir, 'db'), 'not a folder');
    await expect(openDatabase({ dataDir })).rejects.toThrow(/creating the database in .*db failed: /);
    rmSync(join(dataDir, 'db'));
    const db = await openDatabase({ dataDir });
    expect(db.applied).toEqual(allMigrations);
    expect(await migrationStatus(db.adapter)).toMatchObject({ pending: [], applied: allMigrations });
    await db.close();
    expect(readdirSync(dataDir)).toEqual(['db']); // nothing left beside it
  });

  it('builds a missing template in a child process that ends once it has said what it applied', async () => {
    // The schema engine keeps the event loop alive for ten seconds after it is freed; the child
    // waited for it, and every first start of an install with it.
    const cache = mkdtempSync(join(tmpdir(), 'feisync-cache-'));
    const dataDir = mkdtempSync(join(tmpdir(), 'feisync-db-'));
    dirs.push(cache, dataDir);
    // templates of other versions: one not written for ten days (removed), one of yesterday (kept)
    const old = join(cache, 'pgdata-0000000000000000.tar');
    const recent = join(cache, 'pgdata-1111111111111111.tar');
    for (const [file, days] of [
      [old, 10],
      [recent, 1],
    ] as const) {
      writeFileSync(file, 'an older template');
      const at = new Date(Date.now() - days * 86_400_000);
      utimesSync(file, at, at);
    }
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./prepare.ts', import.meta.url)), dataDir],
      { env: { ...process.env, FEISYNC_CACHE_DIR: cache }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    let saidAt = 0;
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) saidAt ||= Date.now();
    });
    const code = await new Promise((done) => child.once('exit', done));
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({ applied: allMigrations });
    expect(Date.now() - saidAt).toBeLessThan(3000);
    const built = readdirSync(cache).filter((f) => f !== basename(recent));
    expect(built).toEqual([expect.stringMatching(/^pgdata-\w+\.tar$/)]);
    expect(built[0]).not.toBe(basename(old));
    expect(existsSync(recent)).toBe(true);
    // a new database from the template marks it used, so that another install's pruning keeps it
    const template = join(cache, built[0]);
    const old10 = new Date(Date.now() - 10 * 86_400_000);
    utimesSync(template, old10, old10);
    const before = process.env.FEISYNC_CACHE_DIR;
    process.env.FEISYNC_CACHE_DIR = cache;
    try {
      const other = mkdtempSync(join(tmpdir(), 'feisync-db-'));
      dirs.push(other);
      await (await openDatabase({ dataDir: other, prisma: false })).close();
    } finally {
      if (before === undefined) delete process.env.FEISYNC_CACHE_DIR;
      else process.env.FEISYNC_CACHE_DIR = before;
    }
    expect(Date.now() - statSync(template).mtimeMs).toBeLessThan(60_000);
  });

  it('knows a current database from _prisma_migrations alone, and leaves anything else to the engine', async () => {
    const db = await openDatabase({ inMemory: true, migrate: false, sharedBuffers: '16MB' });
    const sql = (text: string) => db.executeSql(text);
    expect(await isCurrent(sql)).toBe(false); // no migrations table
    expect(await applyMigrations(db.adapter, sql)).toEqual(allMigrations);
    expect(await isCurrent(sql)).toBe(true);
    expect(await applyMigrations(db.adapter, sql)).toEqual([]);
    // an edited migration file, a failed migration or a missing one: not current
    await sql(`UPDATE _prisma_migrations SET checksum = 'x' WHERE migration_name = '${allMigrations[0]}'`);
    expect(await isCurrent(sql)).toBe(false);
    await sql(`DELETE FROM _prisma_migrations WHERE migration_name = '${allMigrations.at(-1)}'`);
    expect(await isCurrent(sql)).toBe(false);
    await db.close();
  });

  it('reports drift and pending migrations on a database that was never migrated', async () => {
    const db = await openDatabase({ inMemory: true, migrate: false });
    expect(await driftScript(db.adapter)).toMatch(/CREATE TABLE "EventLink"/);
    expect((await migrationStatus(db.adapter)).pending).toEqual(allMigrations);
    await db.close();
  });
});

const url = process.env.TEST_DATABASE_URL;
const COLUMNS = `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
  WHERE table_schema = $1 ORDER BY table_name, column_name`;
describe.skipIf(!url)('Postgres server (TEST_DATABASE_URL)', () => {
  it('applies every migration into a fresh schema, a second run is a no-op, no drift', async () => {
    // each run gets its own schema, so the test never touches other data in the database
    const schema = `feisync_test_${process.pid}_${Date.now()}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE SCHEMA "${schema}"`);
    const scoped = new URL(url!);
    scoped.searchParams.set('schema', schema);
    try {
      const first = await openDatabase({ url: scoped.toString() });
      expect(first.kind).toBe('postgres');
      expect(first.applied).toEqual(allMigrations);
      await first.close();
      const second = await openDatabase({ url: scoped.toString() });
      expect(second.applied).toEqual([]);
      // The engine cannot introspect through @prisma/adapter-pg (it has no decoder for Postgres'
      // internal "char" type), so drift is checked against PGlite, which the engine proved drift-free.
      const embedded = await openDatabase({ inMemory: true });
      expect(await driftScript(embedded.adapter)).toBe('');
      const columnsOf = async (db: typeof second, ns: string) =>
        (await db.executeSql(COLUMNS, [ns])).rows.map((r) => Object.values(r).join(' '));
      const onServer = await columnsOf(second, schema);
      expect(onServer).toContain('EventLink originalTime bigint NO');
      expect(onServer).toEqual(await columnsOf(embedded, 'public'));
      await embedded.close();
      await second.close();
    } finally {
      await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
      await admin.end();
    }
  });
});
