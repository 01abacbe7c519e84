/** A pair that does not sync attendees does not pay Feishu's request per event to fetch them. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateTenant } from '../../src/app/demo/tenant.ts';
import { runSync } from '../../src/app/sync-run.ts';
import { openWorld } from '../support/world.ts';

const dir = mkdtempSync(join(tmpdir(), 'feisync-fields-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function feishuEventGets(fields: string[]): Promise<{ gets: number; lists: number; created: number }> {
  const tenant = generateTenant({ users: 2, events: 30, now: Math.floor(Date.now() / 1000) });
  tenant.config.sync = { ...tenant.config.sync, fields };
  tenant.config.database = { ...tenant.config.database, data_dir: `./db-${fields.join('-')}` };
  const { em, app } = await openWorld(tenant, dir);
  try {
    const report = await runSync(app);
    const log = (await (await fetch(`${em.feishu}/_emulator/requests`)).json()) as {
      method: string;
      path: string;
    }[];
    const events = log.filter(
      (e) => e.method === 'GET' && /\/calendars\/[^/]+\/events(\/[^/]+(\/attendees)?)?$/.test(e.path),
    );
    return {
      // attendee reads: event gets and attendee lists, alternately
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
