// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} is the config file's own env syntax, not a template
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configJsonSchema, configJsonSchemaText } from './json-schema.ts';
import { fixture } from './test-helpers.ts';

describe('config/feisync.schema.json', () => {
  it('is current: equal to a fresh generation (run `npx tsx scripts/gen-config-schema.ts`)', () => {
    const committed = readFileSync(fixture('../../../config/feisync.schema.json'), 'utf8');
    expect(committed).toBe(configJsonSchemaText());
  });

  it('is strict, carries descriptions and defaults, and lets scalars be env references', () => {
    const s = configJsonSchema() as any;
    expect(s.additionalProperties).toBe(false);
    expect(s.required).toEqual(['feishu', 'secret_key']);
    expect(s.properties.sync.properties.private_events.description).toContain('busy-only');
    expect(s.properties.server.properties.port.default).toBe(8080);
    expect(s.properties.feishu.properties.events.properties.poll_interval.default).toBe('5m');
    const appId = s.properties.feishu.properties.app_id.anyOf;
    expect(appId.some((b: any) => b.pattern === '^cli_[0-9a-fA-F]{16}$')).toBe(true);
    expect(appId.some((b: any) => new RegExp(b.pattern).test('${FEISHU_APP_ID}'))).toBe(true);
  });
});
