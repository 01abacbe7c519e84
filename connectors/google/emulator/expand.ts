/** Instances of a recurring event: ids, originalStartTime, and stored exceptions laid over them. */
import { expandRecurrence } from '../../../src/core/recurrence/index.ts';
import { addDays, basicDate, basicUtc, daysBetween, fromLocal, rfc3339, toLocal } from '../time.ts';
import type { Calendar, Json } from './state.ts';
import { timeMs } from './validate.ts';

export interface Occurrence {
  /** Instance id `{masterId}_{YYYYMMDDTHHMMSSZ}` or `{masterId}_{YYYYMMDD}`. */
  id: string;
  /** `YYYY-MM-DD` for all-day series, else the instant in ms. */
  original: string | number;
}

/** Parses EXDATE/RDATE values into local times of the series zone (or dates for all-day series). */
function dateValues(line: string, zone: string, allDay: boolean, startLocalTime: string): string[] {
  const colon = line.indexOf(':');
  const params = line.slice(0, colon).split(';').slice(1);
  const tzid = params.find((p) => /^TZID=/i.test(p))?.slice(5);
  return line
    .slice(colon + 1)
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean)
    .map((v) => {
      const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z?))?$/.exec(v.split('/')[0]);
      if (!m) return '';
      const date = `${m[1]}-${m[2]}-${m[3]}`;
      if (m[4] === undefined) return allDay ? date : `${date}T${startLocalTime}`;
      const local = `${date}T${m[4]}:${m[5]}:${m[6]}`;
      const ms = m[7] ? Date.parse(`${local}Z`) : fromLocal(local, tzid ?? zone);
      const inZone = toLocal(ms, zone);
      return allDay ? inZone.slice(0, 10) : inZone;
    })
    .filter(Boolean);
}

/**
 * The occurrences of a master in order, up to `untilMs` (an instant; series without an end are cut
 * there) and at most `max`.
 */
export function occurrences(master: Json, calendarZone: string, untilMs: number, max = 5000): Occurrence[] {
  const allDay = Boolean(master.start.date);
  const zone: string = master.start.timeZone ?? calendarZone;
  const dtstart = allDay ? master.start.date : toLocal(timeMs(master.start, zone), zone);
  const lines: string[] = master.recurrence ?? [];
  const timeOfDay = allDay ? '' : dtstart.slice(11);
  const exdates = lines
    .filter((l) => /^EXDATE/i.test(l))
    .flatMap((l) => dateValues(l, zone, allDay, timeOfDay));
  const rdates = lines
    .filter((l) => /^RDATE/i.test(l))
    .flatMap((l) => dateValues(l, zone, allDay, timeOfDay));
  const rrule = lines.find((l) => /^RRULE/i.test(l));
  const untilLocal = allDay ? toLocal(untilMs, zone).slice(0, 10) : toLocal(untilMs, zone);
  let locals = rrule
    ? expandRecurrence(rrule.replace(/^RRULE:/i, ''), dtstart, zone, {
        count: max,
        until: untilLocal,
        exdates,
      })
    : [dtstart];
  const ex = new Set(exdates);
  locals = [...new Set([...locals, ...rdates.filter((d) => d <= untilLocal)])]
    .filter((d) => !ex.has(d))
    .sort();
  return locals.slice(0, max).map((local) => {
    if (allDay) return { id: `${master.id}_${basicDate(local.slice(0, 10))}`, original: local.slice(0, 10) };
    const ms = fromLocal(local, zone);
    return { id: `${master.id}_${basicUtc(ms)}`, original: ms };
  });
}

/** The instance object of one occurrence, from the master (the stored exception wins if there is one). */
export function instanceOf(cal: Calendar, master: Json, occ: Occurrence, masterEtag: string): Json {
  const stored = cal.events.get(occ.id);
  if (stored) return stored.ev;
  const { recurrence: _r, id: _i, ...rest } = master;
  const zone: string = master.start.timeZone ?? cal.timeZone;
  let start: Json;
  let end: Json;
  let originalStartTime: Json;
  if (typeof occ.original === 'string') {
    const days = daysBetween(master.start.date, master.end.date);
    start = { date: occ.original };
    end = { date: addDays(occ.original, days) };
    originalStartTime = { date: occ.original };
  } else {
    const duration = timeMs(master.end, zone) - timeMs(master.start, zone);
    const endZone: string = master.end.timeZone ?? zone;
    start = { dateTime: rfc3339(occ.original, zone), timeZone: zone };
    end = { dateTime: rfc3339(occ.original + duration, endZone), timeZone: endZone };
    originalStartTime = { dateTime: rfc3339(occ.original, zone), timeZone: zone };
  }
  return {
    ...rest,
    id: occ.id,
    etag: masterEtag,
    recurringEventId: master.id,
    originalStartTime,
    start,
    end,
  };
}

/** Finds the occurrence an instance id names, if the series has it. */
export function findOccurrence(
  master: Json,
  calendarZone: string,
  instanceId: string,
): Occurrence | undefined {
  const suffix = instanceId.slice(master.id.length + 1);
  let untilMs: number;
  const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})Z)?$/.exec(suffix);
  if (!m) return undefined;
  if (m[4] === undefined) untilMs = Date.parse(`${m[1]}-${m[2]}-${m[3]}T00:00:00Z`) + 2 * 86_400_000;
  else untilMs = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`) + 1000;
  return occurrences(master, calendarZone, untilMs, 100_000).find((o) => o.id === instanceId);
}

export interface Span {
  id: string;
  start: number;
  end: number;
  ev: Json;
}

/**
 * The instants an event takes, up to `untilMs`: a single event itself, a live series its instances
 * (stored exceptions laid over, cancelled ones left out).
 */
export function spans(cal: Calendar, ev: Json, untilMs: number, max = 1000): Span[] {
  if (ev.status === 'cancelled') return [];
  const zone = cal.timeZone;
  const evs =
    ev.recurrence?.length && !ev.recurringEventId
      ? occurrences(ev, zone, untilMs, max).map((o) => instanceOf(cal, ev, o, ev.etag))
      : [ev];
  return evs
    .filter((e) => e.status !== 'cancelled')
    .map((e) => ({ id: e.id, start: timeMs(e.start, zone), end: timeMs(e.end, zone), ev: e }));
}
