/**
 * What a Feishu event becomes on a spoke, for one pair's policy: the window, private events, and the
 * fields the pair syncs. Pure.
 */
import { type CanonicalEvent, type EventTime, fingerprint, localDateTime } from '../core/index.ts';
import { expandRecurrence } from '../core/recurrence/index.ts';
import type { SyncPolicy } from './pair.ts';

export type Projection = { event: CanonicalEvent; fingerprint: string } | { skip: string };

export function project(ev: CanonicalEvent, policy: SyncPolicy): Projection {
  const isException = ev.key.originalTime !== 0;
  if (ev.status === 'cancelled' && !isException) return { skip: 'cancelled in Feishu' };
  if (!inWindow(ev, policy.window)) return { skip: 'outside the sync window' };
  let out: CanonicalEvent = { ...ev };
  if (ev.visibility === 'private') {
    if (policy.privateEvents === 'skip') return { skip: 'private event (sync.private_events: skip)' };
    if (policy.privateEvents === 'busy-only') {
      out = {
        ...out,
        summary: 'Busy',
        description: '',
        location: '',
        attendees: [],
        conferenceUrl: undefined,
      };
    }
  }
  const has = (f: (typeof policy.fields)[number]) => policy.fields.includes(f);
  if (!has('summary')) out.summary = '';
  if (!has('description')) out.description = '';
  if (!has('location')) out.location = '';
  if (!has('attendees')) out.attendees = [];
  if (!has('reminders')) out.reminders = [];
  if (!has('visibility')) out.visibility = 'default';
  if (!has('conference')) out.conferenceUrl = undefined;
  const t = policy.target;
  if (t?.attendee) out.attendees = out.attendees.flatMap((a) => t.attendee!(a, ev) ?? []);
  if (t?.maxReminders !== undefined)
    out.reminders = [...new Set(out.reminders)].sort((a, b) => a - b).slice(0, t.maxReminders);
  if (t?.visibilities && !t.visibilities.includes(out.visibility)) out.visibility = 'default';
  if (t?.tentativeIsBusy && out.status === 'tentative') out.freeBusy = 'busy';
  if (t?.untilAsDate) out.recurrence = out.recurrence.map((l) => untilAsDate(l, out.start));
  return { event: out, fingerprint: fingerprint(out, policy.fields) };
}

const DAY = 86_400;

/** Start of a time in Unix seconds (all-day dates taken at 00:00 UTC, widened by a day for zones). */
const seconds = (t: EventTime, widen: number) =>
  'date' in t ? Date.parse(`${t.date}T00:00:00Z`) / 1000 + widen * DAY : t.timestamp;

export function inWindow(ev: CanonicalEvent, window: { from: number; to: number }): boolean {
  const start = ev.key.originalTime || seconds(ev.start, -1);
  if (start >= window.to) return false;
  if (ev.recurrence.length > 0 && ev.key.originalTime === 0) {
    const until = /UNTIL=(\d{8})/.exec(ev.recurrence.join(';'))?.[1];
    if (!until) return true;
    const end =
      Date.parse(`${until.slice(0, 4)}-${until.slice(4, 6)}-${until.slice(6, 8)}T00:00:00Z`) / 1000 + 2 * DAY;
    return end > window.from;
  }
  const end = ev.key.originalTime ? Math.max(ev.key.originalTime, seconds(ev.end, 1)) : seconds(ev.end, 1);
  return end > window.from;
}

/** `UNTIL=<date-time>` as the local date of the series' last occurrence (the same occurrences). */
function untilAsDate(line: string, start: EventTime): string {
  const m = /^RRULE:(.*\bUNTIL=(\d{8})T\d{6}Z?.*)$/i.exec(line);
  if (!m || 'date' in start) return line;
  try {
    const all = expandRecurrence(m[1], localDateTime(start.timestamp, start.timeZone), start.timeZone, {});
    const last = all.at(-1);
    return last ? line.replace(/UNTIL=[0-9TZ]+/i, `UNTIL=${last.slice(0, 10).replaceAll('-', '')}`) : line;
  } catch {
    return line;
  }
}
