/**
 * RFC 7529 (`RSCALE`, `SKIP`, leap months `BYMONTH=5L`) rules made plain RFC 5545, which is all that
 * Feishu, Graph and the expanders understand.
 *
 * - No RSCALE: unchanged.
 * - `RSCALE=GREGORIAN` with `SKIP=OMIT` (the default): RFC 5545's own meaning; RSCALE/SKIP dropped.
 * - `RSCALE=GREGORIAN;SKIP=BACKWARD` on a day of month after the 28th (from BYMONTHDAY or DTSTART):
 *   "that day, or the month's last day when shorter" is exactly `BYMONTHDAY=28,...,d;BYSETPOS=-1`
 *   (MONTHLY, or YEARLY in one month).
 * - `RSCALE=GREGORIAN;SKIP=FORWARD` on February 29 every year: March 1 in common years, which is
 *   exactly `BYYEARDAY=60`.
 * - Other Gregorian `SKIP=FORWARD` rules (a monthly 29th-31st moving to the 1st of the next month)
 *   have no RFC 5545 form: they are narrowed to OMIT (the moved occurrences are left out), with a note.
 * - Another calendar scale (CHINESE, HEBREW, ...): its dates have no Gregorian rule at all; the result
 *   is `rrule: null` (the caller keeps the first occurrence only), with a note.
 */
import { civilFromDays, DAY, getZone } from './local-time.ts';
import { parseStart } from './occurrences.ts';
import { formatRule, parseRule, type Rule } from './parse.ts';

export interface PlainRule {
  /** The RFC 5545 rule (no `RRULE:` prefix), or null when none can stand for it. */
  rrule: string | null;
  /** True when the plain rule has exactly the same occurrences. */
  exact: boolean;
  note?: string;
}

const plain = (r: Rule): Rule => {
  const { rscale: _r, skip: _s, byleapmonth: _l, ...rest } = r;
  return rest;
};

/** `dtstart`: the local start (`YYYY-MM-DD[THH:mm:ss]`), for the day of month a rule implies. */
export function plainRule(rrule: string, dtstart: string): PlainRule {
  const r = parseRule(rrule);
  if (!r.rscale) return { rrule: rrule.replace(/^RRULE:/i, ''), exact: true };
  if (r.rscale !== 'GREGORIAN' || r.byleapmonth) {
    return {
      rrule: null,
      exact: false,
      note: `RSCALE=${r.rscale} (a non-Gregorian calendar) has no RFC 5545 form: kept as its first occurrence`,
    };
  }
  const skip = r.skip ?? 'OMIT';
  const base = plain(r);
  if (skip === 'OMIT') return { rrule: formatRule(base), exact: true };
  const start = parseStart(dtstart, getZone('UTC'));
  const [, startMonth, startDay] = civilFromDays(Math.floor(start.t / DAY));
  // The day of month the rule lands on, when it is one fixed day (else SKIP changes nothing we know).
  const fixedDay =
    (r.freq === 'MONTHLY' || r.freq === 'YEARLY') && !r.byday && !r.byyearday && !r.byweekno
      ? r.bymonthday
        ? r.bymonthday.length === 1
          ? r.bymonthday[0]
          : undefined
        : startDay
      : undefined;
  const months = r.freq === 'YEARLY' ? (r.bymonth ?? [startMonth]) : undefined;
  if (fixedDay === undefined || fixedDay <= 28) {
    // Only the 29th-31st can be missing in a month.
    if (r.bymonthday?.some((d) => d > 28) && fixedDay === undefined) {
      return {
        rrule: formatRule(base),
        exact: false,
        note: `SKIP=${skip} on several days of month: narrowed to OMIT (occurrences on missing days left out)`,
      };
    }
    return { rrule: formatRule(base), exact: true };
  }
  if (months && months.length > 1) {
    return {
      rrule: formatRule(base),
      exact: false,
      note: `SKIP=${skip} across several months: narrowed to OMIT (occurrences on missing days left out)`,
    };
  }
  if (skip === 'BACKWARD' && !r.bysetpos) {
    const days = Array.from({ length: fixedDay - 27 }, (_, i) => 28 + i);
    return {
      rrule: formatRule({
        ...base,
        bymonthday: days,
        bysetpos: [-1],
        ...(months ? { bymonth: months } : {}),
      }),
      exact: true,
    };
  }
  if (skip === 'FORWARD' && months?.[0] === 2 && fixedDay === 29 && !r.bysetpos) {
    const { bymonth: _m, bymonthday: _d, ...rest } = base;
    return { rrule: formatRule({ ...rest, byyearday: [60] }), exact: true };
  }
  return {
    rrule: formatRule(base),
    exact: false,
    note: `SKIP=${skip} has no RFC 5545 form here: narrowed to OMIT (occurrences on missing days left out)`,
  };
}
