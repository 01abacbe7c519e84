import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import {
  LOCKFILE,
  MIGRATIONS_DIR,
  migrationsList,
  NO_FILTER,
  schemaFiles,
  withSchemaEngine,
} from './schema-engine.ts';

export interface MigrationStatus {
  all: string[];
  applied: string[];
  pending: string[];
  failed: string[];
  edited: string[];
}

type Sql = (text: string) => Promise<{ rows: any[] }>;

/**
 * Whether the database already has every migration of the folder, applied and unchanged, and
 * nothing else: every `_prisma_migrations` row finished and not rolled back, with the sha-256 of its
 * folder's `migration.sql` as checksum (as Prisma records it). One query instead of starting the
 * WebAssembly schema engine (seconds and hundreds of MB); anything else is left to the engine.
 */
export async function isCurrent(sql: Sql, dir?: string): Promise<boolean> {
  let rows: any[];
  try {
    ({ rows } = await sql(
      'SELECT migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations',
    ));
  } catch {
    return false; // no migrations table yet
  }
  const live = rows.filter((r) => r.rolled_back_at === null);
  if (live.some((r) => r.finished_at === null)) return false; // failed or in progress
  const applied = new Map(live.map((r) => [String(r.migration_name), String(r.checksum)]));
  const folder = migrationsList(dir).migrationDirectories;
  if (applied.size !== folder.length) return false;
  return folder.every((m) => {
    const file = m.migrationFile.content;
    if (file.tag !== 'ok') return false;
    return applied.get(m.path) === createHash('sha256').update(file.value).digest('hex');
  });
}

/**
 * Applies pending migrations; returns the names applied now (empty when up to date). With `sql`,
 * a database found current by `isCurrent` is left alone without starting the schema engine.
 */
export async function applyMigrations(
  adapter: SqlMigrationAwareDriverAdapterFactory,
  sql?: Sql,
): Promise<string[]> {
  if (sql && (await isCurrent(sql))) return [];
  return withSchemaEngine(adapter, async (engine) => {
    const out = await engine.applyMigrations({ migrationsList: migrationsList(), filters: NO_FILTER });
    return out.appliedMigrationNames;
  });
}

export async function migrationStatus(
  adapter: SqlMigrationAwareDriverAdapterFactory,
): Promise<MigrationStatus> {
  const list = migrationsList();
  const all = list.migrationDirectories.map((d) => d.path);
  return withSchemaEngine(adapter, async (engine) => {
    const diag = await engine.diagnoseMigrationHistory({
      migrationsList: list,
      optInToShadowDatabase: false,
      filters: NO_FILTER,
    });
    const history = diag.history;
    const pending = !diag.hasMigrationsTable
      ? all
      : history?.diagnostic === 'databaseIsBehind' || history?.diagnostic === 'historiesDiverge'
        ? history.unappliedMigrationNames
        : [];
    return {
      all,
      applied: all.filter((n) => !pending.includes(n)),
      pending,
      failed: diag.failedMigrationNames,
      edited: diag.editedMigrationNames,
    };
  });
}

/** SQL that would bring the live database to `schema.prisma`; empty when there is no drift. */
export async function driftScript(adapter: SqlMigrationAwareDriverAdapterFactory): Promise<string> {
  return withSchemaEngine(adapter, async (engine) => {
    const out = await engine.diff({
      from: { tag: 'schemaDatasource', ...schemaFiles(), configDir: process.cwd() },
      to: { tag: 'schemaDatamodel', ...schemaFiles() },
      script: true,
      exitCode: null,
      filters: NO_FILTER,
    });
    return meaningfulSql(out.stdout ?? '');
  });
}

/**
 * Writes `prisma/migrations/<timestamp>_<name>/migration.sql` with the SQL from the current
 * migrations to `schema.prisma`, computed on the adapter's shadow database. Returns the folder, or
 * undefined when the schema has no changes.
 */
export async function createMigration(
  adapter: SqlMigrationAwareDriverAdapterFactory,
  name: string,
  dir = MIGRATIONS_DIR,
): Promise<string | undefined> {
  if (!/^[a-z0-9_]+$/i.test(name)) throw new Error(`migration name must be letters, digits and _: ${name}`);
  const sql = await withSchemaEngine(adapter, async (engine) => {
    const out = await engine.diff({
      from: { tag: 'migrations', ...migrationsList(dir) },
      to: { tag: 'schemaDatamodel', ...schemaFiles() },
      script: true,
      exitCode: null,
      filters: NO_FILTER,
    });
    return out.stdout ?? '';
  });
  if (!meaningfulSql(sql)) return undefined;
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const folder = join(dir, `${stamp}_${name}`);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'migration.sql'), sql);
  writeFileSync(join(dir, 'migration_lock.toml'), LOCKFILE);
  return folder;
}

/** The engine writes "-- This is an empty migration." when there is nothing to do. */
const meaningfulSql = (sql: string) =>
  sql
    .split('\n')
    .filter((l) => l.trim() && !l.trim().startsWith('--'))
    .join('\n');
