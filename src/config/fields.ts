// Reusable field schemas for the configuration. Every schema's error message is phrased as what was
// EXPECTED ("an integer >= 0"), because the loader prints "expected <message>, found <what>".
import { z } from 'zod';

/**
 * An integer. Env interpolation always yields a string, so `port: ${PORT:-8080}` arrives as "8080":
 * a string of digits is accepted and converted. (A quoted "8080" in the file is accepted the same way.)
 */
export function intField(min: number, max?: number) {
  const range = max === undefined ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
  let out = z.int({ error: range }).min(min, { error: range });
  if (max !== undefined) out = out.max(max, { error: range });
  return z
    .union(
      [
        z
          .int()
          .min(min)
          .max(max ?? Number.MAX_SAFE_INTEGER),
        z
          .string()
          .regex(/^[+-]?\d+$/)
          .transform((s) => Number(s)),
      ],
      { error: range },
    )
    .pipe(out);
}

/** true/false; the strings "true"/"false" (from env interpolation) are accepted too. */
export function boolField() {
  return z.union([z.boolean(), z.enum(['true', 'false']).transform((s) => s === 'true')], {
    error: 'true or false',
  });
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_RE = /^(?:\d+(?:ms|s|m|h|d))+$/;

/** Parses `5m`, `30s`, `1h30m`, `250ms`, `1d` to milliseconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION_RE.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(/(\d+)(ms|s|m|h|d)/g)) total += Number(m[1]) * UNIT_MS[m[2]];
  return total;
}

/** A duration such as `5m`; the parsed value is milliseconds. */
export function durationField(minMs: number, minText: string) {
  const msg = `a duration such as 30s, 5m or 1h (at least ${minText})`;
  return z
    .string({ error: msg })
    .regex(DURATION_RE, { error: msg })
    .transform((s) => parseDuration(s)!)
    .refine((ms) => ms >= minMs, { error: msg });
}

const CRON_LIMITS: Array<[number, number, string[]?]> = [
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12, ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC']],
  [0, 7, ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT']],
];

function cronValue(token: string, min: number, max: number, names?: string[]): number | undefined {
  const named = names?.indexOf(token.toUpperCase()) ?? -1;
  if (named >= 0) return named + (min === 1 ? 1 : 0);
  if (!/^\d+$/.test(token)) return undefined;
  const n = Number(token);
  return n >= min && n <= max ? n : undefined;
}

function validCronField(field: string, [min, max, names]: [number, number, string[]?]): boolean {
  return field.split(',').every((item) => {
    const [range, step, extra] = item.split('/');
    if (extra !== undefined || (step !== undefined && !/^[1-9]\d*$/.test(step))) return false;
    if (range === '*') return true;
    const [a, b, more] = range.split('-');
    if (more !== undefined) return false;
    const lo = cronValue(a, min, max, names);
    if (lo === undefined) return false;
    if (b === undefined) return true;
    const hi = cronValue(b, min, max, names);
    return hi !== undefined && hi >= lo;
  });
}

/** Basic check of a 5-field cron expression (minute hour day-of-month month day-of-week). */
export function isValidCron(expr: string): boolean {
  const fields = expr.trim().split(/\s+/);
  return fields.length === 5 && fields.every((f, i) => validCronField(f, CRON_LIMITS[i]));
}

export function cronField() {
  const msg =
    'a cron expression with 5 fields (minute hour day-of-month month day-of-week), e.g. "0 3 * * *"';
  return z
    .string({ error: msg })
    .regex(/^\s*\S+(\s+\S+){4}\s*$/, { error: msg })
    .refine(isValidCron, { error: msg });
}

/** 32 random bytes, base64 (standard or url-safe alphabet). */
export function secretKeyField() {
  const msg = '32 bytes encoded as base64 (e.g. the output of `openssl rand -base64 32`)';
  return z
    .string({ error: msg })
    .regex(/^[A-Za-z0-9+/_-]{42,43}={0,2}$/, { error: msg })
    .refine((s) => Buffer.from(s, 'base64').length === 32, { error: msg });
}

export function urlField(what = 'an http(s) URL') {
  return z.url({ protocol: /^https?$/, error: what });
}

export function emailField(what = 'an e-mail address') {
  return z.email({ error: what });
}

export function domainField() {
  const msg = 'a domain name such as example.com';
  return z
    .string({ error: msg })
    .regex(/^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/, { error: msg });
}

export function nonEmpty(what: string) {
  return z.string({ error: what }).min(1, { error: what });
}

export function enumField<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `one of: ${values.join(', ')}` });
}
