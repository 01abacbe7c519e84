/**
 * Civil-calendar arithmetic and IANA zone conversion for the recurrence engine.
 *
 * Local ("wall clock") date-times are plain numbers: seconds since 1970-01-01T00:00:00 of the
 * proleptic Gregorian calendar, with no zone attached (as if the wall clock were UTC). All
 * recurrence expansion happens on these floating values; a zone is only consulted to shift times
 * that do not exist (DST gaps) and to compare with UTC instants.
 */

export const DAY = 86_400;

/** Days since 1970-01-01 for a proleptic Gregorian date (month 1..12). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = (m + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** Inverse of {@link daysFromCivil}: [year, month 1..12, day 1..31]. */
export function civilFromDays(days: number): [number, number, number] {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [m <= 2 ? era * 400 + yoe + 1 : era * 400 + yoe, m, d];
}

/** Weekday of a day number: 0 = Monday .. 6 = Sunday (RFC 5545 order, MO first). */
export function weekday(days: number): number {
  return (((days + 3) % 7) + 7) % 7;
}

export function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function daysInMonth(y: number, m: number): number {
  return m === 2 && isLeap(y) ? 29 : MONTH_DAYS[m - 1];
}

export function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

/** How a local date-time string was written, so results can be written the same way. */
export interface LocalForm {
  dateOnly: boolean;
  /** iCalendar basic form (`20240105T090000`) instead of ISO extended (`2024-01-05T09:00:00`). */
  basic: boolean;
}

export interface ParsedLocal {
  /** Floating local seconds. */
  t: number;
  form: LocalForm;
  /** Offset in seconds when the text carried `Z` or `±hh:mm`: then `t - offset` is a UTC instant. */
  offset?: number;
}

const EXTENDED =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/;
const BASIC = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})?)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:mm[:ss]`, `YYYYMMDD`, `YYYYMMDDTHHMMSS`, each optionally with
 * `Z` or a numeric offset (only meaningful with a time). Returns undefined when malformed.
 */
export function parseLocal(text: string): ParsedLocal | undefined {
  const s = text.trim();
  const ext = EXTENDED.exec(s);
  const m = ext ?? BASIC.exec(s);
  if (!m) return undefined;
  const basic = !ext;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return undefined;
  const dateOnly = m[4] === undefined;
  if (dateOnly && m[7]) return undefined;
  const h = dateOnly ? 0 : Number(m[4]);
  const mi = dateOnly ? 0 : Number(m[5]);
  const sec = dateOnly || m[6] === undefined ? 0 : Number(m[6]);
  if (h > 23 || mi > 59 || sec > 59) return undefined;
  const t = daysFromCivil(y, mo, d) * DAY + h * 3600 + mi * 60 + sec;
  const out: ParsedLocal = { t, form: { dateOnly, basic } };
  const z = m[7];
  if (z) {
    if (z === 'Z') out.offset = 0;
    else {
      const digits = z.replace(':', '');
      const sign = digits[0] === '-' ? -1 : 1;
      out.offset = sign * (Number(digits.slice(1, 3)) * 3600 + Number(digits.slice(3, 5)) * 60);
    }
  }
  return out;
}

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

function pad4(n: number): string {
  return String(n).padStart(4, '0');
}

/** Formats floating local seconds in the given form. */
export function formatLocal(t: number, form: LocalForm): string {
  const days = Math.floor(t / DAY);
  const [y, m, d] = civilFromDays(days);
  const date = form.basic ? pad4(y) + pad2(m) + pad2(d) : pad4(y) + '-' + pad2(m) + '-' + pad2(d);
  if (form.dateOnly) return date;
  const tod = t - days * DAY;
  const hh = Math.floor(tod / 3600);
  const mm = Math.floor((tod % 3600) / 60);
  const ss = tod % 60;
  return form.basic
    ? date + 'T' + pad2(hh) + pad2(mm) + pad2(ss)
    : date + 'T' + pad2(hh) + ':' + pad2(mm) + ':' + pad2(ss);
}

/** Formats a day number as `YYYY-MM-DD`. */
export function formatDate(days: number): string {
  return formatLocal(days * DAY, { dateOnly: true, basic: false });
}

const FORMAT_RE = /^(\d+)\/(\d+)\/(-?\d+),?\s+(\d+):(\d+):(\d+)$/;

/** Offsets over one span: the offset at its start, then each transition (second, offset after). */
interface Span {
  first: number;
  at: number[];
  after: number[];
}

const WEEK = 7 * DAY;
/** 52 weeks: a zone's offsets are cached per span, sampled weekly, transitions found to the second. */
const SPAN = 52 * WEEK;

/**
 * An IANA zone, its UTC offsets read with one cached `Intl.DateTimeFormat` and memoized per 52-week
 * span: the offset is sampled weekly and every change located by bisection, so a span costs about
 * 90 formatter calls once and a lookup afterwards is a Map hit. Assumes a zone never changes its
 * offset and changes it back within one week (true of the tz database in the range used here).
 */
export class Zone {
  private readonly fmt: Intl.DateTimeFormat;
  private readonly spans = new Map<number, Span>();

  constructor(readonly name: string) {
    try {
      this.fmt = new Intl.DateTimeFormat('en-US', {
        timeZone: name,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new Error(`Unknown time zone: ${JSON.stringify(name)}`);
    }
  }

  /** Offset (seconds, local minus UTC) at a UTC instant, straight from Intl. */
  private raw(utc: number): number {
    const m = FORMAT_RE.exec(this.fmt.format(new Date(utc * 1000)));
    if (!m) throw new Error(`Cannot read the offset of ${this.name}`);
    const local =
      daysFromCivil(Number(m[3]), Number(m[1]), Number(m[2])) * DAY +
      Number(m[4]) * 3600 +
      Number(m[5]) * 60 +
      Number(m[6]);
    return local - utc;
  }

  private span(k: number): Span {
    const start = k * SPAN;
    const sp: Span = { first: this.raw(start), at: [], after: [] };
    let prev = sp.first;
    for (let i = 1; i <= 52; i++) {
      const end = start + i * WEEK;
      const cur = this.raw(end);
      if (cur === prev) continue;
      let lo = end - WEEK;
      let hi = end;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (this.raw(mid) === prev) lo = mid;
        else hi = mid;
      }
      if (hi < start + SPAN) {
        sp.at.push(hi);
        sp.after.push(cur);
      }
      prev = cur;
    }
    return sp;
  }

  /** Offset (seconds) at a UTC instant (seconds). */
  offset(utc: number): number {
    const k = Math.floor(utc / SPAN);
    let sp = this.spans.get(k);
    if (!sp) {
      if (this.spans.size > 10_000) this.spans.clear();
      sp = this.span(k);
      this.spans.set(k, sp);
    }
    let off = sp.first;
    for (let i = 0; i < sp.at.length && utc >= sp.at[i]; i++) off = sp.after[i];
    return off;
  }

  toLocal(utc: number): number {
    return utc + this.offset(utc);
  }

  /**
   * UTC instant of a local time, as RFC 5545 section 3.3.5 says: an ambiguous time (fall back) is
   * the first occurrence; a time in a gap (spring forward) is read with the offset before the gap,
   * which lands it later by the size of the gap.
   */
  toUtc(local: number): number {
    const before = this.offset(local - DAY);
    const after = this.offset(local + DAY);
    if (before === after) {
      const o = this.offset(local - before);
      return local - o;
    }
    const u1 = local - before;
    const u2 = local - after;
    const ok1 = this.offset(u1) === before;
    const ok2 = this.offset(u2) === after;
    if (ok1 && ok2) return Math.min(u1, u2);
    if (ok1) return u1;
    if (ok2) return u2;
    return u1;
  }

  /** The local time itself, or, when it does not exist, the time after the gap it falls in. */
  normalize(local: number): number {
    return this.toLocal(this.toUtc(local));
  }
}

const zones = new Map<string, Zone>();

/** Cached {@link Zone} for an IANA name; throws on an unknown zone. */
export function getZone(name: string): Zone {
  let z = zones.get(name);
  if (!z) {
    z = new Zone(name);
    zones.set(name, z);
  }
  return z;
}
