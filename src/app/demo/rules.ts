/**
 * Calendar arithmetic for the demo tenant: civil days, wall times in a zone, and the small recurrence
 * rule set the generator uses (occurrence days follow RFC 5545, so exceptions name exact occurrences).
 */
import { civilFromDays, daysFromCivil, daysInMonth, getZone } from '../../core/recurrence/local-time.ts';

export const DAY_S = 86_400;

export const civil = (day: number) => {
  const [y, m, dom] = civilFromDays(day);
  return { y, m, dom };
};
/** 0 = Sunday. */
export const weekday = (day: number) => (((day + 4) % 7) + 7) % 7;
export const pad = (n: number) => (n < 10 ? `0${n}` : String(n));
export const dateText = (day: number) => {
  const { y, m, dom } = civil(day);
  return `${y}-${pad(m)}-${pad(dom)}`;
};

/** Unix seconds of a local wall time (day number + minutes after midnight) in an IANA zone. */
export function localToUnix(day: number, minutes: number, zone: string): number {
  return getZone(zone).toUtc(day * DAY_S + minutes * 60);
}

// ---------------------------------------------------------------- recurrence (our own small rule set)

export const BYDAY = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];

export interface Rule {
  freq: 'DAILY' | 'WEEKLY' | 'MONTHLY' | 'YEARLY';
  interval: number;
  byDay?: number[];
  byMonthDay?: number;
  nth?: { n: number; wd: number };
}

export const monday = (day: number) => day - ((weekday(day) + 6) % 7);

export const dayOf = (y: number, m: number, dom: number) => daysFromCivil(y, m, dom);

/** The day of month `m` on which a MONTHLY rule falls (its BYMONTHDAY, or its nth weekday). */
export function monthlyDay(r: Rule, y: number, m: number): number {
  if (r.byMonthDay !== undefined) return dayOf(y, m, r.byMonthDay);
  const { n, wd } = r.nth!;
  if (n > 0) return dayOf(y, m, 1) + ((wd - weekday(dayOf(y, m, 1)) + 7) % 7) + 7 * (n - 1);
  const last = dayOf(y, m, daysInMonth(y, m));
  return last - ((weekday(last) - wd + 7) % 7);
}

/** Occurrence days of a rule whose first occurrence is d0, up to lastDay, at most `max` (RFC 5545). */
export function occurrenceDays(r: Rule, d0: number, lastDay: number, max: number): number[] {
  const out: number[] = [];
  const { y, m, dom } = civil(d0);
  for (let k = 0; out.length < max; k++) {
    let d: number;
    if (r.freq === 'DAILY') d = d0 + k * r.interval;
    else if (r.freq === 'YEARLY') d = dayOf(y + k * r.interval, m, dom);
    else if (r.freq === 'MONTHLY') {
      const months = m - 1 + k * r.interval;
      d = monthlyDay(r, y + Math.floor(months / 12), (months % 12) + 1);
    } else {
      d = d0 + k;
      if (!r.byDay!.includes(weekday(d)) || ((monday(d) - monday(d0)) / 7) % r.interval !== 0) {
        if (d > lastDay) break;
        continue;
      }
    }
    if (d > lastDay) break;
    if (d >= d0) out.push(d);
  }
  return out;
}

export function ruleText(r: Rule, end: string): string {
  let s = `FREQ=${r.freq};INTERVAL=${r.interval}`;
  if (r.byDay) s += `;BYDAY=${r.byDay.map((d) => BYDAY[d]).join(',')}`;
  if (r.nth) s += `;BYDAY=${r.nth.n}${BYDAY[r.nth.wd]}`;
  if (r.byMonthDay !== undefined) s += `;BYMONTHDAY=${r.byMonthDay}`;
  return end ? `${s};${end}` : s;
}

export const basicUtc = (unix: number) =>
  new Date(unix * 1000)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
