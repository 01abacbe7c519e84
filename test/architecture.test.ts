/**
 * The dependency rules of ARCHITECTURE section 3, checked on every import in the tree:
 * core imports nothing of ours; ports only core; sync only core and ports; connectors never Prisma,
 * the store or the config, and SDK-free code never reaches into a connector.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

function files(dir: string): string[] {
  const abs = join(root, dir);
  try {
    statSync(abs);
  } catch {
    return [];
  }
  return readdirSync(abs, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.includes('generated'))
    .map((f) => join(dir, f));
}

/** Every module specifier imported or re-exported by a file, relative ones resolved to repo paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const specs = [
    ...text.matchAll(/(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1] ?? m[2]);
  return specs.map((s) => (s.startsWith('.') ? relative(root, resolve(root, dirname(file), s)) : s));
}

function violations(dir: string, allowed: (spec: string, file: string) => boolean): string[] {
  return files(dir).flatMap((f) =>
    importsOf(f)
      .filter((s) => !allowed(s, f))
      .map((s) => `${f} -> ${s}`),
  );
}

const ours = (s: string) => s.startsWith('src/') || s.startsWith('connectors/') || s.startsWith('test/');
const isPrisma = (s: string) => s.startsWith('@prisma/') || s === 'prisma' || s.includes('generated/prisma');

describe('architecture', () => {
  it('has the files the rules are about', () => {
    expect(files('src/core').length).toBeGreaterThan(3);
    expect(importsOf('src/core/fingerprint.ts')).toContain('src/core/event.ts');
  });

  it('core imports nothing of ours outside core', () => {
    expect(violations('src/core', (s) => !ours(s) || s.startsWith('src/core/'))).toEqual([]);
  });

  it('ports import only core', () => {
    expect(violations('src/ports', (s) => !ours(s) || /^src\/(core|ports)\//.test(s))).toEqual([]);
  });

  it('sync imports only core and ports, and no SDK or database', () => {
    expect(
      // tests may wire a real store to the sync core; production files may not
      violations(
        'src/sync',
        (s, f) =>
          f.endsWith('.test.ts') ||
          (ours(s) ? /^src\/(core|ports|sync)\//.test(s) : !isPrisma(s) && !isSdk(s)),
      ),
    ).toEqual([]);
  });

  it('connectors never import Prisma, the store or the config', () => {
    expect(
      violations(
        'connectors',
        (s) =>
          !isPrisma(s) &&
          !s.startsWith('src/store') &&
          !s.startsWith('src/config') &&
          !s.startsWith('src/app'),
      ),
    ).toEqual([]);
  });

  it('a connector imports no other connector (the emulator kit is shared)', () => {
    expect(
      violations('connectors', (s, f) => {
        if (!s.startsWith('connectors/')) return true;
        const own = f.split('/')[1];
        return s.startsWith(`connectors/${own}/`) || s.startsWith('connectors/emulator/');
      }),
    ).toEqual([]);
  });

  it('SDKs are imported only inside their connector', () => {
    const sdkOf: Record<string, string> = {
      googleapis: 'google',
      'google-auth-library': 'google',
      gaxios: 'google',
      '@microsoft/microsoft-graph-client': 'graph',
      '@larksuiteoapi/node-sdk': 'feishu',
    };
    const bad = ['src', 'connectors'].flatMap((d) =>
      violations(d, (s, f) => !sdkOf[s] || f.startsWith(`connectors/${sdkOf[s]}/`) || f.includes('.test.')),
    );
    expect(bad).toEqual([]);
  });
});

function isSdk(s: string) {
  return /^(googleapis|google-auth-library|gaxios|@microsoft\/microsoft-graph-client|@larksuiteoapi\/node-sdk)$/.test(
    s,
  );
}
