import { createHash } from 'node:crypto';
import type { Attendee, CanonicalEvent, EventTime } from './event.ts';
import { localDateTime } from './time.ts';

/** The optional fields a pair may sync (config `sync.fields`). Time, recurrence, status and free/busy always count. */
export const SYNC_FIELDS = [
  'summary',
  'description',
  'location',
  'attendees',
  'reminders',
  'visibility',
  'conference',
] as const;
export type SyncField = (typeof SYNC_FIELDS)[number];

/**
 * sha-256 (hex) of the normalized event, restricted to the synced fields.
 *
 * Normalization rules, so that what a provider reformats does not count as a change:
 * - the key and `origin`, `updatedAt`, `organizer` are not part of it (identity and bookkeeping);
 * - text: CRLF and CR become LF, trailing spaces of each line and leading/trailing blank space of the
 *   whole are dropped; in one-line fields (summary, location) any run of white space becomes one space;
 * - times: all-day as its date; timed as Unix seconds plus zone;
 * - recurrence lines: upper-cased, trimmed, sorted; in an RRULE the parts are sorted and the
 *   default INTERVAL=1 and WKST=MO dropped, and the parts RFC 5545 takes from the start written out
 *   (YEARLY: BYMONTH and BYMONTHDAY, MONTHLY: BYMONTHDAY, WEEKLY: BYDAY): the same rule, however written;
 * - attendees: identified by lower-cased e-mail (else id, else name), sorted, RSVP and optional kept;
 *   a room is a room, everyone else a person (whether a provider calls an address external or not);
 *   a room's RSVP is left out: each system's room answers for itself (a spoke's room may decline what
 *   Feishu's accepted), so it is no edit of the event; room bookings are tracked apart (RoomBooking);
 * - reminders: sorted, duplicates dropped;
 * - a cancelled event is only its status (its other fields are not shown anywhere);
 * - object keys are sorted before hashing, so key order never matters.
 */
export function fingerprint(ev: CanonicalEvent, fields: readonly SyncField[] = SYNC_FIELDS): string {
  return createHash('sha256').update(canonicalText(ev, fields)).digest('hex');
}

/**
 * `stableJson(normalized(ev, fields))`, written out directly: the members in sorted key order, each
 * attendee serialized once (not once per comparison of the sort). Same text, so the same hashes as
 * links already hold.
 */
function canonicalText(ev: CanonicalEvent, fields: readonly SyncField[]): string {
  if (ev.status === 'cancelled') return '{"status":"cancelled"}';
  const has = (f: SyncField) => fields.includes(f);
  const parts: string[] = [];
  if (has('attendees')) parts.push(`"attendees":[${ev.attendees.map(attendeeText).sort().join(',')}]`);
  if (has('conference')) member(parts, 'conference', (ev.conferenceUrl ?? '').trim());
  if (has('description')) member(parts, 'description', text(ev.description));
  parts.push(`"end":${timeText(ev.end)}`);
  member(parts, 'freeBusy', ev.freeBusy);
  if (has('location')) member(parts, 'location', line(ev.location));
  member(parts, 'recurrence', recurrenceLines(ev));
  if (has('reminders')) member(parts, 'reminders', reminderList(ev.reminders));
  parts.push(`"start":${timeText(ev.start)}`);
  member(parts, 'status', ev.status);
  if (has('summary')) member(parts, 'summary', line(ev.summary));
  if (has('visibility')) member(parts, 'visibility', ev.visibility);
  return `{${parts.join(',')}}`;
}

/** `"key":value` as stableJson writes a member: left out when undefined. Values here are flat JSON. */
function member(parts: string[], key: string, value: unknown) {
  if (value !== undefined) parts.push(`"${key}":${JSON.stringify(value)}`);
}

function timeText(t: EventTime): string {
  const parts: string[] = [];
  if ('date' in t) member(parts, 'date', t.date);
  else {
    member(parts, 'ts', t.timestamp);
    member(parts, 'tz', t.timeZone);
  }
  return `{${parts.join(',')}}`;
}

/** stableJson of {@link attendee}: keys in sorted order. */
function attendeeText(a: Attendee): string {
  const n = attendee(a);
  const parts: string[] = [];
  member(parts, 'id', n.id);
  member(parts, 'kind', n.kind);
  member(parts, 'optional', n.optional);
  member(parts, 'rsvp', n.rsvp);
  return `{${parts.join(',')}}`;
}

const recurrenceLines = (ev: CanonicalEvent) =>
  ev.recurrence.length === 0
    ? []
    : [...new Set(ev.recurrence.map((l) => recurrenceLine(l, ev.start)).filter(Boolean))].sort();

const reminderList = (r: number[]) => [...new Set(r)].sort((a, b) => a - b);

export function normalized(
  ev: CanonicalEvent,
  fields: readonly SyncField[] = SYNC_FIELDS,
): Record<string, unknown> {
  // a cancelled occurrence has no content: that it is cancelled is all there is to compare
  if (ev.status === 'cancelled') return { status: 'cancelled' };
  const has = (f: SyncField) => fields.includes(f);
  const out: Record<string, unknown> = {
    start: time(ev.start),
    end: time(ev.end),
    recurrence: recurrenceLines(ev),
    status: ev.status,
    freeBusy: ev.freeBusy,
  };
  if (has('summary')) out.summary = line(ev.summary);
  if (has('description')) out.description = text(ev.description);
  if (has('location')) out.location = line(ev.location);
  if (has('attendees')) out.attendees = ev.attendees.map(attendee).sort(compareJson);
  if (has('reminders')) out.reminders = reminderList(ev.reminders);
  if (has('visibility')) out.visibility = ev.visibility;
  if (has('conference')) out.conference = (ev.conferenceUrl ?? '').trim();
  return out;
}

const time = (t: EventTime) => ('date' in t ? { date: t.date } : { ts: t.timestamp, tz: t.timeZone });

/** Multi-line text: CR and CRLF as LF, each line's trailing blank space and the whole's outer one dropped. */
const text = (s: string | undefined): string => {
  const v = s ?? '';
  // most text is already in that form: only look closer when it can change
  if (!/\r|\s\n|^\s|\s$/.test(v)) return v;
  return v
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .join('\n')
    .trim();
};

/** One-line text: every run of blank space one space, none at either end. */
const line = (s: string | undefined): string => {
  const v = s ?? '';
  return /[^\S ]|\s\s|^\s|\s$/.test(v) ? v.replace(/\s+/g, ' ').trim() : v;
};

function attendee(a: Attendee): { kind: 'room' | 'person'; id: string; rsvp?: string; optional: boolean } {
  const id = a.email ? a.email.trim().toLowerCase() : (a.id ?? line(a.name));
  if (a.kind === 'room') return { kind: 'room', id, optional: a.optional === true };
  return { kind: 'person', id, rsvp: a.rsvp, optional: a.optional === true };
}

const WEEKDAYS = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];

function recurrenceLine(raw: string, start: EventTime): string {
  const l = raw.trim().toUpperCase();
  if (!l.startsWith('RRULE:')) return l;
  const parts = l
    .slice(6)
    .split(';')
    .filter((p) => p && p !== 'INTERVAL=1' && p !== 'WKST=MO');
  const has = (name: string) => parts.some((p) => p.startsWith(`${name}=`));
  const date = 'date' in start ? start.date : localDateTime(start.timestamp, start.timeZone).slice(0, 10);
  const [month, day] = [Number(date.slice(5, 7)), Number(date.slice(8, 10))];
  const freq = parts.find((p) => p.startsWith('FREQ='))?.slice(5);
  const byDayOrDate = has('BYDAY') || has('BYMONTHDAY') || has('BYYEARDAY') || has('BYWEEKNO');
  if (freq === 'YEARLY' && !byDayOrDate && !has('BYMONTH'))
    parts.push(`BYMONTH=${month}`, `BYMONTHDAY=${day}`);
  if (freq === 'MONTHLY' && !byDayOrDate) parts.push(`BYMONTHDAY=${day}`);
  if (freq === 'WEEKLY' && !has('BYDAY'))
    parts.push(`BYDAY=${WEEKDAYS[new Date(`${date}T00:00:00Z`).getUTCDay()]}`);
  parts.sort();
  return `RRULE:${parts.join(';')}`;
}

const compareJson = (a: unknown, b: unknown) => {
  const x = stableJson(a);
  const y = stableJson(b);
  return x < y ? -1 : x > y ? 1 : 0;
};

/** JSON with object keys sorted at every depth; `undefined` members are left out. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
