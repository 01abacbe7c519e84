/**
 * How near an event is to now, for the attendees stage (nearest first): what a user looks at first
 * is today and the days around it. Pure.
 *
 * - A single event or an occurrence: 0 while it runs, else the seconds from now to its start ahead,
 *   or from its end behind. Past and future weigh the same.
 * - A series master: 0 while the series runs (from its first start until its last occurrence: UNTIL,
 *   or COUNT times the rule's step, an upper bound; with neither it runs for ever), else as above
 *   with the first start and that end. A weekly meeting that goes on is as near as today's meeting.
 */
import type { CanonicalEvent, EventTime } from '../core/index.ts';

const DAY = 86_400;
const STEP: Record<string, number> = { SECONDLY: 1, MINUTELY: 60, HOURLY: 3600, DAILY: DAY };

const at = (t: EventTime) => ('date' in t ? Date.parse(`${t.date}T00:00:00Z`) / 1000 : t.timestamp);

export function distance(ev: CanonicalEvent, now: number): number {
  const start = at(ev.start);
  let end = at(ev.end);
  if (ev.key.originalTime === 0 && ev.recurrence.length > 0) end = seriesEnd(ev.recurrence, start, end);
  if (start > now) return start - now;
  return end < now ? now - end : 0;
}

/** The end of a series' last occurrence, at the latest (Infinity when it never ends). */
function seriesEnd(recurrence: string[], start: number, end: number): number {
  const rule = recurrence.find((l) => /^RRULE:/i.test(l)) ?? '';
  const until = /UNTIL=(\d{4})(\d{2})(\d{2})/i.exec(rule);
  if (until) return Date.parse(`${until[1]}-${until[2]}-${until[3]}T00:00:00Z`) / 1000 + DAY + (end - start);
  const count = Number(/COUNT=(\d+)/i.exec(rule)?.[1]);
  if (!count) return Infinity;
  const interval = Number(/INTERVAL=(\d+)/i.exec(rule)?.[1] ?? 1) || 1;
  const freq = /FREQ=([A-Z]+)/i.exec(rule)?.[1]?.toUpperCase() ?? 'DAILY';
  const step = STEP[freq] ?? (freq === 'WEEKLY' ? 7 * DAY : freq === 'MONTHLY' ? 31 * DAY : 366 * DAY);
  return start + count * interval * step + (end - start);
}

/** The events ordered nearest first (a stable sort: equals keep their order). */
export function nearestFirst<T>(items: T[], eventOf: (item: T) => CanonicalEvent, now: number): T[] {
  return items
    .map((item, i) => ({ item, i, d: distance(eventOf(item), now) }))
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .map((x) => x.item);
}
