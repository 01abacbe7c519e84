// Loads and validates a configuration file. All problems are collected and thrown together as one
// ConfigError whose issues point at file:line:col.
import { readFileSync } from 'node:fs';
import { ConfigError, type ConfigIssue } from './errors.ts';
import type { Env } from './interpolate.ts';
import { dedupe, expectedText, mapZodIssues } from './issues.ts';
import { type Config, configSchema } from './schema.ts';
import { pathKey, type RawIssue, readYaml } from './yaml-tree.ts';

/** Maps string offsets to 1-based line and column. */
function positioner(text: string): (offset: number) => { line: number; col: number } {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - starts[lo] + 1 };
  };
}

/** Parses and validates configuration text; `file` is only used in error positions. */
export function parseConfig(text: string, file: string, env: Env = process.env): Config {
  const tree = readYaml(text, env);
  let raw: RawIssue[] = tree.issues;
  let config: Config | undefined;
  const syntaxBroken = raw.some((i) => i.expected === 'valid YAML');
  if (!syntaxBroken) {
    const result = configSchema.safeParse(tree.data, { error: expectedText });
    if (result.success) config = result.data;
    else raw = [...raw, ...dedupe(mapZodIssues(result.error.issues, tree), raw)];
  }
  if (raw.length === 0 && config) return config;
  const pos = positioner(text);
  const issues: ConfigIssue[] = raw.map((i) => ({
    file,
    ...pos(i.offset),
    path: pathKey(i.path),
    expected: i.expected,
    found: i.found,
    message: i.message,
  }));
  throw new ConfigError(issues);
}

/** Reads `file` and parses it with `parseConfig`. A missing or unreadable file is a ConfigError too. */
export function loadConfig(file: string, env: Env = process.env): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const found = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : `error ${code}`;
    throw new ConfigError([
      {
        file,
        line: 0,
        col: 0,
        path: '',
        expected: 'a readable configuration file',
        found,
        message: `cannot read the configuration file (${found})`,
      },
    ]);
  }
  return parseConfig(text, file, env);
}
