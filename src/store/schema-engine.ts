/**
 * Prisma's WebAssembly schema engine, driven through the app's own driver adapter, so migrations are
 * created and applied with no native engine and no internet (ARCHITECTURE section 5). The package's
 * main entry needs `--experimental-wasm-modules`; instead we instantiate its .wasm ourselves.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import type { MigrationList, SchemaEngine } from '@prisma/schema-engine-wasm';

type EngineModule = { SchemaEngine: typeof SchemaEngine };
let loaded: Promise<EngineModule> | undefined;

function loadModule(): Promise<EngineModule> {
  loaded ??= (async () => {
    const glueUrl = import.meta.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const glue = (await import(glueUrl)) as EngineModule & { __wbg_set_wasm(x: unknown): void };
    const bytes = readFileSync(fileURLToPath(new URL('./schema_engine_bg.wasm', glueUrl)));
    // `WebAssembly` is a Node global that the ES lib typings (no DOM) do not declare.
    const wasm = (globalThis as any).WebAssembly;
    const { instance } = await wasm.instantiate(bytes, { './schema_engine_bg.js': glue });
    glue.__wbg_set_wasm(instance.exports);
    instance.exports.__wbindgen_start();
    return glue;
  })();
  return loaded;
}

export const SCHEMA_PATH = fileURLToPath(new URL('../../prisma/schema.prisma', import.meta.url));
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));
export const LOCKFILE =
  '# Written by Feisync (Prisma Migrate format). Do not edit.\nprovider = "postgresql"\n';
export const NO_FILTER = { externalTables: [] as string[], externalEnums: [] as string[] };

export function schemaFiles() {
  return { files: [{ path: SCHEMA_PATH, content: readFileSync(SCHEMA_PATH, 'utf8') }] };
}

/** The migrations folder as the engine wants it: `<dir>/<name>/migration.sql`, sorted by name. */
export function migrationsList(dir = MIGRATIONS_DIR): MigrationList {
  let names: string[] = [];
  try {
    names = readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch {
    names = [];
  }
  const lockPath = join(dir, 'migration_lock.toml');
  let lock = LOCKFILE;
  try {
    lock = readFileSync(lockPath, 'utf8');
  } catch {
    // a new migrations folder: the lock file is written with the first migration
  }
  return {
    baseDir: dir,
    lockfile: { path: 'migration_lock.toml', content: lock },
    shadowDbInitScript: '',
    migrationDirectories: names.map((name) => {
      let content: { tag: 'ok'; value: string } | { tag: 'error'; value: string };
      try {
        content = { tag: 'ok', value: readFileSync(join(dir, name, 'migration.sql'), 'utf8') };
      } catch (e) {
        content = { tag: 'error', value: String(e) };
      }
      return { path: name, migrationFile: { path: 'migration.sql', content } };
    }),
  };
}

/** Runs `fn` with a schema engine bound to the adapter; frees the engine afterwards. */
export async function withSchemaEngine<T>(
  adapter: SqlMigrationAwareDriverAdapterFactory,
  fn: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  const { SchemaEngine } = await loadModule();
  const schema = schemaFiles();
  const engine = await SchemaEngine.new(
    { datamodels: schema.files.map((f) => [f.path, f.content] as [string, string]) },
    () => {},
    bindMigrationAwareSqlAdapterFactory(adapter),
  );
  try {
    return await fn(engine);
  } finally {
    engine.free();
  }
}
