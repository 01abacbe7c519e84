/**
 * Opens the database: embedded PGlite in `<data_dir>/db` by default, or a Postgres server when a URL
 * is given. Pending migrations are applied at open, offline (see schema-engine.ts); an embedded
 * database that is new or behind is created and migrated by a child process first (prepare.ts).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { maskUrl } from '../config/summary.ts';
import { PrismaClient } from '../generated/prisma/client.ts';
import { createLocks, type Locks } from './locks.ts';
import { applyMigrations, isCurrent } from './migrate.ts';

export type { PrismaClient };

export interface Database {
  prisma: PrismaClient;
  kind: 'pglite' | 'postgres';
  /** Where the data lives: the folder, or the URL with its password masked. */
  location: string;
  adapter: SqlMigrationAwareDriverAdapterFactory;
  /** Raw SQL for pg-boss and maintenance; several statements are allowed when there are no values. */
  executeSql(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
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
}

/** The embedded database's folder, or undefined for a server URL or an in-memory database. */
function embeddedFolder(options: OpenOptions): string | undefined {
  if (options.url || options.inMemory) return undefined;
  return join(resolve(options.dataDir ?? './.feisync'), 'db');
}

export async function openDatabase(options: OpenOptions = {}): Promise<Database> {
  const folder = embeddedFolder(options);
  const inChild = folder !== undefined && options.migrate !== false && !options.inProcess;
  let applied: string[] = [];
  // the one-off steps (initdb, the schema engine) in a child: this process opens a ready database
  if (inChild && !existsSync(join(folder, 'PG_VERSION'))) applied = await prepareInChild(dirname(folder));
  let db = options.url ? await openPostgres(options.url) : await openPglite(options);
  try {
    const sql = (text: string) => db.executeSql(text);
    if (inChild && !(await isCurrent(sql))) {
      await db.close();
      applied = await prepareInChild(dirname(folder));
      db = await openPglite(options);
    } else if (options.migrate !== false && !inChild) applied = await applyMigrations(db.adapter, sql);
    db.applied = applied;
    await db.prisma.$connect();
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

async function openPglite(options: OpenOptions): Promise<Database> {
  // each kind loads only its own driver
  const [{ PGlite }, { PrismaPGlite }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('pglite-prisma-adapter'),
  ]);
  const location = embeddedFolder(options) ?? 'memory';
  let client: PGlite;
  const startParams = [
    ...PGlite.defaultStartParams,
    '-c',
    `shared_buffers=${options.sharedBuffers ?? '16MB'}`,
  ];
  if (options.inMemory) client = new PGlite({ startParams });
  else {
    mkdirSync(location, { recursive: true });
    client = new PGlite(location, { startParams });
  }
  await client.waitReady;
  const adapter = new PrismaPGlite(client);
  const prisma = new PrismaClient({ adapter });
  return {
    prisma,
    kind: 'pglite',
    location,
    adapter,
    applied: [],
    locks: createLocks(),
    bossSchema: 'pgboss',
    executeSql: async (text, values) => {
      if (values?.length) return client.query(text, values as any[]);
      const results = await client.exec(text);
      return { rows: results.at(-1)?.rows ?? [] };
    },
    close: async () => {
      await prisma.$disconnect();
      if (!client.closed) await client.close();
    },
  };
}

/** A `?schema=name` parameter (Prisma's convention) selects the Postgres schema, default `public`. */
async function openPostgres(url: string): Promise<Database> {
  const [{ default: pg }, { PrismaPg }] = await Promise.all([import('pg'), import('@prisma/adapter-pg')]);
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema') ?? undefined;
  parsed.searchParams.delete('schema');
  if (schema) parsed.searchParams.set('options', `-c search_path="${schema}"`);
  const pool = new pg.Pool({ connectionString: parsed.toString(), max: 10 });
  const locks = createLocks(parsed.toString());
  const adapter = new PrismaPg(pool, schema ? { schema } : undefined);
  const prisma = new PrismaClient({ adapter });
  return {
    prisma,
    kind: 'postgres',
    location: maskUrl(url),
    adapter,
    applied: [],
    executeSql: (text, values) => pool.query(text, values as any[]),
    locks,
    bossSchema: schema ? `${schema}_pgboss` : 'pgboss',
    close: async () => {
      await locks.close();
      await prisma.$disconnect();
      await pool.end();
    },
  };
}
