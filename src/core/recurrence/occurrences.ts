/**
 * Turns the raw generator's floating times into a recurrence set: DTSTART first, DST gaps
 * shifted, duplicates dropped, COUNT and UNTIL applied, then EXDATEs removed and the caller's
 * bounds applied.
 */
import { generate } from './expand.ts';
import { DAY, getZone, type LocalForm, parseLocal, type Zone } from './local-time.ts';
import type { Rule, Until } from './parse.ts';

/** Cap on the output of a rule with no COUNT or UNTIL when the caller gives no count or until. */
export const DEFAULT_MAX_OCCURRENCES = 1000;

export interface Start {
  t: number;
  form: LocalForm;
}

/** Parses a DTSTART in local form; a value with `Z` or an offset is converted into the zone. */
export function parseStart(dtstart: string, zone: Zone): Start {
  const p = parseLocal(dtstart);
  if (!p) throw new Error(`Invalid dtstart "${dtstart}": expected YYYY-MM-DDTHH:mm:ss or YYYY-MM-DD`);
  const t = p.offset === undefined ? p.t : zone.toLocal(p.t - p.offset);
  return { t, form: p.form };
}

/** A bound as a predicate on an occurrence's (normalized) local time: true when past it. */
export function pastBound(until: Until, zone: Zone, dateOnly: boolean): (t: number) => boolean {
  if (until.kind === 'date') return (t) => Math.floor(t / DAY) > until.days;
  if (until.kind === 'local') {
    if (dateOnly) {
      const day = Math.floor(until.t / DAY);
      return (t) => Math.floor(t / DAY) > day;
    }
    return (t) => t > until.t;
  }
  // A UTC UNTIL against an all-day rule compares the local midnight that starts each day.
  return (t) => zone.toUtc(t) > until.t;
}

/** Parses the caller's `until` option: a local form, a date, or a UTC/offset instant. */
export function parseUntilOption(text: string): Until {
  const p = parseLocal(text);
  if (!p) throw new Error(`Invalid until "${text}"`);
  if (p.offset !== undefined) return { kind: 'utc', t: p.t - p.offset };
  if (p.form.dateOnly) return { kind: 'date', days: Math.floor(p.t / DAY) };
  return { kind: 'local', t: p.t };
}

export interface RunOptions {
  count?: number;
  until?: Until;
  exdates?: string[];
  /** Include DTSTART even when the rule does not produce it (RFC 5545). Default true. */
  forceStart?: boolean;
}

/**
 * Runs a parsed rule and returns floating local times of the recurrence set. See
 * `expandRecurrence` for the semantics.
 */
export function run(rule: Rule, start: Start, timeZone: string, opts: RunOptions): number[] {
  const zone = getZone(timeZone);
  const dateOnly = start.form.dateOnly;
  if (dateOnly && (rule.byhour || rule.byminute || rule.bysecond)) {
    throw new Error('BYHOUR/BYMINUTE/BYSECOND need a date-time DTSTART, not a date');
  }
  if (dateOnly && (rule.freq === 'HOURLY' || rule.freq === 'MINUTELY' || rule.freq === 'SECONDLY')) {
    throw new Error(`FREQ=${rule.freq} needs a date-time DTSTART, not a date`);
  }
  const norm = dateOnly ? (t: number) => t : (t: number) => zone.normalize(t);
  const rulePast = rule.until ? pastBound(rule.until, zone, dateOnly) : null;
  const optPast = opts.until ? pastBound(opts.until, zone, dateOnly) : null;
  const unbounded = rule.count === undefined && !rule.until && opts.count === undefined && !opts.until;
  const maxOut = opts.count ?? (unbounded ? DEFAULT_MAX_OCCURRENCES : Number.POSITIVE_INFINITY);
  const ex = exdateMatcher(opts.exdates ?? [], zone, dateOnly);

  const out: number[] = [];
  let counted = 0;
  let last = Number.NEGATIVE_INFINITY;
  let done = maxOut <= 0;
  // Pending [normalized, raw] pairs: a shifted time may pass later raw times, so hold it until
  // no later raw time can come before it.
  const pending: [number, number][] = [];
  const t0 = start.t;
  const forced = opts.forceStart !== false;

  const accept = (t: number, raw: number): void => {
    if (done || t === last) return;
    last = t;
    // DTSTART is always the first instance (RFC 5545), even past the rule's own UNTIL.
    if (rulePast?.(t) && !(forced && raw === t0)) {
      done = true;
      return;
    }
    counted++;
    if (!ex(t, raw)) {
      if (optPast?.(t)) {
        done = true;
        return;
      }
      out.push(t);
      if (out.length >= maxOut) done = true;
    }
    if (rule.count !== undefined && counted >= rule.count) done = true;
  };
  const flush = (upTo: number): void => {
    while (pending.length > 0 && pending[0][0] <= upTo && !done) {
      const [t, raw] = pending.shift()!;
      accept(t, raw);
    }
  };
  const push = (raw: number): boolean => {
    const t = norm(raw);
    let i = pending.length;
    while (i > 0 && pending[i - 1][0] > t) i--;
    pending.splice(i, 0, [t, raw]);
    flush(raw);
    if (done) return false;
    // Nothing generated later can be inside a bound this raw time is already past.
    if ((rulePast?.(raw) && raw !== t0) || optPast?.(raw)) return false;
    return true;
  };

  if (forced && !done) push(t0);
  if (!done) generate(rule, t0, dateOnly, (raw) => (raw === t0 && forced ? true : push(raw)));
  flush(Number.POSITIVE_INFINITY);
  return out;
}

function exdateMatcher(
  exdates: string[],
  zone: Zone,
  dateOnly: boolean,
): (t: number, raw: number) => boolean {
  if (exdates.length === 0) return () => false;
  const times = new Set<number>();
  const days = new Set<number>();
  for (const e of exdates) {
    const p = parseLocal(e);
    if (!p) throw new Error(`Invalid exdate "${e}"`);
    const t = p.offset === undefined ? p.t : zone.toLocal(p.t - p.offset);
    if (dateOnly || p.form.dateOnly) days.add(Math.floor(t / DAY));
    else times.add(t);
  }
  return (t, raw) => times.has(t) || times.has(raw) || (days.size > 0 && days.has(Math.floor(t / DAY)));
}
