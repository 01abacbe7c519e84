/** What the reverse direction reads from Google: iCalUID, the owner's RSVP, exceptions, split series. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChangePage, RemoteEvent } from '../../src/ports/index.ts';
import { createGoogleConnector } from './client.ts';
import { calendarFor, emulator, serviceAccount, timed } from './emulator/testkit.ts';

let em: Awaited<ReturnType<typeof emulator>>;
beforeAll(async () => {
  em = await emulator();
});
beforeEach(() => em.reset());
afterAll(() => em.close());

const conn = () =>
  createGoogleConnector({ credentials: serviceAccount(), rootUrl: em.url, tokenUrl: `${em.url}/token` });
const CAL = { owner: 'ann@example.com', id: 'primary' };
async function read(cursor: string | null) {
  const pages: ChangePage[] = [];
  for await (const p of conn().listChanges(CAL, cursor)) pages.push(p);
  return {
    upserts: pages.flatMap((p) => p.upserts),
    removals: pages.flatMap((p) => p.removals),
    cursor: pages.at(-1)?.cursor ?? null,
    expired: pages.some((p) => p.expired),
  };
}
const byId = (ups: RemoteEvent[], id: string) => ups.find((u) => u.ref.id === id);
const sec = (iso: string) => Date.parse(iso) / 1000;

describe('google reads for the reverse direction', () => {
  it("an invitation carries the owner's RSVP and iCalUID; an RSVP changed on Google comes back incrementally", async () => {
    await em.control('seed', {
      events: [
        {
          calendarId: 'ann@example.com',
          id: 'inv00001',
          iCalUID: 'outside-1@partner.example',
          summary: 'From a partner',
          start: { dateTime: '2025-03-03T09:00:00+08:00', timeZone: 'Asia/Shanghai' },
          end: { dateTime: '2025-03-03T10:00:00+08:00', timeZone: 'Asia/Shanghai' },
          organizer: { email: 'boss@partner.example' },
          attendees: [
            { email: 'boss@partner.example', organizer: true, responseStatus: 'accepted' },
            { email: 'ann@example.com', responseStatus: 'needsAction' },
          ],
        },
      ],
    });
    const api = calendarFor(em.url, 'ann@example.com');
    const own = await api.events.insert({
      calendarId: 'primary',
      requestBody: {
        summary: 'mine',
        start: timed('2025-03-04T09:00:00'),
        end: timed('2025-03-04T10:00:00'),
      },
    });
    const full = await read(null);
    expect(byId(full.upserts, 'inv00001')).toMatchObject({
      icalUid: 'outside-1@partner.example',
      selfRsvp: 'needs-action',
      event: { key: { uid: 'outside-1@partner.example', originalTime: 0 }, origin: 'google' },
    });
    const mine = byId(full.upserts, own.data.id!)!;
    expect(mine.icalUid).toBe(own.data.iCalUID);
    expect(mine.selfRsvp).toBeUndefined();
    expect(mine.tag).toBeUndefined();
    await api.events.patch({
      calendarId: 'primary',
      eventId: 'inv00001',
      requestBody: {
        attendees: [
          { email: 'boss@partner.example', organizer: true, responseStatus: 'accepted' },
          { email: 'ann@example.com', responseStatus: 'declined' },
        ],
      },
    });
    const inc = await read(full.cursor);
    expect(inc.upserts.map((u) => [u.ref.id, u.selfRsvp])).toEqual([['inv00001', 'declined']]);
    // An answer given in Feishu goes back through the connector: only the owner's entry changes.
    expect(await conn().reply!(CAL, { id: 'inv00001' }, 'tentative')).toEqual({ ok: true });
    const after = await read(inc.cursor);
    expect(after.upserts.map((u) => [u.ref.id, u.selfRsvp])).toEqual([['inv00001', 'tentative']]);
    const stored = (await em.state()).events.find((e: any) => e.id === 'inv00001');
    expect(stored.attendees.map((a: any) => a.responseStatus)).toEqual(['accepted', 'tentative']);
    // The owner's own event has no one to answer to.
    expect(await conn().reply!(CAL, { id: own.data.id! }, 'accepted')).toMatchObject({
      ok: false,
      error: { kind: 'invalid' },
    });
  });

  it('a "this and following" split reads back as the old series ending (UNTIL) and a new series, exceptions keyed by series uid and original start', async () => {
    const api = calendarFor(em.url, 'ann@example.com');
    const series = await api.events.insert({
      calendarId: 'primary',
      requestBody: {
        summary: 'Daily',
        start: timed('2025-03-03T09:00:00'),
        end: timed('2025-03-03T09:30:00'),
        recurrence: ['RRULE:FREQ=DAILY;COUNT=10'],
      },
    });
    const id = series.data.id!;
    const uid = series.data.iCalUID!;
    // An occurrence moved on Google: an exception of the series.
    const instances = await api.events.instances({ calendarId: 'primary', eventId: id });
    const third = instances.data.items![2];
    await api.events.patch({
      calendarId: 'primary',
      eventId: third.id!,
      requestBody: { start: timed('2025-03-05T11:00:00'), end: timed('2025-03-05T11:30:00') },
    });
    const full = await read(null);
    const exception = byId(full.upserts, third.id!)!;
    expect(exception).toMatchObject({
      parent: id,
      icalUid: uid,
      event: { key: { uid, originalTime: sec('2025-03-05T01:00:00Z') } },
    });
    // The split, done as Google's guide says: the series ends before the target, a new one starts there.
    await api.events.patch({
      calendarId: 'primary',
      eventId: id,
      requestBody: { recurrence: ['RRULE:FREQ=DAILY;UNTIL=20250307T155959Z'] },
    });
    const tail = await api.events.insert({
      calendarId: 'primary',
      requestBody: {
        summary: 'Daily (later)',
        start: timed('2025-03-08T10:00:00'),
        end: timed('2025-03-08T10:30:00'),
        recurrence: ['RRULE:FREQ=DAILY;COUNT=5'],
      },
    });
    const inc = await read(full.cursor);
    expect(inc.removals).toEqual([]);
    const old = byId(inc.upserts, id)!;
    expect(old.event.key).toEqual({ uid, originalTime: 0 });
    expect(old.event.recurrence).toEqual(['RRULE:FREQ=DAILY;UNTIL=20250307T155959Z']);
    const fresh = byId(inc.upserts, tail.data.id!)!;
    expect(fresh.event.key.uid).not.toBe(uid);
    expect(fresh.icalUid).toBe(tail.data.iCalUID);
    expect(fresh.event.recurrence).toEqual(['RRULE:FREQ=DAILY;COUNT=5']);
    expect(fresh.event.start).toEqual({ timestamp: sec('2025-03-08T02:00:00Z'), timeZone: 'Asia/Shanghai' });
  });

  it('RFC 7529 rules read from Google become plain RFC 5545 (exactly where possible), saying what changed', async () => {
    const series = (id: string, rule: string, date: string) => ({
      calendarId: 'ann@example.com',
      id,
      summary: id,
      start: { dateTime: `${date}T09:00:00+08:00`, timeZone: 'Asia/Shanghai' },
      end: { dateTime: `${date}T10:00:00+08:00`, timeZone: 'Asia/Shanghai' },
      recurrence: [rule, 'EXDATE;TZID=Asia/Shanghai:20250331T090000'],
    });
    await em.control('seed', {
      events: [
        series('greg0001', 'RRULE:RSCALE=GREGORIAN;FREQ=MONTHLY;SKIP=BACKWARD;COUNT=6', '2025-01-31'),
        series('luna0001', 'RRULE:RSCALE=CHINESE;FREQ=YEARLY', '2025-01-29'),
      ],
    });
    const full = await read(null);
    const greg = byId(full.upserts, 'greg0001')!;
    expect(greg.event.recurrence).toEqual([
      'RRULE:FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1;COUNT=6',
      'EXDATE;TZID=Asia/Shanghai:20250331T090000',
    ]);
    expect(greg.note).toBeUndefined();
    const lunar = byId(full.upserts, 'luna0001')!;
    expect(lunar.event.recurrence).toEqual([]);
    expect(lunar.note).toMatch(/RSCALE=CHINESE.*first occurrence/);
  });

  it('an expired sync token (410) says expired, and the full read after it has no duplicates', async () => {
    const api = calendarFor(em.url, 'ann@example.com');
    await api.events.insert({
      calendarId: 'primary',
      requestBody: { summary: 'a', start: timed('2025-03-04T09:00:00'), end: timed('2025-03-04T10:00:00') },
    });
    const first = await read(null);
    await em.control('expire-sync-tokens');
    const stale = await read(first.cursor);
    expect(stale).toMatchObject({ expired: true, upserts: [], removals: [] });
    const again = await read(null);
    expect(again.upserts.map((u) => u.ref.id)).toEqual(first.upserts.map((u) => u.ref.id));
  });
});
