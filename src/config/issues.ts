// Turns zod issues into RawIssues that point at a source offset, with "expected" / "found" texts that
// never reveal a secret or an env-derived value.
import type { z } from 'zod';
import { type PathSeg, pathKey, type RawIssue, type YamlTree } from './yaml-tree.ts';

type ZodIssue = z.core.$ZodIssue;

/** Keys whose values are never printed. */
const SECRET_KEYS = new Set([
  'app_secret',
  'metrics_token',
  'client_secret',
  'encrypt_key',
  'verification_token',
  'secret_key',
]);
const SECRET_PATHS = new Set(['database.url']);

const TYPE_NAMES: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
};

/** Error map for `safeParse(data, { error })`: phrases every issue as what was expected. */
export function expectedText(iss: z.core.$ZodRawIssue): string {
  switch (iss.code) {
    case 'invalid_type':
      return TYPE_NAMES[iss.expected] ?? `a ${iss.expected}`;
    case 'unrecognized_keys': {
      const shape = (iss.inst as any)?._zod?.def?.shape as Record<string, unknown> | undefined;
      return shape ? `one of: ${Object.keys(shape).join(', ')}` : 'no other keys';
    }
    case 'invalid_value':
      return `one of: ${iss.values.map(String).join(', ')}`;
    case 'too_small':
      return iss.origin === 'array'
        ? `a list with at least ${iss.minimum} item(s)`
        : `a value >= ${iss.minimum}`;
    case 'too_big':
      return iss.origin === 'array'
        ? `a list with at most ${iss.maximum} item(s)`
        : `a value <= ${iss.maximum}`;
    case 'invalid_format':
      return `a valid ${iss.format}`;
    default:
      return 'a valid value';
  }
}

export function isSecretPath(path: readonly PathSeg[], tree: YamlTree): boolean {
  const key = pathKey(path);
  const last = path[path.length - 1];
  return (
    SECRET_PATHS.has(key) || (typeof last === 'string' && SECRET_KEYS.has(last)) || tree.fromEnv.has(key)
  );
}

/** Describes a value for the `found` field; for secrets only its type and size. */
export function describeFound(value: unknown, secret: boolean): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : `a list of ${value.length} item(s)`;
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') {
    if (!secret) return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
    return value.length === 0 ? 'an empty string' : `a string of ${value.length} characters`;
  }
  if (secret) return `a ${typeof value}`;
  return String(value);
}

function valueAt(data: unknown, path: readonly PathSeg[]): unknown {
  let cur = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[seg as string];
  }
  return cur;
}

/** Offset of the node at `path`, or of its nearest ancestor present in the source. */
function offsetOf(tree: YamlTree, path: readonly PathSeg[], preferKey: boolean): number {
  for (let n = path.length; n >= 0; n--) {
    const spot = tree.spots.get(pathKey(path.slice(0, n)));
    if (spot) return preferKey && n === path.length && spot.key !== undefined ? spot.key : spot.value;
  }
  return 0;
}

/** A union whose every branch failed on the value itself (not deeper) is reported as one issue. */
function pickBranch(branches: ZodIssue[][]): ZodIssue[] | undefined {
  const deep = branches.filter(
    (b) => b.length > 0 && !b.some((i) => i.path.length === 0 && i.code !== 'unrecognized_keys'),
  );
  if (deep.length === 0) return undefined;
  return deep.reduce((best, b) => (b.length < best.length ? b : best));
}

function flatten(issue: ZodIssue, base: PathSeg[], out: Array<{ issue: ZodIssue; path: PathSeg[] }>): void {
  const path = [...base, ...(issue.path as PathSeg[])];
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const branch = pickBranch(issue.errors);
    if (branch) {
      for (const sub of branch) flatten(sub, path, out);
      return;
    }
  }
  out.push({ issue, path });
}

export function mapZodIssues(issues: readonly ZodIssue[], tree: YamlTree): RawIssue[] {
  const flat: Array<{ issue: ZodIssue; path: PathSeg[] }> = [];
  for (const issue of issues) flatten(issue, [], flat);
  const out: RawIssue[] = [];
  for (const { issue, path } of flat) {
    const expected = issue.message;
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({
          offset: offsetOf(tree, [...path, key], true),
          path: [...path, key],
          expected,
          found: `key ${JSON.stringify(key)}`,
          message: `unknown key (expected ${expected})`,
        });
      }
      continue;
    }
    const value = valueAt(tree.data, path);
    const found =
      (issue.code === 'custom' && (issue.params?.found as string | undefined)) ||
      describeFound(value, isSecretPath(path, tree));
    const missing = value === undefined;
    if (missing && path.length === 0) {
      out.push({
        offset: 0,
        path,
        expected,
        found: 'an empty document',
        message: `expected ${expected}, found an empty document`,
      });
      continue;
    }
    out.push({
      offset: offsetOf(tree, path, false),
      path,
      expected,
      found,
      message: missing
        ? `missing required key (expected ${expected})`
        : `expected ${expected}, found ${found}`,
    });
  }
  return dedupe(out);
}

/** Drops repeats (same path and message) and schema issues under a path that already failed in YAML. */
export function dedupe(issues: RawIssue[], earlier: RawIssue[] = []): RawIssue[] {
  const seen = new Set<string>();
  const failed = earlier.map((i) => pathKey(i.path));
  return issues.filter((i) => {
    const key = pathKey(i.path);
    if (failed.some((f) => key === f || key.startsWith(`${f}.`))) return false;
    const id = `${key}\u0000${i.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
