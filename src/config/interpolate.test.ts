// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} is the config file's own env syntax, not a template
import { describe, expect, it } from 'vitest';
import { interpolate } from './interpolate.ts';
import { loadConfig, parseConfig } from './load.ts';
import { configErrorOf, DEMO_KEY, fixture } from './test-helpers.ts';

describe('interpolate', () => {
  it('replaces ${NAME}, ${NAME:-default} and embedded references', () => {
    const env = { A: 'x', EMPTY: '' };
    expect(interpolate('${A}', env)).toEqual({ ok: true, value: 'x', used: true });
    expect(interpolate('${B:-dflt}', env)).toMatchObject({ value: 'dflt' });
    expect(interpolate('${A:-dflt}', env)).toMatchObject({ value: 'x' });
    expect(interpolate('${EMPTY:-dflt}', env)).toMatchObject({ value: 'dflt' });
    expect(interpolate('${EMPTY}', env)).toMatchObject({ value: '' });
    expect(interpolate('${B:-}', env)).toMatchObject({ value: '' });
    expect(interpolate('pre-${A}-${B:-y}-post', env)).toMatchObject({ value: 'pre-x-y-post' });
    expect(interpolate('cost $5 and $${A}', env)).toMatchObject({ value: 'cost $5 and ${A}' });
    expect(interpolate('plain', env)).toEqual({ ok: true, value: 'plain', used: false });
  });

  it('fails on an unset variable without default, and on malformed references', () => {
    const unset = interpolate('a${NOPE}b', {});
    expect(unset.ok).toBe(false);
    if (!unset.ok) expect(unset.message).toContain('NOPE');
    expect(interpolate('${1BAD}', {}).ok).toBe(false);
    expect(interpolate('${OPEN', {}).ok).toBe(false);
  });
});

describe('interpolation in a configuration file', () => {
  it('coerces numbers and booleans from env by the schema and interpolates embedded values', () => {
    const c = loadConfig(fixture('interpolation.yaml'), {
      APP_ID: 'cli_0123456789ABCDEF',
      FEISYNC_SECRET_KEY: DEMO_KEY,
    });
    expect(c.feishu.app_id).toBe('cli_0123456789ABCDEF');
    expect(c.feishu.app_secret).toBe('default-secret');
    expect(c.feishu.domain).toBe('http://127.0.0.1:9001');
    expect(c.exchange?.tenant_id).toBe('contoso');
    expect(c.server.port).toBe(8080);
    expect(c.reconcile.repair).toBe(true);
    expect(c.sync.max_deletes_per_run).toBe(50);
    expect(c.database.url).toBe('postgres://app:pw@localhost/feisync');
  });

  it('env values override the defaults', () => {
    const c = loadConfig(fixture('interpolation.yaml'), {
      APP_ID: 'cli_0123456789abcdef',
      FEISYNC_SECRET_KEY: DEMO_KEY,
      PORT: '9443',
      REPAIR: 'false',
      MAX_DELETES: '7',
      FEISHU_HOST: 'emu.local',
      DB_HOST: 'db.internal',
    });
    expect(c.server.port).toBe(9443);
    expect(c.reconcile.repair).toBe(false);
    expect(c.sync.max_deletes_per_run).toBe(7);
    expect(c.feishu.domain).toBe('http://emu.local:9001');
    expect(c.database.url).toBe('postgres://app:pw@db.internal/feisync');
  });

  it('reports every unset variable, each at its own node', () => {
    const err = configErrorOf(() => loadConfig(fixture('interpolation.yaml'), {}));
    expect(err.issues.map((i) => [i.path, i.line, i.col])).toEqual([
      ['feishu.app_id', 2, 11],
      ['secret_key', 17, 13],
    ]);
    expect(err.issues[0].message).toContain('APP_ID');
    expect(err.issues[1].message).toContain('FEISYNC_SECRET_KEY');
  });

  it('a non-numeric env value for a number is a type error that does not show the value', () => {
    const env = { APP_ID: 'cli_0123456789abcdef', FEISYNC_SECRET_KEY: DEMO_KEY, PORT: 'eighty' };
    const err = configErrorOf(() => loadConfig(fixture('interpolation.yaml'), env));
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]).toMatchObject({
      path: 'server.port',
      line: 10,
      col: 9,
      found: 'a string of 6 characters',
    });
    expect(err.format()).not.toContain('eighty');
  });

  it('a quoted reference inside a flow mapping works too', () => {
    const text = `feishu: {app_id: "\${ID:-cli_0123456789abcdef}", app_secret: s}\ngoogle: {credentials_file: a}\nserver: {port: "\${P:-81}"}\nsecret_key: ${DEMO_KEY}\n`;
    expect(parseConfig(text, 'f.yaml', {}).server.port).toBe(81);
  });
});
