/**
 * Canonical event <-> Google Calendar Event.
 *
 * - All-day: `{date}` both sides, end exclusive on both, so dates pass unchanged.
 * - Timed: `{dateTime: RFC 3339 with the zone's offset at that instant, timeZone: IANA}`.
 * - Recurrence: RFC 5545 lines (RRULE, EXDATE, RDATE) as they are; DTSTART lines are dropped.
 * - Exceptions are instances: `originalStartTime` <-> key.originalTime (all-day: UTC midnight).
 * - Free/busy <-> transparency; visibility as is (`confidential` reads as private).
 * - Rooms are `resource: true` attendees; RSVP needsAction/accepted/declined/tentative.
 * - Reminders: `useDefault: false` with popup overrides (at most 5 on Google; the rest are dropped).
 * - Conference link: Google cannot create a foreign meeting, so the URL is kept in the private
 *   extended property `feisyncConferenceUrl` (exact round trip) and shown to people as a footer
 *   line of the description, which is stripped again on read. Native Meet links (hangoutLink,
 *   conferenceData video entry point) are read as conferenceUrl.
 * - Origin tag: private extended properties `feisyncPair`, `feisyncKey` (+ `feisyncOrigin`).
 */
import type { calendar_v3 } from 'googleapis';
import {
  type Attendee,
  type CanonicalEvent,
  type EventTime,
  formatKey,
  type Provider,
  parseKey,
  type Rsvp,
} from '../../src/core/index.ts';
import { plainRule } from '../../src/core/recurrence/index.ts';
import type { OriginTag } from '../../src/ports/index.ts';
import { isZone, rfc3339 } from './time.ts';

export type GEvent = calendar_v3.Schema$Event;

export const PROP_PAIR = 'feisyncPair';
export const PROP_KEY = 'feisyncKey';
export const PROP_ORIGIN = 'feisyncOrigin';
export const PROP_CONFERENCE = 'feisyncConferenceUrl';
export const FOOTER = 'Join: ';

const RSVP_TO: Record<Rsvp, string> = {
  'needs-action': 'needsAction',
  accepted: 'accepted',
  declined: 'declined',
  tentative: 'tentative',
};
const RSVP_FROM: Record<string, Rsvp> = {
  needsAction: 'needs-action',
  accepted: 'accepted',
  declined: 'declined',
  tentative: 'tentative',
};

export function toGoogleTime(t: EventTime): calendar_v3.Schema$EventDateTime {
  if ('date' in t) return { date: t.date };
  return { dateTime: rfc3339(t.timestamp * 1000, t.timeZone), timeZone: t.timeZone };
}

/** The Google body for a canonical event (no id; the writer sets it). `instance` leaves out recurrence. */
export function toGoogle(ev: CanonicalEvent, tag?: OriginTag, opts: { instance?: boolean } = {}): GEvent {
  const priv: Record<string, string> = {};
  if (tag) {
    priv[PROP_PAIR] = tag.pair;
    priv[PROP_KEY] = tag.key;
  }
  priv[PROP_ORIGIN] = ev.origin;
  let description = ev.description;
  if (ev.conferenceUrl) {
    priv[PROP_CONFERENCE] = ev.conferenceUrl;
    description = `${description}${description ? '\n\n' : ''}${FOOTER}${ev.conferenceUrl}`;
  }
  const out: GEvent = {
    summary: ev.summary,
    description,
    location: ev.location,
    start: toGoogleTime(ev.start),
    end: toGoogleTime(ev.end),
    status: ev.status === 'tentative' ? 'tentative' : 'confirmed',
    visibility: ev.visibility,
    transparency: ev.freeBusy === 'free' ? 'transparent' : 'opaque',
    attendees: ev.attendees.filter((a) => a.email).map(toGoogleAttendee),
    reminders: {
      useDefault: false,
      overrides: [...new Set(ev.reminders)].slice(0, 5).map((minutes) => ({ method: 'popup', minutes })),
    },
    extendedProperties: { private: priv },
  };
  if (!opts.instance && ev.recurrence.length) {
    out.recurrence = ev.recurrence.map((l) => l.trim()).filter((l) => l && !/^(DTSTART|DTEND)/i.test(l));
  }
  return out;
}

function toGoogleAttendee(a: Attendee): calendar_v3.Schema$EventAttendee {
  const out: calendar_v3.Schema$EventAttendee = { email: a.email, responseStatus: RSVP_TO[a.rsvp] };
  if (a.name) out.displayName = a.name;
  if (a.kind === 'room') out.resource = true;
  if (a.optional) out.optional = true;
  return out;
}

function fromGoogleTime(t: calendar_v3.Schema$EventDateTime | undefined, zone: string): EventTime {
  if (t?.date) return { date: t.date };
  const ms = Date.parse(t?.dateTime ?? '');
  const tz = t?.timeZone && isZone(t.timeZone) ? t.timeZone : zone;
  return { timestamp: Math.floor(ms / 1000), timeZone: tz };
}

/** The origin tag stored on an event, if Feisync wrote it. */
export function tagOf(g: GEvent): OriginTag | undefined {
  const p = g.extendedProperties?.private;
  return p?.[PROP_PAIR] && p[PROP_KEY] ? { pair: p[PROP_PAIR], key: p[PROP_KEY] } : undefined;
}

/** originalStartTime as Unix seconds (all-day: midnight UTC of the date); 0 for non-instances. */
export function originalTimeOf(g: GEvent): number {
  const o = g.originalStartTime;
  if (!o) return 0;
  return Math.floor(Date.parse(o.date ? `${o.date}T00:00:00Z` : (o.dateTime ?? '')) / 1000);
}

/**
 * The canonical event of a Google event. The key is the origin tag's key when Feisync wrote the
 * event, else `{uid: iCalUID, originalTime}`.
 */
export function fromGoogle(
  g: GEvent,
  calendarZone = 'UTC',
): { event: CanonicalEvent; tag?: OriginTag; note?: string } {
  let tag = tagOf(g);
  // An instance edited on Google inherits its master's tag: it names the series, so the key of the
  // occurrence is the series uid plus this instance's original start.
  const seriesTag = tag && g.recurringEventId ? safeKey(tag.key) : undefined;
  if (tag && seriesTag && seriesTag.originalTime === 0) {
    tag = { pair: tag.pair, key: formatKey({ uid: seriesTag.uid, originalTime: originalTimeOf(g) }) };
  }
  const priv = g.extendedProperties?.private ?? {};
  const key = tag ? safeKey(tag.key) : undefined;
  const organizerDomain = g.organizer?.email?.split('@')[1]?.toLowerCase();
  const conference =
    priv[PROP_CONFERENCE] ??
    g.hangoutLink ??
    g.conferenceData?.entryPoints?.find((e) => e.entryPointType === 'video')?.uri ??
    undefined;
  let description = g.description ?? '';
  const footer = `${FOOTER}${priv[PROP_CONFERENCE]}`;
  if (priv[PROP_CONFERENCE] && description.endsWith(footer)) {
    description = description.slice(0, -footer.length).replace(/\n\n$/, '');
  }
  const event: CanonicalEvent = {
    key: key ?? { uid: g.iCalUID ?? g.recurringEventId ?? g.id ?? '', originalTime: originalTimeOf(g) },
    summary: g.summary ?? '',
    description,
    location: g.location ?? '',
    start: fromGoogleTime(g.start ?? g.originalStartTime ?? undefined, calendarZone),
    end: fromGoogleTime(g.end ?? g.originalStartTime ?? undefined, calendarZone),
    recurrence: [],
    status: g.status === 'cancelled' ? 'cancelled' : g.status === 'tentative' ? 'tentative' : 'confirmed',
    visibility:
      g.visibility === 'public'
        ? 'public'
        : g.visibility === 'private' || g.visibility === 'confidential'
          ? 'private'
          : 'default',
    freeBusy: g.transparency === 'transparent' ? 'free' : 'busy',
    attendees: (g.attendees ?? []).map((a) => {
      const domain = a.email?.split('@')[1]?.toLowerCase();
      const att: Attendee = {
        kind: a.resource ? 'room' : domain && domain === organizerDomain ? 'person' : 'external',
        email: a.email ?? undefined,
        rsvp: RSVP_FROM[a.responseStatus ?? 'needsAction'] ?? 'needs-action',
      };
      if (a.displayName) att.name = a.displayName;
      if (a.optional) att.optional = true;
      return att;
    }),
    reminders: g.reminders?.useDefault ? [] : (g.reminders?.overrides ?? []).map((o) => o.minutes ?? 0),
    origin: (['feishu', 'google', 'graph'].includes(priv[PROP_ORIGIN])
      ? priv[PROP_ORIGIN]
      : 'google') as Provider,
  };
  const rules = plainRecurrence(g);
  event.recurrence = rules.lines;
  if (g.organizer?.email) {
    event.organizer = { email: g.organizer.email };
    if (g.organizer.displayName) event.organizer.name = g.organizer.displayName;
  }
  if (conference) event.conferenceUrl = conference;
  if (g.updated) event.updatedAt = Math.floor(Date.parse(g.updated) / 1000);
  return { event, ...(tag ? { tag } : {}), ...(rules.note ? { note: rules.note } : {}) };
}

/**
 * The event's recurrence lines with RFC 7529 RRULEs (RSCALE, SKIP) made plain RFC 5545 (see
 * plainRule): exact where RFC 5545 can say the same; a SKIP it cannot say is narrowed to OMIT; a
 * non-Gregorian calendar leaves no rule (the event reads as its first occurrence). Both say so in
 * the note.
 */
function plainRecurrence(g: GEvent): { lines: string[]; note?: string } {
  const lines = g.recurrence ?? [];
  if (!lines.some((l) => /^RRULE:.*RSCALE=/i.test(l))) return { lines };
  const dtstart = g.start?.date ?? String(g.start?.dateTime ?? '').slice(0, 10);
  const notes: string[] = [];
  const out: string[] = [];
  for (const line of lines) {
    if (!/^RRULE:.*RSCALE=/i.test(line)) {
      out.push(line);
      continue;
    }
    try {
      const p = plainRule(line, dtstart);
      if (p.note) notes.push(p.note);
      if (p.rrule) out.push(`RRULE:${p.rrule}`);
    } catch (e) {
      notes.push(`unreadable rule left out: ${(e as Error).message}`);
    }
  }
  // Without an RRULE, EXDATE/RDATE lines no longer describe a series.
  const lines2 = out.some((l) => /^RRULE:/i.test(l)) ? out : [];
  return { lines: lines2, note: notes.join('; ') || undefined };
}

function safeKey(text: string) {
  try {
    return parseKey(text);
  } catch {
    return undefined;
  }
}
