/**
 * Opens the database: embedded PGlite in `<data_dir>/db` by default, or a Postgres server when a URL
 * is given. Pending migrations are applied at open, offline (see schema-engine.ts).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { maskUrl } from '../config/summary.ts';
import { PrismaClient } from '../generated/prisma/client.ts';
import { createLocks, type Locks } from './locks.ts';
import { applyMigrations } from './migrate.ts';

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
   * 128MB, is most of the process's memory before any work; the commands that read a few rows
   * (`status`, `db`) need far less. Default 32MB.
   */
  sharedBuffers?: string;
}

export async function openDatabase(options: OpenOptions = {}): Promise<Database> {
  const db = options.url ? await openPostgres(options.url) : await openPglite(options);
  try {
    if (options.migrate !== false)
      db.applied = await applyMigrations(db.adapter, (text) => db.executeSql(text));
    await db.prisma.$connect();
  } catch (e) {
    await db.close();
    throw e;
  }
  return db;
}

async function openPglite(options: OpenOptions): Promise<Database> {
  // each kind loads only its own driver
  const [{ PGlite }, { PrismaPGlite }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('pglite-prisma-adapter'),
  ]);
  let location = 'memory';
  let client: PGlite;
  const startParams = [
    ...PGlite.defaultStartParams,
    '-c',
    `shared_buffers=${options.sharedBuffers ?? '32MB'}`,
  ];
  if (options.inMemory) client = new PGlite({ startParams });
  else {
    location = join(resolve(options.dataDir ?? './.feisync'), 'db');
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
