import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_OCCURRENCES, expandRecurrence } from './index.ts';

const UTC = 'UTC';

describe('expandRecurrence: options and forms', () => {
  it('accepts the RRULE: prefix, lower case and a trailing semicolon', () => {
    const want = ['2024-01-01T09:00:00', '2024-01-02T09:00:00'];
    expect(expandRecurrence('RRULE:FREQ=DAILY;COUNT=2', '2024-01-01T09:00:00', UTC)).toEqual(want);
    expect(expandRecurrence('freq=daily;count=2;', '2024-01-01T09:00:00', UTC)).toEqual(want);
  });

  it('answers in the form of dtstart (extended, basic, date)', () => {
    expect(expandRecurrence('FREQ=DAILY;COUNT=2', '20240101T090000', UTC)).toEqual([
      '20240101T090000',
      '20240102T090000',
    ]);
    expect(expandRecurrence('FREQ=DAILY;COUNT=2', '20240101', UTC)).toEqual(['20240101', '20240102']);
    expect(expandRecurrence('FREQ=DAILY;COUNT=2', '2024-01-01', UTC)).toEqual(['2024-01-01', '2024-01-02']);
  });

  it('DTSTART is always the first instance and counts toward COUNT', () => {
    // 2024-01-02 is a Tuesday; the rule asks for Mondays.
    expect(expandRecurrence('FREQ=WEEKLY;BYDAY=MO;COUNT=3', '2024-01-02T09:00:00', UTC)).toEqual([
      '2024-01-02T09:00:00',
      '2024-01-08T09:00:00',
      '2024-01-15T09:00:00',
    ]);
  });

  it('DTSTART stays even when the rule UNTIL is before it', () => {
    expect(expandRecurrence('FREQ=DAILY;UNTIL=20231231', '2024-01-01T09:00:00', UTC)).toEqual([
      '2024-01-01T09:00:00',
    ]);
    expect(expandRecurrence('FREQ=DAILY', '2024-01-01T09:00:00', UTC, { until: '2023-12-31' })).toEqual([]);
  });

  it('EXDATEs are removed after COUNT is applied', () => {
    expect(
      expandRecurrence('FREQ=DAILY;COUNT=4', '2024-01-01T09:00:00', UTC, {
        exdates: ['2024-01-02T09:00:00', '2024-01-09T09:00:00'],
      }),
    ).toEqual(['2024-01-01T09:00:00', '2024-01-03T09:00:00', '2024-01-04T09:00:00']);
  });

  it('options.count and options.until cap the output on top of the rule', () => {
    const rule = 'FREQ=DAILY;COUNT=10';
    expect(expandRecurrence(rule, '2024-01-01T09:00:00', UTC, { count: 2 })).toHaveLength(2);
    expect(expandRecurrence(rule, '2024-01-01T09:00:00', UTC, { count: 50 })).toHaveLength(10);
    expect(expandRecurrence(rule, '2024-01-01T09:00:00', UTC, { until: '2024-01-03T09:00:00' })).toHaveLength(
      3,
    );
    expect(expandRecurrence(rule, '2024-01-01T09:00:00', UTC, { until: '2024-01-03T08:59:59' })).toHaveLength(
      2,
    );
    expect(expandRecurrence(rule, '2024-01-01T09:00:00', UTC, { until: '2024-01-03' })).toHaveLength(3);
    expect(
      expandRecurrence(rule, '2024-01-01T09:00:00', 'Asia/Shanghai', { until: '2024-01-03T01:00:00Z' }),
    ).toHaveLength(3);
    // options.count counts what is returned, after EXDATE removal.
    const ex = { count: 2, exdates: ['2024-01-01T09:00:00'] };
    expect(expandRecurrence(rule, '2024-01-01T09:00:00', UTC, ex)).toEqual([
      '2024-01-02T09:00:00',
      '2024-01-03T09:00:00',
    ]);
  });

  it(`an unbounded rule stops at DEFAULT_MAX_OCCURRENCES (${DEFAULT_MAX_OCCURRENCES})`, () => {
    const occ = expandRecurrence('FREQ=DAILY', '2024-01-01T09:00:00', UTC);
    expect(occ).toHaveLength(DEFAULT_MAX_OCCURRENCES);
    expect(occ.at(-1)).toBe('2026-09-26T09:00:00');
  });

  it('a rule that never matches again returns only DTSTART, quickly', () => {
    const t = Date.now();
    expect(expandRecurrence('FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30', '2024-01-15', UTC)).toEqual([
      '2024-01-15',
    ]);
    expect(
      expandRecurrence('FREQ=DAILY;BYMONTH=2;BYMONTHDAY=31;COUNT=5', '2024-01-15T09:00:00', UTC),
    ).toHaveLength(1);
    expect(
      expandRecurrence('FREQ=MINUTELY;INTERVAL=60;BYMINUTE=30', '2024-01-15T09:00:00', UTC, { count: 3 }),
    ).toHaveLength(1);
    expect(Date.now() - t).toBeLessThan(5000);
  });

  it('skips invalid dates: the 31st of short months, Feb 29 outside leap years', () => {
    expect(expandRecurrence('FREQ=MONTHLY;COUNT=4', '2024-01-31', UTC)).toEqual([
      '2024-01-31',
      '2024-03-31',
      '2024-05-31',
      '2024-07-31',
    ]);
    expect(expandRecurrence('FREQ=YEARLY;COUNT=3', '2024-02-29', UTC)).toEqual([
      '2024-02-29',
      '2028-02-29',
      '2032-02-29',
    ]);
  });

  it('BYYEARDAY and BYMONTHDAY negative, BYSETPOS with several values', () => {
    expect(expandRecurrence('FREQ=YEARLY;BYYEARDAY=-1,-306;COUNT=4', '2023-02-28', UTC)).toEqual([
      '2023-02-28',
      '2023-03-01', // -306 is March 1st in common and leap years alike
      '2023-12-31',
      '2024-03-01',
    ]);
    expect(
      expandRecurrence('FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1,-1;COUNT=4', '2024-01-01', UTC),
    ).toEqual(['2024-01-01', '2024-01-31', '2024-02-01', '2024-02-29']);
  });

  it('BYWEEKNO follows ISO weeks and WKST, including week 1 days in the previous year', () => {
    // ISO week 1 of 2025 starts on Monday 2024-12-30.
    expect(expandRecurrence('FREQ=YEARLY;BYWEEKNO=1;BYDAY=MO,SU;COUNT=4', '2024-01-01', UTC)).toEqual([
      '2024-01-01',
      '2024-01-07',
      '2024-12-30',
      '2025-01-05',
    ]);
    // Week 53 exists in 2020 (ISO), not in 2021..2025.
    expect(expandRecurrence('FREQ=YEARLY;BYWEEKNO=53;BYDAY=TH;COUNT=2', '2020-12-31', UTC)).toEqual([
      '2020-12-31',
      '2026-12-31',
    ]);
    // With WKST=SU the week starts on Sunday: week 1 of 2024 is the one holding Jan 4 -> Dec 31 .. Jan 6.
    expect(expandRecurrence('FREQ=YEARLY;BYWEEKNO=1;WKST=SU;BYDAY=SU;COUNT=2', '2023-01-01', UTC)).toEqual([
      '2023-01-01',
      '2023-12-31',
    ]);
  });

  it('BYHOUR/BYMINUTE/BYSECOND expand on DAILY and limit on HOURLY; SECONDLY works', () => {
    expect(
      expandRecurrence('FREQ=DAILY;BYHOUR=8,20;BYMINUTE=15;COUNT=3', '2024-01-01T08:15:00', UTC),
    ).toEqual(['2024-01-01T08:15:00', '2024-01-01T20:15:00', '2024-01-02T08:15:00']);
    expect(
      expandRecurrence('FREQ=HOURLY;INTERVAL=5;BYHOUR=10,15;COUNT=3', '2024-01-01T10:00:00', UTC),
    ).toEqual([
      '2024-01-01T10:00:00',
      '2024-01-01T15:00:00',
      '2024-01-06T10:00:00', // every 5 hours hits 10:00 or 15:00 again only 120 hours later
    ]);
    expect(expandRecurrence('FREQ=SECONDLY;INTERVAL=20;COUNT=4', '2024-01-01T23:59:20', UTC)).toEqual([
      '2024-01-01T23:59:20',
      '2024-01-01T23:59:40',
      '2024-01-02T00:00:00',
      '2024-01-02T00:00:20',
    ]);
  });

  it('UNTIL as a DATE includes the whole local day; floating UNTIL is local', () => {
    expect(expandRecurrence('FREQ=DAILY;UNTIL=20240103', '2024-01-01T23:00:00', UTC)).toHaveLength(3);
    expect(expandRecurrence('FREQ=DAILY;UNTIL=20240103T225959', '2024-01-01T23:00:00', UTC)).toHaveLength(2);
  });

  it('throws clear errors on invalid input', () => {
    const bad = (rule: string) => () => expandRecurrence(rule, '2024-01-01T09:00:00', UTC);
    expect(bad('FREQ=FORTNIGHTLY')).toThrow(/unknown FREQ/);
    expect(bad('INTERVAL=2')).toThrow(/FREQ is required/);
    expect(bad('FREQ=WEEKLY;BYDAY=XX')).toThrow(/bad BYDAY/);
    expect(bad('FREQ=WEEKLY;BYDAY=1MO')).toThrow(/ordinals/);
    expect(bad('FREQ=DAILY;COUNT=2;UNTIL=20240101')).toThrow(/COUNT and UNTIL/);
    expect(bad('FREQ=MONTHLY;BYWEEKNO=3')).toThrow(/BYWEEKNO/);
    expect(bad('FREQ=WEEKLY;BYMONTHDAY=3')).toThrow(/BYMONTHDAY/);
    expect(bad('FREQ=DAILY;BYYEARDAY=3')).toThrow(/BYYEARDAY/);
    expect(bad('FREQ=DAILY;BYSETPOS=1')).toThrow(/BYSETPOS/);
    expect(bad('FREQ=DAILY;BYMONTH=13')).toThrow(/out of range/);
    expect(bad('FREQ=DAILY;INTERVAL=0')).toThrow(/INTERVAL/);
    expect(bad('FREQ=DAILY;FOO=1')).toThrow(/unknown rule part/);
    expect(bad('FREQ=DAILY;UNTIL=20240230')).toThrow(/UNTIL/);
    expect(() => expandRecurrence('FREQ=DAILY', '2024-13-01', UTC)).toThrow(/dtstart/);
    expect(() => expandRecurrence('FREQ=DAILY', '2024-01-01', 'Mars/Olympus')).toThrow(/time zone/);
    expect(() => expandRecurrence('FREQ=HOURLY', '2024-01-01', UTC)).toThrow(/date-time DTSTART/);
  });

  it('is fast: 2000 weekly series over a year in New York', () => {
    const t = performance.now();
    let n = 0;
    for (let i = 0; i < 2000; i++) {
      const day = String(1 + (i % 28)).padStart(2, '0');
      n += expandRecurrence('FREQ=WEEKLY;BYDAY=MO,WE,FR', `2024-01-${day}T09:30:00`, 'America/New_York', {
        until: '2024-12-31T23:59:59',
      }).length;
    }
    const ms = performance.now() - t;
    expect(n).toBeGreaterThan(250_000);
    expect(ms).toBeLessThan(10_000);
  });
});
