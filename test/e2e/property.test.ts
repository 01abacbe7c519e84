/**
 * Property: whatever sequence of Feishu edits (create, edit, move, delete, series with moved and
 * cancelled occurrences) interleaved with syncs under injected faults (429, 503, dropped connections on
 * either spoke), one final sync without faults leaves both spokes in exact parity, with no duplicates.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, policyOf } from '../../src/app/compose.ts';
import { generateTenant } from '../../src/app/demo/tenant.ts';
import { control, type Emulators } from '../../src/app/emulators.ts';
import { resolvePairs } from '../../src/app/pairs.ts';
import { exact, readParity } from '../../src/app/parity-run.ts';
import { runSync } from '../../src/app/sync-run.ts';
import { openWorld } from '../support/world.ts';

const dir = mkdtempSync(join(tmpdir(), 'feisync-prop-'));
const now = Math.floor(Date.now() / 1000);
const day = 86_400;
const tenant = generateTenant({ users: 2, events: 30, now });
let em: Emulators;
let app: App;
/** Events this test created and that still exist: calendar, id, series start (for occurrences). */
const live: { calendar: string; id: string; start: number; weekly: boolean }[] = [];

beforeAll(async () => {
  ({ em, app } = await openWorld(tenant, dir));
  await runSync(app);
});
afterAll(async () => {
  await app?.close();
  await em?.close();
  rmSync(dir, { recursive: true, force: true });
});

type Cmd =
  | { k: 'create'; user: number; dayOffset: number; hour: number; weekly: boolean; title: string }
  | { k: 'edit'; pick: number; title: string; shiftHours: number }
  | { k: 'move-occurrence'; pick: number; week: number; shiftHours: number }
  | { k: 'cancel-occurrence'; pick: number; week: number }
  | { k: 'delete'; pick: number }
  | { k: 'faults'; spoke: 'google' | 'graph'; status: 429 | 503 | 0; probability: number }
  | { k: 'sync' };

const title = fc.string({ minLength: 1, maxLength: 12 }).map((s) => `P ${s.trim() || 'x'}`);
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({
    k: fc.constant('create' as const),
    user: fc.nat(1),
    dayOffset: fc.integer({ min: 1, max: 60 }),
    hour: fc.integer({ min: 0, max: 22 }),
    weekly: fc.boolean(),
    title,
  }),
  fc.record({
    k: fc.constant('edit' as const),
    pick: fc.nat(),
    title,
    shiftHours: fc.integer({ min: -3, max: 3 }),
  }),
  fc.record({
    k: fc.constant('move-occurrence' as const),
    pick: fc.nat(),
    week: fc.integer({ min: 1, max: 3 }),
    shiftHours: fc.integer({ min: 1, max: 5 }),
  }),
  fc.record({
    k: fc.constant('cancel-occurrence' as const),
    pick: fc.nat(),
    week: fc.integer({ min: 1, max: 3 }),
  }),
  fc.record({ k: fc.constant('delete' as const), pick: fc.nat() }),
  fc.record({
    k: fc.constant('faults' as const),
    spoke: fc.constantFrom('google' as const, 'graph' as const),
    status: fc.constantFrom(429 as const, 503 as const, 0 as const),
    probability: fc.constantFrom(0.2, 0.5),
  }),
  fc.constant({ k: 'sync' as const }),
);

const feishuEvents = (body: unknown) => control(em.feishu, 'events', body);
const times = (start: number) => ({
  start_time: { timestamp: String(start), timezone: 'Asia/Shanghai' },
  end_time: { timestamp: String(start + 3600), timezone: 'Asia/Shanghai' },
});

async function apply(c: Cmd) {
  const picked = live.length && 'pick' in c ? live[c.pick % live.length] : undefined;
  switch (c.k) {
    case 'create': {
      const start = now + c.dayOffset * day + c.hour * 3600 - (now % 3600);
      const calendar = tenant.users[c.user].calendarId;
      const id = `${randomUUID()}_0`;
      await feishuEvents({
        op: 'create',
        calendar_id: calendar,
        event: {
          event_id: id,
          summary: c.title,
          ...times(start),
          ...(c.weekly ? { recurrence: 'FREQ=WEEKLY;COUNT=6' } : {}),
        },
      });
      live.push({ calendar, id, start, weekly: c.weekly });
      return;
    }
    case 'edit':
      if (!picked) return;
      await feishuEvents({
        op: 'patch',
        calendar_id: picked.calendar,
        event_id: picked.id,
        event: { summary: c.title, ...(picked.weekly ? {} : times(picked.start + c.shiftHours * 3600)) },
      });
      if (!picked.weekly) picked.start += c.shiftHours * 3600;
      return;
    case 'move-occurrence':
    case 'cancel-occurrence': {
      if (!picked?.weekly) return;
      const original = picked.start + c.week * 7 * day;
      const id = `${picked.id.slice(0, -2)}_${original}`;
      if (c.k === 'cancel-occurrence') {
        await feishuEvents({ op: 'delete', calendar_id: picked.calendar, event_id: id }).catch(() => {});
      } else {
        await feishuEvents({
          op: 'patch',
          calendar_id: picked.calendar,
          event_id: id,
          event: times(original + c.shiftHours * 3600),
        }).catch(() => {});
      }
      return;
    }
    case 'delete':
      if (!picked) return;
      await feishuEvents({ op: 'delete', calendar_id: picked.calendar, event_id: picked.id });
      live.splice(live.indexOf(picked), 1);
      return;
    case 'faults': {
      const url = c.spoke === 'google' ? em.google : em.graph;
      const path = c.spoke === 'google' ? '^/(batch/)?calendar/v3' : '^/v1\\.0/';
      const action =
        c.status === 0 ? { drop: true } : { status: c.status, headers: { 'retry-after': '0' }, body: {} };
      await control(url, 'faults', [{ match: { path }, probability: c.probability, action }]);
      return;
    }
    case 'sync':
      await runSync(app);
      return;
  }
}

describe('random Feishu edits and faults, then one clean sync', () => {
  it('always ends in exact parity on both spokes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(cmd, { minLength: 3, maxLength: 12 }), async (cmds) => {
        try {
          for (const c of cmds) await apply(c);
        } finally {
          for (const url of [em.google, em.graph])
            await fetch(`${url}/_emulator/faults`, { method: 'DELETE' });
        }
        const last = await runSync(app);
        expect(last.pairs.flatMap((p) => p.failures)).toEqual([]);
        const { pairs, attendeeFor } = await resolvePairs(app);
        const { perSpoke } = await readParity(app, pairs, policyOf(app.config), attendeeFor);
        for (const [spoke, p] of Object.entries(perSpoke)) {
          expect({ spoke, ...p.examples }).toEqual({ spoke, missing: [], extra: [], differing: [] });
          expect({
            spoke,
            missing: p.missing,
            extra: p.extra,
            differing: p.differing,
            examples: p.examples,
          }).toMatchObject({
            spoke,
            missing: 0,
            extra: 0,
            differing: 0,
          });
          expect(exact(p)).toBe(true);
        }
      }),
      // FEISYNC_PROPERTY_SEED replays a failure fast-check printed
      {
        numRuns: 25,
        endOnFailure: true,
        ...(process.env.FEISYNC_PROPERTY_SEED ? { seed: Number(process.env.FEISYNC_PROPERTY_SEED) } : {}),
      },
    );
  }, 600_000);
});
