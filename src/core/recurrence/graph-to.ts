/** RFC 5545 RECUR value to a Microsoft Graph `patternedRecurrence` (exact, or a superset). */
import { toWindowsZone } from '../zones.ts';
import {
  GRAPH_CLAMPS_MONTH_END,
  GRAPH_DAYS,
  GRAPH_INDEX,
  type GraphConversion,
  type GraphPattern,
  type GraphRange,
} from './graph-types.ts';
import { civilFromDays, DAY, daysInMonth, formatDate, getZone, weekday, type Zone } from './local-time.ts';
import { parseStart, run, type Start } from './occurrences.ts';
import { parseRule, type Rule, type Until } from './parse.ts';
import { plainRule } from './rscale.ts';

interface Mapped {
  pattern: GraphPattern;
  exact: boolean;
  reason?: string;
}

const ALL_DAYS = [0, 1, 2, 3, 4, 5, 6];

/** Graph day names in Sunday-first order (Graph's default week). */
function dayNames(wds: number[]): GraphPattern['daysOfWeek'] {
  const set = new Set(wds);
  return [6, 0, 1, 2, 3, 4, 5].filter((d) => set.has(d)).map((d) => GRAPH_DAYS[d]);
}

function weekly(interval: number, wds: number[], wkst: number): GraphPattern {
  return { type: 'weekly', interval, daysOfWeek: dayNames(wds), firstDayOfWeek: GRAPH_DAYS[wkst] };
}

function absolute(interval: number, day: number, month: number | undefined): GraphPattern {
  return month === undefined
    ? { type: 'absoluteMonthly', interval, dayOfMonth: day }
    : { type: 'absoluteYearly', interval, dayOfMonth: day, month };
}

function relative(interval: number, wds: number[], k: number, month: number | undefined): GraphPattern {
  const index = GRAPH_INDEX[k];
  return month === undefined
    ? { type: 'relativeMonthly', interval, daysOfWeek: dayNames(wds), index }
    : { type: 'relativeYearly', interval, daysOfWeek: dayNames(wds), month, index };
}

/** The tightest Graph pattern whose occurrences include every occurrence of the rule. */
function superset(r: Rule, s: StartInfo, reason: string): Mapped {
  const noDayRule = !r.byday && !r.byyearday && !r.byweekno;
  const monthly = r.freq === 'MONTHLY' || r.freq === 'YEARLY';
  if (monthly && noDayRule && (!r.bymonthday || (r.bymonthday.length === 1 && r.bymonthday[0] > 0))) {
    const d = r.bymonthday?.[0] ?? s.md;
    const months = r.freq === 'YEARLY' ? (r.bymonth ?? (r.bymonthday ? undefined : [s.month])) : undefined;
    if (months?.length === 1) return { pattern: absolute(r.interval, d, months[0]), exact: false, reason };
    return { pattern: absolute(r.freq === 'MONTHLY' ? r.interval : 1, d, undefined), exact: false, reason };
  }
  if (r.byday) {
    return { pattern: weekly(1, [...new Set(r.byday.map((b) => b.wd))], r.wkst), exact: false, reason };
  }
  if (r.freq === 'WEEKLY') return { pattern: weekly(r.interval, [s.wd], r.wkst), exact: false, reason };
  if (r.freq === 'DAILY') return { pattern: { type: 'daily', interval: r.interval }, exact: false, reason };
  return { pattern: { type: 'daily', interval: 1 }, exact: false, reason };
}

interface StartInfo {
  md: number;
  month: number;
  wd: number;
}

/** Monthly-style mapping; `month` set means a yearly pattern in that month. */
function monthlyCore(r: Rule, s: StartInfo, interval: number, month: number | undefined): Mapped {
  const dayList = r.byday ?? [];
  const plain = dayList.filter((b) => b.n === 0).map((b) => b.wd);
  const ordinals = dayList.filter((b) => b.n !== 0);
  const setpos = r.bysetpos;
  if (dayList.length === 0) {
    if (r.bymonthday && r.bymonthday.length > 1) return superset(r, s, 'several BYMONTHDAY values');
    if (setpos && !(setpos.length === 1 && Math.abs(setpos[0]) === 1)) {
      return superset(r, s, 'BYSETPOS on a single day');
    }
    const d = r.bymonthday?.[0] ?? s.md;
    if (d === -1) return { pattern: relative(interval, ALL_DAYS, -1, month), exact: true };
    if (d < 0) return superset(r, s, `BYMONTHDAY=${d} (counted from the month end)`);
    const shortest = month === undefined ? 28 : daysInMonth(2001, month);
    if (GRAPH_CLAMPS_MONTH_END && d > shortest) {
      return {
        pattern: absolute(interval, d, month),
        exact: false,
        reason: `day ${d} does not exist in every month; Graph would move it to the month's last day`,
      };
    }
    return { pattern: absolute(interval, d, month), exact: true };
  }
  if (r.bymonthday) return superset(r, s, 'BYDAY together with BYMONTHDAY');
  if (ordinals.length > 0) {
    if (dayList.length > 1) return superset(r, s, 'several BYDAY values with ordinals');
    const k = ordinals[0].n;
    if (setpos) return superset(r, s, 'BYSETPOS with a BYDAY ordinal');
    if (!GRAPH_INDEX[k]) return superset(r, s, `BYDAY ordinal ${k} (Graph has first..fourth and last)`);
    return { pattern: relative(interval, [ordinals[0].wd], k, month), exact: true };
  }
  if (setpos) {
    if (setpos.length > 1) return superset(r, s, 'several BYSETPOS values');
    if (!GRAPH_INDEX[setpos[0]])
      return superset(r, s, `BYSETPOS=${setpos[0]} (Graph has first..fourth and last)`);
    return { pattern: relative(interval, plain, setpos[0], month), exact: true };
  }
  if (month === undefined && interval === 1) return { pattern: weekly(1, plain, r.wkst), exact: true };
  return superset(r, s, 'every matching weekday of the month');
}

function mapPattern(r: Rule, s: StartInfo): Mapped {
  if (r.byweekno) return superset(r, s, 'BYWEEKNO');
  if (r.byyearday) return superset(r, s, 'BYYEARDAY');
  switch (r.freq) {
    case 'DAILY':
      if (r.bymonth || r.bymonthday || r.bysetpos)
        return superset(r, s, 'DAILY with BYMONTH/BYMONTHDAY/BYSETPOS');
      if (!r.byday) return { pattern: { type: 'daily', interval: r.interval }, exact: true };
      if (r.interval === 1)
        return {
          pattern: weekly(
            1,
            r.byday.map((b) => b.wd),
            r.wkst,
          ),
          exact: true,
        };
      return superset(r, s, 'DAILY with INTERVAL and BYDAY');
    case 'WEEKLY': {
      const wds = r.byday ? r.byday.map((b) => b.wd) : [s.wd];
      const pattern = weekly(r.interval, wds, r.wkst);
      if (r.bymonth || r.bysetpos) return { pattern, exact: false, reason: 'WEEKLY with BYMONTH/BYSETPOS' };
      return { pattern, exact: true };
    }
    case 'MONTHLY':
      if (!r.bymonth) return monthlyCore(r, s, r.interval, undefined);
      // MONTHLY in a single month, every month, is the same as YEARLY in that month.
      if (r.bymonth.length === 1 && r.interval === 1) return monthlyCore(r, s, 1, r.bymonth[0]);
      return superset(r, s, 'MONTHLY with BYMONTH');
    default: {
      if (r.bymonth && r.bymonth.length > 1) return superset(r, s, 'several BYMONTH values');
      if (r.bymonth) return monthlyCore(r, s, r.interval, r.bymonth[0]);
      if (!r.byday && !r.bymonthday) return monthlyCore(r, s, r.interval, s.month);
      // No BYMONTH: the day parts apply to every month (ordinals and BYSETPOS to the whole year).
      const yearScoped = r.bysetpos || r.byday?.some((b) => b.n !== 0);
      if (r.interval === 1 && !yearScoped) return monthlyCore(r, s, 1, undefined);
      return superset(r, s, 'YEARLY day rules without BYMONTH');
    }
  }
}

/** Local date (day number) of the last possible occurrence allowed by UNTIL. */
function lastDayFromUntil(until: Until, zone: Zone, start: Start): number {
  const startDay = Math.floor(start.t / DAY);
  const tod = start.t - startDay * DAY;
  if (until.kind === 'date') return until.days;
  const dateOnly = start.form.dateOnly;
  if (until.kind === 'local') {
    const d = Math.floor(until.t / DAY);
    if (dateOnly) return d;
    return zone.normalize(d * DAY + tod) > until.t ? d - 1 : d;
  }
  const d = Math.floor(zone.toLocal(until.t) / DAY);
  return zone.toUtc(d * DAY + (dateOnly ? 0 : tod)) > until.t ? d - 1 : d;
}

/**
 * A Graph `patternedRecurrence` for an RRULE starting at local `dtstart` in IANA `timeZone`.
 *
 * `exact: true` when the pattern yields exactly the rule's occurrences. Otherwise `exact: false`
 * with a `reason`, and `recurrence` is the closest pattern whose occurrences include all of the
 * rule's (cancel the extra ones as exceptions), or null when no pattern can (several times a day,
 * sub-daily frequencies, a time of day other than DTSTART's, or a DTSTART the rule itself would not
 * produce: Graph starts a series on its first pattern date, RFC 5545 always counts DTSTART).
 *
 * Range: COUNT becomes `numbered` (exact) or an `endDate` at the last occurrence (inexact); UNTIL
 * becomes `endDate`, the local date of the last occurrence UNTIL allows; otherwise `noEnd`.
 * `recurrenceTimeZone` is the Windows name of the zone (the IANA name when there is none).
 */
export function toGraphRecurrence(rrule: string, dtstart: string, timeZone: string): GraphConversion {
  // RFC 7529 rules go through their plain RFC 5545 form first (rscale.ts).
  if (/RSCALE=/i.test(rrule)) {
    const p = plainRule(rrule, dtstart);
    if (!p.rrule) return { recurrence: null, exact: false, reason: p.note };
    const out = toGraphPlain(p.rrule, dtstart, timeZone);
    return p.exact ? out : { ...out, exact: false, reason: [p.note, out.reason].filter(Boolean).join('; ') };
  }
  return toGraphPlain(rrule, dtstart, timeZone);
}

function toGraphPlain(rrule: string, dtstart: string, timeZone: string): GraphConversion {
  let r = parseRule(rrule);
  const zone = getZone(timeZone);
  const start = parseStart(dtstart, zone);
  const startDay = Math.floor(start.t / DAY);
  const tod = start.t - startDay * DAY;
  const [, month, md] = civilFromDays(startDay);
  const info: StartInfo = { md, month, wd: weekday(startDay) };

  const sub = { SECONDLY: DAY, MINUTELY: 1440, HOURLY: 24 } as Record<string, number>;
  if (sub[r.freq]) {
    const per = sub[r.freq];
    const anyBy = r.byhour || r.byminute || r.bysecond || r.byday || r.bymonthday || r.byyearday || r.bymonth;
    if (anyBy || r.interval % per !== 0) {
      return {
        recurrence: null,
        exact: false,
        reason: `FREQ=${r.freq} repeats within a day; Graph repeats daily at most`,
      };
    }
    r = { ...r, freq: 'DAILY', interval: r.interval / per };
  }
  if (!start.form.dateOnly) {
    const parts: [number[] | undefined, number, string][] = [
      [r.byhour, Math.floor(tod / 3600), 'BYHOUR'],
      [r.byminute, Math.floor((tod % 3600) / 60), 'BYMINUTE'],
      [r.bysecond, tod % 60, 'BYSECOND'],
    ];
    for (const [list, own, name] of parts) {
      if (list && (list.length !== 1 || list[0] !== own)) {
        const reason = `${name} gives times other than DTSTART's; a Graph series has one start time`;
        return { recurrence: null, exact: false, reason };
      }
    }
  }
  const unbounded: Rule = { ...r, count: undefined, until: undefined };
  const first = run(unbounded, start, timeZone, { count: 1, forceStart: false })[0];
  const startNorm = start.form.dateOnly ? start.t : zone.normalize(start.t);
  if (first !== startNorm) {
    const reason = 'DTSTART is not an occurrence of the rule; Graph would not include it';
    return { recurrence: null, exact: false, reason };
  }
  const mapped = mapPattern(r, info);
  const startDate = formatDate(startDay);
  const recurrenceTimeZone = toWindowsZone(timeZone) ?? timeZone;
  let range: GraphRange = { type: 'noEnd', startDate, recurrenceTimeZone };
  if (r.count !== undefined && mapped.exact) {
    range = { type: 'numbered', startDate, numberOfOccurrences: r.count, recurrenceTimeZone };
  } else if (r.count !== undefined) {
    const all = run(r, start, timeZone, {});
    range = {
      type: 'endDate',
      startDate,
      endDate: formatDate(Math.floor(all[all.length - 1] / DAY)),
      recurrenceTimeZone,
    };
  } else if (r.until) {
    const last = lastDayFromUntil(r.until, zone, start);
    range =
      last < startDay
        ? { type: 'numbered', startDate, numberOfOccurrences: 1, recurrenceTimeZone }
        : { type: 'endDate', startDate, endDate: formatDate(last), recurrenceTimeZone };
  }
  const out: GraphConversion = { recurrence: { pattern: mapped.pattern, range }, exact: mapped.exact };
  if (mapped.reason) out.reason = mapped.reason;
  return out;
}
