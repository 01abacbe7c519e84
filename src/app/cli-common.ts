/** What the `feisync` commands share: lazy module loading, common options, the database to open, output. */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Option } from 'commander';
import { type Config, loadConfig, resolveConfigPath } from '../config/index.ts';
import { UsageError } from './exit.ts';

// Each command loads only what it uses: the provider SDKs, Prisma and PGlite cost seconds and hundreds
// of MB to load, which `--help` or `config check` should never pay.
export const lazy = {
  db: () => import('../store/db.ts'),
  migrate: () => import('../store/migrate.ts'),
  compose: () => import('./compose.ts'),
  conflicts: () => import('./conflicts.ts'),
  demo: () => import('./demo/run.ts'),
  emulators: () => import('./emulators.ts'),
  progress: () => import('./progress.ts'),
  reconcile: () => import('./reconcile-run.ts'),
  rooms: () => import('./rooms-report.ts'),
  serve: () => import('./serve.ts'),
  status: () => import('./status.ts'),
  sync: () => import('./sync-run.ts'),
  waves: () => import('./migrate.ts'),
  wavesStatus: () => import('./migrate-status.ts'),
  wavesRun: () => import('./migrate-run.ts'),
};

export const configOption = () =>
  new Option('-c, --config <file>', 'configuration file (default: $FEISYNC_CONFIG, else ./feisync.yaml)');
export const jsonOption = () => new Option('--json', 'print JSON instead of text');

export function positive(v: string, name: string, allowZero = false): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1))
    throw new UsageError(`${name}: expected a whole number, found "${v}"`);
  return n;
}

export interface DbOpts {
  config?: string;
  dataDir?: string;
  json?: boolean;
}

/**
 * The database to open: the config's `database` section when a config file is given or found,
 * (its `data_dir` relative to the config file), else `DATABASE_URL`, else the embedded default `./.feisync`. `--data-dir` wins for the embedded one.
 */
export function databaseTarget(opts: DbOpts): { url?: string; dataDir?: string } {
  const found = configIfAny(opts);
  const url = found ? found.config.database.url : (process.env.DATABASE_URL ?? '');
  // a config's data_dir is relative to the config file, as `sync` and `serve` read it
  const configured = found && resolve(dirname(resolve(found.path)), found.config.database.data_dir);
  return { url: url || undefined, dataDir: opts.dataDir ?? configured ?? './.feisync' };
}

/** The config file given or found, loaded (once per file); undefined when none is there and none was asked for. */
export function configIfAny(opts: DbOpts): { config: Config; path: string } | undefined {
  const path = resolveConfigPath(opts.config);
  const explicit = opts.config !== undefined || process.env.FEISYNC_CONFIG !== undefined;
  if (existsSync(path)) {
    if (!loaded.has(path)) loaded.set(path, { config: loadConfig(path), path });
    return loaded.get(path);
  }
  if (explicit) throw new UsageError(`configuration file not found: ${path}`);
  return undefined;
}
const loaded = new Map<string, { config: Config; path: string }>();

export function print(text: string) {
  process.stdout.write(`${text}\n`);
}
