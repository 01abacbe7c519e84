/**
 * The raw RRULE generator: yields the floating local date-times a rule produces from DTSTART on,
 * in increasing order, following the expand/limit table of RFC 5545 section 3.3.10. It knows
 * nothing of zones, COUNT, UNTIL or EXDATE: the caller ({@link ./occurrences.ts}) applies those.
 */
import { civilFromDays, DAY, daysFromCivil, daysInMonth, isLeap, mod, weekday } from './local-time.ts';
import type { ByDay, Rule } from './parse.ts';

/** Generation never goes past this year (the iCalendar DATE format has four digits). */
export const MAX_YEAR = 9999;
/** Work budget for sub-daily rules whose filters can never (or very rarely) match. */
const MAX_WORK = 20_000_000;

interface Ctx {
  r: Rule;
  t0: number;
  d0: number;
  y0: number;
  m0: number;
  md0: number;
  wd0: number;
  dateOnly: boolean;
  /** Sorted times of day (seconds) for DAILY and coarser frequencies. */
  tods: number[];
  months: boolean[] | null;
  wdSet: boolean[] | null;
  ordinals: ByDay[];
}

function matchByDay(c: Ctx, wd: number, nth: number, nthBack: number): boolean {
  if (c.wdSet?.[wd]) return true;
  for (const o of c.ordinals) if (o.wd === wd && (o.n === nth || o.n === nthBack)) return true;
  return false;
}

function matchMonthDay(list: number[], d: number, dim: number): boolean {
  for (const x of list) if (x === d || x === d - dim - 1) return true;
  return false;
}

function matchYearDay(list: number[], yday: number, ylen: number): boolean {
  for (const x of list) if (x === yday || x === yday - ylen - 1) return true;
  return false;
}

/** Limit-only day filter used by DAILY, WEEKLY and the sub-daily frequencies (no BYDAY ordinals). */
function dayPasses(c: Ctx, days: number): boolean {
  const r = c.r;
  if (!r.bymonth && !r.bymonthday && !r.byyearday && !r.byday) return true;
  const [y, m, d] = civilFromDays(days);
  if (c.months && !c.months[m]) return false;
  if (r.bymonthday && !matchMonthDay(r.bymonthday, d, daysInMonth(y, m))) return false;
  if (r.byyearday) {
    const yday = days - daysFromCivil(y, 1, 1) + 1;
    if (!matchYearDay(r.byyearday, yday, isLeap(y) ? 366 : 365)) return false;
  }
  if (c.wdSet && !c.wdSet[weekday(days)]) return false;
  return true;
}

function monthDays(c: Ctx, y: number, m: number): number[] {
  const r = c.r;
  if (c.months && !c.months[m]) return [];
  const dim = daysInMonth(y, m);
  const first = daysFromCivil(y, m, 1);
  if (!r.bymonthday && !r.byday) return c.md0 <= dim ? [first + c.md0 - 1] : [];
  const out: number[] = [];
  for (let d = 1; d <= dim; d++) {
    if (r.bymonthday && !matchMonthDay(r.bymonthday, d, dim)) continue;
    if (r.byday) {
      const nth = Math.floor((d - 1) / 7) + 1;
      const back = -(Math.floor((dim - d) / 7) + 1);
      if (!matchByDay(c, weekday(first + d - 1), nth, back)) continue;
    }
    out.push(first + d - 1);
  }
  return out;
}

/** First day of week 1 of year y for week start wkst (week 1 holds at least 4 days of y). */
function week1Start(y: number, wkst: number): number {
  const jan1 = daysFromCivil(y, 1, 1);
  const off = mod(weekday(jan1) - wkst, 7);
  return off <= 3 ? jan1 - off : jan1 - off + 7;
}

function yearDays(c: Ctx, y: number): number[] {
  const r = c.r;
  const jan1 = daysFromCivil(y, 1, 1);
  const ylen = isLeap(y) ? 366 : 365;
  const out: number[] = [];
  if (r.byweekno) {
    const w1 = week1Start(y, r.wkst);
    const weeks = (week1Start(y + 1, r.wkst) - w1) / 7;
    const starts = new Set<number>();
    for (const wn of r.byweekno) {
      const n = wn > 0 ? wn : weeks + wn + 1;
      if (n >= 1 && n <= weeks) starts.add(w1 + (n - 1) * 7);
    }
    const defaultWd = !r.byday && !r.bymonthday && !r.byyearday;
    for (const s of [...starts].sort((a, b) => a - b)) {
      for (let days = s; days < s + 7; days++) {
        const [yy, m, d] = civilFromDays(days);
        if (c.months && !c.months[m]) continue;
        if (r.byyearday && (yy !== y || !matchYearDay(r.byyearday, days - jan1 + 1, ylen))) continue;
        if (r.bymonthday && !matchMonthDay(r.bymonthday, d, daysInMonth(yy, m))) continue;
        const wd = weekday(days);
        if (c.wdSet && !c.wdSet[wd]) continue;
        if (defaultWd && wd !== c.wd0) continue;
        out.push(days);
      }
    }
    return out;
  }
  if (!r.byyearday && !r.bymonthday && !r.byday) {
    const months = r.bymonth ?? [c.m0];
    for (const m of months) if (c.md0 <= daysInMonth(y, m)) out.push(daysFromCivil(y, m, c.md0));
    return out;
  }
  for (let m = 1; m <= 12; m++) {
    if (c.months && !c.months[m]) continue;
    const dim = daysInMonth(y, m);
    const first = daysFromCivil(y, m, 1);
    for (let d = 1; d <= dim; d++) {
      const days = first + d - 1;
      const yday = days - jan1 + 1;
      if (r.byyearday && !matchYearDay(r.byyearday, yday, ylen)) continue;
      if (r.bymonthday && !matchMonthDay(r.bymonthday, d, dim)) continue;
      if (r.byday) {
        // Ordinals count within the month when BYMONTH is given, else within the year (note 2).
        const nth = r.bymonth ? Math.floor((d - 1) / 7) + 1 : Math.floor((yday - 1) / 7) + 1;
        const back = r.bymonth ? -(Math.floor((dim - d) / 7) + 1) : -(Math.floor((ylen - yday) / 7) + 1);
        if (!matchByDay(c, weekday(days), nth, back)) continue;
      }
      out.push(days);
    }
  }
  return out;
}

function setpos(set: number[], pos: number[] | undefined): number[] {
  if (!pos) return set;
  const out: number[] = [];
  for (const p of pos) {
    const i = p > 0 ? p - 1 : set.length + p;
    if (i >= 0 && i < set.length && !out.includes(set[i])) out.push(set[i]);
  }
  return out.sort((a, b) => a - b);
}

function combos(a: number[], b: number[], c: number[]): number[] {
  const out: number[] = [];
  for (const h of a) for (const m of b) for (const s of c) if (s < 60) out.push(h * 3600 + m * 60 + s);
  return out.sort((x, y) => x - y);
}

function makeCtx(r: Rule, t0: number, dateOnly: boolean): Ctx {
  const d0 = Math.floor(t0 / DAY);
  const [y0, m0, md0] = civilFromDays(d0);
  const tod0 = t0 - d0 * DAY;
  const h0 = Math.floor(tod0 / 3600);
  const mi0 = Math.floor((tod0 % 3600) / 60);
  const s0 = tod0 % 60;
  let months: boolean[] | null = null;
  if (r.bymonth) {
    months = new Array(13).fill(false);
    for (const m of r.bymonth) months[m] = true;
  }
  let wdSet: boolean[] | null = null;
  const ordinals: ByDay[] = [];
  for (const b of r.byday ?? []) {
    if (b.n === 0) {
      wdSet ??= new Array(7).fill(false);
      wdSet[b.wd] = true;
    } else ordinals.push(b);
  }
  const tods = dateOnly ? [0] : combos(r.byhour ?? [h0], r.byminute ?? [mi0], r.bysecond ?? [s0]);
  return { r, t0, d0, y0, m0, md0, wd0: weekday(d0), dateOnly, tods, months, wdSet, ordinals };
}

/**
 * Calls `emit` with each floating local time (seconds) the rule yields at or after `t0`, in
 * increasing order, until `emit` returns false, the year passes {@link MAX_YEAR}, or (sub-daily
 * rules only) a work budget runs out on a rule whose filters never match.
 */
export function generate(r: Rule, t0: number, dateOnly: boolean, emit: (t: number) => boolean): void {
  const c = makeCtx(r, t0, dateOnly);
  if (!daysPossible(r)) return;
  if (r.freq === 'HOURLY' || r.freq === 'MINUTELY' || r.freq === 'SECONDLY') {
    generateSubDaily(c, emit);
    return;
  }
  const n = r.interval;
  const wsStart = c.d0 - mod(c.wd0 - r.wkst, 7);
  const maxDay = daysFromCivil(MAX_YEAR + 1, 1, 1);
  for (let k = 0; ; k++) {
    let days: number[];
    if (r.freq === 'DAILY') {
      const d = c.d0 + k * n;
      if (d >= maxDay) return;
      days = dayPasses(c, d) ? [d] : [];
    } else if (r.freq === 'WEEKLY') {
      const s = wsStart + 7 * n * k;
      if (s >= maxDay) return;
      days = [];
      for (let d = s; d < s + 7; d++) {
        const wd = weekday(d);
        if (c.wdSet ? !c.wdSet[wd] : wd !== c.wd0) continue;
        if (c.months && !c.months[civilFromDays(d)[1]]) continue;
        days.push(d);
      }
    } else if (r.freq === 'MONTHLY') {
      const mi = c.y0 * 12 + c.m0 - 1 + k * n;
      const y = Math.floor(mi / 12);
      if (y > MAX_YEAR) return;
      days = monthDays(c, y, (mi % 12) + 1);
    } else {
      const y = c.y0 + k * n;
      if (y > MAX_YEAR) return;
      days = yearDays(c, y);
    }
    if (days.length === 0) continue;
    let set: number[] = [];
    for (const d of days) for (const tod of c.tods) set.push(d * DAY + tod);
    set = setpos(set, r.bysetpos);
    for (const t of set) {
      if (t < t0) continue;
      if (!emit(t)) return;
    }
  }
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** False when BYMONTH and BYMONTHDAY can never meet (e.g. February 30th). */
function daysPossible(r: Rule): boolean {
  if (!r.bymonthday) return true;
  const months = r.bymonth ?? [1];
  return months.some((m) => r.bymonthday!.some((d) => Math.abs(d) <= (m === 2 ? 29 : daysInMonth(2001, m))));
}

/**
 * False when no allowed time of day is ever on the INTERVAL grid: time v (in units) on day d is on
 * it when d*U + v - base is a multiple of n, which some day allows exactly when v = base mod gcd(U, n).
 */
function gridPossible(units: number, n: number, base: number, values: Iterable<number>): boolean {
  const g = gcd(units, n);
  const want = mod(base, g);
  for (const v of values) if (mod(v, g) === want) return true;
  return false;
}

function* unitsOfDay(hours: number[], minutes: number[], seconds: number[], unit: number): Iterable<number> {
  for (const h of hours) {
    if (unit === 3600) yield h;
    else
      for (const m of minutes) {
        if (unit === 60) yield h * 60 + m;
        else for (const s of seconds) if (s < 60) yield h * 3600 + m * 60 + s;
      }
  }
}

function generateSubDaily(c: Ctx, emit: (t: number) => boolean): void {
  const r = c.r;
  const n = r.interval;
  const unit = r.freq === 'HOURLY' ? 3600 : r.freq === 'MINUTELY' ? 60 : 1;
  const base = Math.floor(c.t0 / unit);
  const tod0 = c.t0 - c.d0 * DAY;
  const hours = r.byhour ?? Array.from({ length: 24 }, (_, i) => i);
  const allMinutes = Array.from({ length: 60 }, (_, i) => i);
  const minutes = r.byminute ?? (r.freq === 'HOURLY' ? [Math.floor((tod0 % 3600) / 60)] : allMinutes);
  const seconds = r.bysecond ?? (r.freq === 'SECONDLY' ? allMinutes : [tod0 % 60]);
  if (!gridPossible(DAY / unit, n, base, unitsOfDay(hours, minutes, seconds, unit))) return;
  const maxDay = daysFromCivil(MAX_YEAR + 1, 1, 1);
  let work = 0;
  // Emits one period (an hour, minute or second) after BYSETPOS; false means stop.
  const period = (list: number[]): boolean => {
    for (const t of setpos(list, r.bysetpos)) {
      if (t < c.t0) continue;
      if (!emit(t)) return false;
    }
    return true;
  };
  for (let d = c.d0; d < maxDay; d++) {
    if (++work > MAX_WORK) return;
    if (!dayPasses(c, d)) continue;
    const dayT = d * DAY;
    for (const h of hours) {
      work++;
      if (r.freq === 'HOURLY') {
        if (mod(d * 24 + h - base, n) !== 0) continue;
        const list: number[] = [];
        for (const m of minutes) for (const s of seconds) if (s < 60) list.push(dayT + h * 3600 + m * 60 + s);
        if (!period(list)) return;
        continue;
      }
      const hourIndex = (d * 24 + h) * 60;
      // Minutes of this hour on the grid: stepped directly unless BYMINUTE lists them.
      const mins = r.freq === 'SECONDLY' || r.byminute ? minutes : stepped(mod(base - hourIndex, n), n, 60);
      for (const m of mins) {
        work++;
        if (r.freq === 'MINUTELY') {
          if (mod(hourIndex + m - base, n) !== 0) continue;
          const list: number[] = [];
          for (const s of seconds) if (s < 60) list.push(dayT + h * 3600 + m * 60 + s);
          if (!period(list)) return;
          continue;
        }
        const minuteT = dayT + h * 3600 + m * 60;
        const secs = r.bysecond ?? stepped(mod(base - minuteT, n), n, 60);
        for (const s of secs) {
          if (s >= 60) continue;
          if (mod(minuteT + s - base, n) !== 0) continue;
          if (!period([minuteT + s])) return;
        }
      }
      if (work > MAX_WORK) return;
    }
  }
}

/** first, first + step, ... below limit. */
function stepped(first: number, step: number, limit: number): number[] {
  const out: number[] = [];
  for (let v = first; v < limit; v += step) out.push(v);
  return out;
}
