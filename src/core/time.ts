import { getZone } from './recurrence/local-time.ts';

/**
 * Unix seconds as local `YYYY-MM-DDTHH:mm:ss` in an IANA zone, from the zone's memoized offsets
 * (formatting every instant with Intl cost several microseconds a call).
 */
export function localDateTime(timestamp: number, timeZone: string): string {
  return new Date(getZone(timeZone).toLocal(Math.floor(timestamp)) * 1000).toISOString().slice(0, 19);
}
