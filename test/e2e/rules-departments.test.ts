/**
 * Domain rules over a Feishu tenant whose users sit only in sub-departments (none in the root): the
 * directory walk finds them all, and a sync pairs each of them exactly once per spoke, also the one
 * who sits in two departments.
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
import { runSync } from '../../src/app/sync-run.ts';
import { parseConfig } from '../../src/config/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'feisync-depts-'));
const tenant = generateTenant({ users: 6, events: 24, now: Math.floor(Date.now() / 1000) });
// 0 ─┬─ od-eng ── od-eng-web ── od-eng-web-ui
//    └─ od-ops ── od-ops-sre
const departments = [
  { open_department_id: 'od-eng', parent_department_id: '0', name: 'Engineering' },
  { open_department_id: 'od-eng-web', parent_department_id: 'od-eng', name: 'Web' },
  { open_department_id: 'od-eng-web-ui', parent_department_id: 'od-eng-web', name: 'UI' },
  { open_department_id: 'od-ops', parent_department_id: '0', name: 'Operations' },
  { open_department_id: 'od-ops-sre', parent_department_id: 'od-ops', name: 'SRE' },
];
const placement = [
  ['od-eng-web'],
  ['od-eng-web-ui'],
  ['od-ops-sre'],
  ['od-eng-web-ui', 'od-ops-sre'], // in two departments
  ['od-eng-web-ui'],
  ['od-ops-sre'],
];
const seeds = {
  ...tenant.seeds,
  feishu: {
    ...tenant.seeds.feishu,
    departments,
    users: tenant.seeds.feishu.users.map((u, i) => ({ ...u, department_ids: placement[i] })),
  },
};
let em: Emulators;
let app: App;

beforeAll(async () => {
  em = await startEmulators({ seed: seeds as typeof tenant.seeds, unlimited: true });
  const file = writeDemoFiles(dir, tenant);
  const [first] = tenant.users;
  const domain = (email: string) => email.slice(email.indexOf('@') + 1);
  const config = parseConfig(
    stringify({
      ...tenant.config,
      users: [
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

describe('domain rules over a department tree', () => {
  it('the root holds nobody: listUsers finds every user below it', async () => {
    const listed = await app.feishu.listUsers();
    expect(listed.map((u) => u.openId).sort()).toEqual(tenant.users.map((u) => u.openId).sort());
  });

  it('sync pairs every user of the sub-departments exactly once per spoke', async () => {
    const report = await runSync(app);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.totals.failed).toBe(0);
    for (const spoke of ['google', 'graph']) {
      const paired = report.pairs.filter((p) => p.spoke === spoke).map((p) => p.user);
      expect(paired.sort()).toEqual(tenant.users.map((u) => u.feishuEmail).sort());
    }
    const targets = new Map(report.pairs.map((p) => [`${p.user}|${p.spoke}`, p.target]));
    for (const u of tenant.users) {
      expect(targets.get(`${u.feishuEmail}|google`)).toBe(u.googleEmail);
      expect(targets.get(`${u.feishuEmail}|graph`)).toBe(u.exchangeEmail);
    }
    expect(report.totals.created).toBeGreaterThan(0);
  });
});
