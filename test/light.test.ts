/**
 * A light process: what `feisync` loads before it knows the command (its static imports, followed
 * through every file they import) holds no provider SDK, no Prisma and no PGlite; commands load
 * those themselves, with `import()`, so `--help` and `config check` never pay for them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

/** Static imports only (`import ... from`, `export ... from`), type-only ones left out. */
function staticImports(file: string): string[] {
  const text = readFileSync(resolve(root, file), 'utf8');
  return [...text.matchAll(/^(?:import|export)\s+(?!type\s)[^'"]*?from\s*['"]([^'"]+)['"]/gm)].map(
    (m) => m[1],
  );
}

function closure(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const todo = [entry];
  while (todo.length) {
    const file = todo.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const spec of staticImports(file)) {
      if (!spec.startsWith('.')) {
        packages.add(spec);
        continue;
      }
      const target = relative(root, resolve(root, dirname(file), spec));
      if (existsSync(resolve(root, target))) todo.push(target);
    }
  }
  return { files, packages };
}

describe('a light process', () => {
  it('loads no provider SDK, Prisma or PGlite before a command asks for them', () => {
    const { files, packages } = closure('src/app/cli.ts');
    expect(files.size).toBeGreaterThan(3);
    const heavy = [...packages].filter((p) =>
      /^(googleapis|google-auth-library|gaxios|@microsoft\/|@larksuiteoapi\/|@prisma\/|prisma$|@electric-sql\/|pglite|pg$|pg-boss|prom-client|ws$|cli-progress)/.test(
        p,
      ),
    );
    expect(heavy).toEqual([]);
    expect([...files].filter((f) => f.includes('generated/prisma') || f.startsWith('connectors/'))).toEqual(
      [],
    );
  });
});

// The same, watched at run time: every module `bin/feisync.mjs` loads, compiled (.build, what
// `npm install` and `npm test` make) and from the sources through tsx (FEISYNC_FROM_SOURCE=1).
const HEAVY =
  /\/node_modules\/(googleapis|google-auth-library|gaxios|@microsoft\/|@larksuiteoapi\/|@prisma\/client|pg-boss|prom-client|fastify|ws)\//;
const EMBEDDED = /\/node_modules\/(@electric-sql\/pglite|@prisma\/|prisma|pglite-prisma-adapter|pg)\//;

const work = mkdtempSync(join(tmpdir(), 'feisync-light-'));
const hook = join(work, 'hook.mjs');
writeFileSync(
  hook,
  `import { writeSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  writeSync(2, 'LOADED ' + r.url + '\\n');
  return r;
}`,
);
writeFileSync(
  join(work, 'register.mjs'),
  `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hook).href)});\n`,
);
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs bin/feisync.mjs; answers which entry ran and every module URL it loaded. */
function loads(args: string[], fromSource: boolean) {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(FEISYNC_|DATABASE_URL)/.test(k)),
  );
  const r = spawnSync(
    process.execPath,
    ['--import', pathToFileURL(join(work, 'register.mjs')).href, resolve(root, 'bin/feisync.mjs'), ...args],
    {
      cwd: work,
      env: { ...clean, ...(fromSource ? { FEISYNC_FROM_SOURCE: '1' } : {}) },
      encoding: 'utf8',
    },
  );
  expect(r.status, r.stderr).toBe(0);
  const urls = [...r.stderr.matchAll(/^LOADED (\S+)$/gm)].map((m) => m[1]);
  const entry = urls.some((u) => u.endsWith('/.build/cli.js'))
    ? 'compiled'
    : urls.some((u) => u.endsWith('/src/app/cli.ts'))
      ? 'source'
      : 'none';
  return { entry, urls };
}

describe.each([
  ['compiled', false],
  ['source', true],
] as const)('bin/feisync.mjs run %s', (kind, fromSource) => {
  const data = join(work, `data-${kind}`);
  const example = resolve(root, 'config/feisync.example.yaml');

  it('--help and config check load no provider SDK, Prisma or PGlite; status --offline no SDK and no Prisma client', async () => {
    const help = loads(['--help'], fromSource);
    // npm test compiles first (pretest), so there it is the compiled code that runs, as after npm install
    if (!fromSource && process.env.npm_lifecycle_event !== 'test' && help.entry !== 'compiled') return;
    expect(help.entry).toBe(kind);
    for (const { urls } of [help, loads(['config', 'check', example], fromSource)]) {
      expect(urls.filter((u) => HEAVY.test(u) || EMBEDDED.test(u))).toEqual([]);
    }
    loads(['db', 'migrate', '--data-dir', data], fromSource);
    const status = loads(['status', '--offline', '--data-dir', data], fromSource);
    expect(status.urls.some((u) => u.includes('/@electric-sql/pglite/'))).toBe(true);
    expect(status.urls.filter((u) => HEAVY.test(u) || u.includes('/generated/prisma/'))).toEqual([]);
  });
});
