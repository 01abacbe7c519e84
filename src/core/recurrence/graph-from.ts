/** Microsoft Graph `patternedRecurrence` to an RFC 5545 RECUR value. */

import { GRAPH_CLAMPS_MONTH_END, GRAPH_DAYS, type GraphDay } from './graph-types.ts';
import { DAY, daysInMonth, parseLocal } from './local-time.ts';
import { type ByDay, formatRule, type Rule } from './parse.ts';

const INDEX_TO_N: Record<string, number> = { first: 1, second: 2, third: 3, fourth: 4, last: -1 };

function bad(why: string): never {
  throw new Error(`Invalid Graph recurrence: ${why}`);
}

function days(list: unknown, what: string): number[] {
  if (!Array.isArray(list) || list.length === 0) bad(`${what} needs daysOfWeek`);
  const out = new Set<number>();
  for (const d of list) {
    const i = GRAPH_DAYS.indexOf(String(d).toLowerCase() as GraphDay);
    if (i < 0) bad(`unknown day of week ${JSON.stringify(d)}`);
    out.add(i);
  }
  return [...out].sort((a, b) => a - b);
}

function int(v: unknown, what: string, min: number, max: number): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    bad(`${what} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** Absolute day d: plain BYMONTHDAY, or the clamping form when Exchange would move it (see GRAPH_CLAMPS_MONTH_END). */
function absoluteDay(r: Rule, d: number, shortest: number): void {
  if (!GRAPH_CLAMPS_MONTH_END || d <= shortest) {
    r.bymonthday = [d];
    return;
  }
  const list: number[] = [];
  for (let x = shortest; x <= d; x++) list.push(x);
  r.bymonthday = list;
  r.bysetpos = [-1];
}

function relative(r: Rule, p: Record<string, unknown>, what: string): void {
  const wds = days(p.daysOfWeek, what);
  const idx = p.index === undefined || p.index === null ? 'first' : String(p.index).toLowerCase();
  const n = INDEX_TO_N[idx];
  if (n === undefined) bad(`unknown index ${JSON.stringify(p.index)}`);
  if (wds.length === 1) r.byday = [{ n, wd: wds[0] }];
  else {
    r.byday = wds.map((wd): ByDay => ({ n: 0, wd }));
    r.bysetpos = [n];
  }
}

/**
 * The RRULE value (no `RRULE:` prefix) for a Graph `patternedRecurrence`.
 *
 * Only the properties each pattern type uses are read, so Graph responses (which carry every
 * property with defaults such as `month: 0`) convert as well as requests. Relative patterns with
 * several days mean "the n-th day of the month that is one of these days" (BYDAY list + BYSETPOS),
 * as Exchange's weekday/weekend-day patterns do. `firstDayOfWeek` becomes WKST only where it
 * changes the result (weekly, interval > 1, several days, not Monday, the RFC default).
 *
 * Range: `numbered` becomes COUNT; `endDate` becomes `UNTIL=YYYYMMDD`, a DATE that keeps every
 * occurrence whose local date (in the recurrence zone) is on or before `endDate`, which is exactly
 * Graph's inclusive date-only end. `toGraphRecurrence` reads such an UNTIL back to the same
 * `endDate`, so round trips are stable. `noEnd` adds nothing. Throws on an unknown type or values
 * outside Graph's allowed sets.
 */
export function fromGraphRecurrence(recurrence: object): string {
  const rec = recurrence as { pattern?: Record<string, unknown>; range?: Record<string, unknown> };
  const p = rec.pattern;
  if (!p || typeof p !== 'object') bad('pattern is missing');
  const interval = p.interval === undefined ? 1 : int(p.interval, 'interval', 1, 99_999);
  const r: Rule = { freq: 'DAILY', interval, wkst: 0 };
  const type = String(p.type);
  switch (type) {
    case 'daily':
      break;
    case 'weekly': {
      r.freq = 'WEEKLY';
      const wds = days(p.daysOfWeek, 'weekly');
      r.byday = wds.map((wd) => ({ n: 0, wd }));
      const fdw = p.firstDayOfWeek
        ? GRAPH_DAYS.indexOf(String(p.firstDayOfWeek).toLowerCase() as GraphDay)
        : 6;
      if (fdw < 0) bad(`unknown firstDayOfWeek ${JSON.stringify(p.firstDayOfWeek)}`);
      if (interval > 1 && wds.length > 1) r.wkst = fdw;
      break;
    }
    case 'absoluteMonthly':
      r.freq = 'MONTHLY';
      absoluteDay(r, int(p.dayOfMonth, 'dayOfMonth', 1, 31), 28);
      break;
    case 'relativeMonthly':
      r.freq = 'MONTHLY';
      relative(r, p, type);
      break;
    case 'absoluteYearly': {
      r.freq = 'YEARLY';
      const month = int(p.month, 'month', 1, 12);
      r.bymonth = [month];
      // February is the only month whose length varies; 2001 is a common (non-leap) year.
      absoluteDay(r, int(p.dayOfMonth, 'dayOfMonth', 1, 31), daysInMonth(2001, month));
      break;
    }
    case 'relativeYearly':
      r.freq = 'YEARLY';
      r.bymonth = [int(p.month, 'month', 1, 12)];
      relative(r, p, type);
      break;
    default:
      bad(`unknown pattern type ${JSON.stringify(p.type)}`);
  }
  const range = rec.range;
  const rt = range?.type === undefined ? 'noEnd' : String(range.type);
  if (rt === 'numbered') r.count = int(range?.numberOfOccurrences, 'numberOfOccurrences', 1, 999_999);
  else if (rt === 'endDate') {
    const e = parseLocal(String(range?.endDate ?? ''));
    if (!e?.form.dateOnly) bad(`endDate ${JSON.stringify(range?.endDate)} is not YYYY-MM-DD`);
    r.until = { kind: 'date', days: Math.floor(e.t / DAY) };
  } else if (rt !== 'noEnd') bad(`unknown range type ${JSON.stringify(range?.type)}`);
  return formatRule(r);
}
