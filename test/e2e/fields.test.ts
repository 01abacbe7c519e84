/** A pair that does not sync attendees does not pay Feishu's request per event to fetch them. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compose } from '../../src/app/compose.ts';
import { writeDemoFiles } from '../../src/app/demo/run.ts';
import { generateTenant } from '../../src/app/demo/tenant.ts';
import { control, startEmulators } from '../../src/app/emulators.ts';
import { runSync } from '../../src/app/sync-run.ts';
import { loadConfig } from '../../src/config/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'feisync-fields-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function feishuEventGets(fields: string[]): Promise<{ gets: number; lists: number; created: number }> {
  const tenant = generateTenant({ users: 2, events: 30, now: Math.floor(Date.now() / 1000) });
  tenant.config.sync = { ...tenant.config.sync, fields };
  tenant.config.database = { ...tenant.config.database, data_dir: `./db-${fields.join('-')}` };
  const em = await startEmulators({ seed: tenant.seeds, unlimited: true });
  Object.assign(process.env, { FEISHU_URL: em.feishu, GOOGLE_URL: em.google, GRAPH_URL: em.graph });
  const file = writeDemoFiles(dir, tenant);
  const app = await compose(loadConfig(file), file, { unthrottled: true });
  try {
    for (const u of tenant.users) {
      const grant = await control(em.feishu, 'user-token', {
        app_id: tenant.seeds.feishu.apps[0].app_id,
        open_id: u.openId,
      });
      await app.userTokens.adopt(u.openId, grant);
    }
    const report = await runSync(app);
    const log = (await (await fetch(`${em.feishu}/_emulator/requests`)).json()) as {
      method: string;
      path: string;
    }[];
    const events = log.filter(
      (e) => e.method === 'GET' && /\/calendars\/[^/]+\/events(\/[^/]+)?$/.test(e.path),
    );
    return {
      gets: events.filter((e) => !e.path.endsWith('/events')).length,
      lists: events.filter((e) => e.path.endsWith('/events')).length,
      created: report.totals.created,
    };
  } finally {
    await app.close();
    await em.close();
  }
}

describe('attendee fetches follow sync.fields', () => {
  it('fetches each event for its attendees only when attendees are synced', async () => {
    const without = await feishuEventGets(['summary', 'description']);
    expect(without.created).toBeGreaterThan(0);
    expect(without.lists).toBeGreaterThan(0);
    expect(without.gets).toBe(0);
    const withAttendees = await feishuEventGets(['summary', 'attendees']);
    expect(withAttendees.created).toBeGreaterThan(0);
    expect(withAttendees.gets).toBeGreaterThan(20);
  });
});
