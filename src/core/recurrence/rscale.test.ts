import { describe, expect, it } from 'vitest';
import { expandRecurrence, formatRule, parseRule, plainRule, toGraphRecurrence } from './index.ts';

describe('RFC 7529 RSCALE and SKIP', () => {
  it('parses RSCALE, SKIP and leap months, and writes them back', () => {
    const r = parseRule('RSCALE=CHINESE;FREQ=YEARLY;BYMONTH=5L;BYMONTHDAY=8');
    expect(r).toMatchObject({ rscale: 'CHINESE', freq: 'YEARLY', byleapmonth: [5], bymonthday: [8] });
    expect(formatRule(r)).toBe('RSCALE=CHINESE;FREQ=YEARLY;BYMONTH=5L;BYMONTHDAY=8');
    expect(formatRule(parseRule('rrule:rscale=gregorian;freq=monthly;skip=backward'))).toBe(
      'RSCALE=GREGORIAN;FREQ=MONTHLY;SKIP=BACKWARD',
    );
    expect(parseRule('RSCALE=HEBREW;FREQ=YEARLY;BYMONTH=13').bymonth).toEqual([13]);
  });

  it('refuses what RFC 7529 forbids', () => {
    expect(() => parseRule('FREQ=MONTHLY;SKIP=FORWARD')).toThrow(/SKIP needs RSCALE/);
    expect(() => parseRule('FREQ=YEARLY;BYMONTH=5L')).toThrow(/leap months/);
    expect(() => parseRule('RSCALE=GREGORIAN;FREQ=MONTHLY;SKIP=SIDEWAYS')).toThrow(/SKIP/);
    expect(() => parseRule('FREQ=YEARLY;BYMONTH=13')).toThrow(/13/);
  });

  it('Gregorian OMIT is RFC 5545 itself', () => {
    expect(plainRule('RRULE:RSCALE=GREGORIAN;FREQ=MONTHLY;SKIP=OMIT', '2025-01-31')).toEqual({
      rrule: 'FREQ=MONTHLY',
      exact: true,
    });
    expect(plainRule('FREQ=WEEKLY;BYDAY=MO', '2025-01-06')).toEqual({
      rrule: 'FREQ=WEEKLY;BYDAY=MO',
      exact: true,
    });
  });

  it('Gregorian SKIP=BACKWARD on the 31st: the last day of shorter months, exactly', () => {
    const p = plainRule('RSCALE=GREGORIAN;FREQ=MONTHLY;SKIP=BACKWARD;COUNT=5', '2025-01-31T09:00:00');
    expect(p).toEqual({ rrule: 'FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1;COUNT=5', exact: true });
    expect(expandRecurrence(`RRULE:${p.rrule}`, '2025-01-31T09:00:00', 'Asia/Shanghai')).toEqual([
      '2025-01-31T09:00:00',
      '2025-02-28T09:00:00',
      '2025-03-31T09:00:00',
      '2025-04-30T09:00:00',
      '2025-05-31T09:00:00',
    ]);
    // The expanders take the RFC 7529 form directly too.
    expect(
      expandRecurrence('RSCALE=GREGORIAN;FREQ=MONTHLY;SKIP=BACKWARD;COUNT=2', '2025-01-31T09:00:00', 'UTC'),
    ).toEqual(['2025-01-31T09:00:00', '2025-02-28T09:00:00']);
  });

  it('Gregorian February 29: BACKWARD is the 28th, FORWARD is March 1 (BYYEARDAY=60), exactly', () => {
    const back = plainRule('RSCALE=GREGORIAN;FREQ=YEARLY;SKIP=BACKWARD;COUNT=3', '2024-02-29');
    expect(expandRecurrence(back.rrule!, '2024-02-29', 'UTC')).toEqual([
      '2024-02-29',
      '2025-02-28',
      '2026-02-28',
    ]);
    const fwd = plainRule('RSCALE=GREGORIAN;FREQ=YEARLY;SKIP=FORWARD;COUNT=5', '2024-02-29');
    expect(fwd).toEqual({ rrule: 'FREQ=YEARLY;BYYEARDAY=60;COUNT=5', exact: true });
    expect(expandRecurrence(fwd.rrule!, '2024-02-29', 'UTC')).toEqual([
      '2024-02-29',
      '2025-03-01',
      '2026-03-01',
      '2027-03-01',
      '2028-02-29',
    ]);
  });

  it('what RFC 5545 cannot say is narrowed or dropped, with a note; the expanders refuse it', () => {
    const fwd = plainRule('RSCALE=GREGORIAN;FREQ=MONTHLY;SKIP=FORWARD', '2025-01-31');
    expect(fwd).toMatchObject({
      rrule: 'FREQ=MONTHLY',
      exact: false,
      note: expect.stringMatching(/narrowed to OMIT/),
    });
    const lunar = plainRule('RSCALE=CHINESE;FREQ=YEARLY', '2025-01-29');
    expect(lunar).toMatchObject({
      rrule: null,
      exact: false,
      note: expect.stringMatching(/CHINESE.*first occurrence/),
    });
    expect(() => expandRecurrence('RSCALE=CHINESE;FREQ=YEARLY', '2025-01-29', 'UTC')).toThrow(/CHINESE/);
    expect(toGraphRecurrence('RSCALE=CHINESE;FREQ=YEARLY', '2025-01-29', 'UTC')).toMatchObject({
      recurrence: null,
      exact: false,
    });
    expect(toGraphRecurrence('RSCALE=GREGORIAN;FREQ=WEEKLY;BYDAY=MO', '2025-01-06', 'UTC')).toMatchObject({
      exact: true,
      recurrence: { pattern: { type: 'weekly', daysOfWeek: ['monday'] } },
    });
  });
});
