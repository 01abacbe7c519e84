/**
 * Zone arithmetic on Intl only (no zone database of our own): local wall times in an IANA zone,
 * RFC 3339 with the zone's offset, and the basic UTC forms Google uses in instance ids.
 */

import { getZone } from '../../src/core/recurrence/local-time.ts';

export function isZone(timeZone: unknown): timeZone is string {
  if (typeof timeZone !== 'string' || timeZone === '') return false;
  try {
    getZone(timeZone);
    return true;
  } catch {
    return false;
  }
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Wall time `YYYY-MM-DDTHH:mm:ss` of an instant (ms) in a zone. */
export function toLocal(ms: number, timeZone: string): string {
  // the core's zone offsets, memoized per zone, instead of formatting every instant with Intl
  const wall = getZone(timeZone).toLocal(Math.floor(ms / 1000));
  return new Date(wall * 1000).toISOString().slice(0, 19);
}

const localAsUtc = (local: string) => {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(local);
  if (!m) throw new Error(`not a local date-time: ${local}`);
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0));
};

/** Offset of the zone at an instant, in minutes east of UTC. */
export function offsetMinutes(ms: number, timeZone: string): number {
  const wall = localAsUtc(toLocal(Math.floor(ms / 1000) * 1000, timeZone));
  return Math.round((wall - Math.floor(ms / 1000) * 1000) / 60_000);
}

/**
 * The instant of a wall time in a zone (a gap resolves forward, an overlap to the earlier instant):
 * the core's zone arithmetic, which reads the offset at the instant itself, not at the wall time
 * taken as UTC (up to 14 hours away, across a change of offset).
 */
export function fromLocal(local: string, timeZone: string): number {
  return getZone(timeZone).toUtc(localAsUtc(local) / 1000) * 1000;
}

/** RFC 3339 with the zone's offset at that instant (`Z` for UTC). */
export function rfc3339(ms: number, timeZone = 'UTC'): string {
  const off = offsetMinutes(ms, timeZone);
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  return `${toLocal(ms, timeZone)}${off === 0 ? 'Z' : `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`}`;
}

/** Parses RFC 3339 that carries an offset or `Z`; undefined otherwise. */
export function parseInstant(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** `YYYYMMDDTHHMMSSZ` of an instant. */
export function basicUtc(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** `YYYYMMDD` of a `YYYY-MM-DD` date. */
export const basicDate = (date: string) => date.replace(/-/g, '');

export const isDate = (s: unknown): s is string =>
  typeof s === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(s));

/** Adds days to a `YYYY-MM-DD` date. */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** Days from a to b (`YYYY-MM-DD`). */
export const daysBetween = (a: string, b: string) =>
  Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
