/**
 * Opens the database: embedded PGlite in `<data_dir>/db` by default, or a Postgres server when a URL
 * is given. Pending migrations are applied at open, offline (see schema-engine.ts). A new embedded
 * database is a copy of a migrated template (template.ts); one in a folder is made, or migrated when
 * behind, by a child process first (prepare.ts).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import type { PGlite } from '@electric-sql/pglite';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { maskUrl } from '../config/summary.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { createLocks, type Locks } from './locks.ts';
import { applyMigrations, isCurrent } from './migrate.ts';
import type { SqlReader } from './sql.ts';
import { extractTemplate, loadTemplate, templateReady } from './template.ts';

export type { PrismaClient };

export interface Database {
  /** Throws when opened with `prisma: false` (and no migration needed it). */
  readonly prisma: PrismaClient;
  kind: 'pglite' | 'postgres';
  /** Where the data lives: the folder, or the URL with its password masked. */
  location: string;
  /** Prisma's driver adapter (migrations use it); throws like `prisma`. */
  readonly adapter: SqlMigrationAwareDriverAdapterFactory;
  /** Raw SQL for pg-boss and maintenance; several statements are allowed when there are no values. */
  executeSql(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
  /** Raw SQL reads on the driver, without Prisma (see sql.ts). */
  reader: SqlReader;
  /** Migrations applied by this open (empty when the database was current or `migrate: false`). */
  applied: string[];
  /** Named locks shared by every process on this database (calendar pulls, reconcile runs). */
  locks: Locks;
  /** The pg-boss schema: `pgboss`, or `<schema>_pgboss` beside a `?schema=` of a Postgres URL. */
  bossSchema: string;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** postgres://... ; empty or absent: embedded PGlite. */
  url?: string;
  /** Embedded database parent folder (config `database.data_dir`); the data goes to `<dir>/db`. */
  dataDir?: string;
  /** Apply pending migrations (default true). */
  migrate?: boolean;
  /** Embedded only: keep the database in memory (tests). */
  inMemory?: boolean;
  /**
   * Embedded only: Postgres `shared_buffers` inside PGlite's WebAssembly heap. PGlite's default,
   * 128MB, is most of the process's memory before any work, and the pool fills as a sync reads its
   * links; the operating system's file cache is behind it anyway. Default 16MB (a 10,000-event sync:
   * the same CPU per event as 32MB, 16 MB less resident).
   */
  sharedBuffers?: string;
  /**
   * Embedded only: create and migrate in this process instead of a child (prepare.ts runs so; the
   * tests that check the steps themselves).
   */
  inProcess?: boolean;
  /**
   * Embedded only: a short command that reads or writes a few rows (`status`, `db`): the smallest
   * shared memory (1MB of buffers, room for 3 connections), and PGlite's WebAssembly run by V8's
   * baseline compiler only, without the optimizing tier that costs a long-running process nothing
   * but a short one half its start time and 50 MB. Applies to the whole process.
   */
  brief?: boolean;
  /**
   * false: Prisma (driver adapter and client) is loaded only if pending migrations need it, for the
   * commands that read with raw SQL through `reader` (`status`, `db migrate`): loading it costs a
   * tenth of a second and 20 MB, and its first query as much again. Default true.
   */
  prisma?: boolean;
}

/** The embedded database's folder, or undefined for a server URL or an in-memory database. */
function embeddedFolder(options: OpenOptions): string | undefined {
  if (options.url || options.inMemory) return undefined;
  return join(resolve(options.dataDir ?? './.feisync'), 'db');
}

export async function openDatabase(options: OpenOptions = {}): Promise<Database> {
  const folder = embeddedFolder(options);
  const migrate = options.migrate !== false;
  const inChild = folder !== undefined && migrate && !options.inProcess;
  const fresh = !options.url && (folder === undefined || !existsSync(join(folder, 'PG_VERSION')));
  let applied: string[] = [];
  let inMemoryTemplate: Blob | undefined;
  if (fresh && migrate) {
    // the one-off steps of building the template (initdb, the schema engine) in a child, so that
    // this process does not keep what they took
    if (inChild && !templateReady()) applied = await prepareInChild(dirname(folder));
    else {
      const template = await loadTemplate(buildTemplate);
      applied = template.migrations;
      if (folder === undefined) inMemoryTemplate = new Blob([template.tar]);
      else createFromTemplate(template.tar, folder);
    }
  }
  let { db, layer } = options.url
    ? await openPostgres(options.url)
    : await openPglite(options, inMemoryTemplate);
  try {
    if (options.migrate !== false && !(await isCurrent((text) => db.executeSql(text)))) {
      if (inChild) {
        await db.close();
        applied = await prepareInChild(dirname(folder));
        ({ db, layer } = await openPglite(options));
      } else {
        await layer.load();
        applied = await applyMigrations(db.adapter);
      }
    }
    db.applied = applied;
    if (options.prisma !== false) await layer.load();
  } catch (e) {
    await db.close();
    throw e;
  }
  return db;
}

/** Create (initdb) and migrate the embedded database under `dataDir` in a child process (prepare.ts). */
function prepareInChild(dataDir: string): Promise<string[]> {
  const script = fileURLToPath(new URL('./prepare.ts', import.meta.url));
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), script, dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.once('error', fail);
    child.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{"applied"'));
      if (code === 0 && line) return done((JSON.parse(line) as { applied: string[] }).applied);
      const why = err.trim().split('\n').at(-1) || `exit code ${code}`;
      fail(new Error(`creating or migrating the database in ${dataDir} failed: ${why}`));
    });
  });
}

type Opened = { db: Database; layer: PrismaLayer };

/** PGlite's settings for a brief open (see OpenOptions.brief). */
export const BRIEF = { shared_buffers: '1MB', max_connections: '3', superuser_reserved_connections: '0' };

/**
 * Writes the template into a new folder beside `folder`, then renames it into place: a failure leaves
 * no half-written database, and of two processes creating the same folder one rename wins.
 */
function createFromTemplate(tar: Buffer, folder: string): void {
  const tmp = `${folder}.new-${process.pid}`;
  try {
    rmSync(tmp, { recursive: true, force: true });
    extractTemplate(tar, tmp);
    if (existsSync(folder)) rmdirSync(folder); // an empty folder left by an earlier failed start
    renameSync(tmp, folder);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (existsSync(join(folder, 'PG_VERSION'))) return; // another process created it meanwhile
    throw new Error(`creating the database in ${folder} failed: ${(e as Error).message}`);
  }
}

/** A new database in memory with every migration applied, for template.ts to dump. */
async function buildTemplate(): Promise<PGlite> {
  const { db, layer, client } = await openPglite({ inMemory: true });
  try {
    await layer.load();
    await applyMigrations(db.adapter);
    await layer.close();
  } catch (e) {
    await db.close();
    throw e;
  }
  return client;
}

async function openPglite(options: OpenOptions, loadDataDir?: Blob): Promise<Opened & { client: PGlite }> {
  // each kind loads only its own driver
  const { PGlite } = await import('@electric-sql/pglite');
  if (options.brief) setFlagsFromString('--liftoff-only');
  const location = embeddedFolder(options) ?? 'memory';
  let client: PGlite;
  const settings = options.brief ? BRIEF : { shared_buffers: options.sharedBuffers ?? '16MB' };
  const startParams = [
    ...PGlite.defaultStartParams,
    ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
  ];
  if (options.inMemory) client = new PGlite({ startParams, loadDataDir });
  else {
    mkdirSync(location, { recursive: true });
    client = new PGlite(location, { startParams, loadDataDir });
  }
  await client.waitReady;
  const layer = new PrismaLayer(async () => new (await import('pglite-prisma-adapter')).PrismaPGlite(client));
  const db: Database = {
    get prisma() {
      return layer.get().prisma;
    },
    get adapter() {
      return layer.get().adapter;
    },
    kind: 'pglite',
    location,
    applied: [],
    locks: createLocks(),
    bossSchema: 'pgboss',
    executeSql: async (text, values) => {
      if (values?.length) return client.query(text, values as any[]);
      const results = await client.exec(text);
      return { rows: results.at(-1)?.rows ?? [] };
    },
    reader: { $queryRawUnsafe: async (text, ...values) => (await client.query(text, values)).rows as any },
    close: async () => {
      await layer.close();
      if (!client.closed) await client.close();
    },
  };
  return { db, layer, client };
}

/** A `?schema=name` parameter (Prisma's convention) selects the Postgres schema, default `public`. */
async function openPostgres(url: string): Promise<Opened> {
  const { default: pg } = await import('pg');
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema') ?? undefined;
  parsed.searchParams.delete('schema');
  if (schema) parsed.searchParams.set('options', `-c search_path="${schema}"`);
  const pool = new pg.Pool({ connectionString: parsed.toString(), max: 10 });
  const locks = createLocks(parsed.toString());
  const layer = new PrismaLayer(
    async () => new (await import('@prisma/adapter-pg')).PrismaPg(pool, schema ? { schema } : undefined),
  );
  const db: Database = {
    get prisma() {
      return layer.get().prisma;
    },
    get adapter() {
      return layer.get().adapter;
    },
    kind: 'postgres',
    location: maskUrl(url),
    applied: [],
    executeSql: (text, values) => pool.query(text, values as any[]),
    reader: { $queryRawUnsafe: async (text, ...values) => (await pool.query(text, values)).rows as any },
    locks,
    bossSchema: schema ? `${schema}_pgboss` : 'pgboss',
    close: async () => {
      await locks.close();
      await layer.close();
      await pool.end();
    },
  };
  return { db, layer };
}

/** Prisma's side of an open database, its driver adapter and client, loaded once when asked. */
class PrismaLayer {
  private loaded?: Promise<{ adapter: SqlMigrationAwareDriverAdapterFactory; prisma: PrismaClient }>;
  private value?: Awaited<NonNullable<PrismaLayer['loaded']>>;

  constructor(private readonly adapter: () => Promise<SqlMigrationAwareDriverAdapterFactory>) {}

  async load(): Promise<void> {
    this.loaded ??= (async () => {
      const [adapter, { PrismaClient }] = await Promise.all([
        this.adapter(),
        import('../generated/prisma/client.ts'),
      ]);
      return { adapter, prisma: new PrismaClient({ adapter }) };
    })();
    this.value = await this.loaded;
  }

  get() {
    if (!this.value)
      throw new Error('database opened with prisma: false: read it through reader or executeSql');
    return this.value;
  }

  async close(): Promise<void> {
    await this.value?.prisma.$disconnect();
  }
}
