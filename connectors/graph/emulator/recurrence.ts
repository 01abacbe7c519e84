/**
 * Series masters: validation of `patternedRecurrence` and expansion into occurrences, through the
 * shared conversion library (Graph pattern -> RRULE -> occurrences).
 */
import { expandRecurrence, fromGraphRecurrence } from '../../../src/core/recurrence/index.ts';
import { ianaOf, localToUtc, utcToLocal } from '../time.ts';
import { invalid } from './errors.ts';
import type { StoredEvent } from './model.ts';

const PATTERNS = [
  'daily',
  'weekly',
  'absoluteMonthly',
  'relativeMonthly',
  'absoluteYearly',
  'relativeYearly',
];
const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const INDEXES = ['first', 'second', 'third', 'fourth', 'last'];
const RANGES = ['endDate', 'noEnd', 'numbered'];
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Rejects what Graph rejects: unknown values (even in fields the type ignores), and a range start
 * that is not the date of the event's start. */
export function validateRecurrence(rec: any, ev: StoredEvent) {
  const p = rec?.pattern;
  const r = rec?.range;
  if (!p || !r) invalid('recurrence needs a pattern and a range.');
  if (!PATTERNS.includes(p.type)) invalid(`Invalid recurrence pattern type '${p.type}'.`);
  if (!Number.isInteger(p.interval) || p.interval < 1 || p.interval > 999) {
    invalid('recurrence.pattern.interval must be a positive integer.');
  }
  const days: unknown = p.daysOfWeek ?? [];
  if (!Array.isArray(days) || days.some((d) => !DAYS.includes(d))) invalid('Invalid daysOfWeek.');
  if (p.firstDayOfWeek !== undefined && p.firstDayOfWeek !== null && !DAYS.includes(p.firstDayOfWeek)) {
    invalid('Invalid firstDayOfWeek.');
  }
  if (p.index !== undefined && p.index !== null && !INDEXES.includes(p.index)) invalid('Invalid index.');
  if (p.dayOfMonth !== undefined && p.dayOfMonth !== 0 && (p.dayOfMonth < 1 || p.dayOfMonth > 31)) {
    invalid('Invalid dayOfMonth.');
  }
  if (p.month !== undefined && p.month !== 0 && (p.month < 1 || p.month > 12)) invalid('Invalid month.');
  const needsDays = ['weekly', 'relativeMonthly', 'relativeYearly'].includes(p.type);
  if (needsDays && (days as string[]).length === 0) invalid(`A ${p.type} pattern needs daysOfWeek.`);
  if (p.type.startsWith('absolute') && !(p.dayOfMonth >= 1)) invalid(`A ${p.type} pattern needs dayOfMonth.`);
  if (p.type.endsWith('Yearly') && !(p.month >= 1)) invalid(`A ${p.type} pattern needs month.`);
  if (!RANGES.includes(r.type)) invalid(`Invalid recurrence range type '${r.type}'.`);
  if (typeof r.startDate !== 'string' || !DATE.test(r.startDate))
    invalid('recurrence.range.startDate is required.');
  if (
    r.type === 'endDate' &&
    (typeof r.endDate !== 'string' || !DATE.test(r.endDate) || r.endDate < r.startDate)
  ) {
    invalid('recurrence.range.endDate must be a date on or after startDate.');
  }
  if (r.type === 'numbered' && !(Number.isInteger(r.numberOfOccurrences) && r.numberOfOccurrences > 0)) {
    invalid('recurrence.range.numberOfOccurrences must be greater than 0.');
  }
  if (r.recurrenceTimeZone && !ianaOf(r.recurrenceTimeZone)) invalid('Invalid recurrenceTimeZone.');
  const zone = ianaOf(r.recurrenceTimeZone) ?? ev.startZone;
  const startDate = utcToLocal(ev.startMs, ev.allDay ? ev.startZone : zone).slice(0, 10);
  if (r.startDate !== startDate) {
    invalid(
      `The recurrence range startDate '${r.startDate}' must be the date of the event start (${startDate}).`,
    );
  }
}

const MAX_OCCURRENCES = 5000;

/**
 * Original starts (ms) of a master's occurrences that begin before `toMs` and end after `fromMs`,
 * cancelled ones included (the caller filters them).
 */
export function occurrenceStarts(master: StoredEvent, fromMs: number, toMs: number): number[] {
  const rec = master.data.recurrence;
  if (!rec) return [];
  const zone = master.allDay ? master.startZone : (ianaOf(rec.range?.recurrenceTimeZone) ?? master.startZone);
  const local = utcToLocal(master.startMs, zone);
  const dtstart = master.allDay ? local.slice(0, 10) : local;
  const horizon = utcToLocal(toMs, zone);
  const until = master.allDay ? horizon.slice(0, 10) : horizon;
  const rrule = fromGraphRecurrence(rec);
  const duration = master.endMs - master.startMs;
  const out: number[] = [];
  for (const l of expandRecurrence(rrule, dtstart, zone, { until })) {
    const ms = localToUtc(l, zone);
    if (ms >= toMs) break;
    if (ms + Math.max(duration, 1) > fromMs) out.push(ms);
    if (out.length >= MAX_OCCURRENCES) break;
  }
  return out;
}
