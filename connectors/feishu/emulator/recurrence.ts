/**
 * Occurrence starts (Unix seconds) of a bare RRULE (Feishu form, no `RRULE:` prefix) in the series'
 * zone, for `instances`: the core RFC 5545 expander, so wall times hold across DST changes.
 */
import { localDateTime } from '../../../src/core/index.ts';
import { expandRecurrence } from '../../../src/core/recurrence/index.ts';
import { getZone } from '../../../src/core/recurrence/local-time.ts';

export function occurrences(
  rule: string,
  firstStart: number,
  timeZone: string,
  windowStart: number,
  windowEnd: number,
): number[] {
  const zone = getZone(timeZone);
  const until = new Date(windowEnd * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  let local: string[];
  try {
    local = expandRecurrence(rule, localDateTime(firstStart, timeZone), timeZone, { until });
  } catch {
    return [];
  }
  return local
    .map((l) => zone.toUtc(Date.parse(`${l}Z`) / 1000))
    .filter((t) => t >= windowStart && t < windowEnd);
}
