/**
 * What the serve property test does to the world: users' changes on all three sides, made the way a
 * user or another tool would (Feishu through its emulator's user-action API and the Lark SDK, Google
 * through googleapis, Exchange through the Graph SDK), plus faults in the emulators' APIs, lost and
 * repeated deliveries (the relay) and pauses in which `serve` works.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { calendarFor } from '../../connectors/google/emulator/testkit.ts';
import { control } from '../../src/app/emulators.ts';
import type { RemoteEvent } from '../../src/ports/index.ts';
import type { Pair } from '../../src/sync/pair.ts';
import { googleDrift, graphDrift } from '../support/drift.ts';
import type { ServeWorld } from './twoway-serve-world.ts';
import { feishuInstances, graphApiOf, NOW, spokeEvents } from './twoway-world.ts';

export type Side = 'feishu' | 'google' | 'graph';
export type Cmd =
  | { k: 'create'; side: Side; dayOffset: number; hour: number; weekly: boolean }
  | { k: 'edit'; side: Side; pick: number }
  | { k: 'delete'; side: Side; pick: number }
  | { k: 'occurrence'; side: Side; pick: number; nth: number; cancel: boolean }
  | { k: 'rsvp'; side: 'google' | 'feishu'; answer: 'accepted' | 'declined' | 'tentative' }
  | { k: 'faults'; side: Side; status: 429 | 503 | 0; span: number }
  | { k: 'deliveries'; drop: number; duplicate: number }
  | { k: 'wait'; ms: number };

const side = fc.constantFrom<Side>('feishu', 'google', 'graph');
export const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({
    k: fc.constant('create' as const),
    side,
    dayOffset: fc.integer({ min: 1, max: 30 }),
    hour: fc.integer({ min: 0, max: 20 }),
    weekly: fc.boolean(),
  }),
  fc.record({ k: fc.constant('edit' as const), side, pick: fc.nat() }),
  fc.record({ k: fc.constant('delete' as const), side, pick: fc.nat() }),
  fc.record({
    k: fc.constant('occurrence' as const),
    side,
    pick: fc.nat(),
    nth: fc.integer({ min: 1, max: 3 }),
    cancel: fc.boolean(),
  }),
  fc.record({
    k: fc.constant('rsvp' as const),
    side: fc.constantFrom('google' as const, 'feishu' as const),
    answer: fc.constantFrom('accepted' as const, 'declined' as const, 'tentative' as const),
  }),
  fc.record({
    k: fc.constant('faults' as const),
    side,
    status: fc.constantFrom(429 as const, 503 as const, 0 as const),
    span: fc.integer({ min: 1, max: 3 }),
  }),
  fc.record({
    k: fc.constant('deliveries' as const),
    drop: fc.constantFrom(0, 0.3, 0.7),
    duplicate: fc.constantFrom(0, 0.3, 0.7),
  }),
  fc.record({ k: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 1500 }) }),
);

export interface Ctx {
  w: ServeWorld;
  pairs: Record<'google' | 'graph', Pair>;
  invitation: string;
}

const DAY = 86_400;
const API: Record<Side, string> = {
  feishu: '^/open-apis/calendar',
  google: '^/(batch/)?calendar/v3',
  graph: '^/v1\\.0/',
};
const emulator = (w: ServeWorld, s: Side) => w.em[s];
let faultsLeft = 0;
let titles = 0;

export async function clearFaults(w: ServeWorld) {
  faultsLeft = 0;
  for (const s of ['feishu', 'google', 'graph'] as const)
    await fetch(`${emulator(w, s)}/_emulator/faults`, { method: 'DELETE' });
}

/** A user's action: faults may refuse it (before anything changed), so it is tried again. */
async function act(fn: () => Promise<unknown>) {
  for (let i = 0; ; i++) {
    try {
      await fn();
      return;
    } catch (_e) {
      if (i >= 6) return; // the event went away meanwhile (deleted on another side): nothing to do
      await new Promise((r) => setTimeout(r, 150));
    }
  }
}

const iso = (t: number) => new Date(t * 1000).toISOString();
const pickOf = <T>(list: T[], n: number) => list[n % Math.max(1, list.length)];

/** The first user's own future events (not the invitation), singles or masters, as a side holds them. */
async function mine(ctx: Ctx, s: Side, recurring?: boolean): Promise<RemoteEvent[]> {
  let list: RemoteEvent[] = [];
  if (s === 'feishu') {
    for await (const page of ctx.w.app.feishu.listChanges(ctx.pairs.google.feishu, null))
      list.push(...page.upserts);
  } else list = await spokeEvents(ctx.w, ctx.pairs[s]);
  return list.filter(
    (r) =>
      r.event.key.originalTime === 0 &&
      r.event.status !== 'cancelled' &&
      r.tag?.key !== ctx.invitation &&
      (s !== 'feishu' || !r.event.key.uid.startsWith('inv')) &&
      'timestamp' in r.event.start &&
      r.event.start.timestamp > NOW &&
      (recurring === undefined || recurring === r.event.recurrence.length > 0),
  );
}

/** Performs one command; reads that faults refuse are tried again (the actions themselves retry in act). */
export async function perform(ctx: Ctx, c: Cmd): Promise<void> {
  if (faultsLeft > 0 && --faultsLeft === 0) await clearFaults(ctx.w);
  await act(() => once(ctx, c));
}

async function once(ctx: Ctx, c: Cmd): Promise<void> {
  const { w } = ctx;
  const user = w.tenant.users[0];
  const g = calendarFor(w.em.google, user.googleEmail);
  const graph = graphApiOf(w);
  const mailbox = `/users/${encodeURIComponent(user.exchangeEmail)}`;
  const drift = (s: 'google' | 'graph') =>
    s === 'google'
      ? googleDrift(w.em.google, user.googleEmail)
      : graphDrift(w.em.graph, w.tenant.seeds.graph.tenants[0], user.exchangeEmail);
  const title = () => `Q ${c.k} ${++titles} ${randomUUID().slice(0, 4)}`;

  switch (c.k) {
    case 'create': {
      const start = NOW - (NOW % 3600) + c.dayOffset * DAY + c.hour * 3600;
      const summary = title();
      if (c.side === 'feishu')
        return act(() =>
          control(w.em.feishu, 'events', {
            op: 'create',
            calendar_id: user.calendarId,
            event: {
              event_id: `${randomUUID()}_0`,
              summary,
              start_time: { timestamp: String(start), timezone: 'Asia/Shanghai' },
              end_time: { timestamp: String(start + 3600), timezone: 'Asia/Shanghai' },
              ...(c.weekly ? { recurrence: 'FREQ=WEEKLY;COUNT=5' } : {}),
            },
          }),
        );
      if (c.side === 'google')
        return act(() =>
          g.events.insert({
            calendarId: user.googleEmail,
            requestBody: {
              summary,
              start: { dateTime: iso(start), timeZone: 'UTC' },
              end: { dateTime: iso(start + 3600), timeZone: 'UTC' },
              ...(c.weekly ? { recurrence: ['RRULE:FREQ=WEEKLY;COUNT=5'] } : {}),
            },
          }),
        );
      const day = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
      return act(() =>
        graph.api(`${mailbox}/events`).post({
          subject: summary,
          start: { dateTime: iso(start).slice(0, 19), timeZone: 'UTC' },
          end: { dateTime: iso(start + 3600).slice(0, 19), timeZone: 'UTC' },
          transactionId: randomUUID(),
          ...(c.weekly
            ? {
                recurrence: {
                  pattern: {
                    type: 'weekly',
                    interval: 1,
                    daysOfWeek: [day[new Date(start * 1000).getUTCDay()]],
                  },
                  range: { type: 'numbered', startDate: iso(start).slice(0, 10), numberOfOccurrences: 5 },
                },
              }
            : {}),
        }),
      );
    }
    case 'edit':
    case 'delete': {
      const p = pickOf(await mine(ctx, c.side), c.pick);
      if (!p) return;
      if (c.side === 'feishu') {
        const event_id = `${p.event.key.uid}_0`;
        return act(() =>
          control(w.em.feishu, 'events', {
            op: c.k === 'edit' ? 'patch' : 'delete',
            calendar_id: user.calendarId,
            event_id,
            ...(c.k === 'edit' ? { event: { summary: title() } } : {}),
          }),
        );
      }
      const d = drift(c.side);
      return act(() => (c.k === 'edit' ? d.edit(p.ref.id, title()) : d.remove(p.ref.id)));
    }
    case 'occurrence':
      return occurrence(ctx, c, { g, graph, mailbox });
    case 'rsvp': {
      if (c.side === 'feishu')
        return act(async () => {
          const r = await w.app.feishu.reply!(ctx.pairs.google.feishu, { id: ctx.invitation }, c.answer);
          if (!r.ok) throw r.error;
        });
      const copy = (await spokeEvents(w, ctx.pairs.google)).find((r) => r.tag?.key === ctx.invitation);
      if (!copy) return;
      const me = user.googleEmail;
      return act(async () => {
        const got = (await g.events.get({ calendarId: me, eventId: copy.ref.id })).data;
        await g.events.patch({
          calendarId: me,
          eventId: copy.ref.id,
          requestBody: {
            attendees: (got.attendees ?? []).map((a) =>
              a.email === me ? { ...a, responseStatus: c.answer } : a,
            ),
          },
        });
      });
    }
    case 'faults': {
      const action =
        c.status === 0 ? { drop: true } : { status: c.status, headers: { 'retry-after': '0' }, body: {} };
      await control(emulator(w, c.side), 'faults', [
        { match: { path: API[c.side] }, probability: 0.25, action },
      ]);
      faultsLeft = c.span + 1;
      return;
    }
    case 'deliveries':
      w.relay!.drop = c.drop;
      w.relay!.duplicate = c.duplicate;
      return;
    case 'wait':
      await new Promise((r) => setTimeout(r, c.ms));
      return;
  }
}

async function occurrence(
  ctx: Ctx,
  c: Extract<Cmd, { k: 'occurrence' }>,
  api: { g: ReturnType<typeof calendarFor>; graph: ReturnType<typeof graphApiOf>; mailbox: string },
) {
  const { w } = ctx;
  const user = w.tenant.users[0];
  const m = pickOf(await mine(ctx, c.side, true), c.pick);
  if (!m) return;
  const shift = 2 * 3600;
  if (c.side === 'google') {
    const items = (
      await api.g.events.instances({ calendarId: user.googleEmail, eventId: m.ref.id, maxResults: 5 })
    ).data.items;
    const occ = (items ?? []).filter((i) => i.status !== 'cancelled')[c.nth];
    if (!occ?.start?.dateTime) return;
    const s = Date.parse(occ.start.dateTime) / 1000 + shift;
    return act(() =>
      c.cancel
        ? api.g.events.delete({ calendarId: user.googleEmail, eventId: occ.id! })
        : api.g.events.patch({
            calendarId: user.googleEmail,
            eventId: occ.id!,
            requestBody: {
              start: { dateTime: iso(s), timeZone: 'UTC' },
              end: { dateTime: iso(s + 3600), timeZone: 'UTC' },
            },
          }),
    );
  }
  if (c.side === 'graph') {
    const listed = await api.graph
      .api(`${api.mailbox}/events/${encodeURIComponent(m.ref.id)}/instances`)
      .query({ startDateTime: iso(NOW), endDateTime: iso(NOW + 90 * DAY) })
      .get();
    const occ = (listed.value as any[])[c.nth];
    if (!occ) return;
    const url = `${api.mailbox}/events/${encodeURIComponent(occ.id)}`;
    const s = Date.parse(`${String(occ.start.dateTime).slice(0, 19)}Z`) / 1000 + shift;
    return act(() =>
      c.cancel
        ? api.graph.api(url).delete()
        : api.graph.api(url).patch({
            start: { dateTime: iso(s).slice(0, 19), timeZone: 'UTC' },
            end: { dateTime: iso(s + 3600).slice(0, 19), timeZone: 'UTC' },
          }),
    );
  }
  const occ = (await feishuInstances(w, `${m.event.key.uid}_0`, NOW, NOW + 90 * DAY))[c.nth];
  if (!occ) return;
  const s = Number(occ.start) + shift;
  return act(() =>
    control(w.em.feishu, 'events', {
      op: c.cancel ? 'delete' : 'patch',
      calendar_id: user.calendarId,
      event_id: occ.id,
      ...(c.cancel
        ? {}
        : {
            event: {
              start_time: { timestamp: String(s), timezone: 'Asia/Shanghai' },
              end_time: { timestamp: String(s + 3600), timezone: 'Asia/Shanghai' },
            },
          }),
    }),
  );
}
