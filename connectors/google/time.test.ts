import { describe, expect, it } from 'vitest';
import { fromLocal, toLocal } from './time.ts';

describe('fromLocal', () => {
  it('reads a wall time with the offset of its own instant, also in the hours before a change', () => {
    // Sydney moves to summer time on Sunday 3 October 2027 at 02:00; the Saturday evening before is
    // still +10:00 (the emulator read it as +11:00 and lost the series' instance that day)
    expect(fromLocal('2027-10-02T18:00:00', 'Australia/Sydney')).toBe(Date.parse('2027-10-02T08:00:00Z'));
    expect(fromLocal('2027-10-03T18:00:00', 'Australia/Sydney')).toBe(Date.parse('2027-10-03T07:00:00Z'));
    // the same west of UTC: New York's change on 14 March 2027 at 02:00
    expect(fromLocal('2027-03-13T20:00:00', 'America/New_York')).toBe(Date.parse('2027-03-14T01:00:00Z'));
  });

  it('moves a time in a gap forward and takes the earlier of an ambiguous time', () => {
    expect(fromLocal('2027-10-03T02:30:00', 'Australia/Sydney')).toBe(Date.parse('2027-10-02T16:30:00Z'));
    expect(toLocal(Date.parse('2027-10-02T16:30:00Z'), 'Australia/Sydney')).toBe('2027-10-03T03:30:00');
    // summer time ends on 4 April 2027 at 03:00 (back to 02:00): 02:30 happens twice
    expect(fromLocal('2027-04-04T02:30:00', 'Australia/Sydney')).toBe(Date.parse('2027-04-03T15:30:00Z'));
    expect(fromLocal('2027-06-01', 'Australia/Sydney')).toBe(Date.parse('2027-05-31T14:00:00Z'));
  });
});
