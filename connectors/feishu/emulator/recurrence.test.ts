import { describe, expect, it } from 'vitest';
import { occurrences } from './recurrence.ts';

const iso = (t: number) => new Date(t * 1000).toISOString().slice(0, 16);
const at = (s: string) => Date.parse(s) / 1000;

describe('emulator instances expansion', () => {
  it('keeps the wall time across a DST change in the series zone', () => {
    const start = at('2026-10-26T09:00:00-04:00'); // Monday, New York, before DST ends on Nov 1
    const got = occurrences(
      'FREQ=WEEKLY;BYDAY=MO;COUNT=3',
      start,
      'America/New_York',
      0,
      at('2027-01-01T00:00:00Z'),
    );
    expect(got.map(iso)).toEqual(['2026-10-26T13:00', '2026-11-02T14:00', '2026-11-09T14:00']);
  });

  it('expands BYMONTHDAY and nth-weekday rules, within the window only', () => {
    const start = at('2026-01-15T10:00:00+08:00');
    const monthly = occurrences('FREQ=MONTHLY;BYMONTHDAY=15,-1;COUNT=4', start, 'Asia/Shanghai', 0, 2e9);
    expect(monthly.map(iso)).toEqual([
      '2026-01-15T02:00',
      '2026-01-31T02:00',
      '2026-02-15T02:00',
      '2026-02-28T02:00',
    ]);
    const nth = occurrences(
      'FREQ=MONTHLY;BYDAY=2TU',
      at('2026-01-13T10:00:00+08:00'),
      'Asia/Shanghai',
      at('2026-02-01T00:00:00Z'),
      at('2026-04-01T00:00:00Z'),
    );
    expect(nth.map(iso)).toEqual(['2026-02-10T02:00', '2026-03-10T02:00']);
  });
});
