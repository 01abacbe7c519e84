/**
 * Feishu CalendarEvent <-> CanonicalEvent.
 *
 * - Key: `event_id` is `{uid}_{original_time}` (0 for singles and series masters; the original start in
 *   Unix seconds for an exception, whose `recurring_event_id` is the master's `{uid}_0`).
 * - Times: timed events carry `timestamp` (Unix seconds as a string) + `timezone`; all-day events carry
 *   `date` only (timezone UTC). The reference does not say whether Feishu's all-day end date is inclusive;
 *   we read it as inclusive (a one-day event has end date = start date), the reading under which a
 *   Feishu-side one-day event never collapses to zero days, and convert to the canonical exclusive end.
 * - Recurrence: a bare RRULE (`FREQ=...`) <-> canonical `RRULE:...`; Feishu has no EXDATE/RDATE
 *   (cancelled occurrences are exceptions with status cancelled), so those lines are dropped on write.
 */
import {
  type Attendee,
  blankEvent,
  type CanonicalEvent,
  type EventTime,
  parseKey,
  type Rsvp,
} from '../../src/core/index.ts';

type FeishuTime = { date?: string; timestamp?: string; timezone?: string };

export interface FeishuAttendee {
  type?: 'user' | 'chat' | 'resource' | 'third_party';
  attendee_id?: string;
  rsvp_status?: string;
  is_optional?: boolean;
  is_organizer?: boolean;
  display_name?: string;
  user_id?: string;
  chat_id?: string;
  room_id?: string;
  third_party_email?: string;
}

export interface FeishuEvent {
  event_id: string;
  summary?: string;
  description?: string;
  start_time: FeishuTime;
  end_time: FeishuTime;
  location?: { name?: string; address?: string; latitude?: number; longitude?: number };
  recurrence?: string;
  is_exception?: boolean;
  recurring_event_id?: string;
  status?: string;
  visibility?: string;
  free_busy_status?: string;
  event_organizer?: { user_id?: string; display_name?: string };
  attendees?: FeishuAttendee[];
  reminders?: { minutes?: number }[];
  vchat?: { vc_type?: string; meeting_url?: string; description?: string };
  create_time?: string;
  [more: string]: unknown;
}

export interface MapOptions {
  /** E-mail of a Feishu user by open_id, when known (directory lookup). */
  emailOf?: (openId: string) => string | undefined;
}

const DAY = 86400_000;
export const shiftDate = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10);

function timeIn(t: FeishuTime, end: boolean): EventTime {
  if (t.date) return { date: end ? shiftDate(t.date, 1) : t.date };
  return { timestamp: Number(t.timestamp), timeZone: t.timezone || 'Asia/Shanghai' };
}

function timeOut(t: EventTime, end: boolean): FeishuTime {
  if ('date' in t) return { date: end ? shiftDate(t.date, -1) : t.date, timezone: 'UTC' };
  return { timestamp: String(t.timestamp), timezone: t.timeZone };
}

const RSVP_IN: Record<string, Rsvp> = {
  accept: 'accepted',
  decline: 'declined',
  tentative: 'tentative',
  needs_action: 'needs-action',
};
const RSVP_OUT: Record<Rsvp, string> = {
  accepted: 'accept',
  declined: 'decline',
  tentative: 'tentative',
  'needs-action': 'needs_action',
};

export function toCanonical(ev: FeishuEvent, options: MapOptions = {}): CanonicalEvent {
  const out = blankEvent(
    parseKey(ev.event_id),
    timeIn(ev.start_time, false),
    timeIn(ev.end_time, true),
    'feishu',
  );
  out.summary = ev.summary ?? '';
  out.description = ev.description ?? '';
  const { name = '', address = '' } = ev.location ?? {};
  out.location = name && address && !address.includes(name) ? `${name}, ${address}` : address || name;
  if (ev.recurrence && !ev.is_exception) out.recurrence = [`RRULE:${ev.recurrence.replace(/^RRULE:/i, '')}`];
  if (ev.status === 'tentative' || ev.status === 'cancelled') out.status = ev.status;
  if (ev.visibility === 'public' || ev.visibility === 'private') out.visibility = ev.visibility;
  if (ev.free_busy_status === 'free') out.freeBusy = 'free';
  if (ev.event_organizer?.user_id || ev.event_organizer?.display_name) {
    const id = ev.event_organizer.user_id;
    out.organizer = {
      ...(id ? { id } : {}),
      ...(ev.event_organizer.display_name ? { name: ev.event_organizer.display_name } : {}),
      ...(id && options.emailOf?.(id) ? { email: options.emailOf(id) } : {}),
    };
  }
  out.attendees = toAttendees(ev.attendees ?? [], options);
  out.reminders = (ev.reminders ?? []).map((r) => r.minutes ?? 0);
  if (ev.vchat?.meeting_url && ev.vchat.vc_type !== 'no_meeting') out.conferenceUrl = ev.vchat.meeting_url;
  if (ev.create_time) out.updatedAt = Number(ev.create_time);
  return out;
}

/** Feishu attendees as canonical ones (removed attendees left out). */
export function toAttendees(list: FeishuAttendee[], options: MapOptions = {}): Attendee[] {
  const out: Attendee[] = [];
  for (const a of list) {
    if (a.rsvp_status === 'removed') continue;
    const rsvp = RSVP_IN[a.rsvp_status ?? 'needs_action'] ?? 'needs-action';
    const base = {
      rsvp,
      ...(a.is_optional ? { optional: true } : {}),
      ...(a.display_name ? { name: a.display_name } : {}),
    };
    if (a.type === 'resource') out.push({ kind: 'room', id: a.room_id, ...base });
    else if (a.type === 'third_party') out.push({ kind: 'external', email: a.third_party_email, ...base });
    else if (a.type === 'chat') out.push({ kind: 'person', id: a.chat_id, ...base });
    else {
      const email = a.user_id ? options.emailOf?.(a.user_id) : undefined;
      out.push({ kind: 'person', id: a.user_id, ...(email ? { email } : {}), ...base });
    }
  }
  return out;
}

/** The writable fields for create/patch, and the attendees to add (Feishu takes them by a separate call). */
export function fromCanonical(ev: CanonicalEvent): {
  event: Record<string, unknown>;
  attendees: FeishuAttendee[];
  notes: string[];
} {
  const notes: string[] = [];
  const rrule = ev.recurrence.find((l) => /^RRULE:/i.test(l));
  const dropped = ev.recurrence.filter((l) => !/^RRULE:/i.test(l));
  if (dropped.length)
    notes.push(`Feishu has no ${dropped.map((l) => l.split(/[:;]/)[0]).join('/')}; left out`);
  const event: Record<string, unknown> = {
    summary: ev.summary,
    description: ev.description,
    start_time: timeOut(ev.start, false),
    end_time: timeOut(ev.end, true),
    location: { name: ev.location },
    visibility: ev.visibility,
    free_busy_status: ev.freeBusy,
    reminders: ev.reminders.map((minutes) => ({ minutes })),
    vchat: ev.conferenceUrl
      ? { vc_type: 'third_party', meeting_url: ev.conferenceUrl }
      : { vc_type: 'no_meeting' },
  };
  if (ev.key.originalTime === 0) event.recurrence = rrule ? rrule.slice('RRULE:'.length) : '';
  const attendees: FeishuAttendee[] = [];
  for (const a of ev.attendees) {
    const optional = a.optional ? { is_optional: true } : {};
    if (a.kind === 'room' && a.id) attendees.push({ type: 'resource', room_id: a.id, ...optional });
    else if (a.kind === 'person' && a.id?.startsWith('oc_'))
      attendees.push({ type: 'chat', chat_id: a.id, ...optional });
    else if (a.kind === 'person' && a.id?.startsWith('ou_'))
      attendees.push({ type: 'user', user_id: a.id, ...optional });
    else if (a.email) attendees.push({ type: 'third_party', third_party_email: a.email, ...optional });
    else notes.push(`attendee ${a.name ?? a.id ?? '?'} has no Feishu id or e-mail; left out`);
  }
  return { event, attendees, notes };
}

export { RSVP_OUT };
