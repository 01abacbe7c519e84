// Where the configuration file is: --config FILE, else $FEISYNC_CONFIG, else ./feisync.yaml.
import type { Env } from './interpolate.ts';

export const DEFAULT_CONFIG_FILE = './feisync.yaml';

export function resolveConfigPath(option?: string, env: Env = process.env): string {
  if (option) return option;
  const fromEnv = env.FEISYNC_CONFIG;
  return fromEnv ? fromEnv : DEFAULT_CONFIG_FILE;
}
