/**
 * Domain rules: users not listed explicitly are found in the Feishu directory by e-mail domain and
 * mapped to the same local part on Google and Exchange; an explicit entry wins over a rule.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type App, compose } from '../../src/app/compose.ts';
import { writeDemoFiles } from '../../src/app/demo/run.ts';
import { generateTenant } from '../../src/app/demo/tenant.ts';
import { control, type Emulators, startEmulators } from '../../src/app/emulators.ts';
import { resolvePairs } from '../../src/app/pairs.ts';
import { parseConfig } from '../../src/config/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'feisync-rules-'));
const tenant = generateTenant({ users: 60, events: 60, now: Math.floor(Date.now() / 1000) });
let em: Emulators;
let app: App;

beforeAll(async () => {
  em = await startEmulators({ seed: tenant.seeds, unlimited: true });
  const file = writeDemoFiles(dir, tenant);
  const [first] = tenant.users;
  const domain = (email: string) => email.slice(email.indexOf('@') + 1);
  const config = parseConfig(
    stringify({
      ...tenant.config,
      users: [
        // explicit entry for one user, with a different Google address: it wins over the rule
        { feishu: first.feishuEmail, google: 'someone.else@example.org' },
        {
          rule: {
            feishu_domain: domain(first.feishuEmail),
            google_domain: domain(first.googleEmail),
            exchange_domain: domain(first.exchangeEmail),
          },
        },
      ],
    }),
    file,
    { FEISHU_URL: em.feishu, GOOGLE_URL: em.google, GRAPH_URL: em.graph },
  );
  app = await compose(config, file, { unthrottled: true });
  for (const u of tenant.users) {
    const grant = await control(em.feishu, 'user-token', {
      app_id: tenant.seeds.feishu.apps[0].app_id,
      open_id: u.openId,
    });
    await app.userTokens.adopt(u.openId, grant);
  }
});
afterAll(async () => {
  await app?.close();
  await em?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('domain rules', () => {
  it('pair every directory user of the domain (more than one directory page), explicit entries first', async () => {
    const { pairs, problems } = await resolvePairs(app);
    expect(problems).toEqual([]);
    const [first, ...rest] = tenant.users;
    const google = new Map(
      pairs.filter((p) => p.spoke === 'google').map((p) => [p.feishu.owner, p.target.owner]),
    );
    const graph = new Map(
      pairs.filter((p) => p.spoke === 'graph').map((p) => [p.feishu.owner, p.target.owner]),
    );
    expect(google.size).toBe(tenant.users.length);
    expect(google.get(first.openId)).toBe('someone.else@example.org');
    expect(graph.has(first.openId)).toBe(false); // the explicit entry names no Exchange mailbox
    for (const u of rest) {
      expect(google.get(u.openId)).toBe(u.googleEmail);
      expect(graph.get(u.openId)).toBe(u.exchangeEmail);
    }
  });
});
