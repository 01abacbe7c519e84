// Shared helpers for the config tests.
import { fileURLToPath } from 'node:url';
import { ConfigError, type ConfigIssue } from './errors.ts';

export const fixture = (name: string): string =>
  fileURLToPath(new URL(`../../test/fixtures/config/${name}`, import.meta.url));

export const DEMO_KEY = Buffer.from('feisync-demo-key-NOT-for-prod!!!').toString('base64');

/** Runs fn, which must throw a ConfigError, and returns it. */
export function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

export function issueAt(issues: ConfigIssue[], path: string): ConfigIssue {
  const found = issues.find((i) => i.path === path);
  if (!found) throw new Error(`no issue at ${path}; got: ${issues.map((i) => i.path).join(', ')}`);
  return found;
}
