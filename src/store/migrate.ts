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

/** Applies pending migrations; returns the names applied now (empty when up to date). */
export async function applyMigrations(adapter: SqlMigrationAwareDriverAdapterFactory): Promise<string[]> {
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
