/**
 * Event bodies in and out: validation of what a client POSTs or PATCHes, and rendering the stored
 * event as Graph returns it (UTC, or the zone of `Prefer: outlook.timezone`).
 */
import { graphDateTime, ianaOf, isoUtc, localToUtc, utcToLocal } from '../time.ts';
import { invalid } from './errors.ts';
import { newChangeKey, propKey, type StoredEvent, type User } from './model.ts';
import { validateRecurrence } from './recurrence.ts';

export const WRITABLE = new Set([
  'subject',
  'body',
  'start',
  'end',
  'isAllDay',
  'location',
  'locations',
  'attendees',
  'recurrence',
  'showAs',
  'sensitivity',
  'importance',
  'categories',
  'reminderMinutesBeforeStart',
  'isReminderOn',
  'responseRequested',
  'isOnlineMeeting',
  'onlineMeetingProvider',
  'allowNewTimeProposals',
  'hideAttendees',
  'transactionId',
  'singleValueExtendedProperties',
]);
/** Read-only properties a client may echo back; ignored like Graph does. */
const READ_ONLY = new Set([
  '@odata.etag',
  '@odata.type',
  '@odata.context',
  'id',
  'changeKey',
  'createdDateTime',
  'lastModifiedDateTime',
  'iCalUId',
  'type',
  'seriesMasterId',
  'originalStart',
  'originalStartTimeZone',
  'originalEndTimeZone',
  'organizer',
  'isOrganizer',
  'isCancelled',
  'webLink',
  'bodyPreview',
  'responseStatus',
  'hasAttachments',
  'onlineMeeting',
  'onlineMeetingUrl',
  'occurrenceId',
]);
const SHOW_AS = ['free', 'tentative', 'busy', 'oof', 'workingElsewhere', 'unknown'];
const SENSITIVITY = ['normal', 'personal', 'private', 'confidential'];
const ATTENDEE_TYPES = ['required', 'optional', 'resource'];

type Times = Pick<
  StoredEvent,
  'startMs' | 'endMs' | 'startName' | 'endName' | 'startZone' | 'endZone' | 'allDay'
>;

function parseTime(t: any, what: string): { ms: number; name: string; zone: string; local: string } {
  if (!t || typeof t.dateTime !== 'string' || typeof t.timeZone !== 'string') {
    return invalid(`${what} must have dateTime and timeZone.`);
  }
  const zone = ianaOf(t.timeZone);
  if (!zone) {
    return invalid(
      `A valid TimeZone value must be specified. The following TimeZone value is not supported: '${t.timeZone}'.`,
    );
  }
  const local = t.dateTime.replace(/Z$/, '');
  const ms = localToUtc(local, zone);
  if (Number.isNaN(ms))
    return invalid(`Cannot convert the literal '${t.dateTime}' to the expected type 'Edm.DateTime'.`);
  return { ms, name: t.timeZone, zone, local };
}

/** Validates start/end/isAllDay of a merged body and returns the stored time fields. */
export function resolveTimes(body: any): Times {
  const s = parseTime(body.start, 'start');
  const e = parseTime(body.end, 'end');
  const allDay = body.isAllDay === true;
  if (allDay) {
    const midnight = (l: string) => /T00:00(:00(\.0+)?)?$/.test(l) || !l.includes('T');
    if (!midnight(s.local) || !midnight(e.local) || s.zone !== e.zone || e.ms <= s.ms) {
      invalid(
        'Your request can\u2019t be completed. If the event is an all-day event, it has to start and end at midnight, in the same time zone, and last at least one day.',
      );
    }
  } else if (e.ms < s.ms) {
    invalid('The end time must be later than or equal to the start time.');
  }
  return {
    startMs: s.ms,
    endMs: e.ms,
    startName: s.name,
    endName: e.name,
    startZone: s.zone,
    endZone: e.zone,
    allDay,
  };
}

/** Checks the property names and enum values of a POST/PATCH body. */
export function checkBody(body: any, create: boolean) {
  if (!body || typeof body !== 'object' || Array.isArray(body)) invalid('Empty or invalid payload.');
  for (const k of Object.keys(body)) {
    if (READ_ONLY.has(k)) continue;
    if (!WRITABLE.has(k)) invalid(`The property '${k}' does not exist on type 'microsoft.graph.event'.`);
    if (k === 'transactionId' && !create) invalid('The property transactionId cannot be updated.');
  }
  if (body.showAs !== undefined && !SHOW_AS.includes(body.showAs))
    invalid(`Invalid showAs '${body.showAs}'.`);
  if (body.sensitivity !== undefined && !SENSITIVITY.includes(body.sensitivity)) {
    invalid(`Invalid sensitivity '${body.sensitivity}'.`);
  }
  if (body.attendees !== undefined) {
    if (!Array.isArray(body.attendees)) invalid('attendees must be a collection.');
    if (body.attendees.length > 500) invalid('An event can have at most 500 attendees.');
    for (const a of body.attendees) {
      if (!a?.emailAddress?.address) invalid('An attendee needs an emailAddress.address.');
      if (a.type !== undefined && !ATTENDEE_TYPES.includes(a.type))
        invalid(`Invalid attendee type '${a.type}'.`);
    }
  }
  if (body.body !== undefined && !['text', 'html'].includes(body.body?.contentType ?? 'text')) {
    invalid('body.contentType must be text or html.');
  }
  if (body.singleValueExtendedProperties !== undefined) {
    if (!Array.isArray(body.singleValueExtendedProperties))
      invalid('singleValueExtendedProperties must be a collection.');
    for (const p of body.singleValueExtendedProperties) {
      if (typeof p?.id !== 'string' || typeof p?.value !== 'string' || propKey(p.id) === p.id.trim()) {
        invalid(`The extended property id '${p?.id}' is not valid.`);
      }
    }
  }
}

/** Applies a validated body onto a stored event (new or existing). */
export function applyBody(ev: StoredEvent, body: any, nowMs: number) {
  for (const [k, v] of Object.entries(body)) {
    if (READ_ONLY.has(k) || k === 'start' || k === 'end' || k === 'singleValueExtendedProperties') continue;
    if (k === 'attendees') {
      ev.data.attendees = (v as any[]).map((a) => ({
        type: a.type ?? 'required',
        // a room mailbox answers for itself (rooms.ts); nobody else has answered yet
        status: { response: 'none', time: '0001-01-01T00:00:00Z' },
        emailAddress: {
          name: a.emailAddress.name ?? a.emailAddress.address,
          address: a.emailAddress.address,
        },
      }));
    } else if (k === 'body') {
      const b = v as any;
      ev.data.body = { contentType: b?.contentType ?? 'text', content: b?.content ?? '' };
      ev.data.bodyPreview = String(b?.content ?? '')
        .replace(/<[^>]*>/g, '')
        .slice(0, 255);
    } else if (k === 'location') {
      const l = (v ?? {}) as any;
      ev.data.location = {
        displayName: l.displayName ?? '',
        locationType: l.locationType ?? 'default',
        ...l,
      };
    } else {
      ev.data[k] = v;
    }
  }
  for (const p of body.singleValueExtendedProperties ?? [])
    ev.props.set(propKey(p.id), { id: p.id, value: p.value });
  if (body.recurrence !== undefined && body.recurrence !== null) validateRecurrence(body.recurrence, ev);
  ev.data.changeKey = newChangeKey();
  ev.data.lastModifiedDateTime = new Date(nowMs).toISOString();
}

export function newEventData(user: User, id: string, nowMs: number): Record<string, any> {
  return {
    id,
    createdDateTime: new Date(nowMs).toISOString(),
    lastModifiedDateTime: new Date(nowMs).toISOString(),
    changeKey: newChangeKey(),
    categories: [],
    reminderMinutesBeforeStart: 15,
    isReminderOn: true,
    hasAttachments: false,
    subject: '',
    bodyPreview: '',
    importance: 'normal',
    sensitivity: 'normal',
    isAllDay: false,
    isCancelled: false,
    isOrganizer: true,
    responseRequested: true,
    seriesMasterId: null,
    showAs: 'busy',
    type: 'singleInstance',
    webLink: `https://outlook.office365.com/owa/?itemid=${id}&exvsurl=1&path=/calendar/item`,
    onlineMeetingUrl: null,
    isOnlineMeeting: false,
    onlineMeetingProvider: 'unknown',
    allowNewTimeProposals: true,
    iCalUId: `040000008200E00074C5B7101A82E008${id.slice(-32).toUpperCase()}`,
    responseStatus: { response: 'organizer', time: '0001-01-01T00:00:00Z' },
    body: { contentType: 'html', content: '' },
    location: { displayName: '', locationType: 'default', uniqueIdType: 'unknown' },
    locations: [],
    recurrence: null,
    attendees: [],
    organizer: { emailAddress: { name: user.displayName ?? user.mail, address: user.mail } },
    onlineMeeting: null,
  };
}

export interface RenderOptions {
  /** IANA zone and name from `Prefer: outlook.timezone`. */
  prefer?: { zone: string; name: string };
  /** Extended-property ids requested with $expand (normalized). */
  expandProps?: string[];
  select?: string[];
}

function renderTime(
  ms: number,
  allDay: boolean,
  zone: string,
  name: string,
  prefer?: RenderOptions['prefer'],
) {
  // All-day events ignore Prefer: outlook.timezone and come back as midnight in their own zone.
  if (allDay) return { dateTime: graphDateTime(utcToLocal(ms, zone)), timeZone: name };
  if (prefer) return { dateTime: graphDateTime(utcToLocal(ms, prefer.zone)), timeZone: prefer.name };
  return { dateTime: graphDateTime(utcToLocal(ms, 'UTC')), timeZone: 'UTC' };
}

/** The event as the API returns it. */
export function render(ev: StoredEvent, opts: RenderOptions = {}): Record<string, any> {
  const out: Record<string, any> = {
    '@odata.etag': `W/"${ev.data.changeKey}"`,
    ...ev.data,
    id: ev.id,
    isAllDay: ev.allDay,
    originalStartTimeZone: ev.startName,
    originalEndTimeZone: ev.endName,
    start: renderTime(ev.startMs, ev.allDay, ev.startZone, ev.startName, opts.prefer),
    end: renderTime(ev.endMs, ev.allDay, ev.endZone, ev.endName, opts.prefer),
  };
  if (ev.originalStartMs !== undefined) out.originalStart = isoUtc(ev.originalStartMs);
  if (ev.seriesMasterId) out.seriesMasterId = ev.seriesMasterId;
  if (!out.transactionId) delete out.transactionId;
  if (opts.expandProps) {
    const props = opts.expandProps.flatMap((k) => (ev.props.has(k) ? [ev.props.get(k)!] : []));
    if (props.length > 0)
      out.singleValueExtendedProperties = props.map((p) => ({ id: p.id, value: p.value }));
  }
  if (opts.select && opts.select.length > 0) {
    const keep = new Set([...opts.select, 'id', '@odata.etag', 'singleValueExtendedProperties']);
    for (const k of Object.keys(out)) if (!keep.has(k)) delete out[k];
  }
  return out;
}
