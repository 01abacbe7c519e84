export { ConfigError, type ConfigIssue, displayPath, formatIssue } from './errors.ts';
export { parseDuration } from './fields.ts';
export type { Env } from './interpolate.ts';
export { configJsonSchema, configJsonSchemaText } from './json-schema.ts';
export { loadConfig, parseConfig } from './load.ts';
export { DEFAULT_CONFIG_FILE, resolveConfigPath } from './paths.ts';
export { type Config, type ConfigInput, configSchema, SYNC_FIELDS } from './schema.ts';
export {
  type ConfigSummary,
  formatSummary,
  maskUrl,
  type PairSummary,
  type SpokeSummary,
  summarize,
} from './summary.ts';
