/**
 * Local wall-clock time <-> instants in an IANA zone, and Graph's zone names (Windows or IANA).
 * Shared by the mapper and the emulator. Zone-name mapping comes from the conversion library.
 */
import { getZone } from '../../src/core/recurrence/local-time.ts';
import { toIanaZone, toWindowsZone } from '../../src/core/zones.ts';

/** Wall-clock fields of an instant in a zone, as a UTC-based millisecond count. */
/** Wall-clock time (as if UTC, whole seconds) of an instant; the core's memoized zone offsets. */
function wallMs(ms: number, zone: string): number {
  return getZone(zone).toLocal(Math.floor(ms / 1000)) * 1000;
}

export const offsetMs = (ms: number, zone: string): number => wallMs(ms, zone) - Math.floor(ms / 1000) * 1000;

/** Parses `YYYY-MM-DD[THH:mm[:ss[.fffffff]]]` as if it were UTC (wall-clock milliseconds). */
export function parseLocal(local: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?$/.exec(local);
  if (!m) return Number.NaN;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0));
}

/** The instant of a local time in an IANA zone; a time inside a DST gap moves forward. */
export function localToUtc(local: string, zone: string): number {
  const wall = parseLocal(local);
  if (Number.isNaN(wall)) return wall;
  let guess = wall - offsetMs(wall, zone);
  guess = wall - offsetMs(guess, zone);
  return guess;
}

/** `YYYY-MM-DDTHH:mm:ss` of an instant in a zone. */
export function utcToLocal(ms: number, zone: string): string {
  return new Date(wallMs(ms, zone)).toISOString().slice(0, 19);
}

/** Graph's `dateTime` form: seven fractional digits. */
export const graphDateTime = (local: string): string => `${local.slice(0, 19)}.0000000`;

export function isIana(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return zone.includes('/') || zone === 'UTC' || zone === 'Etc/UTC';
  } catch {
    return false;
  }
}

/** Outlook's legacy custom zone (`originalStartTimeZone`): its rules are not exposed by Graph. */
export const CUSTOM_ZONE = 'tzone://Microsoft/Custom';

/**
 * The IANA zone for a Graph `timeZone` value (a Windows name or an IANA name), else undefined.
 * `UTC` and `tzone://Microsoft/Utc` are UTC. `tzone://Microsoft/Custom` (a legacy custom zone set in
 * desktop Outlook) has no IANA equivalent: undefined, and readers fall back to the zone the event's
 * `start`/`end` came in (UTC unless `Prefer: outlook.timezone` asked otherwise), whose instants are
 * exact (the event reference: use the UTC start/end, treat original*TimeZone as a hint).
 */
export function ianaOf(name: string | undefined | null): string | undefined {
  if (!name || name === CUSTOM_ZONE) return undefined;
  if (name === 'UTC' || name === 'tzone://Microsoft/Utc' || name === 'Etc/UTC' || name === 'GMT')
    return 'UTC';
  const fromWindows = toIanaZone(name);
  if (fromWindows) return fromWindows;
  return isIana(name) ? name : undefined;
}

/** The Windows name for an IANA zone, for writing to Graph; falls back to the IANA name. */
export const windowsOf = (iana: string): string => (iana === 'UTC' ? 'UTC' : (toWindowsZone(iana) ?? iana));

/** Unix seconds to `YYYY-MM-DDTHH:mm:ssZ`. */
export const isoUtc = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
