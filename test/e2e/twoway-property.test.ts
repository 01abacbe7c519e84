/**
 * Property (two-way, both spokes): random creates, edits, deletes on all three sides, occurrences
 * moved and cancelled on Google, RSVPs on Google, interleaved with syncs under injected spoke faults
 * (429, 503, dropped connections); then, faults off, syncs until settled and one reconciliation: every
 * Feishu event is on both spokes exactly (no duplicates, nothing untagged left), and a quiet sync
 * writes nothing anywhere. Runs the polling path (`feisync sync`), not serve's notifications.
 * FEISYNC_PROPERTY_SEED replays a failing seed; FEISYNC_PROPERTY_RUNS sets the number of runs.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calendarFor } from '../../connectors/google/emulator/testkit.ts';
import { policyOf } from '../../src/app/compose.ts';
import { control } from '../../src/app/emulators.ts';
import { resolvePairs } from '../../src/app/pairs.ts';
import { exact, readParity } from '../../src/app/parity-run.ts';
import { runReconcile } from '../../src/app/reconcile-run.ts';
import { runSync } from '../../src/app/sync-run.ts';
import type { Pair } from '../../src/sync/pair.ts';
import { googleDrift, graphDrift } from '../support/drift.ts';
import {
  closeTwoWay,
  graphVersions,
  marks,
  NOW,
  openTwoWay,
  pairsOf,
  seedInvitation,
  spokeEvents,
  type TwoWayWorld,
  writesSince,
} from './twoway-world.ts';

const day = 86_400;
let w: TwoWayWorld;
let pairs: Record<'google' | 'graph', Pair>;
let invitation: string;

beforeAll(async () => {
  w = await openTwoWay('newest-wins', { users: 2, events: 20 });
  invitation = await seedInvitation(w, 'Invitation (property)', NOW + 3 * day);
  expect((await runSync(w.app)).ok).toBe(true);
  pairs = await pairsOf(w);
}, 120_000);
afterAll(() => closeTwoWay(w));

type Side = 'feishu' | 'google' | 'graph';
type Cmd =
  | { k: 'create'; side: Side; dayOffset: number; hour: number; weekly: boolean; title: string }
  | { k: 'edit'; side: Side; pick: number; title: string }
  | { k: 'delete'; side: 'google' | 'graph' | 'feishu'; pick: number }
  | { k: 'occurrence'; pick: number; week: number; cancel: boolean }
  | { k: 'rsvp'; answer: 'accepted' | 'declined' | 'tentative' }
  | { k: 'faults'; spoke: 'google' | 'graph'; status: 429 | 503 | 0 }
  | { k: 'sync' };

const title = fc.string({ minLength: 1, maxLength: 10 }).map((s) => `Q ${s.trim() || 'x'}`);
const side = fc.constantFrom<Side>('feishu', 'google', 'graph');
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({
    k: fc.constant('create' as const),
    side,
    dayOffset: fc.integer({ min: 1, max: 40 }),
    hour: fc.integer({ min: 0, max: 20 }),
    weekly: fc.boolean(),
    title,
  }),
  fc.record({ k: fc.constant('edit' as const), side, pick: fc.nat(), title }),
  fc.record({ k: fc.constant('delete' as const), side, pick: fc.nat() }),
  fc.record({
    k: fc.constant('occurrence' as const),
    pick: fc.nat(),
    week: fc.integer({ min: 1, max: 3 }),
    cancel: fc.boolean(),
  }),
  fc.record({
    k: fc.constant('rsvp' as const),
    answer: fc.constantFrom('accepted' as const, 'declined' as const, 'tentative' as const),
  }),
  fc.record({
    k: fc.constant('faults' as const),
    spoke: fc.constantFrom('google' as const, 'graph' as const),
    status: fc.constantFrom(429 as const, 503 as const, 0 as const),
  }),
  fc.constant({ k: 'sync' as const }),
);

const user = () => w.tenant.users[0];
const gApi = () => calendarFor(w.em.google, user().googleEmail);
const times = (start: number) => ({
  start_time: { timestamp: String(start), timezone: 'Asia/Shanghai' },
  end_time: { timestamp: String(start + 3600), timezone: 'Asia/Shanghai' },
});

/** The user's own events (not invitations) as a spoke holds them, singles or masters, in the future. */
async function mine(s: 'google' | 'graph', recurring?: boolean) {
  return (await spokeEvents(w, pairs[s])).filter(
    (r) =>
      r.event.key.originalTime === 0 &&
      r.event.status !== 'cancelled' &&
      !r.tag?.key.startsWith('inv') &&
      'timestamp' in r.event.start &&
      r.event.start.timestamp > NOW &&
      (recurring === undefined || recurring === r.event.recurrence.length > 0),
  );
}

const pending: Extract<Cmd, { k: 'faults' }>[] = [];

async function apply(c: Cmd) {
  switch (c.k) {
    case 'create': {
      const start = NOW - (NOW % 3600) + c.dayOffset * day + c.hour * 3600;
      if (c.side === 'feishu') {
        await control(w.em.feishu, 'events', {
          op: 'create',
          calendar_id: user().calendarId,
          event: {
            event_id: `${randomUUID()}_0`,
            summary: c.title,
            ...times(start),
            ...(c.weekly ? { recurrence: 'FREQ=WEEKLY;COUNT=5' } : {}),
          },
        });
      } else if (c.side === 'google') {
        await gApi().events.insert({
          calendarId: user().googleEmail,
          requestBody: {
            summary: c.title,
            start: { dateTime: new Date(start * 1000).toISOString(), timeZone: 'UTC' },
            end: { dateTime: new Date((start + 3600) * 1000).toISOString(), timeZone: 'UTC' },
            ...(c.weekly ? { recurrence: ['RRULE:FREQ=WEEKLY;COUNT=5'] } : {}),
          },
        });
      } else {
        await graphDrift(w.em.graph, w.tenant.seeds.graph.tenants[0], user().exchangeEmail).insert(
          c.title,
          start,
        );
      }
      return;
    }
    case 'edit': {
      if (c.side === 'feishu') {
        const list = await mine('google');
        const p = list[c.pick % Math.max(1, list.length)];
        if (!p?.tag) return;
        await control(w.em.feishu, 'events', {
          op: 'patch',
          calendar_id: user().calendarId,
          event_id: p.tag.key,
          event: { summary: c.title },
        }).catch(() => {});
        return;
      }
      const list = await mine(c.side);
      const p = list[c.pick % Math.max(1, list.length)];
      if (!p) return;
      const drift =
        c.side === 'google'
          ? googleDrift(w.em.google, user().googleEmail)
          : graphDrift(w.em.graph, w.tenant.seeds.graph.tenants[0], user().exchangeEmail);
      await drift.edit(p.ref.id, c.title);
      return;
    }
    case 'delete': {
      if (c.side === 'feishu') {
        const list = await mine('google');
        const p = list[c.pick % Math.max(1, list.length)];
        if (!p?.tag) return;
        await control(w.em.feishu, 'events', {
          op: 'delete',
          calendar_id: user().calendarId,
          event_id: p.tag.key,
        }).catch(() => {});
        return;
      }
      const list = await mine(c.side);
      const p = list[c.pick % Math.max(1, list.length)];
      if (!p) return;
      const drift =
        c.side === 'google'
          ? googleDrift(w.em.google, user().googleEmail)
          : graphDrift(w.em.graph, w.tenant.seeds.graph.tenants[0], user().exchangeEmail);
      await drift.remove(p.ref.id);
      return;
    }
    case 'occurrence': {
      const list = await mine('google', true);
      const m = list[c.pick % Math.max(1, list.length)];
      if (!m) return;
      const inst = await gApi().events.instances({
        calendarId: user().googleEmail,
        eventId: m.ref.id,
        maxResults: 4,
      });
      const occ = (inst.data.items ?? []).filter((i) => i.status !== 'cancelled')[c.week];
      if (!occ?.start?.dateTime) return;
      if (c.cancel) {
        await gApi().events.delete({ calendarId: user().googleEmail, eventId: occ.id! });
        return;
      }
      const s = Date.parse(occ.start.dateTime) / 1000 + 2 * 3600;
      await gApi().events.patch({
        calendarId: user().googleEmail,
        eventId: occ.id!,
        requestBody: {
          start: { dateTime: new Date(s * 1000).toISOString(), timeZone: 'UTC' },
          end: { dateTime: new Date((s + 3600) * 1000).toISOString(), timeZone: 'UTC' },
        },
      });
      return;
    }
    case 'rsvp': {
      const copy = (await spokeEvents(w, pairs.google)).find((r) => r.tag?.key === invitation);
      if (!copy) return;
      const me = user().googleEmail;
      const g = (await gApi().events.get({ calendarId: me, eventId: copy.ref.id })).data;
      await gApi().events.patch({
        calendarId: me,
        eventId: copy.ref.id,
        requestBody: {
          attendees: (g.attendees ?? []).map((a) =>
            a.email === me ? { ...a, responseStatus: c.answer === 'declined' ? 'tentative' : c.answer } : a,
          ),
        },
      });
      return;
    }
    case 'faults':
      // faults hit the syncs only (the users' own edits are not what is tested)
      pending.push(c);
      return;
    case 'sync':
      for (const f of pending.splice(0)) {
        const url = f.spoke === 'google' ? w.em.google : w.em.graph;
        const path = f.spoke === 'google' ? '^/(batch/)?calendar/v3' : '^/v1\\.0/';
        const action =
          f.status === 0 ? { drop: true } : { status: f.status, headers: { 'retry-after': '0' }, body: {} };
        await control(url, 'faults', [{ match: { path }, probability: 0.2, action }]);
      }
      try {
        await runSync(w.app);
      } finally {
        for (const url of [w.em.google, w.em.graph])
          await fetch(`${url}/_emulator/faults`, { method: 'DELETE' });
      }
      return;
  }
}

describe('random changes on all three sides, then quiescence and one reconcile', () => {
  it('ends with all three calendars agreeing, no duplicates, and a quiet sync', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(cmd, { minLength: 3, maxLength: 10 }), async (cmds) => {
        pending.length = 0;
        try {
          for (const c of cmds) await apply(c);
        } finally {
          for (const url of [w.em.google, w.em.graph])
            await fetch(`${url}/_emulator/faults`, { method: 'DELETE' });
        }
        // quiescence: syncs until one of them has nothing to bring from either side
        for (let i = 0; i < 4; i++) {
          const r = await runSync(w.app);
          const moved = r.reverse.reduce((n, x) => n + x.counts.toFeishu + x.counts.toSpoke, 0);
          if (r.ok && moved === 0 && r.totals.created + r.totals.updated + r.totals.deleted === 0) break;
        }
        const rec = await runReconcile(w.app);
        expect(rec.reverse.flatMap((x) => x.failures)).toEqual([]);
        const resolved = await resolvePairs(w.app);
        const { perSpoke } = await readParity(
          w.app,
          resolved.pairs,
          policyOf(w.app.config),
          resolved.attendeeFor,
        );
        for (const [spoke, p] of Object.entries(perSpoke)) {
          expect({ spoke, ...p.examples }).toEqual({ spoke, missing: [], extra: [], differing: [] });
          expect(exact(p)).toBe(true);
        }
        const before = await marks(w);
        const versions = await graphVersions(w);
        const quiet = await runSync(w.app);
        expect(quiet.ok).toBe(true);
        expect(await writesSince(w, before)).toEqual({ feishu: [], google: [], graph: [] });
        expect(await graphVersions(w)).toEqual(versions);
      }),
      {
        numRuns: Number(process.env.FEISYNC_PROPERTY_RUNS ?? 8),
        endOnFailure: true,
        ...(process.env.FEISYNC_PROPERTY_SEED ? { seed: Number(process.env.FEISYNC_PROPERTY_SEED) } : {}),
      },
    );
  }, 900_000);
});
