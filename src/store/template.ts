/**
 * A new embedded database starts as a copy of a template: a data folder already through initdb and
 * every migration, as PGlite dumps it (a tar file). PGlite's own initdb takes about 5 s and 830 MB
 * (it runs a second Postgres beside the first and copies its heap), and the schema engine then
 * applies the migrations; writing the template's files takes a tenth of a second. The template is built
 * once per PGlite version and migrations folder and kept in a cache folder: `FEISYNC_CACHE_DIR`, else
 * `node_modules/.cache/feisync` of this install, else the system's temporary folder. Building one
 * removes the others not used for a week (40 MB each): each load marks its template used (its
 * modification time), so a cache shared with installs of other versions keeps theirs while they run.
 */
import { createHash } from 'node:crypto';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import { migrationsList } from './schema-engine.ts';

export interface Template {
  /** The data folder as a tar file (PGlite's `loadDataDir` reads it, and `extractTemplate`). */
  tar: Buffer;
  /** The migrations it holds (every one of the folder). */
  migrations: string[];
}

const ROOT = new URL('../../', import.meta.url);

/** The cache file for the current PGlite and migrations: a new one when either changes. */
export function templatePath(): string {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const pglite = JSON.parse(readFileSync(join(dirname(entry), '../package.json'), 'utf8')) as {
    version: string;
  };
  const hash = createHash('sha256').update(`pglite ${pglite.version}\n`);
  for (const m of migrationsList().migrationDirectories) {
    const file = m.migrationFile.content;
    hash.update(`${m.path}\n${file.tag === 'ok' ? file.value : ''}\n`);
  }
  return join(cacheDir(), `pgdata-${hash.digest('hex').slice(0, 16)}.tar`);
}

function cacheDir(): string {
  const candidates = [
    process.env.FEISYNC_CACHE_DIR,
    fileURLToPath(new URL('node_modules/.cache/feisync', ROOT)),
    join(tmpdir(), 'feisync-cache'),
  ];
  for (const dir of candidates) {
    if (!dir) continue;
    try {
      mkdirSync(dir, { recursive: true });
      accessSync(dir, constants.W_OK);
      return dir;
    } catch {
      // not writable here: the next one
    }
  }
  throw new Error(`no writable cache folder for the database template (set FEISYNC_CACHE_DIR)`);
}

/**
 * The template, built first when the cache has none. `build` creates and migrates a database in
 * memory (openDatabase without a template; injected to keep this module free of db.ts).
 */
export async function loadTemplate(build: () => Promise<PGlite>): Promise<Template> {
  const path = templatePath();
  const migrations = migrationsList().migrationDirectories.map((d) => d.path);
  let tar: Buffer | undefined;
  try {
    tar = readFileSync(path);
  } catch {
    // not built yet
  }
  if (tar) {
    const now = new Date();
    try {
      utimesSync(path, now, now); // used: kept from pruning (a read-only cache just is not pruned)
    } catch {}
    return { tar, migrations };
  }
  const pg = await build();
  let bytes: Buffer;
  try {
    await pg.exec('CHECKPOINT');
    bytes = Buffer.from(await (await pg.dumpDataDir('none')).arrayBuffer());
  } finally {
    await pg.close();
  }
  // several processes may build at once: each writes its own file, the last rename wins, all equal
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  pruneTemplates(path);
  return { tar: bytes, migrations };
}

const WEEK_MS = 7 * 86_400_000;

/** Removes the cache's other templates not used for a week; a failure leaves them. */
function pruneTemplates(current: string): void {
  const dir = dirname(current);
  try {
    for (const name of readdirSync(dir)) {
      if (!/^pgdata-\w+\.tar$/.test(name) || name === basename(current)) continue;
      const file = join(dir, name);
      if (Date.now() - statSync(file).mtimeMs > WEEK_MS) rmSync(file, { force: true });
    }
  } catch {
    // another process pruned it first, or the folder is not ours to clean: no matter
  }
}

/** Whether the cache holds the current template (else `loadTemplate` builds it). */
export const templateReady = (): boolean => existsSync(templatePath());

/**
 * Writes the template's files into `folder`, an empty data folder. The tar file is plain ustar, as
 * PGlite writes it: a 512-byte header per entry (name, octal size, type), then the data padded to
 * 512 bytes. PGlite's own loading writes through its emulated file system, a write call per block:
 * about a second for the 40 MB of a new database, against a tenth here.
 */
export function extractTemplate(tar: Buffer, folder: string): void {
  const field = (header: Buffer, from: number, length: number) =>
    header.toString('latin1', from, from + length).replace(/\0.*$/s, '');
  let at = 0;
  while (at + 512 <= tar.length && tar[at] !== 0) {
    const header = tar.subarray(at, at + 512);
    const prefix = field(header, 345, 155);
    const name = normalize(`${prefix ? `${prefix}/` : ''}${field(header, 0, 100)}`).replace(/^\/+/, '');
    const size = Number.parseInt(field(header, 124, 12).trim() || '0', 8);
    const type = field(header, 156, 1) || '0';
    if (name.startsWith('..')) throw new Error(`database template: entry outside the folder: ${name}`);
    const path = join(folder, name);
    at += 512;
    if (type === '5') mkdirSync(path, { recursive: true });
    else if (type === '0') {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, tar.subarray(at, at + size));
    } else throw new Error(`database template: unexpected entry type ${type} for ${name}`);
    at += Math.ceil(size / 512) * 512;
  }
}
