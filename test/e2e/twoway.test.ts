/**
 * Two-way pairs through `feisync sync` (the polling path): spoke changes made through Google's and
 * Graph's own APIs reach Feishu and the other spoke; echoes are dropped; a quiet run writes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSync } from '../../src/app/sync-run.ts';
import type { Pair } from '../../src/sync/pair.ts';
import { googleDrift, graphDrift } from '../support/drift.ts';
import {
  answerOnGoogle,
  closeTwoWay,
  copyOf,
  feishuEvent,
  graphVersions,
  marks,
  NOW,
  openTwoWay,
  pairsOf,
  seedInvitation,
  someSingle,
  spokeEvents,
  type TwoWayWorld,
  writesSince,
} from './twoway-world.ts';

let w: TwoWayWorld;
let pairs: Record<'google' | 'graph', Pair>;

let invitation: string;
let declined: string;
let notMine: string;

beforeAll(async () => {
  w = await openTwoWay('feishu-wins');
  invitation = await seedInvitation(w, 'Invitation to answer', NOW + 6 * 86_400);
  declined = await seedInvitation(w, 'Invitation to remove', NOW + 7 * 86_400);
  notMine = await seedInvitation(w, 'Organized by someone else', NOW + 8 * 86_400);
  const first = await runSync(w.app);
  expect(first.totals.failed).toBe(0);
  expect(first.ok).toBe(true);
  pairs = await pairsOf(w);
}, 120_000);
afterAll(() => closeTwoWay(w));

const user = () => w.tenant.users[0];
const gDrift = () => googleDrift(w.em.google, user().googleEmail);
const mDrift = () => graphDrift(w.em.graph, w.tenant.seeds.graph.tenants[0], user().exchangeEmail);

async function quiet() {
  const before = await marks(w);
  const versions = await graphVersions(w);
  const r = await runSync(w.app);
  expect(r.ok).toBe(true);
  expect(await writesSince(w, before)).toEqual({ feishu: [], google: [], graph: [] });
  expect(await graphVersions(w)).toEqual(versions);
  return r;
}

describe('two-way sync through feisync sync', () => {
  it('after the initial sync, a second run is quiet (our own copies are echoes)', async () => {
    const r = await quiet();
    // both users, both spokes: every spoke calendar read, nothing found to bring to Feishu
    expect(r.reverse).toHaveLength(4);
    for (const x of r.reverse) expect(x.counts).toMatchObject({ toFeishu: 0, toSpoke: 0, failed: 0 });
  });

  it('a Google edit reaches Feishu and Exchange, then all is quiet', async () => {
    const copy = (await someSingle(w, pairs.google))!;
    expect(copy).toBeDefined();
    const key = copy.tag!.key;
    await gDrift().edit(copy.ref.id, 'Edited in Google');
    const r = await runSync(w.app);
    expect(r.ok).toBe(true);
    expect((await feishuEvent(w, pairs.google, key))?.summary).toBe('Edited in Google');
    expect((await copyOf(w, pairs.graph, key))?.event.summary).toBe('Edited in Google');
    await quiet();
  });

  it('an Outlook create reaches Feishu and Google; the original gets the origin tag', async () => {
    const id = await mDrift().insert('Created in Outlook', NOW + 5 * 86_400);
    const r = await runSync(w.app);
    expect(r.ok).toBe(true);
    const original = (await spokeEvents(w, pairs.graph)).find((e) => e.ref.id === id)!;
    expect(original.tag?.pair).toBe(pairs.graph.id);
    const key = original.tag!.key;
    const inFeishu = await feishuEvent(w, pairs.graph, key);
    expect(inFeishu?.summary).toBe('Created in Outlook');
    expect((await copyOf(w, pairs.google, key))?.event.summary).toBe('Created in Outlook');
    // exactly one copy on Google, and nothing new on Exchange
    const google = (await spokeEvents(w, pairs.google)).filter(
      (e) => e.event.summary === 'Created in Outlook',
    );
    expect(google).toHaveLength(1);
    const graph = (await spokeEvents(w, pairs.graph)).filter((e) => e.event.summary === 'Created in Outlook');
    expect(graph).toHaveLength(1);
    await quiet();
  });

  it('a copy deleted on Exchange deletes the Feishu event the user organizes, and the Google copy', async () => {
    const copy = (await someSingle(w, pairs.graph, 2))!;
    const key = copy.tag!.key;
    expect(await feishuEvent(w, pairs.graph, key)).toBeDefined();
    await mDrift().remove(copy.ref.id);
    const r = await runSync(w.app);
    expect(r.ok).toBe(true);
    expect(await feishuEvent(w, pairs.graph, key)).toBeUndefined();
    expect(await copyOf(w, pairs.google, key)).toBeUndefined();
    await quiet();
  });

  it('an RSVP on Google is replied in Feishu (an invitation) and reaches Exchange', async () => {
    const g = await answerOnGoogle(w, pairs.google, invitation, 'accepted');
    expect(g.attendees?.find((a) => a.email === user().googleEmail)?.responseStatus).toBe('needsAction');
    const r = await runSync(w.app);
    expect(r.ok).toBe(true);
    const f = await feishuEvent(w, pairs.google, invitation);
    expect(f?.attendees.find((a) => a.id === user().openId)?.rsvp).toBe('accepted');
    const m = await copyOf(w, pairs.graph, invitation);
    expect(m?.event.attendees.find((a) => a.email === user().exchangeEmail)?.rsvp).toBe('accepted');
    await quiet();
  });

  it('an answer given in Feishu while one from Google is carried there wins on every side', async () => {
    await answerOnGoogle(w, pairs.google, invitation, 'tentative');
    // the owner answers again in Feishu just after the bridge gave Google's answer there, before the
    // bridge reads the event back: Feishu's later answer is the one every side must end with
    const { resolvePairs } = await import('../../src/app/pairs.ts');
    const { reverseDeps } = await import('../../src/app/reverse-run.ts');
    const { pullSpoke } = await import('../../src/sync/reverse.ts');
    const deps = reverseDeps(w.app, await resolvePairs(w.app));
    const reply = deps.reply!;
    deps.reply = async (calendar, eventId, rsvp) => {
      await reply(calendar, eventId, rsvp);
      if (eventId === invitation) await w.app.feishu.reply!(calendar, { id: eventId }, 'accepted');
    };
    const [rev] = await pullSpoke([pairs.google], deps);
    expect(rev.failures).toEqual([]);
    expect((await runSync(w.app)).ok).toBe(true);
    const f = await feishuEvent(w, pairs.google, invitation);
    expect(f?.attendees.find((a) => a.id === user().openId)?.rsvp).toBe('accepted');
    const gc = await copyOf(w, pairs.google, invitation);
    expect(gc?.event.attendees.find((a) => a.email === user().googleEmail)?.rsvp).toBe('accepted');
    const m = await copyOf(w, pairs.graph, invitation);
    expect(m?.event.attendees.find((a) => a.email === user().exchangeEmail)?.rsvp).toBe('accepted');
    await quiet();
  });

  it('a copy of an invitation deleted on Google declines it in Feishu; it is not copied back', async () => {
    const copy = (await copyOf(w, pairs.google, declined))!;
    expect(copy).toBeDefined();
    await gDrift().remove(copy.ref.id);
    const r = await runSync(w.app);
    expect(r.ok).toBe(true);
    const f = await feishuEvent(w, pairs.google, declined);
    expect(f?.summary).toBe('Invitation to remove');
    expect(f?.attendees.find((a) => a.id === user().openId)?.rsvp).toBe('declined');
    expect(await copyOf(w, pairs.google, declined)).toBeUndefined();
    await quiet();
    expect(await copyOf(w, pairs.google, declined)).toBeUndefined();
  });

  it('an invitation edited on Google is refused once (not the organizer): the copy is set back, no retry', async () => {
    const copy = (await copyOf(w, pairs.google, notMine))!;
    await gDrift().edit(copy.ref.id, 'Renamed by an invitee');
    const r = await runSync(w.app);
    const mine = r.reverse.find((x) => x.pair === pairs.google.id)!;
    expect(mine.counts.refused).toBe(1);
    expect(mine.refusals[0]).toMatchObject({ key: notMine, kind: 'auth' });
    expect(mine.refusals[0].error).toMatch(/not the organizer: summary/);
    expect(r.ok).toBe(true);
    expect((await feishuEvent(w, pairs.google, notMine))?.summary).toBe('Organized by someone else');
    expect((await copyOf(w, pairs.google, notMine))?.event.summary).toBe('Organized by someone else');
    expect((await copyOf(w, pairs.graph, notMine))?.event.summary).toBe('Organized by someone else');
    const again = await quiet();
    expect(again.reverse.every((x) => x.counts.refused === 0)).toBe(true);
  });

  it('a title typed over a busy-only private copy is set back, not taken into Feishu', async () => {
    const copy = (await spokeEvents(w, pairs.graph)).find(
      (r) =>
        r.tag?.pair === pairs.graph.id &&
        r.event.visibility === 'private' &&
        r.event.key.originalTime === 0 &&
        r.event.summary === 'Busy',
    )!;
    expect(copy).toBeDefined();
    const key = copy.tag!.key;
    const before = (await feishuEvent(w, pairs.graph, key))!.summary;
    await mDrift().edit(copy.ref.id, 'Typed over a private copy');
    const r = await runSync(w.app);
    expect(r.ok).toBe(true);
    expect((await feishuEvent(w, pairs.graph, key))?.summary).toBe(before);
    expect((await copyOf(w, pairs.graph, key))?.event.summary).toBe('Busy');
    await quiet();
  });

  it('a "this and following" split on Google (UNTIL plus a new series) lands in Feishu and Exchange without duplicates', async () => {
    const { calendarFor } = await import('../../connectors/google/emulator/testkit.ts');
    const api = calendarFor(w.em.google, user().googleEmail);
    // a weekly series made in Feishu and mirrored first
    const { control } = await import('../../src/app/emulators.ts');
    const { randomUUID } = await import('node:crypto');
    const start0 = NOW - (NOW % 3600) + 2 * 86_400;
    const uid = randomUUID();
    await control(w.em.feishu, 'events', {
      op: 'create',
      calendar_id: user().calendarId,
      event: {
        event_id: `${uid}_0`,
        summary: 'Weekly to split',
        start_time: { timestamp: String(start0), timezone: 'UTC' },
        end_time: { timestamp: String(start0 + 3600), timezone: 'UTC' },
        recurrence: 'FREQ=WEEKLY;COUNT=6',
      },
    });
    expect((await runSync(w.app)).ok).toBe(true);
    const master = await copyOf(w, pairs.google, `${uid}_0`);
    expect(master).toBeDefined();
    const rule = master!.event.recurrence
      .find((l) => l.startsWith('RRULE:'))!
      .split(';')
      .filter((p) => !p.startsWith('COUNT='))
      .join(';');
    const inst = await api.events.instances({
      calendarId: user().googleEmail,
      eventId: master!.ref.id,
      timeMin: new Date(NOW * 1000).toISOString(),
      maxResults: 4,
    });
    const third = inst.data.items![2];
    const at = Math.floor(Date.parse(third.originalStartTime!.dateTime!) / 1000);
    const until = new Date((at - 1) * 1000).toISOString().replace(/[-:]/g, '').slice(0, 15);
    const g = (await api.events.get({ calendarId: user().googleEmail, eventId: master!.ref.id })).data;
    await api.events.patch({
      calendarId: user().googleEmail,
      eventId: master!.ref.id,
      requestBody: {
        recurrence: [...g.recurrence!.filter((l) => !l.startsWith('RRULE:')), `${rule};UNTIL=${until}Z`],
      },
    });
    const length = Date.parse(g.end!.dateTime!) - Date.parse(g.start!.dateTime!);
    await api.events.insert({
      calendarId: user().googleEmail,
      requestBody: {
        summary: `${g.summary} (following)`,
        start: { dateTime: new Date(at * 1000).toISOString(), timeZone: g.start!.timeZone ?? 'UTC' },
        end: { dateTime: new Date(at * 1000 + length).toISOString(), timeZone: g.start!.timeZone ?? 'UTC' },
        recurrence: [`${rule};COUNT=2`],
      },
    });
    const r = await runSync(w.app);
    expect(r.ok).toBe(true);
    const f = await feishuEvent(w, pairs.google, master!.tag!.key);
    expect(f?.recurrence.join(';')).toMatch(/UNTIL=/);
    const following = (await spokeEvents(w, pairs.graph)).filter(
      (e) => e.event.summary === `${g.summary} (following)`,
    );
    expect(following.filter((e) => e.event.key.originalTime === 0)).toHaveLength(1);
    const { resolvePairs } = await import('../../src/app/pairs.ts');
    const { readParity } = await import('../../src/app/parity-run.ts');
    const { policyOf } = await import('../../src/app/compose.ts');
    const resolved = await resolvePairs(w.app);
    const { perSpoke } = await readParity(
      w.app,
      resolved.pairs,
      policyOf(w.app.config),
      resolved.attendeeFor,
    );
    for (const [spoke, p] of Object.entries(perSpoke)) {
      // the invitation declined on Google earlier is, by design, not on Google any more
      const missing = p.examples.missing.filter((k) => !(spoke === 'google' && k === declined));
      expect({ spoke, ...p.examples, missing }).toEqual({ spoke, missing: [], extra: [], differing: [] });
      expect(p.extra + p.differing).toBe(0);
    }
    // and the reconciliation agrees (the declined copy is not expected there)
    const { runReconcile } = await import('../../src/app/reconcile-run.ts');
    const rec = await runReconcile(w.app);
    expect(rec.inParity).toBe(true);
    expect(rec.totals).toMatchObject({ missing: 0, extra: 0, differing: 0, repaired: 0, failed: 0 });
    await quiet();
  });
});
