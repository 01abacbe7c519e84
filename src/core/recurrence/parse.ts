/** Parsing, validation and writing of RFC 5545 RECUR values (the part after `RRULE:`). */
import { civilFromDays, DAY, daysFromCivil, daysInMonth } from './local-time.ts';

export const FREQS = ['SECONDLY', 'MINUTELY', 'HOURLY', 'DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'] as const;
export type Freq = (typeof FREQS)[number];

/** Weekday codes in RFC order; the index is the weekday number used everywhere (0 = MO). */
export const DAY_CODES = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const;

export interface ByDay {
  /** Ordinal (+1 first, -1 last...), 0 when none. */
  n: number;
  /** 0 = Monday .. 6 = Sunday. */
  wd: number;
}

export type Until =
  | { kind: 'date'; days: number }
  | { kind: 'local'; t: number }
  | { kind: 'utc'; t: number };

export interface Rule {
  freq: Freq;
  interval: number;
  count?: number;
  until?: Until;
  bysecond?: number[];
  byminute?: number[];
  byhour?: number[];
  byday?: ByDay[];
  bymonthday?: number[];
  byyearday?: number[];
  byweekno?: number[];
  bymonth?: number[];
  bysetpos?: number[];
  /** Week start, 0 = Monday (the RFC default) .. 6 = Sunday. */
  wkst: number;
  /** RFC 7529 calendar scale (upper case, e.g. `GREGORIAN`, `CHINESE`); absent = Gregorian. */
  rscale?: string;
  /** RFC 7529 handling of dates the month lacks; only with RSCALE. Absent = OMIT. */
  skip?: 'OMIT' | 'BACKWARD' | 'FORWARD';
  /** RFC 7529 leap months of BYMONTH (`5L`), only with RSCALE. */
  byleapmonth?: number[];
}

function fail(rule: string, why: string): never {
  throw new Error(`Invalid RRULE "${rule}": ${why}`);
}

function intList(
  rule: string,
  key: string,
  value: string,
  min: number,
  max: number,
  signed: boolean,
): number[] {
  const out: number[] = [];
  for (const part of value.split(',')) {
    if (!/^[+-]?\d{1,3}$/.test(part)) fail(rule, `${key} value "${part}" is not an integer`);
    const n = Number(part);
    const abs = Math.abs(n);
    if ((!signed && n < min) || abs > max || abs < min || (signed && n === 0)) {
      fail(rule, `${key} value ${part} is out of range`);
    }
    if (!out.includes(n)) out.push(n);
  }
  return out.sort((a, b) => a - b);
}

function parseUntil(rule: string, value: string): Until {
  const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z?))?$/.exec(value);
  if (!m) fail(rule, `UNTIL "${value}" is not a DATE or DATE-TIME`);
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo))
    fail(rule, `UNTIL "${value}" is not a valid date`);
  const days = daysFromCivil(y, mo, d);
  if (m[4] === undefined) return { kind: 'date', days };
  const h = Number(m[4]);
  const mi = Number(m[5]);
  const s = Number(m[6]);
  if (h > 23 || mi > 59 || s > 60) fail(rule, `UNTIL "${value}" has an invalid time`);
  const t = days * DAY + h * 3600 + mi * 60 + Math.min(s, 59);
  return m[7] ? { kind: 'utc', t } : { kind: 'local', t };
}

/**
 * Parses and validates a RECUR value. Accepts an optional `RRULE:` prefix, any letter case and a
 * trailing `;`. Throws an Error naming the rule and the problem when the rule is invalid, including
 * the combinations RFC 5545 section 3.3.10 forbids (the N/A cells of its table, BYDAY ordinals
 * outside MONTHLY/YEARLY or with BYWEEKNO, BYSETPOS alone, COUNT with UNTIL).
 */
export function parseRule(text: string): Rule {
  const raw = text.trim().replace(/^RRULE:/i, '');
  if (!raw) fail(text, 'empty rule');
  const seen = new Set<string>();
  const r: Partial<Rule> & { wkst: number; interval: number } = { wkst: 0, interval: 1 };
  for (const part of raw.split(';')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) fail(text, `"${part}" is not KEY=VALUE`);
    const key = part.slice(0, eq).toUpperCase();
    const value = part.slice(eq + 1).toUpperCase();
    if (seen.has(key)) fail(text, `${key} appears twice`);
    seen.add(key);
    if (value === '') fail(text, `${key} has no value`);
    switch (key) {
      case 'FREQ':
        if (!(FREQS as readonly string[]).includes(value)) fail(text, `unknown FREQ "${value}"`);
        r.freq = value as Freq;
        break;
      case 'INTERVAL':
        if (!/^\d+$/.test(value) || Number(value) < 1) fail(text, `INTERVAL must be a positive integer`);
        r.interval = Number(value);
        break;
      case 'COUNT':
        if (!/^\d+$/.test(value) || Number(value) < 1) fail(text, `COUNT must be a positive integer`);
        r.count = Number(value);
        break;
      case 'UNTIL':
        r.until = parseUntil(text, value);
        break;
      case 'BYSECOND':
        r.bysecond = intList(text, key, value, 0, 60, false);
        break;
      case 'BYMINUTE':
        r.byminute = intList(text, key, value, 0, 59, false);
        break;
      case 'BYHOUR':
        r.byhour = intList(text, key, value, 0, 23, false);
        break;
      case 'BYMONTHDAY':
        r.bymonthday = intList(text, key, value, 1, 31, true);
        break;
      case 'BYYEARDAY':
        r.byyearday = intList(text, key, value, 1, 366, true);
        break;
      case 'BYWEEKNO':
        r.byweekno = intList(text, key, value, 1, 53, true);
        break;
      case 'BYMONTH': {
        // RFC 7529: a leap month is written with an L suffix (`5L`); kept apart.
        const leap = value.split(',').filter((v) => /^\d{1,2}L$/.test(v));
        const plain = value.split(',').filter((v) => !/^\d{1,2}L$/.test(v));
        if (leap.length)
          r.byleapmonth = intList(text, key, leap.map((v) => v.slice(0, -1)).join(','), 1, 13, false);
        if (plain.length) r.bymonth = intList(text, key, plain.join(','), 1, 13, false);
        break;
      }
      case 'RSCALE':
        if (!/^[A-Z][A-Z0-9-]*$/.test(value)) fail(text, `bad RSCALE "${value}"`);
        r.rscale = value;
        break;
      case 'SKIP':
        if (value !== 'OMIT' && value !== 'BACKWARD' && value !== 'FORWARD')
          fail(text, `unknown SKIP "${value}"`);
        r.skip = value;
        break;
      case 'BYSETPOS':
        r.bysetpos = intList(text, key, value, 1, 366, true);
        break;
      case 'WKST': {
        const wd = (DAY_CODES as readonly string[]).indexOf(value);
        if (wd < 0) fail(text, `unknown WKST "${value}"`);
        r.wkst = wd;
        break;
      }
      case 'BYDAY': {
        const list: ByDay[] = [];
        for (const item of value.split(',')) {
          const m = /^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$/.exec(item);
          if (!m) fail(text, `bad BYDAY value "${item}"`);
          const n = m[1] === undefined ? 0 : Number(m[1]);
          if (m[1] !== undefined && (n === 0 || Math.abs(n) > 53))
            fail(text, `BYDAY ordinal ${m[1]} out of range`);
          const wd = (DAY_CODES as readonly string[]).indexOf(m[2]);
          if (!list.some((x) => x.n === n && x.wd === wd)) list.push({ n, wd });
        }
        r.byday = list;
        break;
      }
      default:
        if (!key.startsWith('X-')) fail(text, `unknown rule part ${key}`);
    }
  }
  if (!r.freq) fail(text, 'FREQ is required');
  if (r.skip && !r.rscale) fail(text, 'SKIP needs RSCALE (RFC 7529)');
  if (r.byleapmonth && !r.rscale) fail(text, 'leap months (BYMONTH=nL) need RSCALE (RFC 7529)');
  // Month 13 exists only in calendars with 13 months (RFC 7529); Gregorian has 12.
  if (r.bymonth?.includes(13) && (!r.rscale || r.rscale === 'GREGORIAN'))
    fail(text, 'BYMONTH value 13 is out of range');
  if (r.count !== undefined && r.until !== undefined) fail(text, 'COUNT and UNTIL must not both be present');
  const f = r.freq;
  if (r.byweekno && f !== 'YEARLY') fail(text, 'BYWEEKNO is only valid with FREQ=YEARLY');
  if (r.byyearday && (f === 'DAILY' || f === 'WEEKLY' || f === 'MONTHLY')) {
    fail(text, `BYYEARDAY is not valid with FREQ=${f}`);
  }
  if (r.bymonthday && f === 'WEEKLY') fail(text, 'BYMONTHDAY is not valid with FREQ=WEEKLY');
  if (r.byday?.some((d) => d.n !== 0)) {
    if (f !== 'MONTHLY' && f !== 'YEARLY') fail(text, `BYDAY ordinals are only valid with MONTHLY or YEARLY`);
    if (f === 'YEARLY' && r.byweekno) fail(text, 'BYDAY ordinals are not valid with BYWEEKNO');
  }
  const anyBy =
    r.bysecond ||
    r.byminute ||
    r.byhour ||
    r.byday ||
    r.bymonthday ||
    r.byyearday ||
    r.byweekno ||
    r.bymonth ||
    r.byleapmonth;
  if (r.bysetpos && !anyBy) fail(text, 'BYSETPOS needs another BYxxx rule part');
  return r as Rule;
}

function two(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

/** Writes a rule back as a RECUR value (no `RRULE:` prefix), parts in a fixed order. */
export function formatRule(r: Rule): string {
  const parts = r.rscale ? [`RSCALE=${r.rscale}`, `FREQ=${r.freq}`] : [`FREQ=${r.freq}`];
  if (r.skip) parts.push(`SKIP=${r.skip}`);
  if (r.interval !== 1) parts.push(`INTERVAL=${r.interval}`);
  if (r.bymonth || r.byleapmonth) {
    const months = [...(r.bymonth ?? []).map((m) => [m, '']), ...(r.byleapmonth ?? []).map((m) => [m, 'L'])];
    months.sort((a, b) => Number(a[0]) - Number(b[0]));
    parts.push(`BYMONTH=${months.map(([m, l]) => `${m}${l}`).join(',')}`);
  }
  if (r.byweekno) parts.push(`BYWEEKNO=${r.byweekno.join(',')}`);
  if (r.byyearday) parts.push(`BYYEARDAY=${r.byyearday.join(',')}`);
  if (r.bymonthday) parts.push(`BYMONTHDAY=${r.bymonthday.join(',')}`);
  if (r.byday)
    parts.push(`BYDAY=${r.byday.map((d) => (d.n ? String(d.n) : '') + DAY_CODES[d.wd]).join(',')}`);
  if (r.byhour) parts.push(`BYHOUR=${r.byhour.join(',')}`);
  if (r.byminute) parts.push(`BYMINUTE=${r.byminute.join(',')}`);
  if (r.bysecond) parts.push(`BYSECOND=${r.bysecond.join(',')}`);
  if (r.bysetpos) parts.push(`BYSETPOS=${r.bysetpos.join(',')}`);
  if (r.wkst !== 0) parts.push(`WKST=${DAY_CODES[r.wkst]}`);
  if (r.count !== undefined) parts.push(`COUNT=${r.count}`);
  if (r.until) {
    const u = r.until;
    const days = u.kind === 'date' ? u.days : Math.floor(u.t / DAY);
    const [y, m, d] = civilFromDays(days);
    let s = `${String(y).padStart(4, '0')}${two(m)}${two(d)}`;
    if (u.kind !== 'date') {
      const tod = u.t - days * DAY;
      s += `T${two(Math.floor(tod / 3600))}${two(Math.floor((tod % 3600) / 60))}${two(tod % 60)}`;
      if (u.kind === 'utc') s += 'Z';
    }
    parts.push(`UNTIL=${s}`);
  }
  return parts.join(';');
}
