/**
 * Canonical event <-> Graph event. Zones through the conversion library (Windows names written),
 * recurrence through toGraphRecurrence/fromGraphRecurrence; an RRULE Graph cannot express becomes
 * the superset pattern plus the occurrences to cancel, or a single event, with a note.
 */
import { createHash } from 'node:crypto';
import {
  type Attendee,
  type CanonicalEvent,
  type EventTime,
  type InstanceKey,
  isAllDay,
  parseKey,
  type Rsvp,
} from '../../src/core/index.ts';
import { expandRecurrence, fromGraphRecurrence, toGraphRecurrence } from '../../src/core/recurrence/index.ts';
import type { OriginTag } from '../../src/ports/connector.ts';
import { ianaOf, localToUtc, utcToLocal, windowsOf } from './time.ts';

/** The one extended property Feisync writes: `${pair}|${key}`. */
export const ORIGIN_PROPERTY = 'String {6f3b6e51-9a0c-4c1e-8a57-3d2f0b7c9e11} Name feisyncOrigin';
const BLOCK = '-- Feisync --';

/** A GUID-shaped hash of the tag, the create's `transactionId`: the same op always sends the same one. */
export function transactionIdOf(tag: OriginTag): string {
  const h = createHash('sha256').update(`${tag.pair}|${tag.key}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export const tagValue = (tag: OriginTag) => `${tag.pair}|${tag.key}`;
export function parseTag(value: string | undefined): OriginTag | undefined {
  const at = value?.lastIndexOf('|') ?? -1;
  if (!value || at <= 0) return undefined;
  return { pair: value.slice(0, at), key: value.slice(at + 1) };
}

export interface ToGraphOptions {
  /** Send real attendees (invitations). Default false: people are written into the body as text. */
  notify?: boolean;
  /** Zone for all-day events, which carry only dates. Default UTC. */
  allDayTimeZone?: string;
  /** Expansion horizon for working out which superset occurrences to cancel (ms). */
  horizonMs?: number;
}

export interface GraphWrite {
  body: Record<string, any>;
  /** Original starts (local, in `zone`) of occurrences to delete after writing the master. */
  cancel: string[];
  zone: string;
  note?: string;
}

function time(t: EventTime, allDayZone: string) {
  if (isAllDay(t)) return { dateTime: `${t.date}T00:00:00`, timeZone: windowsOf(allDayZone) };
  return { dateTime: utcToLocal(t.timestamp * 1000, t.timeZone), timeZone: windowsOf(t.timeZone) };
}

function attendeeLine(a: Attendee) {
  const who = a.email ? `${a.name ?? ''} <${a.email}>`.trim() : (a.name ?? a.id ?? '');
  return `Attendee: ${who} (${a.kind}, ${a.rsvp}${a.optional ? ', optional' : ''})`;
}

export function toGraph(ev: CanonicalEvent, tag: OriginTag, o: ToGraphOptions = {}): GraphWrite {
  const allDayZone = o.allDayTimeZone ?? 'UTC';
  const zone = isAllDay(ev.start) ? allDayZone : ev.start.timeZone;
  const rooms = ev.attendees.filter((a) => a.kind === 'room' && a.email);
  const people = ev.attendees.filter((a) => !rooms.includes(a));
  const invite = o.notify ? people.filter((a) => a.email) : [];
  const asText = people.filter((a) => !invite.includes(a));
  const extra: string[] = [];
  if (asText.length > 0) extra.push(...asText.map(attendeeLine));
  if (ev.conferenceUrl) extra.push(`Join: ${ev.conferenceUrl}`);
  const content = extra.length > 0 ? `${ev.description}\n\n${BLOCK}\n${extra.join('\n')}` : ev.description;
  const body: Record<string, any> = {
    subject: ev.summary,
    body: { contentType: 'text', content },
    location: { displayName: ev.location },
    start: time(ev.start, allDayZone),
    end: time(ev.end, allDayZone),
    isAllDay: isAllDay(ev.start),
    showAs: ev.status === 'tentative' ? 'tentative' : ev.freeBusy === 'free' ? 'free' : 'busy',
    sensitivity: ev.visibility === 'private' ? 'private' : 'normal',
    isReminderOn: ev.reminders.length > 0,
    reminderMinutesBeforeStart: ev.reminders.length > 0 ? Math.min(...ev.reminders) : 0,
    attendees: [
      ...invite.map((a) => ({
        emailAddress: { address: a.email, name: a.name ?? a.email },
        type: a.optional ? 'optional' : 'required',
      })),
      ...rooms.map((a) => ({
        emailAddress: { address: a.email, name: a.name ?? a.email },
        type: 'resource',
      })),
    ],
    singleValueExtendedProperties: [{ id: ORIGIN_PROPERTY, value: tagValue(tag) }],
  };
  const out: GraphWrite = { body, cancel: [], zone };
  const rrule = ev.recurrence.find((l) => /^RRULE:/i.test(l))?.slice(6);
  if (!rrule) return out;
  const dtstart = isAllDay(ev.start) ? ev.start.date : utcToLocal(ev.start.timestamp * 1000, zone);
  const notes: string[] = [];
  const exdates = ev.recurrence
    .filter((l) => /^EXDATE/i.test(l))
    .flatMap((l) => exdateLocals(l, zone, dtstart));
  if (ev.recurrence.some((l) => /^(RDATE|EXRULE)/i.test(l)))
    notes.push('RDATE/EXRULE dropped (Graph has none)');
  const conv = toGraphRecurrence(rrule, dtstart, zone);
  if (!conv.recurrence) {
    notes.push(
      `recurrence not expressible in Graph (${conv.reason ?? 'unsupported'}): written as its first occurrence`,
    );
    out.note = notes.join('; ');
    return out;
  }
  body.recurrence = conv.recurrence;
  const until = o.horizonMs ? utcToLocal(o.horizonMs, zone) : undefined;
  const limit = (s: string) => (isAllDay(ev.start) && until ? until.slice(0, 10) : until) ?? s;
  if (!conv.exact) {
    const want = new Set(expandRecurrence(rrule, dtstart, zone, { until: limit(dtstart), count: 2000 }));
    const wide = expandRecurrence(fromGraphRecurrence(conv.recurrence), dtstart, zone, {
      until: limit(dtstart),
      count: 2000,
    });
    out.cancel.push(...wide.filter((s) => !want.has(s)));
    notes.push(
      `recurrence widened to a Graph pattern (${conv.reason ?? 'inexact'}); ${out.cancel.length} extra occurrences cancelled`,
    );
  }
  out.cancel.push(...exdates.filter((d) => !out.cancel.includes(d)));
  if (notes.length > 0) out.note = notes.join('; ');
  return out;
}

/** EXDATE values as local starts in `zone`, in the form of dtstart. */
function exdateLocals(line: string, zone: string, dtstart: string): string[] {
  const [head, values] = [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)];
  const tzid = /TZID=([^;:]+)/i.exec(head)?.[1];
  return values.split(',').map((v) => {
    const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z)?)?$/.exec(v.trim());
    if (!m) return v;
    const date = `${m[1]}-${m[2]}-${m[3]}`;
    if (!m[4]) return dtstart.length === 10 ? date : `${date}${dtstart.slice(10)}`;
    const local = `${date}T${m[4]}:${m[5]}:${m[6]}`;
    const ms = m[7] ? Date.parse(`${local}Z`) : localToUtc(local, tzid ?? zone);
    const out = utcToLocal(ms, zone);
    return dtstart.length === 10 ? out.slice(0, 10) : out;
  });
}

const RSVP_IN: Record<string, Rsvp> = {
  accepted: 'accepted',
  declined: 'declined',
  tentativelyAccepted: 'tentative',
};

function fromTime(t: any, allDay: boolean, zoneName: string | undefined): EventTime {
  const local = String(t?.dateTime ?? '').slice(0, 19);
  if (allDay) return { date: local.slice(0, 10) };
  const zone = ianaOf(t?.timeZone) ?? 'UTC';
  return { timestamp: Math.floor(localToUtc(local, zone) / 1000), timeZone: ianaOf(zoneName) ?? zone };
}

function splitBody(g: any): { description: string; attendees: Attendee[]; conferenceUrl?: string } {
  let text = String(g.body?.content ?? '');
  if (g.body?.contentType === 'html') text = text.replace(/<br\s*\/?>/gi, '\n').replace(/<[^>]*>/g, '');
  const at = text.lastIndexOf(`\n\n${BLOCK}\n`);
  if (at < 0) return { description: text, attendees: [] };
  const attendees: Attendee[] = [];
  let conferenceUrl: string | undefined;
  for (const line of text.slice(at + BLOCK.length + 3).split('\n')) {
    const join = /^Join: (.+)$/.exec(line);
    if (join) conferenceUrl = join[1].trim();
    const m = /^Attendee: (.*?)(?: <([^>]+)>)? \((person|room|external), ([a-z-]+)(, optional)?\)$/.exec(
      line,
    );
    if (!m) continue;
    attendees.push({
      kind: m[3] as Attendee['kind'],
      ...(m[2] ? { email: m[2] } : {}),
      ...(m[1] ? { name: m[1] } : {}),
      rsvp: m[4] as Rsvp,
      ...(m[5] ? { optional: true } : {}),
    });
  }
  return { description: text.slice(0, at), attendees, conferenceUrl };
}

/** A Graph event as canonical. `key` defaults to the tag's key, else the iCalUId. */
export function fromGraph(g: any, key?: InstanceKey): { event: CanonicalEvent; tag?: OriginTag } {
  const tag = parseTag(
    (g.singleValueExtendedProperties ?? []).find(
      (p: any) => p.id?.toLowerCase() === ORIGIN_PROPERTY.toLowerCase(),
    )?.value,
  );
  const allDay = g.isAllDay === true;
  const fromText = splitBody(g);
  const attendees: Attendee[] = [
    ...(g.attendees ?? []).map(
      (a: any): Attendee => ({
        kind: a.type === 'resource' ? 'room' : 'person',
        email: a.emailAddress?.address,
        ...(a.emailAddress?.name ? { name: a.emailAddress.name } : {}),
        rsvp: RSVP_IN[a.status?.response] ?? 'needs-action',
        ...(a.type === 'optional' ? { optional: true } : {}),
      }),
    ),
    ...fromText.attendees,
  ];
  const event: CanonicalEvent = {
    key: key ?? (tag ? safeKey(tag.key, g) : { uid: g.iCalUId ?? g.id, originalTime: 0 }),
    summary: g.subject ?? '',
    description: fromText.description,
    location: g.location?.displayName ?? '',
    start: fromTime(g.start, allDay, g.originalStartTimeZone),
    end: fromTime(g.end, allDay, g.originalEndTimeZone ?? g.originalStartTimeZone),
    recurrence:
      g.type === 'seriesMaster' && g.recurrence ? [`RRULE:${fromGraphRecurrence(g.recurrence)}`] : [],
    status: g.isCancelled ? 'cancelled' : g.showAs === 'tentative' ? 'tentative' : 'confirmed',
    visibility: ['private', 'personal', 'confidential'].includes(g.sensitivity) ? 'private' : 'default',
    freeBusy: g.showAs === 'free' ? 'free' : 'busy',
    attendees,
    reminders: g.isReminderOn ? [g.reminderMinutesBeforeStart ?? 0] : [],
    origin: tag ? 'feishu' : 'graph',
  };
  if (g.organizer?.emailAddress) {
    event.organizer = { email: g.organizer.emailAddress.address, name: g.organizer.emailAddress.name };
  }
  const conferenceUrl = g.onlineMeeting?.joinUrl ?? g.onlineMeetingUrl ?? fromText.conferenceUrl;
  if (conferenceUrl) event.conferenceUrl = conferenceUrl;
  if (g.lastModifiedDateTime) event.updatedAt = Math.floor(Date.parse(g.lastModifiedDateTime) / 1000);
  return { event, tag };
}

function safeKey(text: string, g: any): InstanceKey {
  try {
    return parseKey(text);
  } catch {
    return { uid: g.iCalUId ?? g.id, originalTime: 0 };
  }
}
