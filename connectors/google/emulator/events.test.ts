import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { calendarFor, emulator, failure, timed } from './testkit.ts';

let em: Awaited<ReturnType<typeof emulator>>;
let cal: ReturnType<typeof calendarFor>;
beforeAll(async () => {
  em = await emulator();
});
beforeEach(async () => {
  await em.reset();
  cal = calendarFor(em.url, 'ann@example.com');
});
afterAll(() => em.close());

const body = (extra: object = {}) => ({
  summary: 'Standup',
  start: timed('2025-03-03T09:00:00'),
  end: timed('2025-03-03T09:30:00'),
  ...extra,
});

describe('google emulator: events', () => {
  it('inserts with a client id (base32hex, 5-1024) and answers 409 on a duplicate and on a deleted id', async () => {
    const ins = await cal.events.insert({
      calendarId: 'primary',
      sendUpdates: 'none',
      requestBody: body({ id: 'abc0123v' }),
    });
    expect(ins.data).toMatchObject({
      id: 'abc0123v',
      iCalUID: 'abc0123v@google.com',
      status: 'confirmed',
      start: { dateTime: '2025-03-03T09:00:00+08:00', timeZone: 'Asia/Shanghai' },
      organizer: { email: 'ann@example.com', self: true },
    });
    expect(ins.data.etag).toMatch(/^"\d+"$/);
    for (const id of ['abcw1', 'ABCDE', 'abc', 'abc-1234']) {
      expect(
        (await failure(cal.events.insert({ calendarId: 'primary', requestBody: body({ id }) }))).status,
      ).toBe(400);
    }
    const dup = await failure(
      cal.events.insert({ calendarId: 'primary', requestBody: body({ id: 'abc0123v' }) }),
    );
    expect(dup).toMatchObject({ status: 409, reason: 'duplicate' });
    await cal.events.delete({ calendarId: 'primary', eventId: 'abc0123v' });
    const again = await failure(
      cal.events.insert({ calendarId: 'primary', requestBody: body({ id: 'abc0123v' }) }),
    );
    expect(again).toMatchObject({ status: 409, reason: 'duplicate' });
    // Server-chosen ids are base32hex too.
    const auto = await cal.events.insert({ calendarId: 'primary', requestBody: body() });
    expect(auto.data.id).toMatch(/^[a-v0-9]{26}$/);
  });

  it('gets, deletes (204, then 410), and a get of a deleted event shows it cancelled', async () => {
    await cal.events.insert({ calendarId: 'primary', requestBody: body({ id: 'ev00001' }) });
    expect((await cal.events.get({ calendarId: 'primary', eventId: 'ev00001' })).data.summary).toBe(
      'Standup',
    );
    expect((await cal.events.delete({ calendarId: 'primary', eventId: 'ev00001' })).status).toBe(204);
    expect(await failure(cal.events.delete({ calendarId: 'primary', eventId: 'ev00001' }))).toMatchObject({
      status: 410,
      reason: 'deleted',
    });
    const got = await cal.events.get({ calendarId: 'primary', eventId: 'ev00001' });
    expect(got.data).toEqual({
      kind: 'calendar#event',
      etag: expect.any(String),
      id: 'ev00001',
      status: 'cancelled',
    });
    expect((await failure(cal.events.get({ calendarId: 'primary', eventId: 'nosuch1' }))).status).toBe(404);
  });

  it('imports by iCalUID (required); importing it again updates that event; insert refuses a known iCalUID', async () => {
    const imp = await cal.events.import({
      calendarId: 'primary',
      requestBody: { ...body(), iCalUID: 'feishu-uid-1@feishu', organizer: { email: 'boss@example.com' } },
    });
    expect(imp.data).toMatchObject({
      iCalUID: 'feishu-uid-1@feishu',
      organizer: { email: 'boss@example.com' },
    });
    expect((await failure(cal.events.import({ calendarId: 'primary', requestBody: body() }))).status).toBe(
      400,
    );
    const again = await cal.events.import({
      calendarId: 'primary',
      requestBody: { ...body(), summary: 'moved', iCalUID: 'feishu-uid-1@feishu', sequence: 2 },
    });
    expect(again.data).toMatchObject({ id: imp.data.id, summary: 'moved', sequence: 2 });
    expect(again.data.etag).not.toBe(imp.data.etag);
    const all = await cal.events.list({ calendarId: 'primary', iCalUID: 'feishu-uid-1@feishu' });
    expect(all.data.items?.map((e) => e.id)).toEqual([imp.data.id]);
    const dup = await failure(
      cal.events.insert({
        calendarId: 'primary',
        requestBody: { ...body(), iCalUID: 'feishu-uid-1@feishu' },
      }),
    );
    expect(dup).toMatchObject({ status: 409, reason: 'duplicate' });
    // A deleted event keeps its iCalUID: insert still refuses it, import brings the event back.
    await cal.events.delete({ calendarId: 'primary', eventId: imp.data.id! });
    expect(
      (
        await failure(
          cal.events.insert({
            calendarId: 'primary',
            requestBody: { ...body(), iCalUID: 'feishu-uid-1@feishu' },
          }),
        )
      ).status,
    ).toBe(409);
    const revived = await cal.events.import({
      calendarId: 'primary',
      requestBody: { ...body(), iCalUID: 'feishu-uid-1@feishu' },
    });
    expect(revived.data).toMatchObject({ id: imp.data.id, status: 'confirmed' });
    // Another calendar has iCalUIDs of its own.
    const bob = calendarFor(em.url, 'bob@example.com');
    const other = await bob.events.insert({
      calendarId: 'primary',
      requestBody: { ...body(), iCalUID: 'feishu-uid-1@feishu' },
    });
    expect(other.data.iCalUID).toBe('feishu-uid-1@feishu');
  });

  it('patch merges extended properties (null deletes) and replaces arrays; update replaces everything', async () => {
    await cal.events.insert({
      calendarId: 'primary',
      requestBody: body({
        id: 'ev00002',
        extendedProperties: { private: { a: '1', b: '2' } },
        attendees: [{ email: 'x@example.com' }, { email: 'y@example.com' }],
      }),
    });
    const p = await cal.events.patch({
      calendarId: 'primary',
      eventId: 'ev00002',
      requestBody: {
        extendedProperties: { private: { b: null as any, c: '3' } },
        attendees: [{ email: 'z@example.com' }],
      },
    });
    expect(p.data.extendedProperties?.private).toEqual({ a: '1', c: '3' });
    expect(p.data.attendees).toEqual([{ email: 'z@example.com', responseStatus: 'needsAction' }]);
    expect(p.data.summary).toBe('Standup');
    const u = await cal.events.update({
      calendarId: 'primary',
      eventId: 'ev00002',
      requestBody: body({ summary: 'New' }),
    });
    expect(u.data.summary).toBe('New');
    expect(u.data.extendedProperties).toBeUndefined();
    expect(u.data.attendees).toBeUndefined();
    expect(u.data.etag).not.toBe(p.data.etag);
  });

  it('If-Match with a stale etag is 412 conditionNotMet; the current etag passes', async () => {
    const ins = await cal.events.insert({ calendarId: 'primary', requestBody: body({ id: 'ev00003' }) });
    const p = await cal.events.patch(
      { calendarId: 'primary', eventId: 'ev00003', requestBody: { summary: 'B' } },
      { headers: { 'If-Match': ins.data.etag! } },
    );
    const stale = await failure(
      cal.events.patch(
        { calendarId: 'primary', eventId: 'ev00003', requestBody: { summary: 'C' } },
        { headers: { 'If-Match': ins.data.etag! } },
      ),
    );
    expect(stale).toMatchObject({ status: 412, reason: 'conditionNotMet' });
    expect(stale.body.error.errors[0]).toMatchObject({ location: 'If-Match', locationType: 'header' });
    const del = await failure(
      cal.events.delete(
        { calendarId: 'primary', eventId: 'ev00003' },
        { headers: { 'If-Match': ins.data.etag! } },
      ),
    );
    expect(del.status).toBe(412);
    await cal.events.delete(
      { calendarId: 'primary', eventId: 'ev00003' },
      { headers: { 'If-Match': p.data.etag! } },
    );
  });

  it('validates times and recurrence lines: DTSTART rejected, zones required on recurring events', async () => {
    const bad = [
      body({ recurrence: ['DTSTART:20250303T010000Z', 'RRULE:FREQ=DAILY'] }),
      body({
        recurrence: ['RRULE:FREQ=DAILY'],
        start: { dateTime: '2025-03-03T09:00:00+08:00' },
        end: { dateTime: '2025-03-03T10:00:00+08:00' },
      }),
      body({ recurrence: ['RRULE:BYDAY=MO'] }),
      body({ end: timed('2025-03-03T08:00:00') }),
      body({ start: { dateTime: '2025-03-03T09:00:00' }, end: { dateTime: '2025-03-03T10:00:00' } }),
      body({ start: timed('2025-03-03T09:00:00', 'Mars/Olympus') }),
    ];
    for (const requestBody of bad) {
      expect((await failure(cal.events.insert({ calendarId: 'primary', requestBody }))).status).toBe(400);
    }
    const ok = await cal.events.insert({
      calendarId: 'primary',
      requestBody: body({
        recurrence: [
          'RRULE:FREQ=WEEKLY;COUNT=3',
          'EXDATE;TZID=Asia/Shanghai:20250310T090000',
          'RDATE:20250305T010000Z',
        ],
      }),
    });
    expect(ok.data.recurrence).toHaveLength(3);
    const allDay = await cal.events.insert({
      calendarId: 'primary',
      requestBody: { summary: 'Holiday', start: { date: '2025-05-01' }, end: { date: '2025-05-03' } },
    });
    expect(allDay.data.end).toEqual({ date: '2025-05-03' });
  });
});
