/**
 * RFC 5545 recurrence rules: expansion in IANA zones, and conversion to and from Microsoft Graph
 * `patternedRecurrence`. Pure functions: no I/O, zones through `Intl.DateTimeFormat`.
 */

import { fromGraphRecurrence } from './graph-from.ts';
import { formatLocal, getZone } from './local-time.ts';
import { parseStart, parseUntilOption, run } from './occurrences.ts';
import { parseRule } from './parse.ts';
import { plainRule } from './rscale.ts';

export { fromGraphRecurrence } from './graph-from.ts';
export { toGraphRecurrence } from './graph-to.ts';
export type { GraphConversion, GraphPattern, GraphRange, GraphRecurrence } from './graph-types.ts';
export { DEFAULT_MAX_OCCURRENCES } from './occurrences.ts';
export { formatRule, parseRule, type Rule } from './parse.ts';
export { type PlainRule, plainRule } from './rscale.ts';

export interface ExpandOptions {
  /** At most this many occurrences are returned (counted after `exdates` are removed). */
  count?: number;
  /**
   * Last allowed start, inclusive: `YYYY-MM-DDTHH:mm:ss` (local, in the rule's zone), `YYYY-MM-DD`
   * (the whole local day), or an instant with `Z`/offset (also the basic iCalendar forms).
   */
  until?: string;
  /** Starts to remove, in the same local form as dtstart (`Z`/offset instants also accepted). */
  exdates?: string[];
}

/**
 * Occurrences of an RRULE, as local date-times in the form of `dtstart`.
 *
 * - `rrule`: the RECUR value, with or without the `RRULE:` prefix.
 * - `dtstart`: local start, `YYYY-MM-DDTHH:mm:ss` or `YYYY-MM-DD` for all-day (the basic forms
 *   `YYYYMMDDTHHMMSS`/`YYYYMMDD` work too and are answered in kind).
 * - `timeZone`: IANA zone the local times live in.
 *
 * Semantics (RFC 5545): occurrences are computed in local wall-clock time, so a 09:00 meeting stays
 * at 09:00 across DST changes; a local time that does not exist (spring forward) moves later by the
 * length of the gap; an ambiguous one (fall back) is the first of the two; results are sorted and
 * unique. DTSTART is always the first instance, even when the rule would not produce it, and counts
 * toward COUNT. Invalid dates (Feb 30, the 31st of short months) are skipped. UNTIL is inclusive; a
 * `Z` UNTIL is an instant compared with each occurrence's instant in the zone (for all-day rules,
 * the instant the local day starts), a floating UNTIL is compared as local time, a DATE UNTIL
 * includes the whole local day.
 *
 * Order of limits: the rule's COUNT counts generated instances before `exdates` are removed (as in
 * RFC 5545); then `exdates` are removed; then `options.until` and `options.count` cut the output.
 *
 * Bounds: a rule with no COUNT or UNTIL, called with neither `options.count` nor `options.until`,
 * returns at most {@link DEFAULT_MAX_OCCURRENCES} (1000) occurrences. No rule ever runs past the
 * year 9999, and a sub-daily rule whose filters never match stops after a fixed work budget.
 *
 * RFC 7529 rules (`RSCALE`, `SKIP`) are expanded through their exact plain form (`plainRule`); one
 * without such a form (another calendar scale, a SKIP RFC 5545 cannot say) throws.
 *
 * Throws an Error with a clear message on an invalid rule, dtstart, zone, until or exdate.
 */
export function expandRecurrence(
  rrule: string,
  dtstart: string,
  timeZone: string,
  options: ExpandOptions = {},
): string[] {
  let rule = parseRule(rrule);
  if (rule.rscale) {
    // RFC 7529: expanded through the exact plain form; anything else cannot be expanded here.
    const p = plainRule(rrule, dtstart);
    if (!p.rrule || !p.exact) throw new Error(`Cannot expand RRULE "${rrule}": ${p.note}`);
    rule = parseRule(p.rrule);
  }
  const start = parseStart(dtstart, getZone(timeZone));
  const times = run(rule, start, timeZone, {
    count: options.count,
    until: options.until === undefined ? undefined : parseUntilOption(options.until),
    exdates: options.exdates,
  });
  return times.map((t) => formatLocal(t, start.form));
}

/**
 * Occurrences of a Graph `patternedRecurrence` with Graph's own start rule: the series begins on the
 * first pattern date on or after `range.startDate`, so `start` (local date-time of the event start,
 * or a date for all-day events) is an occurrence only when it matches the pattern, and
 * `numberOfOccurrences` counts pattern dates only. `timeZone` is the IANA zone of the recurrence
 * (convert a Windows `recurrenceTimeZone` with `toIanaZone`). Options as in {@link expandRecurrence}.
 */
export function expandGraphRecurrence(
  recurrence: object,
  start: string,
  timeZone: string,
  options: ExpandOptions = {},
): string[] {
  const rule = parseRule(fromGraphRecurrence(recurrence));
  const st = parseStart(start, getZone(timeZone));
  const times = run(rule, st, timeZone, {
    count: options.count,
    until: options.until === undefined ? undefined : parseUntilOption(options.until),
    exdates: options.exdates,
    forceStart: false,
  });
  return times.map((t) => formatLocal(t, st.form));
}
