/** Checks and normalizes an Event body the way Calendar v3 does on insert, import, update and patch. */
import { fromLocal, isDate, isZone, parseInstant, rfc3339 } from '../time.ts';
import { badRequest } from './errors.ts';
import type { Json } from './state.ts';

export const ID_RE = /^[a-v0-9]{5,1024}$/;

/** Normalizes `start`/`end` (and `originalStartTime`): `{date}` or `{dateTime with offset, timeZone?}`. */
export function normTime(t: any, which: string, calendarZone: string, needZone: boolean): Json {
  if (!t || typeof t !== 'object') return badRequest(`Missing ${which} time.`, 'required');
  if (t.timeZone !== undefined && !isZone(t.timeZone)) {
    return badRequest(`Invalid time zone definition for ${which} time.`, 'invalid');
  }
  if (t.date !== undefined && t.date !== null) {
    if (t.dateTime) return badRequest(`Invalid ${which} time: both date and dateTime.`);
    if (!isDate(t.date)) return badRequest(`Invalid ${which} time.`);
    return t.timeZone ? { date: t.date, timeZone: t.timeZone } : { date: t.date };
  }
  if (typeof t.dateTime !== 'string') return badRequest(`Missing ${which} time.`, 'required');
  // Stricter reading of the docs: a recurring event needs an IANA zone on start and end.
  if (needZone && !t.timeZone)
    return badRequest(`Missing time zone definition for ${which} time.`, 'required');
  let ms = parseInstant(t.dateTime);
  if (ms === undefined) {
    if (!t.timeZone || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(t.dateTime)) {
      return badRequest(`Missing time zone definition for ${which} time.`, 'required');
    }
    ms = fromLocal(t.dateTime, t.timeZone);
  }
  return t.timeZone
    ? { dateTime: rfc3339(ms, t.timeZone), timeZone: t.timeZone }
    : { dateTime: rfc3339(ms, calendarZone) };
}

/** Start of a normalized time as an instant (all-day dates at midnight in the given zone). */
export function timeMs(t: Json | undefined, zone: string): number {
  if (!t) return 0;
  if (t.date) return fromLocal(t.date, t.timeZone ?? zone);
  return parseInstant(t.dateTime) ?? 0;
}

const RECURRENCE_RE = /^(RRULE|EXRULE|RDATE|EXDATE)[:;]/i;

export function checkRecurrence(lines: unknown): string[] {
  if (lines === undefined || lines === null) return [];
  if (!Array.isArray(lines)) return badRequest('Invalid recurrence rule.');
  const out: string[] = [];
  let rrules = 0;
  for (const raw of lines) {
    const line = typeof raw === 'string' ? raw.trim() : '';
    // DTSTART/DTEND lines are not allowed: start and end carry them.
    if (!RECURRENCE_RE.test(line)) return badRequest('Invalid recurrence rule.');
    if (/^RRULE/i.test(line)) {
      rrules += 1;
      if (!/FREQ=(SECONDLY|MINUTELY|HOURLY|DAILY|WEEKLY|MONTHLY|YEARLY)/i.test(line)) {
        return badRequest('Invalid recurrence rule.');
      }
    }
    out.push(line);
  }
  if (rrules > 1) return badRequest('Invalid recurrence rule.');
  return out;
}

const STATUS = ['confirmed', 'tentative', 'cancelled'];
const VISIBILITY = ['default', 'public', 'private', 'confidential'];
const TRANSPARENCY = ['opaque', 'transparent'];
const RSVP = ['needsAction', 'declined', 'tentative', 'accepted'];

/**
 * Validates a full Event body (insert, import, update) and returns the stored fields. `instance`
 * keeps recurringEventId/originalStartTime from the existing object (they are immutable).
 */
export function checkEvent(body: Json, calendarZone: string, opts: { instance?: boolean } = {}): Json {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return badRequest('Invalid event body.');
  const recurrence = opts.instance ? [] : checkRecurrence(body.recurrence);
  const recurring = recurrence.length > 0;
  const start = normTime(body.start, 'start', calendarZone, recurring && !body.start?.date);
  const end = normTime(body.end, 'end', calendarZone, recurring && !body.end?.date);
  if ('date' in start !== 'date' in end) return badRequest('Invalid start and end: mixed date and dateTime.');
  const empty =
    'date' in start ? end.date <= start.date : timeMs(end, calendarZone) < timeMs(start, calendarZone);
  if (empty) return badRequest('The specified time range is empty.', 'timeRangeEmpty');
  if (body.status !== undefined && !STATUS.includes(body.status)) return badRequest('Invalid status value.');
  if (body.visibility !== undefined && !VISIBILITY.includes(body.visibility)) {
    return badRequest('Invalid visibility value.');
  }
  if (body.transparency !== undefined && !TRANSPARENCY.includes(body.transparency)) {
    return badRequest('Invalid transparency value.');
  }
  const rem = body.reminders;
  if (rem?.useDefault && rem.overrides?.length) {
    return badRequest(
      'Cannot specify both default reminders and overrides at the same time.',
      'cannotUseDefaultRemindersAndSpecifyOverride',
    );
  }
  if ((rem?.overrides?.length ?? 0) > 5) return badRequest('Too many reminders.', 'tooManyReminders');
  const attendees = body.attendees === undefined ? undefined : checkAttendees(body.attendees);
  for (const scope of ['private', 'shared']) {
    const m = body.extendedProperties?.[scope];
    if (m && Object.values(m).some((v) => typeof v !== 'string')) {
      return badRequest('Invalid extended property value.');
    }
  }
  const out: Json = { ...body, start, end };
  if (recurring) out.recurrence = recurrence;
  else delete out.recurrence;
  if (attendees) out.attendees = attendees;
  return out;
}

function checkAttendees(list: unknown): Json[] {
  if (!Array.isArray(list)) return badRequest('Invalid attendees.');
  return list.map((a) => {
    if (!a || typeof a.email !== 'string' || !a.email.includes('@')) {
      return badRequest('Missing attendee email.', 'required');
    }
    if (a.responseStatus !== undefined && !RSVP.includes(a.responseStatus)) {
      return badRequest('Invalid attendee response status.');
    }
    return { ...a, responseStatus: a.responseStatus ?? 'needsAction' };
  });
}

/** JSON merge for PATCH: objects merge (null deletes a key), arrays and scalars replace. */
export function mergePatch(target: Json, patch: Json): Json {
  const out: Json = { ...target };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if (
      typeof v === 'object' &&
      !Array.isArray(v) &&
      typeof out[k] === 'object' &&
      !Array.isArray(out[k]) &&
      // A time is replaced whole: `{date}` over `{dateTime}` must not keep both.
      !['start', 'end'].includes(k)
    ) {
      out[k] = mergePatch(out[k], v);
    } else out[k] = v;
  }
  return out;
}
