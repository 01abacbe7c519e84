import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { blankEvent, type CanonicalEvent, fingerprint } from '../../src/core/index.ts';
import type { ChangePage, WriteOp } from '../../src/ports/index.ts';
import { createGoogleConnector } from './client.ts';
import { emulator, serviceAccount } from './emulator/testkit.ts';
import { eventIdFor } from './ids.ts';

let em: Awaited<ReturnType<typeof emulator>>;
beforeAll(async () => {
  em = await emulator({
    resources: [
      {
        resourceId: 'r1',
        resourceEmail: 'room1@resource.calendar.google.com',
        resourceName: 'Room 1',
        capacity: 6,
      },
    ],
  });
});
beforeEach(() => em.reset());
afterAll(() => em.close());

const connector = (extra: object = {}) =>
  createGoogleConnector({
    credentials: serviceAccount(),
    rootUrl: em.url,
    tokenUrl: `${em.url}/token`,
    adminEmail: 'ann@example.com',
    retry: { baseMs: 20, maxMs: 400, attempts: 8 },
    ...extra,
  });
const CAL = { owner: 'ann@example.com', id: 'primary' };
const T0 = Date.UTC(2025, 2, 3, 1) / 1000; // 2025-03-03 09:00 Asia/Shanghai

function ev(uid: string, originalTime = 0, hours = 0): CanonicalEvent {
  const start = T0 + hours * 3600;
  return {
    ...blankEvent(
      { uid, originalTime },
      { timestamp: start, timeZone: 'Asia/Shanghai' },
      { timestamp: start + 1800, timeZone: 'Asia/Shanghai' },
      'feishu',
    ),
    summary: `event ${uid}`,
  };
}
const create = (e: CanonicalEvent, pair = 'pair1'): WriteOp => ({
  op: 'create',
  event: e,
  tag: { pair, key: `${e.key.uid}_${e.key.originalTime}` },
});
const live = async () => (await em.state()).events.filter((e: any) => e.status !== 'cancelled');
async function pages(it: AsyncIterable<ChangePage>) {
  const out: ChangePage[] = [];
  for await (const p of it) out.push(p);
  return out;
}

describe('google connector', () => {
  it('the same create twice makes one event, with a deterministic base32hex id', async () => {
    const c = connector();
    const op = create(ev('u1'));
    const [a] = await c.write(CAL, [op]);
    const [b] = await c.write(CAL, [op]);
    expect(a).toMatchObject({
      ok: true,
      ref: { id: eventIdFor(op.op === 'create' ? op.tag : (null as any)) },
    });
    expect(b.ok && b.ref?.id).toBe(a.ok && a.ref?.id);
    expect(a.ok && a.ref?.id).toMatch(/^[a-v0-9]{52}$/);
    expect(await live()).toHaveLength(1);
  });

  it('a crash between the write and the link save, then a retry with changed content, makes no duplicate', async () => {
    const c = connector();
    await c.write(CAL, [create(ev('u2'))]); // written; the link was never saved
    const changed = { ...ev('u2'), summary: 'edited meanwhile' };
    const [r] = await c.write(CAL, [create(changed)]);
    expect(r.ok).toBe(true);
    const events = await live();
    expect(events).toHaveLength(1);
    expect(events[0].summary).toBe('edited meanwhile');
    // After a delete the id stays reserved: a re-create moves to the next id generation.
    await c.write(CAL, [{ op: 'remove', ref: { id: events[0].id } }]);
    const [again] = await c.write(CAL, [create(changed)]);
    expect(again.ok && again.ref?.id).toBe(eventIdFor({ pair: 'pair1', key: 'u2_0' }, 1));
    expect(await live()).toHaveLength(1);
  });

  it('batches writes; a failing part is reported and the others are kept', async () => {
    const c = connector({ batchSize: 50 });
    const bad = { ...ev('bad'), end: { timestamp: T0 - 3600, timeZone: 'Asia/Shanghai' } };
    const ops = [create(ev('a')), create(bad), create(ev('b'))];
    const before = (await em.requests()).length;
    const res = await c.write(CAL, ops);
    expect(res.map((r) => r.ok)).toEqual([true, false, true]);
    expect(!res[1].ok && res[1].error.kind).toBe('invalid');
    expect(await live()).toHaveLength(2);
    const log = (await em.requests()).slice(before).filter((l: any) => l.path !== '/token');
    expect(log.map((l: any) => l.path)).toEqual(['/batch/calendar/v3']);
    // update with a stale etag: precondition; remove of something gone: success
    const ref = res[0].ok ? res[0].ref! : { id: '' };
    const u1 = await c.write(CAL, [
      { op: 'update', ref, event: { ...ev('a'), summary: 'x' }, tag: { pair: 'pair1', key: 'a_0' } },
    ]);
    expect(u1[0].ok).toBe(true);
    const [stale, gone] = await c.write(CAL, [
      { op: 'update', ref, event: ev('a'), tag: { pair: 'pair1', key: 'a_0' } },
      { op: 'remove', ref: { id: 'nosuchevent1' } },
    ]);
    expect(!stale.ok && stale.error.kind).toBe('precondition');
    expect(gone.ok).toBe(true);
  });

  it('paces by when the server can have counted a batch: one it got late leaves no round of refusals', async () => {
    await em.control('limits', { perUser: 10, windowSeconds: 1 });
    // the first batch reaches the server 700 ms after it was sent (a busy server); the others at once
    await em.control('faults', { match: { path: '^/batch/' }, times: 1, action: { delayMs: 700 } });
    const paced = connector({ rate: { perUser: 10, windowMs: 1000 }, batchSize: 10 });
    const res = await paced.write(
      CAL,
      Array.from({ length: 20 }, (_, i) => create(ev(`late${i}`, 0, i))),
    );
    expect(res.every((r) => r.ok)).toBe(true);
    expect((await em.state()).quotaRejections).toBe(0);
    expect((await em.requests()).filter((r) => r.path.startsWith('/batch/'))).toHaveLength(2);
  });

  it('retries quota errors with backoff and succeeds; with pacing on, never exceeds the limit', async () => {
    await em.control('limits', { perUser: 10, windowSeconds: 1 });
    const unpaced = connector({
      rate: { perUser: 0 },
      batchSize: 10,
      retry: { baseMs: 100, maxMs: 1000, attempts: 10 },
    });
    const res = await unpaced.write(
      CAL,
      Array.from({ length: 25 }, (_, i) => create(ev(`q${i}`, 0, i))),
    );
    expect(res.every((r) => r.ok)).toBe(true);
    expect(await live()).toHaveLength(25);
    expect((await em.state()).quotaRejections).toBeGreaterThan(0);
    await em.reset();
    await em.control('limits', { perUser: 10, windowSeconds: 1 });
    const paced = connector({ rate: { perUser: 10, windowMs: 1000 }, batchSize: 10 });
    const res2 = await paced.write(
      CAL,
      Array.from({ length: 25 }, (_, i) => create(ev(`p${i}`, 0, i))),
    );
    expect(res2.every((r) => r.ok)).toBe(true);
    expect((await em.state()).quotaRejections).toBe(0);
    // A 429 with Retry-After on the whole batch is retried too.
    await em.control('faults', {
      match: { path: '^/batch/' },
      times: 1,
      action: { status: 429, headers: { 'retry-after': '0' } },
    });
    const [r429] = await paced.write(CAL, [create(ev('after429'))]);
    expect(r429.ok).toBe(true);
  });

  it('lists changes: full, then incremental with updates and removals; an expired cursor says so', async () => {
    const c = connector();
    const [a, b] = await c.write(CAL, [create(ev('l1')), create(ev('l2'))]);
    const full = await pages(c.listChanges(CAL, null));
    const last = full.at(-1)!;
    expect(last.cursor).toBeTruthy();
    expect(
      full
        .flatMap((p) => p.upserts)
        .map((u) => u.tag?.key)
        .sort(),
    ).toEqual(['l1_0', 'l2_0']);
    expect(full[0].upserts[0].event.key).toEqual({ uid: 'l1', originalTime: 0 });
    await c.write(CAL, [
      {
        op: 'update',
        ref: a.ok ? a.ref! : { id: '' },
        event: { ...ev('l1'), summary: 'new' },
        tag: { pair: 'pair1', key: 'l1_0' },
      },
      { op: 'remove', ref: b.ok ? b.ref! : { id: '' } },
    ]);
    const inc = await pages(c.listChanges(CAL, last.cursor!));
    expect(inc.flatMap((p) => p.upserts).map((u) => u.event.summary)).toEqual(['new']);
    expect(inc.flatMap((p) => p.removals).map((r) => r.ref.id)).toEqual([b.ok && b.ref?.id]);
    await em.control('expire-sync-tokens');
    expect(await pages(c.listChanges(CAL, inc.at(-1)!.cursor!))).toEqual([
      { upserts: [], removals: [], expired: true },
    ]);
  });

  it('a series with a moved, an edited and a cancelled occurrence round-trips through Google', async () => {
    const c = connector();
    const master = {
      ...ev('s1'),
      recurrence: ['RRULE:FREQ=DAILY;COUNT=5'],
      attendees: [
        { kind: 'room' as const, email: 'room1@resource.calendar.google.com', rsvp: 'accepted' as const },
      ],
      reminders: [10],
      conferenceUrl: 'https://vc.feishu.cn/j/123',
    };
    const day = 86_400;
    const moved = { ...ev('s1', T0 + day, 1 * 24 + 3), summary: 'event s1' };
    const edited = { ...ev('s1', T0 + 2 * day, 2 * 24), summary: 'edited', description: 'agenda' };
    const cancelled = { ...ev('s1', T0 + 3 * day, 3 * 24), status: 'cancelled' as const };
    const [m] = await c.write(CAL, [create(master)]);
    const parent = m.ok ? m.ref! : { id: '' };
    const res = await c.write(
      CAL,
      [moved, edited, cancelled].map((e) => ({ ...create(e), parent })),
    );
    expect(res.every((r) => r.ok)).toBe(true);
    expect(res.map((r) => r.ok && r.ref?.id)).toEqual([
      `${parent.id}_20250304T010000Z`,
      `${parent.id}_20250305T010000Z`,
      `${parent.id}_20250306T010000Z`,
    ]);
    const read = (await pages(c.listChanges(CAL, null))).flatMap((p) => p.upserts);
    const byKey = new Map(read.map((u) => [`${u.event.key.uid}_${u.event.key.originalTime}`, u]));
    for (const want of [master, moved, edited, cancelled]) {
      const got = byKey.get(`${want.key.uid}_${want.key.originalTime}`);
      expect(got, `${want.key.originalTime}`).toBeDefined();
      expect(got!.event.status).toBe(want.status);
      if (want.status !== 'cancelled') expect(fingerprint(got!.event)).toBe(fingerprint(want));
    }
    expect(byKey.get(`s1_${T0 + 3 * day}`)!.tag).toEqual({ pair: 'pair1', key: `s1_${T0 + 3 * day}` });
  });

  it('lists calendars and rooms', async () => {
    const c = connector();
    expect(await c.listCalendars('ann@example.com')).toEqual([
      { id: 'ann@example.com', summary: 'ann@example.com', primary: true, writable: true },
    ]);
    expect(await c.listRooms()).toEqual([
      { email: 'room1@resource.calendar.google.com', name: 'Room 1', id: 'r1', capacity: 6 },
    ]);
    await expect(c.listCalendars('nobody@example.com')).rejects.toMatchObject({ kind: 'auth' });
  });
});
