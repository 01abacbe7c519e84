/**
 * Two-way pairs through `feisync serve` and the real webhook routes: the service subscribes each
 * spoke calendar (Google watch channels, Graph subscriptions) to its own /webhooks/google and
 * /webhooks/graph; edits made through Google's and Graph's SDKs arrive as notifications, are stored
 * as jobs, and reach Feishu and the other spoke (read back through the three SDKs); Feishu's change
 * events for our own writes come back as echoes; once settled, a quiet period writes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calendarFor } from '../../connectors/google/emulator/testkit.ts';
import { control } from '../../src/app/emulators.ts';
import type { Service } from '../../src/app/serve.ts';
import { type CanonicalEvent, formatKey } from '../../src/core/index.ts';
import type { Pair } from '../../src/sync/pair.ts';
import { googleDrift, graphDrift } from '../support/drift.ts';
import {
  closeServe,
  openServe,
  quietPeriod,
  type ServeWorld,
  settle as settleOf,
  until,
} from './twoway-serve-world.ts';
import {
  answerOnGoogle,
  copyOf,
  feishuEvent,
  graphVersions,
  marks,
  NOW,
  pairsOf,
  seedInvitation,
  someSingle,
  spokeEvents,
  writesSince,
} from './twoway-world.ts';

let w: ServeWorld;
let service: Service;
let pairs: Record<'google' | 'graph', Pair>;
let invitation: string;

const settle = () => settleOf(service);

beforeAll(async () => {
  w = await openServe(
    'feishu-wins',
    {
      ready: async (sw) => !!(await copyOf(sw, (await pairsOf(sw)).graph, invitation)),
    },
    async (w0) => {
      invitation = await seedInvitation(w0, 'Invitation answered on Google', NOW + 6 * 86_400);
    },
  );
  service = w.service;
  pairs = await pairsOf(w);
}, 120_000);
afterAll(() => closeServe(w));

const user = () => w.tenant.users[0];

describe('two-way through feisync serve', () => {
  it('subscribes every two-way spoke calendar to its webhook route', async () => {
    const subs = await service.app.db.prisma.spokeSubscription.findMany();
    expect(subs.map((s) => s.spoke).sort()).toEqual(['google', 'google', 'graph', 'graph']);
    // an unknown channel and a wrong secret are refused
    const unknown = await fetch(`${service.url}/webhooks/google`, {
      method: 'POST',
      headers: {
        'x-goog-channel-id': 'nope',
        'x-goog-resource-state': 'exists',
        'x-goog-resource-id': 'r',
        'x-goog-message-number': '2',
        'x-goog-channel-token': 'x',
      },
    });
    expect(unknown.status).toBe(404);
    const g = subs.find((s) => s.spoke === 'google')!;
    const wrong = await fetch(`${service.url}/webhooks/google`, {
      method: 'POST',
      headers: {
        'x-goog-channel-id': g.id,
        'x-goog-resource-state': 'exists',
        'x-goog-resource-id': g.resource ?? 'r',
        'x-goog-message-number': '3',
        'x-goog-channel-token': 'not the secret',
      },
    });
    expect(wrong.status).toBe(401);
  });

  it('a Google edit reaches Feishu and Exchange through the webhook', async () => {
    const copy = (await someSingle(w, pairs.google, 0))!;
    const key = copy.tag!.key;
    await googleDrift(w.em.google, user().googleEmail).edit(copy.ref.id, 'Edited in Google (serve)');
    await until(
      'Feishu',
      async () => (await feishuEvent(w, pairs.google, key))?.summary === 'Edited in Google (serve)',
    );
    await until(
      'Exchange',
      async () => (await copyOf(w, pairs.graph, key))?.event.summary === 'Edited in Google (serve)',
    );
  });

  it('an Outlook create reaches Feishu and Google through the webhook', async () => {
    const drift = graphDrift(w.em.graph, w.tenant.seeds.graph.tenants[0], user().exchangeEmail);
    const id = await drift.insert('Created in Outlook (serve)', NOW + 9 * 86_400);
    const key = await until('the origin tag on the original', async () => {
      const e = (await spokeEvents(w, pairs.graph)).find((x) => x.ref.id === id);
      return e?.tag?.key;
    });
    expect((await feishuEvent(w, pairs.graph, key))?.summary).toBe('Created in Outlook (serve)');
    await until(
      'Google',
      async () => (await copyOf(w, pairs.google, key))?.event.summary === 'Created in Outlook (serve)',
    );
  });

  it('an occurrence moved on Google reaches Feishu and Exchange', async () => {
    const master = (await spokeEvents(w, pairs.google)).find(
      (r) => r.tag?.pair === pairs.google.id && r.event.recurrence.length > 0 && 'timestamp' in r.event.start,
    )!;
    const api = calendarFor(w.em.google, user().googleEmail);
    const inst = await api.events.instances({
      calendarId: user().googleEmail,
      eventId: master.ref.id,
      timeMin: new Date((NOW + 2 * 86_400) * 1000).toISOString(),
      maxResults: 5,
    });
    const occ = inst.data.items!.find((i) => i.status !== 'cancelled')!;
    const start = Date.parse(occ.start!.dateTime!) / 1000;
    const length = Date.parse(occ.end!.dateTime!) / 1000 - start;
    const moved = start + 3 * 3600;
    await api.events.patch({
      calendarId: user().googleEmail,
      eventId: occ.id!,
      requestBody: {
        start: { dateTime: new Date(moved * 1000).toISOString(), timeZone: 'UTC' },
        end: { dateTime: new Date((moved + length) * 1000).toISOString(), timeZone: 'UTC' },
      },
    });
    const key = formatKey({
      uid: master.event.key.uid,
      originalTime: Math.floor(Date.parse(occ.originalStartTime!.dateTime!) / 1000),
    });
    const at = (e: CanonicalEvent | undefined) =>
      e && 'timestamp' in e.start ? e.start.timestamp : undefined;
    await until('Feishu', async () => at(await feishuEvent(w, pairs.google, key)) === moved);
    await until('Exchange', async () => at((await copyOf(w, pairs.graph, key))?.event) === moved);
  });

  it('a copy deleted on Exchange deletes the Feishu event and the Google copy', async () => {
    const copy = (await someSingle(w, pairs.graph, 3))!;
    const key = copy.tag!.key;
    await graphDrift(w.em.graph, w.tenant.seeds.graph.tenants[0], user().exchangeEmail).remove(copy.ref.id);
    await until('Feishu', async () => (await feishuEvent(w, pairs.graph, key)) === undefined);
    await until('Google', async () => (await copyOf(w, pairs.google, key)) === undefined);
  });

  it('an RSVP on Google is replied in Feishu and reaches Exchange', async () => {
    await answerOnGoogle(w, pairs.google, invitation, 'tentative');
    await until('Feishu', async () =>
      (await feishuEvent(w, pairs.google, invitation))?.attendees.some(
        (a) => a.id === user().openId && a.rsvp === 'tentative',
      ),
    );
    await until('Exchange', async () =>
      (await copyOf(w, pairs.graph, invitation))?.event.attendees.some(
        (a) => a.email === user().exchangeEmail && a.rsvp === 'tentative',
      ),
    );
  });

  it('a duplicated notification is accepted and changes nothing; a dropped one is caught by polling', async () => {
    await settle();
    const prisma = service.app.db.prisma;
    const sub = (
      await prisma.spokeSubscription.findMany({ where: { spoke: 'google', pairId: pairs.google.id } })
    )[0];
    const before = await marks(w);
    const versions = await graphVersions(w);
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${service.url}/webhooks/google`, {
        method: 'POST',
        headers: {
          'x-goog-channel-id': sub.id,
          'x-goog-channel-token': sub.secret,
          'x-goog-resource-id': sub.resource ?? 'r',
          'x-goog-resource-state': 'exists',
          'x-goog-message-number': String(1000 + i),
        },
      });
      expect(res.status).toBe(200);
    }
    await settle();
    expect(await writesSince(w, before)).toEqual({ feishu: [], google: [], graph: [] });
    expect(await graphVersions(w)).toEqual(versions);

    // deliveries refused from now on (as if lost): the poll still brings the change
    const saved = await prisma.spokeSubscription.findMany({ where: { pairId: pairs.graph.id } });
    await prisma.spokeSubscription.deleteMany({ where: { pairId: pairs.graph.id } });
    const copy = (await someSingle(w, pairs.graph, 5))!;
    const key = copy.tag!.key;
    await graphDrift(w.em.graph, w.tenant.seeds.graph.tenants[0], user().exchangeEmail).edit(
      copy.ref.id,
      'Edit whose notice was lost',
    );
    await new Promise((r) => setTimeout(r, 500));
    expect((await feishuEvent(w, pairs.graph, key))?.summary).not.toBe('Edit whose notice was lost');
    const { sendSpoke } = await import('../../src/app/spoke-worker.ts');
    await sendSpoke(service.boss, { pairId: pairs.graph.id, action: 'pull' });
    await until(
      'Feishu',
      async () => (await feishuEvent(w, pairs.graph, key))?.summary === 'Edit whose notice was lost',
    );
    await until(
      'Google',
      async () => (await copyOf(w, pairs.google, key))?.event.summary === 'Edit whose notice was lost',
    );
    for (const row of saved) await prisma.spokeSubscription.create({ data: row });
    await settle();
  });

  it('Graph lifecycle: subscriptionRemoved subscribes anew; reauthorizationRequired renews', async () => {
    const prisma = service.app.db.prisma;
    const graphSubs = async () =>
      (await prisma.spokeSubscription.findMany({ where: { spoke: 'graph' } })).map((x) => x.id).sort();
    const before = await graphSubs();
    const gone = before[0];
    await control(w.em.graph, 'lifecycle', { subscriptionId: gone, lifecycleEvent: 'subscriptionRemoved' });
    const after = await until('a new subscription', async () => {
      const now = await graphSubs();
      return now.length === 2 && !now.includes(gone) ? now : undefined;
    });
    const state = (await (await fetch(`${w.em.graph}/_emulator/state`)).json()) as any;
    const live = state.subscriptions.map((x: any) => x.id);
    for (const id of after) expect(live).toContain(id);
    const row = await prisma.spokeSubscription.findUniqueOrThrow({ where: { id: after[0] } });
    await prisma.spokeSubscription.update({
      where: { id: row.id },
      data: { expiresAt: new Date(Date.now() + 60_000) },
    });
    await control(w.em.graph, 'lifecycle', {
      subscriptionId: row.id,
      lifecycleEvent: 'reauthorizationRequired',
    });
    await until('the renewed expiry', async () => {
      const r = await prisma.spokeSubscription.findUnique({ where: { id: row.id } });
      return !!r && r.expiresAt.getTime() > Date.now() + 3_600_000;
    });
    await settle();
  });

  it('a subscription near its expiry is renewed (Google: a new channel, the old one stopped)', async () => {
    const prisma = service.app.db.prisma;
    const old = (await prisma.spokeSubscription.findMany({ where: { spoke: 'google' } }))[0];
    await prisma.spokeSubscription.update({
      where: { id: old.id },
      data: { expiresAt: new Date(Date.now() + 60_000) },
    });
    await service.boss.send('maintain', {});
    await until(
      'a new channel',
      async () => !(await prisma.spokeSubscription.findUnique({ where: { id: old.id } })),
    );
    const state = (await (await fetch(`${w.em.google}/_emulator/state`)).json()) as any;
    expect(state.channels.map((c: any) => c.id)).not.toContain(old.id);
    expect(await prisma.spokeSubscription.count({ where: { spoke: 'google' } })).toBe(2);
    await settle();
  });

  it('once settled, a quiet period (with a poll of every calendar) writes nothing anywhere', async () => {
    const q = await quietPeriod(w);
    expect(q.writes).toEqual({ feishu: [], google: [], graph: [] });
    expect(q.graphSame).toBe(true);
  });
});

describe('when a pair retires', () => {
  it('its spoke subscription is stopped', async () => {
    const prisma = service.app.db.prisma;
    (service.app.config.sync.direction as { google: string }).google = 'one-way';
    await service.boss.send('calendars', {});
    await until(
      'the Google channels stopped',
      async () => (await prisma.spokeSubscription.count({ where: { spoke: 'google' } })) === 0,
    );
    const state = (await (await fetch(`${w.em.google}/_emulator/state`)).json()) as any;
    expect(state.channels).toEqual([]);
    expect(await prisma.spokeSubscription.count({ where: { spoke: 'graph' } })).toBe(2);
  });
});
