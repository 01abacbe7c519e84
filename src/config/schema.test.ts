import { describe, expect, it } from 'vitest';
import { isValidCron, parseDuration } from './fields.ts';
import { parseConfig } from './load.ts';
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

describe('field helpers', () => {
  it('parses durations to milliseconds', () => {
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('5')).toBeUndefined();
    expect(parseDuration('m5')).toBeUndefined();
  });

  it('checks cron expressions', () => {
    for (const ok of ['0 3 * * *', '*/15 * * * *', '0 9-17 * * MON-FRI', '0 0 1,15 JAN *']) {
      expect(isValidCron(ok), ok).toBe(true);
    }
    for (const bad of ['0 3 * *', '60 * * * *', '0 24 * * *', '* * 0 * *', '0 3 * * * *', 'a b c d e']) {
      expect(isValidCron(bad), bad).toBe(false);
    }
  });
});

describe('schema rules', () => {
  it('durations are kept in their written form in the file and parsed to ms', () => {
    expect(withLines('  # c').feishu.events.poll_interval).toBe(300_000);
    const c = parseConfig(
      [...BASE.slice(0, 3), '  events: { mode: poll, poll_interval: 30s }', ...BASE.slice(3)].join('\n'),
      'f.yaml',
      {},
    );
    expect(c.feishu.events).toMatchObject({ mode: 'poll', poll_interval: 30_000 });
  });

  it('rejects enum values outside the list, naming the choices', () => {
    const issues = errorsOf('sync:', '  private_events: hide', '  direction: { google: both }');
    expect(issueAt(issues, 'sync.private_events').expected).toBe('one of: copy, busy-only, skip');
    expect(issueAt(issues, 'sync.direction.google')).toMatchObject({
      line: 9,
      expected: 'one of: one-way, two-way',
    });
  });

  it('sync.fields must be a subset of the known fields without duplicates', () => {
    expect(withLines('sync: { fields: [summary, location] }').sync.fields).toEqual(['summary', 'location']);
    expect(issueAt(errorsOf('sync: { fields: [summary, colour] }'), 'sync.fields.1').found).toBe('"colour"');
    expect(issueAt(errorsOf('sync: { fields: [summary, summary] }'), 'sync.fields').expected).toContain(
      'duplicates',
    );
  });

  it('validates app_id, secret_key length, urls and e-mails', () => {
    const text = [
      'feishu:',
      '  app_id: cli_123',
      '  app_secret: s',
      '  domain: ftp://x',
      'google: { credentials_file: a }',
      'users:',
      '  - { feishu: a, google: not-an-email }',
      `secret_key: ${Buffer.alloc(16).toString('base64')}`,
    ].join('\n');
    const issues = configErrorOf(() => parseConfig(text, 'f.yaml', {})).issues;
    expect(issues.map((i) => i.path)).toEqual([
      'feishu.app_id',
      'feishu.domain',
      'users.0.google',
      'secret_key',
    ]);
    expect(issueAt(issues, 'secret_key').found).toBe('a string of 24 characters');
  });

  it('users: explicit mappings and rules; calendars primary | all | list', () => {
    const c = withLines(
      'users:',
      '  - { feishu: a@x.cn, google: a@x.com, calendars: all }',
      '  - { feishu: ou_123, google: b@x.com, calendars: [Team, cal_42] }',
      '  - { feishu: c@x.cn, google: c@x.com }',
      '  - rule: { feishu_domain: x.cn, google_domain: x.com }',
    );
    expect(c.users[0]).toMatchObject({ calendars: 'all' });
    expect(c.users[1]).toMatchObject({ calendars: ['Team', 'cal_42'] });
    expect(c.users[2]).toMatchObject({ calendars: 'primary' });
    expect(c.users[3]).toEqual({ rule: { feishu_domain: 'x.cn', google_domain: 'x.com' } });
    const issues = errorsOf(
      'users:',
      '  - { feishu: a@x.cn, google: a@x.com, calendars: some }',
      '  - rule: { feishu_domain: x.cn, gogle_domain: x.com }',
      '  - just-a-string',
    );
    expect(issueAt(issues, 'users.0.calendars').expected).toBe(
      'primary, all, or a list of calendar ids or names',
    );
    expect(issueAt(issues, 'users.1.rule.gogle_domain')).toMatchObject({ line: 9, col: 34 });
    expect(issueAt(issues, 'users.2').expected).toContain('a user mapping');
  });

  it('needs at least one spoke, and mappings only to configured spokes', () => {
    const text = `feishu: { app_id: cli_0123456789abcdef, app_secret: s }\nsecret_key: ${DEMO_KEY}\n`;
    const err = configErrorOf(() => parseConfig(text, 'f.yaml', {}));
    expect(err.format()).toBe(
      'f.yaml:1:1 expected at least one spoke: a google or exchange section, found neither',
    );
    const issues = errorsOf(
      'users: [{ feishu: a, exchange: a@b.com }, { feishu: b }, { rule: { feishu_domain: x.cn } }]',
      'rooms: [{ feishu: omm_1, exchange: r@b.com }]',
    );
    expect(issueAt(issues, 'users.0.exchange').found).toBe('no exchange section');
    expect(issueAt(issues, 'users.1').expected).toContain('google or exchange');
    expect(issueAt(issues, 'users.2.rule').found).toBe('neither');
    expect(issueAt(issues, 'rooms.0.exchange').line).toBe(8);
  });

  it('webhook mode needs server.public_url', () => {
    const text = [...BASE.slice(0, 3), '  events: { mode: webhook }', ...BASE.slice(3)].join('\n');
    const err = configErrorOf(() => parseConfig(text, 'f.yaml', {}));
    expect(err.issues[0]).toMatchObject({ path: 'server.public_url', line: 1, col: 1 });
    expect(
      parseConfig(`${text}\nserver: { public_url: https://x.example.com }`, 'f.yaml', {}).server.public_url,
    ).toBe('https://x.example.com');
  });

  it('database.url: empty means embedded; otherwise a postgres URL', () => {
    expect(withLines('database: { url: "" }').database.url).toBe('');
    expect(withLines('database: { url: "postgres://u:p@h:5432/d" }').database.url).toBe(
      'postgres://u:p@h:5432/d',
    );
    const issue = issueAt(errorsOf('database: { url: "mysql://h/d" }'), 'database.url');
    expect(issue.found).toBe('a string of 11 characters');
  });

  it('ports and counts have ranges; a cron schedule needs 5 valid fields', () => {
    const issues = errorsOf(
      'server: { port: 70000 }',
      'sync: { window: { past_days: -1 } }',
      'reconcile: { schedule: "0 25 * * *" }',
    );
    expect(issues.map((i) => i.path)).toEqual(['server.port', 'sync.window.past_days', 'reconcile.schedule']);
    expect(issues[0].found).toBe('70000');
  });
});
