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

const at = (day: number, hour = 9) =>
  timed(`2025-03-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00`);
const add = (id: string, day: number, extra: object = {}) =>
  cal.events.insert({
    calendarId: 'primary',
    requestBody: { id, summary: id, start: at(day), end: at(day, 10), ...extra },
  });

describe('google emulator: list, sync tokens, recurrence', () => {
  it('pages with maxResults and gives nextSyncToken only on the last page; incremental sync returns changes and deletions', async () => {
    for (let i = 1; i <= 5; i++) await add(`ev0000${i}`, i);
    const p1 = await cal.events.list({ calendarId: 'primary', maxResults: 2 });
    expect(p1.data.items).toHaveLength(2);
    expect(p1.data.nextPageToken).toBeTruthy();
    expect(p1.data.nextSyncToken).toBeFalsy();
    const p2 = await cal.events.list({
      calendarId: 'primary',
      maxResults: 2,
      pageToken: p1.data.nextPageToken!,
    });
    const p3 = await cal.events.list({
      calendarId: 'primary',
      maxResults: 2,
      pageToken: p2.data.nextPageToken!,
    });
    expect(p3.data.items?.map((e) => e.id)).toEqual(['ev00005']);
    expect(p3.data.nextPageToken).toBeFalsy();
    const token = p3.data.nextSyncToken!;
    expect(token).toBeTruthy();
    await cal.events.patch({
      calendarId: 'primary',
      eventId: 'ev00002',
      requestBody: { summary: 'changed' },
    });
    await cal.events.delete({ calendarId: 'primary', eventId: 'ev00003' });
    const inc = await cal.events.list({ calendarId: 'primary', syncToken: token });
    expect(inc.data.items?.map((e) => [e.id, e.status])).toEqual([
      ['ev00002', 'confirmed'],
      ['ev00003', 'cancelled'],
    ]);
    const quiet = await cal.events.list({ calendarId: 'primary', syncToken: inc.data.nextSyncToken! });
    expect(quiet.data.items).toEqual([]);
    // maxResults above 2500 is clamped, not refused.
    expect((await cal.events.list({ calendarId: 'primary', maxResults: 5000 })).data.items).toHaveLength(4);
  });

  it('refuses the parameters forbidden with a syncToken, and answers 410 fullSyncRequired when it expired', async () => {
    await add('ev00001', 1);
    const token = (await cal.events.list({ calendarId: 'primary' })).data.nextSyncToken!;
    for (const extra of [
      { timeMin: '2025-01-01T00:00:00Z' },
      { orderBy: 'updated' },
      { q: 'x' },
      { privateExtendedProperty: ['a=b'] },
      { showDeleted: false },
    ]) {
      expect(
        (await failure(cal.events.list({ calendarId: 'primary', syncToken: token, ...extra }))).status,
      ).toBe(400);
    }
    await em.control('clock', { advanceSeconds: 25 * 3600 });
    cal = calendarFor(em.url, 'ann@example.com'); // the old access token expired with the clock
    const gone = await failure(cal.events.list({ calendarId: 'primary', syncToken: token }));
    expect(gone).toMatchObject({ status: 410, reason: 'fullSyncRequired' });
    expect(gone.body.error.errors[0]).toMatchObject({ domain: 'calendar', location: 'syncToken' });
    const fresh = (await cal.events.list({ calendarId: 'primary' })).data.nextSyncToken!;
    await em.control('expire-sync-tokens');
    expect((await failure(cal.events.list({ calendarId: 'primary', syncToken: fresh }))).status).toBe(410);
  });

  it('filters by time window, private extended property, showDeleted; orderBy=startTime needs singleEvents', async () => {
    await add('ev00003', 3, { extendedProperties: { private: { feisyncPair: 'p1' } } });
    await add('ev00001', 1, { extendedProperties: { private: { feisyncPair: 'p2' } } });
    await add('ev00002', 2);
    await cal.events.delete({ calendarId: 'primary', eventId: 'ev00002' });
    const win = await cal.events.list({
      calendarId: 'primary',
      timeMin: '2025-03-01T10:00:00+08:00',
      timeMax: '2025-03-03T09:00:00+08:00',
    });
    expect(win.data.items?.map((e) => e.id)).toEqual([]);
    const win2 = await cal.events.list({
      calendarId: 'primary',
      timeMin: '2025-03-01T09:59:00+08:00',
      timeMax: '2025-03-03T09:01:00+08:00',
    });
    expect(win2.data.items?.map((e) => e.id).sort()).toEqual(['ev00001', 'ev00003']);
    const tagged = await cal.events.list({
      calendarId: 'primary',
      privateExtendedProperty: ['feisyncPair=p1'],
    });
    expect(tagged.data.items?.map((e) => e.id)).toEqual(['ev00003']);
    const all = await cal.events.list({ calendarId: 'primary', showDeleted: true });
    expect(all.data.items?.find((e) => e.id === 'ev00002')?.status).toBe('cancelled');
    expect((await failure(cal.events.list({ calendarId: 'primary', orderBy: 'startTime' }))).status).toBe(
      400,
    );
    const ordered = await cal.events.list({
      calendarId: 'primary',
      singleEvents: true,
      orderBy: 'startTime',
    });
    expect(ordered.data.items?.map((e) => e.id)).toEqual(['ev00001', 'ev00003']);
  });

  it('expands series: instance ids and originalStartTime, EXDATE/RDATE, all-day form', async () => {
    await add('series1', 3, {
      recurrence: [
        'RRULE:FREQ=DAILY;COUNT=4',
        'EXDATE;TZID=Asia/Shanghai:20250304T090000',
        'RDATE:20250310T010000Z',
      ],
    });
    const inst = await cal.events.instances({ calendarId: 'primary', eventId: 'series1' });
    expect(inst.data.items?.map((e) => e.id)).toEqual([
      'series1_20250303T010000Z',
      'series1_20250305T010000Z',
      'series1_20250306T010000Z',
      'series1_20250310T010000Z',
    ]);
    expect(inst.data.items?.[0]).toMatchObject({
      recurringEventId: 'series1',
      originalStartTime: { dateTime: '2025-03-03T09:00:00+08:00', timeZone: 'Asia/Shanghai' },
      end: { dateTime: '2025-03-03T10:00:00+08:00' },
    });
    expect(inst.data.items?.[0].recurrence).toBeUndefined();
    await cal.events.insert({
      calendarId: 'primary',
      requestBody: {
        id: 'alldaa1',
        summary: 'A',
        start: { date: '2025-03-01' },
        end: { date: '2025-03-02' },
        recurrence: ['RRULE:FREQ=WEEKLY;COUNT=2'],
      },
    });
    const ad = await cal.events.instances({ calendarId: 'primary', eventId: 'alldaa1' });
    expect(ad.data.items?.map((e) => [e.id, e.originalStartTime, e.end])).toEqual([
      ['alldaa1_20250301', { date: '2025-03-01' }, { date: '2025-03-02' }],
      ['alldaa1_20250308', { date: '2025-03-08' }, { date: '2025-03-09' }],
    ]);
  });

  it('patches and cancels single instances; lists show exceptions, cancelled ones per showDeleted/singleEvents', async () => {
    await add('series2', 3, { recurrence: ['RRULE:FREQ=DAILY;COUNT=3'] });
    const token = (await cal.events.list({ calendarId: 'primary' })).data.nextSyncToken!;
    const moved = await cal.events.patch({
      calendarId: 'primary',
      eventId: 'series2_20250304T010000Z',
      requestBody: { start: at(4, 14), end: at(4, 15), summary: 'moved' },
    });
    expect(moved.data).toMatchObject({
      recurringEventId: 'series2',
      originalStartTime: { dateTime: '2025-03-04T09:00:00+08:00' },
    });
    await cal.events.delete({ calendarId: 'primary', eventId: 'series2_20250305T010000Z' });
    expect(
      (await failure(cal.events.delete({ calendarId: 'primary', eventId: 'series2_20250305T010000Z' })))
        .status,
    ).toBe(410);
    expect(
      (await failure(cal.events.get({ calendarId: 'primary', eventId: 'series2_20250309T010000Z' }))).status,
    ).toBe(404);
    const got = await cal.events.get({ calendarId: 'primary', eventId: 'series2_20250305T010000Z' });
    expect(got.data).toMatchObject({ status: 'cancelled', recurringEventId: 'series2' });
    // Not singleEvents: master, the moved exception and the cancelled one (even without showDeleted).
    const flat = await cal.events.list({ calendarId: 'primary' });
    expect(flat.data.items?.map((e) => [e.id, e.status])).toEqual([
      ['series2', 'confirmed'],
      ['series2_20250304T010000Z', 'confirmed'],
      ['series2_20250305T010000Z', 'cancelled'],
    ]);
    const single = await cal.events.list({ calendarId: 'primary', singleEvents: true, orderBy: 'startTime' });
    expect(single.data.items?.map((e) => e.summary)).toEqual(['series2', 'moved']);
    const withDeleted = await cal.events.list({
      calendarId: 'primary',
      singleEvents: true,
      showDeleted: true,
    });
    expect(withDeleted.data.items?.map((e) => e.status)).toEqual(['confirmed', 'confirmed', 'cancelled']);
    const inc = await cal.events.list({ calendarId: 'primary', syncToken: token });
    expect(inc.data.items?.map((e) => e.id)).toEqual([
      'series2_20250304T010000Z',
      'series2_20250305T010000Z',
    ]);
  });
});
