/**
 * A light process: what `feisync` loads before it knows the command (its static imports, followed
 * through every file they import) holds no provider SDK, no Prisma and no PGlite; commands load
 * those themselves, with `import()`, so `--help` and `config check` never pay for them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

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
