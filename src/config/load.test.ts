// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} is the config file's own env syntax, not a template
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from './load.ts';
import { configErrorOf, DEMO_KEY, fixture, issueAt } from './test-helpers.ts';

describe('loadConfig: valid files', () => {
  it('loads a minimal file and fills every default', () => {
    const c = loadConfig(fixture('minimal.yaml'), {});
    expect(c.feishu.domain).toBe('https://open.feishu.cn');
    expect(c.feishu.events).toEqual({
      mode: 'websocket',
      encrypt_key: '',
      verification_token: '',
      poll_interval: 300_000,
    });
    expect(c.google?.calendar).toBe('primary');
    expect(c.exchange).toBeUndefined();
    expect(c.sync.direction).toEqual({ google: 'one-way', exchange: 'one-way' });
    expect(c.sync.window).toEqual({ past_days: 30, future_days: 365 });
    expect(c.sync.max_deletes_per_run).toBe(200);
    expect(c.reconcile).toEqual({ schedule: '0 3 * * *', repair: true });
    expect(c.server).toEqual({ host: '127.0.0.1', port: 8080, admins: [], metrics_token: '' });
    expect(c.database).toEqual({ url: '', data_dir: './.feisync' });
    expect(c.users).toEqual([]);
  });

  it('passes the example with an empty environment', () => {
    const c = loadConfig(fixture('../../../config/feisync.example.yaml'), {});
    expect(c.feishu.app_id).toBe('cli_a1b2c3d4e5f60718');
    expect(c.google).toBeDefined();
    expect(c.exchange).toBeDefined();
    expect(c.users).toHaveLength(2);
    expect(c.rooms[0].name).toBe('Room 101');
    expect(c.secret_key).toBe(DEMO_KEY);
  });

  it('a missing file is a ConfigError', () => {
    const err = configErrorOf(() => loadConfig(fixture('nope.yaml'), {}));
    expect(err.issues[0]).toMatchObject({ line: 0, found: 'no such file' });
    expect(err.format()).toContain('cannot read the configuration file');
  });
});

describe('loadConfig: errors point at file:line:col and a dotted path', () => {
  it('unknown keys: a misspelt top-level section and sync.privat_events', () => {
    const err = configErrorOf(() => loadConfig(fixture('unknown-keys.yaml'), {}));
    expect(issueAt(err.issues, 'gogle')).toMatchObject({ line: 4, col: 1, found: 'key "gogle"' });
    expect(issueAt(err.issues, 'gogle').expected).toContain('google');
    expect(issueAt(err.issues, 'sync.privat_events')).toMatchObject({ line: 11, col: 3 });
    expect(issueAt(err.issues, 'sync.privat_events').expected).toContain('private_events');
    const text = err.format();
    expect(text).toContain('unknown-keys.yaml:4:1 gogle: unknown key (expected one of: feishu, google,');
    expect(text).toContain('unknown-keys.yaml:11:3 sync.privat_events: unknown key');
  });

  it('wrong types: server.port abc and sync.max_deletes_per_run many point at the values', () => {
    const err = configErrorOf(() => loadConfig(fixture('wrong-types.yaml'), {}));
    expect(issueAt(err.issues, 'server.port')).toMatchObject({
      line: 7,
      col: 9,
      expected: 'an integer from 0 to 65535',
      found: '"abc"',
    });
    expect(issueAt(err.issues, 'sync.max_deletes_per_run')).toMatchObject({
      line: 9,
      col: 24,
      expected: 'an integer >= 0',
      found: '"many"',
    });
    expect(err.issues).toHaveLength(2);
  });

  it('a missing required key points at the parent mapping', () => {
    const err = configErrorOf(() => loadConfig(fixture('missing-app-id.yaml'), {}));
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]).toMatchObject({ path: 'feishu.app_id', line: 2, col: 3, found: 'nothing' });
    expect(err.format()).toMatch(
      /missing-app-id\.yaml:2:3 feishu\.app_id: missing required key \(expected cli_/,
    );
  });

  it('bad YAML syntax yields a ConfigError with line and column', () => {
    const err = configErrorOf(() => loadConfig(fixture('bad-syntax.txt'), {}));
    // The unclosed `[` of line 3 is detected where the flow sequence should have ended.
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]).toMatchObject({ line: 4, col: 1, path: '', expected: 'valid YAML' });
    expect(err.format()).toMatch(/bad-syntax\.txt:4:1 YAML syntax error: Flow sequence/);
  });

  it('an undefined env var without default is an error at its node, naming the variable', () => {
    const err = configErrorOf(() => loadConfig(fixture('undefined-env.yaml'), {}));
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]).toMatchObject({ path: 'feishu.app_secret', line: 3, col: 15 });
    expect(err.issues[0].message).toContain('FEISYNC_TEST_UNSET_SECRET');
  });

  it('reports several problems at once, each with line and column', () => {
    const err = configErrorOf(() => loadConfig(fixture('several.yaml'), {}));
    expect(err.issues.map((i) => [i.path, i.line, i.col])).toEqual([
      ['users.0.gogle', 8, 5],
      ['server.port', 10, 9],
    ]);
    expect(err.format().split('\n')).toEqual([
      `${fixture('several.yaml')}:8:5 users[0].gogle: unknown key (expected one of: feishu, google, exchange, calendars)`,
      `${fixture('several.yaml')}:10:9 server.port: expected an integer from 0 to 65535, found "abc"`,
    ]);
    expect(err.message).toContain('(and 1 more)');
  });

  it('an empty document is an error at 1:1', () => {
    const err = configErrorOf(() => parseConfig('', 'empty.yaml', {}));
    expect(err.format()).toBe('empty.yaml:1:1 expected a mapping, found an empty document');
  });
});

describe('secrets never appear in error text', () => {
  it('a bad secret_key from the environment is described by shape only', () => {
    const secret = 'tOpS3cretValue-not-base64!!';
    const text = `feishu:\n  app_id: cli_0123456789abcdef\n  app_secret: x\ngoogle:\n  credentials_file: a\nsecret_key: \${KEY}\n`;
    const err = configErrorOf(() => parseConfig(text, 'f.yaml', { KEY: secret }));
    expect(err.issues[0]).toMatchObject({ path: 'secret_key', line: 6, col: 13 });
    expect(err.issues[0].found).toBe(`a string of ${secret.length} characters`);
    expect(err.format()).not.toContain(secret);
    expect(JSON.stringify(err.issues)).not.toContain(secret);
    expect(err.message).not.toContain(secret);
  });

  it('secret keys written literally, env-derived values and database.url are not echoed', () => {
    const text = [
      'feishu:',
      '  app_id: ${APP}',
      '  app_secret: 12345',
      '  events: { encrypt_key: 999 }',
      'google: { credentials_file: a }',
      'database: { url: "mysql://root:hunter2@db/x" }',
      `secret_key: ${DEMO_KEY}`,
    ].join('\n');
    const err = configErrorOf(() => parseConfig(text, 'f.yaml', { APP: 'cli_NOTHEXNOTHEXNOTH' }));
    const out = err.format();
    expect(err.issues.map((i) => i.path).sort()).toEqual([
      'database.url',
      'feishu.app_id',
      'feishu.app_secret',
      'feishu.events.encrypt_key',
    ]);
    for (const leaked of ['NOTHEX', '12345', '999', 'hunter2']) expect(out).not.toContain(leaked);
    expect(issueAt(err.issues, 'feishu.app_secret').found).toBe('a number');
  });

  it('YAML syntax errors do not quote source text', () => {
    const err = configErrorOf(() => parseConfig('a: [1,\nb: }\nsecret_key: "hunter2"}', 'f.yaml', {}));
    expect(err.format()).not.toContain('hunter2');
  });
});
