import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.ts';
import { formatSummary, summarize } from './summary.ts';
import { configErrorOf, DEMO_KEY, issueAt } from './test-helpers.ts';

const BASE = [
  'feishu:',
  '  app_id: cli_0123456789abcdef',
  '  app_secret: s',
  'google:',
  '  credentials_file: a.json',
  `secret_key: ${DEMO_KEY}`,
];
const withLines = (...lines: string[]) => parseConfig([...BASE, ...lines].join('\n'), 'f.yaml', {});
const errorsOf = (...lines: string[]) => configErrorOf(() => withLines(...lines)).issues;

describe('migration.waves', () => {
  it('accepts waves by list or rule, and config check summarizes them', () => {
    const cfg = withLines(
      'migration:',
      '  waves:',
      '    - { name: wave-1, users: [a@x.cn, b@x.cn], target: google, cutover: "2027-01-15T18:00:00+08:00" }',
      '    - { name: wave-2, rule: { feishu_domain: sales.x.cn }, target: google }',
    );
    expect(cfg.migration.waves.map((w) => w.name)).toEqual(['wave-1', 'wave-2']);
    const text = formatSummary(summarize(cfg));
    expect(text).toContain('Migration: 2 wave(s)');
    expect(text).toContain('wave-1: 2 user(s) -> google, cutover 2027-01-15T18:00:00+08:00');
    expect(text).toContain('wave-2: @sales.x.cn -> google, cutover by hand');
    expect(withLines().migration.waves).toEqual([]);
  });

  it('names the path of each mistake', () => {
    const issues = errorsOf(
      'migration:',
      '  waves:',
      '    - { name: w1, users: [a@x.cn], target: exchange }',
      '    - { name: w1, users: [a@x.cn], target: google, cutover: tomorrow }',
      '    - { name: w3, target: google }',
      '    - { name: w4, users: [c@x.cn], target: gmail }',
    );
    expect(issueAt(issues, 'migration.waves.1.cutover').expected).toContain('ISO 8601');
    expect(issueAt(issues, 'migration.waves.3.target').expected).toContain('google');
  });

  it('cross-checks: unique names, one wave per user, users or rule', () => {
    const issues = errorsOf(
      'migration:',
      '  waves:',
      '    - { name: w1, users: [a@x.cn], target: google }',
      '    - { name: w1, users: [A@x.cn], target: google }',
      '    - { name: w3, target: google }',
      '    - { name: w4, users: [d@x.cn], target: exchange }',
    );
    expect(issueAt(issues, 'migration.waves.3.target').expected).toContain('exchange section');
    expect(issueAt(issues, 'migration.waves.1.name').expected).toContain('not used before');
    expect(issueAt(issues, 'migration.waves.1.users.0').found).toContain('w1');
    expect(issueAt(issues, 'migration.waves.2').expected).toContain('either users or rule');
  });
});
