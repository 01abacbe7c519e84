/**
 * Every example of RFC 5545 section 3.8.5.3 (DTSTART;TZID=America/New_York), with the occurrence
 * lists the RFC publishes. "Forever" rules are checked on the occurrences the RFC lists.
 */
import { describe, expect, it } from 'vitest';
import { expandRecurrence } from './index.ts';

const NY = 'America/New_York';

/** `YYYY-MM-DDT09:00:00` for each day of a month (or another time when given). */
function on(y: number, m: number, days: number[], time = '09:00:00'): string[] {
  const p = (n: number) => String(n).padStart(2, '0');
  return days.map((d) => `${y}-${p(m)}-${p(d)}T${time}`);
}

function span(from: number, to: number, step = 1): number[] {
  const out: number[] = [];
  for (let d = from; d <= to; d += step) out.push(d);
  return out;
}

function ex(rule: string, start: string, opts: Parameters<typeof expandRecurrence>[3] = {}): string[] {
  return expandRecurrence(rule, start, NY, opts);
}

describe('RFC 5545 3.8.5.3 examples', () => {
  it('daily for 10 occurrences', () => {
    expect(ex('FREQ=DAILY;COUNT=10', '1997-09-02T09:00:00')).toEqual(on(1997, 9, span(2, 11)));
  });

  it('daily until December 24, 1997', () => {
    expect(ex('FREQ=DAILY;UNTIL=19971224T000000Z', '1997-09-02T09:00:00')).toEqual([
      ...on(1997, 9, span(2, 30)),
      ...on(1997, 10, span(1, 31)),
      ...on(1997, 11, span(1, 30)),
      ...on(1997, 12, span(1, 23)),
    ]);
  });

  it('every other day, forever', () => {
    expect(ex('FREQ=DAILY;INTERVAL=2', '1997-09-02T09:00:00', { until: '1997-12-03T09:00:00' })).toEqual([
      ...on(1997, 9, span(2, 30, 2)),
      ...on(1997, 10, span(2, 30, 2)),
      ...on(1997, 11, span(1, 29, 2)),
      ...on(1997, 12, [1, 3]),
    ]);
  });

  it('every 10 days, 5 occurrences', () => {
    expect(ex('FREQ=DAILY;INTERVAL=10;COUNT=5', '1997-09-02T09:00:00')).toEqual([
      ...on(1997, 9, [2, 12, 22]),
      ...on(1997, 10, [2, 12]),
    ]);
  });

  it('every day in January, for 3 years (both forms)', () => {
    const want = [...on(1998, 1, span(1, 31)), ...on(1999, 1, span(1, 31)), ...on(2000, 1, span(1, 31))];
    expect(
      ex('FREQ=YEARLY;UNTIL=20000131T140000Z;BYMONTH=1;BYDAY=SU,MO,TU,WE,TH,FR,SA', '1998-01-01T09:00:00'),
    ).toEqual(want);
    expect(ex('FREQ=DAILY;UNTIL=20000131T140000Z;BYMONTH=1', '1998-01-01T09:00:00')).toEqual(want);
  });

  it('weekly for 10 occurrences', () => {
    expect(ex('FREQ=WEEKLY;COUNT=10', '1997-09-02T09:00:00')).toEqual([
      ...on(1997, 9, [2, 9, 16, 23, 30]),
      ...on(1997, 10, [7, 14, 21, 28]),
      ...on(1997, 11, [4]),
    ]);
  });

  it('weekly until December 24, 1997', () => {
    expect(ex('FREQ=WEEKLY;UNTIL=19971224T000000Z', '1997-09-02T09:00:00')).toEqual([
      ...on(1997, 9, [2, 9, 16, 23, 30]),
      ...on(1997, 10, [7, 14, 21, 28]),
      ...on(1997, 11, [4, 11, 18, 25]),
      ...on(1997, 12, [2, 9, 16, 23]),
    ]);
  });

  it('every other week, forever', () => {
    expect(ex('FREQ=WEEKLY;INTERVAL=2;WKST=SU', '1997-09-02T09:00:00', { count: 13 })).toEqual([
      ...on(1997, 9, [2, 16, 30]),
      ...on(1997, 10, [14, 28]),
      ...on(1997, 11, [11, 25]),
      ...on(1997, 12, [9, 23]),
      ...on(1998, 1, [6, 20]),
      ...on(1998, 2, [3, 17]),
    ]);
  });

  it('weekly on Tuesday and Thursday for five weeks (both forms)', () => {
    const want = [...on(1997, 9, [2, 4, 9, 11, 16, 18, 23, 25, 30]), ...on(1997, 10, [2])];
    expect(ex('FREQ=WEEKLY;UNTIL=19971007T000000Z;WKST=SU;BYDAY=TU,TH', '1997-09-02T09:00:00')).toEqual(want);
    expect(ex('FREQ=WEEKLY;COUNT=10;WKST=SU;BYDAY=TU,TH', '1997-09-02T09:00:00')).toEqual(want);
  });

  it('every other week on Monday, Wednesday and Friday until December 24, 1997', () => {
    expect(
      ex('FREQ=WEEKLY;INTERVAL=2;UNTIL=19971224T000000Z;WKST=SU;BYDAY=MO,WE,FR', '1997-09-01T09:00:00'),
    ).toEqual([
      ...on(1997, 9, [1, 3, 5, 15, 17, 19, 29]),
      ...on(1997, 10, [1, 3, 13, 15, 17, 27, 29, 31]),
      ...on(1997, 11, [10, 12, 14, 24, 26, 28]),
      ...on(1997, 12, [8, 10, 12, 22]),
    ]);
  });

  it('every other week on Tuesday and Thursday, for 8 occurrences', () => {
    expect(ex('FREQ=WEEKLY;INTERVAL=2;COUNT=8;WKST=SU;BYDAY=TU,TH', '1997-09-02T09:00:00')).toEqual([
      ...on(1997, 9, [2, 4, 16, 18, 30]),
      ...on(1997, 10, [2, 14, 16]),
    ]);
  });

  it('monthly on the first Friday for 10 occurrences', () => {
    expect(ex('FREQ=MONTHLY;COUNT=10;BYDAY=1FR', '1997-09-05T09:00:00')).toEqual([
      ...on(1997, 9, [5]),
      ...on(1997, 10, [3]),
      ...on(1997, 11, [7]),
      ...on(1997, 12, [5]),
      ...on(1998, 1, [2]),
      ...on(1998, 2, [6]),
      ...on(1998, 3, [6]),
      ...on(1998, 4, [3]),
      ...on(1998, 5, [1]),
      ...on(1998, 6, [5]),
    ]);
  });

  it('monthly on the first Friday until December 24, 1997', () => {
    expect(ex('FREQ=MONTHLY;UNTIL=19971224T000000Z;BYDAY=1FR', '1997-09-05T09:00:00')).toEqual([
      ...on(1997, 9, [5]),
      ...on(1997, 10, [3]),
      ...on(1997, 11, [7]),
      ...on(1997, 12, [5]),
    ]);
  });

  it('every other month on the first and last Sunday for 10 occurrences', () => {
    expect(ex('FREQ=MONTHLY;INTERVAL=2;COUNT=10;BYDAY=1SU,-1SU', '1997-09-07T09:00:00')).toEqual([
      ...on(1997, 9, [7, 28]),
      ...on(1997, 11, [2, 30]),
      ...on(1998, 1, [4, 25]),
      ...on(1998, 3, [1, 29]),
      ...on(1998, 5, [3, 31]),
    ]);
  });

  it('monthly on the second-to-last Monday for 6 months', () => {
    expect(ex('FREQ=MONTHLY;COUNT=6;BYDAY=-2MO', '1997-09-22T09:00:00')).toEqual([
      ...on(1997, 9, [22]),
      ...on(1997, 10, [20]),
      ...on(1997, 11, [17]),
      ...on(1997, 12, [22]),
      ...on(1998, 1, [19]),
      ...on(1998, 2, [16]),
    ]);
  });

  it('monthly on the third-to-the-last day, forever', () => {
    expect(ex('FREQ=MONTHLY;BYMONTHDAY=-3', '1997-09-28T09:00:00', { count: 6 })).toEqual([
      ...on(1997, 9, [28]),
      ...on(1997, 10, [29]),
      ...on(1997, 11, [28]),
      ...on(1997, 12, [29]),
      ...on(1998, 1, [29]),
      ...on(1998, 2, [26]),
    ]);
  });

  it('monthly on the 2nd and 15th for 10 occurrences', () => {
    expect(ex('FREQ=MONTHLY;COUNT=10;BYMONTHDAY=2,15', '1997-09-02T09:00:00')).toEqual([
      ...on(1997, 9, [2, 15]),
      ...on(1997, 10, [2, 15]),
      ...on(1997, 11, [2, 15]),
      ...on(1997, 12, [2, 15]),
      ...on(1998, 1, [2, 15]),
    ]);
  });

  it('monthly on the first and last day for 10 occurrences', () => {
    expect(ex('FREQ=MONTHLY;COUNT=10;BYMONTHDAY=1,-1', '1997-09-30T09:00:00')).toEqual([
      ...on(1997, 9, [30]),
      ...on(1997, 10, [1, 31]),
      ...on(1997, 11, [1, 30]),
      ...on(1997, 12, [1, 31]),
      ...on(1998, 1, [1, 31]),
      ...on(1998, 2, [1]),
    ]);
  });

  it('every 18 months on the 10th thru 15th for 10 occurrences', () => {
    expect(
      ex('FREQ=MONTHLY;INTERVAL=18;COUNT=10;BYMONTHDAY=10,11,12,13,14,15', '1997-09-10T09:00:00'),
    ).toEqual([...on(1997, 9, span(10, 15)), ...on(1999, 3, span(10, 13))]);
  });

  it('every Tuesday, every other month', () => {
    expect(ex('FREQ=MONTHLY;INTERVAL=2;BYDAY=TU', '1997-09-02T09:00:00', { count: 18 })).toEqual([
      ...on(1997, 9, [2, 9, 16, 23, 30]),
      ...on(1997, 11, [4, 11, 18, 25]),
      ...on(1998, 1, [6, 13, 20, 27]),
      ...on(1998, 3, [3, 10, 17, 24, 31]),
    ]);
  });

  it('yearly in June and July for 10 occurrences', () => {
    const want = [1997, 1998, 1999, 2000, 2001].flatMap((y) => [...on(y, 6, [10]), ...on(y, 7, [10])]);
    expect(ex('FREQ=YEARLY;COUNT=10;BYMONTH=6,7', '1997-06-10T09:00:00')).toEqual(want);
  });

  it('every other year on January, February and March for 10 occurrences', () => {
    const want = [
      ...on(1997, 3, [10]),
      ...[1999, 2001, 2003].flatMap((y) => [...on(y, 1, [10]), ...on(y, 2, [10]), ...on(y, 3, [10])]),
    ];
    expect(ex('FREQ=YEARLY;INTERVAL=2;COUNT=10;BYMONTH=1,2,3', '1997-03-10T09:00:00')).toEqual(want);
  });

  it('every third year on the 1st, 100th and 200th day for 10 occurrences', () => {
    expect(ex('FREQ=YEARLY;INTERVAL=3;COUNT=10;BYYEARDAY=1,100,200', '1997-01-01T09:00:00')).toEqual([
      ...on(1997, 1, [1]),
      ...on(1997, 4, [10]),
      ...on(1997, 7, [19]),
      ...on(2000, 1, [1]),
      ...on(2000, 4, [9]),
      ...on(2000, 7, [18]),
      ...on(2003, 1, [1]),
      ...on(2003, 4, [10]),
      ...on(2003, 7, [19]),
      ...on(2006, 1, [1]),
    ]);
  });

  it('every 20th Monday of the year, forever', () => {
    expect(ex('FREQ=YEARLY;BYDAY=20MO', '1997-05-19T09:00:00', { count: 3 })).toEqual([
      ...on(1997, 5, [19]),
      ...on(1998, 5, [18]),
      ...on(1999, 5, [17]),
    ]);
  });

  it('Monday of week number 20, forever', () => {
    expect(ex('FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO', '1997-05-12T09:00:00', { count: 3 })).toEqual([
      ...on(1997, 5, [12]),
      ...on(1998, 5, [11]),
      ...on(1999, 5, [17]),
    ]);
  });

  it('every Thursday in March, forever', () => {
    expect(ex('FREQ=YEARLY;BYMONTH=3;BYDAY=TH', '1997-03-13T09:00:00', { count: 11 })).toEqual([
      ...on(1997, 3, [13, 20, 27]),
      ...on(1998, 3, [5, 12, 19, 26]),
      ...on(1999, 3, [4, 11, 18, 25]),
    ]);
  });

  it('every Thursday, but only during June, July and August, forever', () => {
    expect(ex('FREQ=YEARLY;BYDAY=TH;BYMONTH=6,7,8', '1997-06-05T09:00:00', { count: 39 })).toEqual([
      ...on(1997, 6, [5, 12, 19, 26]),
      ...on(1997, 7, [3, 10, 17, 24, 31]),
      ...on(1997, 8, [7, 14, 21, 28]),
      ...on(1998, 6, [4, 11, 18, 25]),
      ...on(1998, 7, [2, 9, 16, 23, 30]),
      ...on(1998, 8, [6, 13, 20, 27]),
      ...on(1999, 6, [3, 10, 17, 24]),
      ...on(1999, 7, [1, 8, 15, 22, 29]),
      ...on(1999, 8, [5, 12, 19, 26]),
    ]);
  });

  it('every Friday the 13th, forever (DTSTART excluded by EXDATE)', () => {
    const opts = { exdates: ['1997-09-02T09:00:00'], count: 5 };
    expect(ex('FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13', '1997-09-02T09:00:00', opts)).toEqual([
      ...on(1998, 2, [13]),
      ...on(1998, 3, [13]),
      ...on(1998, 11, [13]),
      ...on(1999, 8, [13]),
      ...on(2000, 10, [13]),
    ]);
  });

  it('the first Saturday that follows the first Sunday of the month, forever', () => {
    const rule = 'FREQ=MONTHLY;BYDAY=SA;BYMONTHDAY=7,8,9,10,11,12,13';
    expect(ex(rule, '1997-09-13T09:00:00', { count: 10 })).toEqual([
      ...on(1997, 9, [13]),
      ...on(1997, 10, [11]),
      ...on(1997, 11, [8]),
      ...on(1997, 12, [13]),
      ...on(1998, 1, [10]),
      ...on(1998, 2, [7]),
      ...on(1998, 3, [7]),
      ...on(1998, 4, [11]),
      ...on(1998, 5, [9]),
      ...on(1998, 6, [13]),
    ]);
  });

  it('every 4 years, the first Tuesday after a Monday in November (election day)', () => {
    const rule = 'FREQ=YEARLY;INTERVAL=4;BYMONTH=11;BYDAY=TU;BYMONTHDAY=2,3,4,5,6,7,8';
    expect(ex(rule, '1996-11-05T09:00:00', { count: 3 })).toEqual([
      ...on(1996, 11, [5]),
      ...on(2000, 11, [7]),
      ...on(2004, 11, [2]),
    ]);
  });

  it('the third instance of Tuesday, Wednesday or Thursday, for the next 3 months', () => {
    expect(ex('FREQ=MONTHLY;COUNT=3;BYDAY=TU,WE,TH;BYSETPOS=3', '1997-09-04T09:00:00')).toEqual([
      ...on(1997, 9, [4]),
      ...on(1997, 10, [7]),
      ...on(1997, 11, [6]),
    ]);
  });

  it('the second-to-last weekday of the month', () => {
    expect(ex('FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-2', '1997-09-29T09:00:00', { count: 7 })).toEqual([
      ...on(1997, 9, [29]),
      ...on(1997, 10, [30]),
      ...on(1997, 11, [27]),
      ...on(1997, 12, [30]),
      ...on(1998, 1, [29]),
      ...on(1998, 2, [26]),
      ...on(1998, 3, [30]),
    ]);
  });

  it('every 3 hours from 9:00 AM to 5:00 PM on a specific day', () => {
    // The RFC lists 09:00, 12:00, 15:00, but its UNTIL=19970902T170000Z is 13:00 EDT, so a UTC
    // UNTIL compared as an instant (as the brief and RFC 5545 3.3.10 require) stops after 12:00.
    // With UNTIL at 17:00 EDT (21:00Z) the RFC's list comes out.
    expect(ex('FREQ=HOURLY;INTERVAL=3;UNTIL=19970902T170000Z', '1997-09-02T09:00:00')).toEqual([
      '1997-09-02T09:00:00',
      '1997-09-02T12:00:00',
    ]);
    expect(ex('FREQ=HOURLY;INTERVAL=3;UNTIL=19970902T210000Z', '1997-09-02T09:00:00')).toEqual([
      '1997-09-02T09:00:00',
      '1997-09-02T12:00:00',
      '1997-09-02T15:00:00',
    ]);
  });

  it('every 15 minutes for 6 occurrences', () => {
    expect(ex('FREQ=MINUTELY;INTERVAL=15;COUNT=6', '1997-09-02T09:00:00')).toEqual(
      ['09:00', '09:15', '09:30', '09:45', '10:00', '10:15'].map((t) => `1997-09-02T${t}:00`),
    );
  });

  it('every hour and a half for 4 occurrences', () => {
    expect(ex('FREQ=MINUTELY;INTERVAL=90;COUNT=4', '1997-09-02T09:00:00')).toEqual(
      ['09:00', '10:30', '12:00', '13:30'].map((t) => `1997-09-02T${t}:00`),
    );
  });

  it('every 20 minutes from 9:00 AM to 4:40 PM every day (both forms)', () => {
    const times = span(9, 16).flatMap((h) =>
      [0, 20, 40].map((m) => `${String(h).padStart(2, '0')}:${m || '00'}:00`),
    );
    const want = [2, 3].flatMap((d) => times.map((t) => `1997-09-0${d}T${t}`));
    const until = '1997-09-03T23:59:59';
    expect(
      ex('FREQ=DAILY;BYHOUR=9,10,11,12,13,14,15,16;BYMINUTE=0,20,40', '1997-09-02T09:00:00', { until }),
    ).toEqual(want);
    expect(
      ex('FREQ=MINUTELY;INTERVAL=20;BYHOUR=9,10,11,12,13,14,15,16', '1997-09-02T09:00:00', { until }),
    ).toEqual(want);
  });

  it('the days generated depend on WKST', () => {
    expect(ex('FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO', '1997-08-05T09:00:00')).toEqual(
      on(1997, 8, [5, 10, 19, 24]),
    );
    expect(ex('FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU', '1997-08-05T09:00:00')).toEqual(
      on(1997, 8, [5, 17, 19, 31]),
    );
  });

  it('an invalid date (February 30) is ignored', () => {
    expect(ex('FREQ=MONTHLY;BYMONTHDAY=15,30;COUNT=5', '2007-01-15T09:00:00')).toEqual([
      ...on(2007, 1, [15, 30]),
      ...on(2007, 2, [15]),
      ...on(2007, 3, [15, 30]),
    ]);
  });
});
