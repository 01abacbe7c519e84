/** The Graph SeriesReader against the emulator: occurrences deleted from series one by one. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGraphConnector, type GraphConnector } from './connector.ts';
import { fresh, type Kit, startKit, timed } from './emulator/testkit.ts';
import { patternStarts } from './series.ts';

let kit: Kit;
let conn: GraphConnector;
const CAL = { owner: 'ann@contoso.com', id: 'primary' };
const ann = '/users/ann@contoso.com';
beforeAll(async () => {
  kit = await startKit();
});
afterAll(() => kit.close());
beforeEach(async () => {
  await fresh(kit);
  conn = createGraphConnector({
    tenantId: 'tenant-1',
    clientId: 'app-1',
    clientSecret: 'secret-1',
    baseUrl: kit.url,
    authorityUrl: kit.url,
  });
});

const at = (iso: string) => Date.parse(iso) / 1000;
const WINDOW = { from: at('2025-03-01T00:00:00Z'), to: at('2025-05-01T00:00:00Z') };
const query = { startDateTime: '2025-02-01T00:00:00Z', endDateTime: '2025-06-01T00:00:00Z' };
const weekly = {
  subject: 'Weekly',
  start: timed('2025-03-03T09:00:00', 'W. Europe Standard Time'),
  end: timed('2025-03-03T10:00:00', 'W. Europe Standard Time'),
  recurrence: {
    pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday'], firstDayOfWeek: 'sunday' },
    range: { type: 'numbered', startDate: '2025-03-03', numberOfOccurrences: 8 },
  },
};

describe('graph series reader', () => {
  it('names the occurrences deleted on their own (across DST), a deleted exception too, nothing else', async () => {
    const m = await kit.api.api(`${ann}/calendar/events`).post(weekly);
    const daily = await kit.api.api(`${ann}/calendar/events`).post({
      subject: 'Daily, all day',
      isAllDay: true,
      start: timed('2025-04-01T00:00:00', 'UTC'),
      end: timed('2025-04-02T00:00:00', 'UTC'),
      recurrence: {
        pattern: { type: 'daily', interval: 1 },
        range: { type: 'noEnd', startDate: '2025-04-01' },
      },
    });
    const single = await kit.api.api(`${ann}/calendar/events`).post({
      subject: 'One',
      start: timed('2025-03-05T09:00:00', 'UTC'),
      end: timed('2025-03-05T10:00:00', 'UTC'),
    });
    let got = await conn.series.deletedOccurrences(CAL, [m.id, daily.id], WINDOW);
    expect(got).toEqual(
      new Map([
        [m.id, []],
        [daily.id, []],
      ]),
    );
    const occ = (await kit.api.api(`${ann}/events/${m.id}/instances`).query(query).get()).value;
    // one plain occurrence deleted after the DST change, one moved (an exception) then deleted
    await kit.api.api(`${ann}/events/${occ[5].id}`).delete();
    await kit.api.api(`${ann}/events/${occ[1].id}`).patch({
      start: timed('2025-03-10T15:00:00', 'UTC'),
      end: timed('2025-03-10T16:00:00', 'UTC'),
    });
    await kit.api.api(`${ann}/events/${occ[1].id}`).delete();
    // a moved occurrence that stays is no deletion
    await kit.api.api(`${ann}/events/${occ[2].id}`).patch({
      start: timed('2025-03-18T15:00:00', 'UTC'),
      end: timed('2025-03-18T16:00:00', 'UTC'),
    });
    const days = (await kit.api.api(`${ann}/events/${daily.id}/instances`).query(query).get()).value;
    await kit.api.api(`${ann}/events/${days[9].id}`).delete();
    got = await conn.series.deletedOccurrences(CAL, [m.id, daily.id, single.id, 'AAMkGone'], WINDOW);
    expect(got.get(m.id)).toEqual([at('2025-03-10T08:00:00Z'), at('2025-04-07T07:00:00Z')]);
    expect(got.get(daily.id)).toEqual([at('2025-04-10T00:00:00Z')]);
    expect(got.get(single.id)).toEqual([]);
    expect(got.get('AAMkGone')).toEqual([]);
    // only the window is looked at
    const april = await conn.series.deletedOccurrences(CAL, [m.id], {
      from: at('2025-04-01T00:00:00Z'),
      to: WINDOW.to,
    });
    expect(april.get(m.id)).toEqual([at('2025-04-07T07:00:00Z')]);
  });

  it('reads many series in $batch requests of 20', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await kit.api.api(`${ann}/calendar/events`).post(weekly)).id);
    const before = conn.stats.batches;
    const got = await conn.series.deletedOccurrences(CAL, ids, WINDOW);
    expect([...got.values()].every((v) => Array.isArray(v) && v.length === 0)).toBe(true);
    // two reads per series: 24 requests in two batches
    expect(conn.stats.batches - before).toBe(2);
  });

  it('leaves a series alone when Graph lists a start its pattern does not give', () => {
    const master = {
      type: 'seriesMaster',
      start: { dateTime: '2025-03-03T08:00:00.0000000', timeZone: 'UTC' },
      originalStartTimeZone: 'W. Europe Standard Time',
      recurrence: weekly.recurrence,
    };
    expect(patternStarts(master, WINDOW.from * 1000, WINDOW.to * 1000)?.length).toBe(8);
    expect(patternStarts({ ...master, type: 'singleInstance' }, 0, 1)).toBeUndefined();
  });
});
