import { describe, expect, it } from 'vitest';
import {
  expandGraphRecurrence,
  expandRecurrence,
  fromGraphRecurrence,
  type GraphRecurrence,
  toGraphRecurrence,
} from './index.ts';

/** Both expansions, bounded the same way (a rule's own COUNT/UNTIL, else 8 years). */
function both(rule: string, start: string, tz: string, rec: object) {
  const until = `${Number(start.slice(0, 4)) + 8}-12-31`;
  return {
    rule: expandRecurrence(rule, start, tz, { until }),
    graph: expandRecurrence(fromGraphRecurrence(rec), start, tz, { until }),
  };
}

describe("Graph's documented pattern examples", () => {
  // learn.microsoft.com recurrencePattern: one example per type, both directions.
  const docs: [string, string, string, GraphRecurrence['pattern']][] = [
    ['every 3 days', 'FREQ=DAILY;INTERVAL=3', '2024-01-01T09:00:00', { type: 'daily', interval: 3 }],
    [
      'Monday and Tuesday of every other week',
      'FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TU;WKST=SU',
      '2024-01-01T09:00:00',
      { type: 'weekly', interval: 2, daysOfWeek: ['monday', 'tuesday'], firstDayOfWeek: 'sunday' },
    ],
    [
      'quarterly on the 15th',
      'FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15',
      '2024-01-15T09:00:00',
      { type: 'absoluteMonthly', interval: 3, dayOfMonth: 15 },
    ],
    [
      'second Thursday or Friday every three months',
      'FREQ=MONTHLY;INTERVAL=3;BYDAY=TH,FR;BYSETPOS=2',
      '2024-01-05T09:00:00',
      { type: 'relativeMonthly', interval: 3, daysOfWeek: ['thursday', 'friday'], index: 'second' },
    ],
    [
      '15th of March every 3 years',
      'FREQ=YEARLY;INTERVAL=3;BYMONTH=3;BYMONTHDAY=15',
      '2024-03-15T09:00:00',
      { type: 'absoluteYearly', interval: 3, dayOfMonth: 15, month: 3 },
    ],
    [
      'second Thursday or Friday of November every 3 years',
      'FREQ=YEARLY;INTERVAL=3;BYMONTH=11;BYDAY=TH,FR;BYSETPOS=2',
      '2024-11-07T09:00:00',
      { type: 'relativeYearly', interval: 3, daysOfWeek: ['thursday', 'friday'], month: 11, index: 'second' },
    ],
  ];
  for (const [name, rule, start, pattern] of docs) {
    it(`${pattern.type}: ${name}`, () => {
      const range = {
        type: 'noEnd' as const,
        startDate: start.slice(0, 10),
        recurrenceTimeZone: 'Eastern Standard Time',
      };
      expect(fromGraphRecurrence({ pattern, range })).toBe(rule);
      expect(toGraphRecurrence(rule, start, 'America/New_York')).toEqual({
        recurrence: { pattern, range },
        exact: true,
      });
    });
  }

  it('second Thursday or Friday means the second day that is a Thursday or a Friday', () => {
    // March 2024 starts on a Friday: Fri 1, Thu 7 -> Thursday the 7th; April: Thu 4, Fri 5 -> the 5th.
    const rule = fromGraphRecurrence({
      pattern: { type: 'relativeMonthly', interval: 1, daysOfWeek: ['thursday', 'friday'], index: 'second' },
      range: { type: 'numbered', startDate: '2024-03-07', numberOfOccurrences: 2 },
    });
    expect(expandRecurrence(rule, '2024-03-07T09:00:00', 'UTC')).toEqual([
      '2024-03-07T09:00:00',
      '2024-04-05T09:00:00',
    ]);
  });

  it('ranges: numbered, endDate and noEnd', () => {
    const pattern = { type: 'weekly', interval: 1, daysOfWeek: ['monday'], firstDayOfWeek: 'sunday' };
    const r1 = {
      type: 'numbered',
      startDate: '2024-01-01',
      numberOfOccurrences: 10,
      recurrenceTimeZone: 'UTC',
    };
    expect(fromGraphRecurrence({ pattern, range: r1 })).toBe('FREQ=WEEKLY;BYDAY=MO;COUNT=10');
    const r2 = { type: 'endDate', startDate: '2024-01-01', endDate: '2024-03-04', recurrenceTimeZone: 'UTC' };
    expect(fromGraphRecurrence({ pattern, range: r2 })).toBe('FREQ=WEEKLY;BYDAY=MO;UNTIL=20240304');
    const r3 = { type: 'noEnd', startDate: '2024-01-01', recurrenceTimeZone: 'UTC' };
    expect(fromGraphRecurrence({ pattern, range: r3 })).toBe('FREQ=WEEKLY;BYDAY=MO');
    // endDate is inclusive: the Monday on 2024-03-04 is the last occurrence.
    const occ = expandRecurrence(
      'FREQ=WEEKLY;BYDAY=MO;UNTIL=20240304',
      '2024-01-01T18:00:00',
      'Asia/Shanghai',
    );
    expect(occ.at(-1)).toBe('2024-03-04T18:00:00');
    expect(occ).toHaveLength(10);
  });

  it('reads Graph responses that carry every property with defaults (and capitalized days)', () => {
    const rec = {
      pattern: {
        type: 'weekly',
        interval: 1,
        month: 0,
        dayOfMonth: 0,
        daysOfWeek: ['Monday'],
        firstDayOfWeek: 'sunday',
        index: 'first',
      },
      range: {
        type: 'endDate',
        startDate: '2017-09-04',
        endDate: '2017-12-31',
        recurrenceTimeZone: 'Pacific Standard Time',
        numberOfOccurrences: 0,
      },
    };
    expect(fromGraphRecurrence(rec)).toBe('FREQ=WEEKLY;BYDAY=MO;UNTIL=20171231');
    const daily = {
      pattern: { type: 'daily', interval: 2, month: 0, dayOfMonth: 0, daysOfWeek: [], index: 'first' },
    };
    expect(
      fromGraphRecurrence({
        ...daily,
        range: { type: 'noEnd', startDate: '2024-01-01', endDate: '0001-01-01' },
      }),
    ).toBe('FREQ=DAILY;INTERVAL=2');
  });

  it('rejects unknown pattern types and values', () => {
    expect(() => fromGraphRecurrence({ pattern: { type: 'hourly', interval: 1 } })).toThrow(/pattern type/);
    expect(() =>
      fromGraphRecurrence({ pattern: { type: 'weekly', interval: 1, daysOfWeek: ['funday'] } }),
    ).toThrow(/day of week/);
    expect(() =>
      fromGraphRecurrence({ pattern: { type: 'absoluteMonthly', interval: 1, dayOfMonth: 32 } }),
    ).toThrow(/dayOfMonth/);
    expect(() =>
      fromGraphRecurrence({
        pattern: { type: 'relativeMonthly', interval: 1, daysOfWeek: ['monday'], index: 'fifth' },
      }),
    ).toThrow(/index/);
  });
});

// [rule, dtstart, zone]: rules Graph expresses exactly.
const EXACT: [string, string, string][] = [
  ['FREQ=DAILY', '2024-03-08T02:30:00', 'America/New_York'],
  ['FREQ=DAILY;INTERVAL=5;COUNT=20', '2024-10-01T09:00:00', 'Europe/Berlin'],
  ['FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR', '2024-01-02T08:00:00', 'Asia/Shanghai'],
  ['FREQ=WEEKLY', '2024-01-03T09:00:00', 'Australia/Sydney'],
  ['FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;WKST=MO', '1997-08-05T09:00:00', 'America/New_York'],
  ['FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;WKST=SU', '1997-08-05T09:00:00', 'America/New_York'],
  ['FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,WE,FR;UNTIL=20250101T000000Z', '2024-01-01T20:00:00', 'America/New_York'],
  ['FREQ=WEEKLY;BYDAY=SA;UNTIL=20240330', '2024-01-06', 'Europe/Berlin'],
  ['FREQ=MONTHLY', '2024-01-28T10:00:00', 'Europe/Berlin'],
  ['FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=14', '2024-01-31T10:00:00', 'Asia/Shanghai'],
  ['FREQ=MONTHLY;BYDAY=1FR;COUNT=10', '1997-09-05T09:00:00', 'America/New_York'],
  ['FREQ=MONTHLY;INTERVAL=2;BYDAY=-1SU', '2024-03-31T02:30:00', 'Europe/Berlin'],
  ['FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1', '2024-01-31T17:00:00', 'America/New_York'],
  ['FREQ=MONTHLY;BYDAY=SA,SU;BYSETPOS=1', '2024-01-06', 'Australia/Sydney'],
  ['FREQ=MONTHLY;BYDAY=TU', '2024-01-02T09:00:00', 'America/New_York'],
  ['FREQ=MONTHLY;BYMONTH=11;BYDAY=4TH', '2024-11-28T12:00:00', 'America/New_York'],
  ['FREQ=YEARLY', '2024-07-04', 'America/New_York'],
  ['FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=14;COUNT=5', '2024-02-14T19:00:00', 'Asia/Shanghai'],
  ['FREQ=YEARLY;BYMONTH=5;BYDAY=-1MO', '2024-05-27T09:00:00', 'America/New_York'],
  ['FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1', '2024-02-29T09:00:00', 'Europe/Berlin'],
  ['FREQ=YEARLY;INTERVAL=2;BYMONTH=10;BYDAY=SU;BYSETPOS=-1', '2024-10-27T02:30:00', 'Europe/Berlin'],
  ['FREQ=YEARLY;BYMONTHDAY=10', '2024-01-10T09:00:00', 'Asia/Shanghai'],
  ['FREQ=YEARLY;BYDAY=FR', '2024-01-05T09:00:00', 'Asia/Shanghai'],
  ['FREQ=HOURLY;INTERVAL=48', '2024-01-05T09:00:00', 'America/New_York'],
  ['RRULE:FREQ=DAILY;BYHOUR=9;BYMINUTE=0;COUNT=3', '2024-01-05T09:00:00', 'America/New_York'],
];

// Rules Graph cannot express, with a superset pattern.
const SUPERSET: [string, string, string][] = [
  ['FREQ=MONTHLY;BYMONTHDAY=31', '2024-01-31T09:00:00', 'America/New_York'],
  ['FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29', '2024-02-29', 'UTC'],
  ['FREQ=MONTHLY;BYMONTHDAY=2,15;COUNT=10', '1997-09-02T09:00:00', 'America/New_York'],
  ['FREQ=MONTHLY;BYMONTHDAY=-3', '1997-09-28T09:00:00', 'America/New_York'],
  ['FREQ=MONTHLY;INTERVAL=2;COUNT=10;BYDAY=1SU,-1SU', '1997-09-07T09:00:00', 'America/New_York'],
  ['FREQ=MONTHLY;COUNT=6;BYDAY=-2MO', '1997-09-22T09:00:00', 'America/New_York'],
  ['FREQ=MONTHLY;BYDAY=5FR', '2024-03-29T09:00:00', 'America/New_York'],
  ['FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-2', '1997-09-29T09:00:00', 'America/New_York'],
  ['FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13', '1998-02-13T09:00:00', 'America/New_York'],
  ['FREQ=MONTHLY;INTERVAL=2;BYDAY=TU', '1997-09-02T09:00:00', 'America/New_York'],
  ['FREQ=YEARLY;COUNT=10;BYMONTH=6,7', '1997-06-10T09:00:00', 'America/New_York'],
  ['FREQ=YEARLY;INTERVAL=3;COUNT=10;BYYEARDAY=1,100,200', '1997-01-01T09:00:00', 'America/New_York'],
  ['FREQ=YEARLY;BYDAY=20MO', '1997-05-19T09:00:00', 'America/New_York'],
  ['FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO', '1997-05-12T09:00:00', 'America/New_York'],
  ['FREQ=YEARLY;BYMONTH=3;BYDAY=TH', '1997-03-13T09:00:00', 'America/New_York'],
  ['FREQ=DAILY;INTERVAL=2;BYDAY=MO,WE', '2024-01-01T09:00:00', 'Europe/Berlin'],
  ['FREQ=DAILY;BYMONTH=1;UNTIL=20260131T140000Z', '2024-01-01T09:00:00', 'America/New_York'],
  ['FREQ=WEEKLY;BYMONTH=6,7,8;BYDAY=SA', '2024-06-01', 'Australia/Sydney'],
];

// Rules with no superset pattern at all.
const NONE: [string, string, string][] = [
  ['FREQ=HOURLY;INTERVAL=3;COUNT=5', '1997-09-02T09:00:00', 'America/New_York'],
  ['FREQ=MINUTELY;INTERVAL=15;COUNT=6', '1997-09-02T09:00:00', 'America/New_York'],
  ['FREQ=DAILY;BYHOUR=9,17', '2024-01-01T09:00:00', 'America/New_York'],
  ['FREQ=DAILY;BYHOUR=10', '2024-01-01T09:00:00', 'America/New_York'],
  ['FREQ=WEEKLY;BYDAY=MO', '2024-01-02T09:00:00', 'America/New_York'],
];

describe('toGraphRecurrence / fromGraphRecurrence corpus', () => {
  it.each(EXACT)('exact: %s from %s in %s', (rule, start, tz) => {
    const c = toGraphRecurrence(rule, start, tz);
    expect(c.exact, c.reason).toBe(true);
    expect(c.reason).toBeUndefined();
    const { rule: a, graph: b } = both(rule, start, tz, c.recurrence!);
    expect(a.length).toBeGreaterThan(0);
    expect(b).toEqual(a);
  });

  it.each(SUPERSET)('superset: %s from %s in %s', (rule, start, tz) => {
    const c = toGraphRecurrence(rule, start, tz);
    expect(c.exact).toBe(false);
    expect(c.reason).toMatch(/\w/);
    expect(c.recurrence).not.toBeNull();
    const { rule: a, graph: b } = both(rule, start, tz, c.recurrence!);
    const graph = new Set(b);
    expect(a.filter((x) => !graph.has(x))).toEqual([]);
    expect(b.length).toBeGreaterThan(a.length);
  });

  it.each(NONE)('none: %s from %s in %s', (rule, start, tz) => {
    const c = toGraphRecurrence(rule, start, tz);
    expect(c).toMatchObject({ recurrence: null, exact: false });
    expect(c.reason).toMatch(/\w/);
  });

  it('UNTIL becomes the local date of the last occurrence it allows', () => {
    // 09:00 in Shanghai is 01:00Z: an UNTIL at 00:30Z on the 10th excludes the 10th.
    const a = toGraphRecurrence('FREQ=DAILY;UNTIL=20240310T003000Z', '2024-03-01T09:00:00', 'Asia/Shanghai');
    expect(a.recurrence!.range).toMatchObject({ type: 'endDate', endDate: '2024-03-09' });
    const b = toGraphRecurrence('FREQ=DAILY;UNTIL=20240310T010000Z', '2024-03-01T09:00:00', 'Asia/Shanghai');
    expect(b.recurrence!.range).toMatchObject({ type: 'endDate', endDate: '2024-03-10' });
    // 23:00 in New York on the 9th is 04:00Z on the 10th: the local date stays the 9th.
    const c = toGraphRecurrence(
      'FREQ=DAILY;UNTIL=20240310T040000Z',
      '2024-03-01T23:00:00',
      'America/New_York',
    );
    expect(c.recurrence!.range).toMatchObject({ type: 'endDate', endDate: '2024-03-09' });
    const d = toGraphRecurrence('FREQ=WEEKLY;UNTIL=20240331', '2024-03-01', 'Europe/Berlin');
    expect(d.recurrence!.range).toEqual({
      type: 'endDate',
      startDate: '2024-03-01',
      endDate: '2024-03-31',
      recurrenceTimeZone: 'W. Europe Standard Time',
    });
  });

  it('COUNT stays numbered when exact and becomes the last date when widened', () => {
    const exact = toGraphRecurrence('FREQ=WEEKLY;COUNT=4', '2024-01-01T09:00:00', 'UTC');
    expect(exact.recurrence!.range).toMatchObject({ type: 'numbered', numberOfOccurrences: 4 });
    const wide = toGraphRecurrence('FREQ=MONTHLY;COUNT=3;BYMONTHDAY=1,15', '2024-01-01T09:00:00', 'UTC');
    expect(wide.recurrence!.range).toMatchObject({ type: 'endDate', endDate: '2024-02-01' });
  });

  it('Graph clamps days 29-31 to the month end; fromGraph writes that as BYSETPOS=-1', () => {
    const rec = {
      pattern: { type: 'absoluteMonthly', interval: 1, dayOfMonth: 31 },
      range: { type: 'numbered', startDate: '2024-01-31', numberOfOccurrences: 4, recurrenceTimeZone: 'UTC' },
    };
    const rule = fromGraphRecurrence(rec);
    expect(rule).toBe('FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1;COUNT=4');
    expect(expandRecurrence(rule, '2024-01-31', 'UTC')).toEqual([
      '2024-01-31',
      '2024-02-29',
      '2024-03-31',
      '2024-04-30',
    ]);
  });

  it('expandGraphRecurrence starts on the first pattern date, as Graph does', () => {
    const rec = {
      pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday', 'wednesday'], firstDayOfWeek: 'sunday' },
      range: { type: 'numbered', startDate: '2024-01-02', numberOfOccurrences: 3, recurrenceTimeZone: 'UTC' },
    };
    // 2024-01-02 is a Tuesday: not an occurrence, and not counted.
    expect(expandGraphRecurrence(rec, '2024-01-02T09:00:00', 'UTC')).toEqual([
      '2024-01-03T09:00:00',
      '2024-01-08T09:00:00',
      '2024-01-10T09:00:00',
    ]);
    expect(expandRecurrence(fromGraphRecurrence(rec), '2024-01-02T09:00:00', 'UTC')[0]).toBe(
      '2024-01-02T09:00:00',
    );
  });

  it('throws on invalid rules', () => {
    expect(() => toGraphRecurrence('FREQ=FORTNIGHTLY', '2024-01-01T09:00:00', 'UTC')).toThrow(/FREQ/);
  });
});
