// Reads YAML text into plain data while keeping, for every path, where its key and value start in the
// source, and which values came through env interpolation. Uses the `yaml` Document API.
import { type Document, isAlias, isMap, isScalar, isSeq, type Node, parseDocument } from 'yaml';
import { type Env, interpolate } from './interpolate.ts';

export type PathSeg = string | number;

export interface NodeSpot {
  /** Offset of the key (map entries only). */
  key?: number;
  /** Offset of the value node. */
  value: number;
}

export interface RawIssue {
  offset: number;
  path: PathSeg[];
  expected: string;
  found: string;
  message: string;
}

export interface YamlTree {
  data: unknown;
  /** Keyed by pathKey(path). The root is ''. */
  spots: Map<string, NodeSpot>;
  /** pathKey of every scalar whose value came through `${...}` interpolation. */
  fromEnv: Set<string>;
  issues: RawIssue[];
}

export const pathKey = (path: readonly PathSeg[]): string => path.join('.');

const MAX_DEPTH = 64;

export function readYaml(text: string, env: Env): YamlTree {
  // prettyErrors off: its messages quote source lines, which may hold secrets.
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  const tree: YamlTree = { data: undefined, spots: new Map(), fromEnv: new Set(), issues: [] };
  const lines = new Set<number>();
  for (const err of doc.errors) {
    // One syntax error per line: the rest are usually echoes of the first.
    const line = text.slice(0, err.pos[0]).split('\n').length;
    if (lines.has(line)) continue;
    lines.add(line);
    tree.issues.push({
      offset: err.pos[0],
      path: [],
      expected: 'valid YAML',
      found: `a syntax error (${err.code})`,
      message: `YAML syntax error: ${firstLine(err.message)}`,
    });
  }
  if (tree.issues.length > 0) return tree;
  tree.spots.set('', { value: doc.contents?.range?.[0] ?? 0 });
  tree.data = doc.contents ? toData(doc, doc.contents as Node, [], tree, env, 0) : undefined;
  return tree;
}

/** The first line of a yaml error message, without quoted source text (it may hold a secret). */
function firstLine(msg: string): string {
  return msg
    .split('\n')[0]
    .replace(/ at line \d+, column \d+:?$/, '')
    .replace(/:?\s*"(?:[^"\\]|\\.)*"?$/, '')
    .replace(/"(?:[^"\\]|\\.)*"/g, '(...)');
}

function toData(
  doc: Document,
  node: Node,
  path: PathSeg[],
  tree: YamlTree,
  env: Env,
  depth: number,
): unknown {
  const offset = node.range?.[0] ?? 0;
  if (depth > MAX_DEPTH) {
    tree.issues.push({
      offset,
      path,
      expected: 'a finite document',
      found: 'nesting too deep',
      message: 'nesting too deep (alias cycle?)',
    });
    return null;
  }
  if (isAlias(node)) {
    const target = node.resolve(doc);
    return target ? toData(doc, target, path, tree, env, depth + 1) : null;
  }
  if (isMap(node)) {
    const out: Record<string, unknown> = {};
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      const keyOffset = keyNode?.range?.[0] ?? offset;
      if (!isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === 'object') {
        tree.issues.push({
          offset: keyOffset,
          path,
          expected: 'a plain key',
          found: 'a complex or empty key',
          message: 'keys must be plain names',
        });
        continue;
      }
      const key = String(keyNode.value);
      const childPath = [...path, key];
      const valueNode = pair.value as Node | null;
      tree.spots.set(pathKey(childPath), { key: keyOffset, value: valueNode?.range?.[0] ?? keyOffset });
      out[key] = valueNode ? toData(doc, valueNode, childPath, tree, env, depth + 1) : null;
    }
    return out;
  }
  if (isSeq(node)) {
    return node.items.map((item, i) => {
      const childPath = [...path, i];
      const itemNode = item as Node | null;
      tree.spots.set(pathKey(childPath), { value: itemNode?.range?.[0] ?? offset });
      return itemNode ? toData(doc, itemNode, childPath, tree, env, depth + 1) : null;
    });
  }
  if (isScalar(node)) {
    const value = node.value;
    if (typeof value !== 'string') return typeof value === 'bigint' ? Number(value) : value;
    const res = interpolate(value, env);
    if (!res.ok) {
      tree.fromEnv.add(pathKey(path));
      tree.issues.push({ offset, path, expected: res.expected, found: res.found, message: res.message });
      return value;
    }
    if (res.used) tree.fromEnv.add(pathKey(path));
    return res.value;
  }
  return null;
}
