import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from './load.ts';
import { resolveConfigPath } from './paths.ts';
import { formatSummary, maskUrl, summarize } from './summary.ts';
import { DEMO_KEY, fixture } from './test-helpers.ts';

describe('summarize', () => {
  it('summarizes the example: users, rules, pairs, rooms, spokes, events, database', () => {
    const s = summarize(loadConfig(fixture('../../../config/feisync.example.yaml'), {}));
    expect(s.users).toEqual({
      explicit: 1,
      rules: ['@example.cn -> google @example.com, exchange @contoso.com'],
    });
    expect(s.pairs).toEqual([
      {
        feishu: 'alice@example.cn',
        calendars: 'primary',
        google: 'alice@example.com',
        exchange: 'alice@contoso.com',
      },
    ]);
    expect(s.rooms).toEqual({ count: 1, google: 1, exchange: 1 });
    expect(s.spokes.google).toMatchObject({ enabled: true, direction: 'one-way' });
    expect(s.feishu.events).toBe('websocket');
    expect(s.database).toEqual({ kind: 'embedded', data_dir: './.feisync' });
    const text = formatSummary(s);
    expect(text).toContain('Users: 1 explicit, 1 rule(s)');
    expect(text).toContain(
      'alice@example.cn [primary] -> google alice@example.com, exchange alice@contoso.com',
    );
    expect(text).toContain('Database: embedded (PGlite) in ./.feisync');
    expect(text).not.toContain('change-me');
  });

  it('masks the database password and shows disabled spokes', () => {
    const text = [
      'feishu: { app_id: cli_0123456789abcdef, app_secret: topsecret, events: { mode: poll, poll_interval: 90s } }',
      'exchange: { tenant_id: t, client_id: c, client_secret: cs }',
      'sync: { direction: { exchange: two-way } }',
      'users: [{ feishu: a, exchange: a@b.com, calendars: [Work, Team] }]',
      'database: { url: "postgres://app:hunter2@db:5432/fs" }',
      `secret_key: ${DEMO_KEY}`,
    ].join('\n');
    const s = summarize(parseConfig(text, 'f.yaml', {}));
    expect(s.database).toEqual({ kind: 'postgres', url: 'postgres://app:***@db:5432/fs' });
    expect(s.spokes.google.enabled).toBe(false);
    expect(s.spokes.exchange).toMatchObject({ enabled: true, direction: 'two-way' });
    expect(s.pairs[0]).toEqual({ feishu: 'a', calendars: 'Work, Team', exchange: 'a@b.com' });
    const out = formatSummary(s);
    expect(out).toContain('google: disabled');
    expect(out).toContain('events by poll every 90s');
    for (const secret of ['hunter2', 'topsecret', DEMO_KEY]) expect(out).not.toContain(secret);
    expect(JSON.stringify(s)).not.toContain('hunter2');
  });

  it('maskUrl leaves password-less URLs alone', () => {
    expect(maskUrl('postgres://db/x')).toBe('postgres://db/x');
  });
});

describe('resolveConfigPath', () => {
  it('--config wins, then FEISYNC_CONFIG, then ./feisync.yaml', () => {
    expect(resolveConfigPath('a.yaml', { FEISYNC_CONFIG: 'b.yaml' })).toBe('a.yaml');
    expect(resolveConfigPath(undefined, { FEISYNC_CONFIG: 'b.yaml' })).toBe('b.yaml');
    expect(resolveConfigPath(undefined, {})).toBe('./feisync.yaml');
    expect(resolveConfigPath('', { FEISYNC_CONFIG: '' })).toBe('./feisync.yaml');
  });
});
