/** listUsers walks the whole department tree against the emulator, each user once, in few requests. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFeishuConnector } from './client.ts';
import { APP_ID, APP_SECRET, sampleSeed } from './emulator/fixture.ts';
import { type FeishuEmulator, startFeishuEmulator } from './emulator/index.ts';

let em: FeishuEmulator;
const user = (name: string, department_ids?: string[], email = `${name}@example.com`) => ({
  open_id: `ou_${name}`,
  user_id: `u_${name}`,
  union_id: `on_${name}`,
  email,
  name,
  ...(department_ids ? { department_ids } : {}),
});
const od = (i: number) => `od-${String(i).padStart(2, '0')}`;

// 61 departments (two listing pages): od-00..od-29 under the root, od-30..od-59 under od-00..od-29,
// od-60 under od-30 (three levels). 55 users in od-05 (two member pages), one in three departments,
// one without an e-mail; alice and bob (no department_ids) sit in the root.
const departments = [
  ...Array.from({ length: 30 }, (_, i) => ({
    open_department_id: od(i),
    parent_department_id: '0',
    name: `D${i}`,
  })),
  ...Array.from({ length: 30 }, (_, i) => ({
    open_department_id: od(30 + i),
    parent_department_id: od(i),
    name: `D${30 + i}`,
  })),
  { open_department_id: od(60), parent_department_id: od(30), name: 'D60' },
];
const crowd = Array.from({ length: 55 }, (_, i) => user(`crowd${i}`, [od(5)]));
const users = [
  ...crowd,
  user('multi', [od(2), od(31), od(60)]),
  user('deep', [od(60)]),
  user('mailless', [od(40)], ''),
];

beforeAll(async () => {
  em = await startFeishuEmulator();
  await fetch(`${em.url}/_emulator/seed`, { method: 'POST', body: JSON.stringify(sampleSeed()) });
  await fetch(`${em.url}/_emulator/seed`, { method: 'POST', body: JSON.stringify({ departments, users }) });
});
afterAll(() => em.close());

describe('feishu connector: listUsers', () => {
  it('lists every user of the department tree once, with one children listing and members per department', async () => {
    const since = ((await (await fetch(`${em.url}/_emulator/requests`)).json()) as any[]).at(-1)?.seq ?? 0;
    const c = createFeishuConnector({
      appId: APP_ID,
      appSecret: APP_SECRET,
      domain: em.url,
      baseDelayMs: 20,
    });
    const listed = await c.listUsers();
    const ids = listed.map((u) => u.openId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(
      ['ou_alice', 'ou_bob', ...crowd.map((u) => u.open_id), 'ou_multi', 'ou_deep'].sort(),
    );
    expect(listed.find((u) => u.openId === 'ou_multi')?.email).toBe('multi@example.com');

    const log = ((await (await fetch(`${em.url}/_emulator/requests?since=${since}`)).json()) as any[]).filter(
      (r) => r.path.startsWith('/open-apis/contact/'),
    );
    expect(log.every((r) => r.status === 200)).toBe(true);
    const children = log.filter((r) => r.path === '/open-apis/contact/v3/departments/0/children');
    expect(children).toHaveLength(2); // 61 departments, 50 a page
    for (const r of children) expect(r.query).toContain('fetch_child=true');
    const members = log.filter((r) => r.path === '/open-apis/contact/v3/users/find_by_department');
    expect(members).toHaveLength(1 + 61 + 1); // the root, each department, od-05's second page
    const asked = new Set(members.map((r) => new URLSearchParams(r.query).get('department_id')));
    expect(asked).toEqual(new Set(['0', ...departments.map((d) => d.open_department_id)]));
    expect(log).toHaveLength(children.length + members.length);
  });
});
