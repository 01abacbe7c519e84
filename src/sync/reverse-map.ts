/**
 * Spoke -> Feishu mapping for two-way pairs. Pure.
 * - `comparable`: a spoke copy shaped like the pair's projection of Feishu events, so the two compare;
 * - `occurrenceOf`: the plain occurrence of a series that has no exception at that time yet;
 * - `occursAt`: whether a series' rule has an occurrence at an original time;
 * - `toFeishu`: the Feishu event after a merge: Feishu's own event with the merged fields taken over,
 *   attendees translated back to Feishu's identities.
 */
import {
  type Attendee,
  blankEvent,
  type CanonicalEvent,
  fingerprint,
  type Provider,
  type SyncField,
} from '../core/index.ts';
import { expandRecurrence } from '../core/recurrence/index.ts';
import { getZone, parseLocal } from '../core/recurrence/local-time.ts';
import { localDateTime } from '../core/time.ts';
import { fieldValue, type MergeField, setField } from './merge.ts';
import type { SyncPolicy } from './pair.ts';
import { type Projection, project } from './project.ts';

/** Feishu's attendee for a spoke attendee: a mapped user (open_id), a room (omm_ id), else by e-mail. */
export type ReverseAttendee = (a: Attendee) => Attendee;

/**
 * The spoke copy through the pair's field policy and the spoke's capabilities, as it is: its attendees
 * are already the spoke's, and a private copy is not masked again (what a user typed over a busy-only
 * copy must show as a change, so that it is set back).
 */
export function comparable(ev: CanonicalEvent, policy: SyncPolicy): Projection {
  const target = policy.target ? { ...policy.target, attendee: undefined } : undefined;
  return project(ev, { ...policy, privateEvents: 'copy', target });
}

/**
 * The spoke copy with the rule of `base` (the last synced version) when the spoke could not hold that
 * rule and holds what it makes of it (`heldRecurrence`): a rule widened for Graph is no change.
 */
export function withHeldRule(spoke: CanonicalEvent, base: CanonicalEvent | undefined, policy: SyncPolicy) {
  const held = policy.target?.heldRecurrence;
  if (!held || !base || base.key.originalTime !== 0 || base.recurrence.length === 0) return spoke;
  const same = (a: string[], b: string[]) =>
    a.length === b.length && a.every((x, i) => x.toUpperCase() === b[i].toUpperCase());
  if (same(spoke.recurrence, base.recurrence) || !same(spoke.recurrence, held(base))) return spoke;
  return { ...spoke, recurrence: [...base.recurrence] };
}

/** The occurrence at `originalTime` of a series master, as it is when nothing changed it. */
export function occurrenceOf(master: CanonicalEvent, originalTime: number): CanonicalEvent {
  const out: CanonicalEvent = { ...master, key: { uid: master.key.uid, originalTime }, recurrence: [] };
  if ('timestamp' in master.start && 'timestamp' in master.end) {
    const length = master.end.timestamp - master.start.timestamp;
    out.start = { timestamp: originalTime, timeZone: master.start.timeZone };
    out.end = { timestamp: originalTime + length, timeZone: master.end.timeZone };
  } else if ('date' in master.start && 'date' in master.end) {
    const days = Date.parse(master.end.date) - Date.parse(master.start.date);
    const day = new Date(originalTime * 1000).toISOString().slice(0, 10);
    out.start = { date: day };
    out.end = { date: new Date(Date.parse(day) + days).toISOString().slice(0, 10) };
  }
  return out;
}

/** The fingerprint of any cancelled occurrence (a cancelled event is only its status). */
export function cancelledFingerprint(fields: readonly SyncField[]): string {
  const blank = blankEvent(
    { uid: 'x', originalTime: 1 },
    { date: '2000-01-01' },
    { date: '2000-01-02' },
    'feishu',
  );
  return fingerprint({ ...blank, status: 'cancelled' }, fields);
}

/**
 * Whether the series `master` has an occurrence whose original start is `originalTime` (Unix seconds;
 * all-day occurrences at 00:00 UTC of their date), by its RRULE and EXDATEs. A rule that cannot be
 * expanded answers false.
 */
export function occursAt(master: CanonicalEvent, originalTime: number): boolean {
  const rrule = master.recurrence.find((l) => /^RRULE:/i.test(l))?.slice(6);
  if (!rrule) return false;
  const exdates = master.recurrence
    .filter((l) => /^EXDATE/i.test(l))
    .flatMap((l) => l.slice(l.indexOf(':') + 1).split(','));
  try {
    if ('date' in master.start) {
      if (originalTime % 86_400 !== 0) return false;
      const day = new Date(originalTime * 1000).toISOString().slice(0, 10);
      return expandRecurrence(rrule, master.start.date, 'UTC', { until: day, exdates }).at(-1) === day;
    }
    const zone = master.start.timeZone;
    const dtstart = localDateTime(master.start.timestamp, zone);
    const last = expandRecurrence(rrule, dtstart, zone, {
      until: localDateTime(originalTime, zone),
      exdates,
    }).at(-1);
    return last !== undefined && getZone(zone).toUtc(parseLocal(last)!.t) === originalTime;
  } catch {
    return false;
  }
}

/** Fields of a private event that `busy-only` hides on the spoke: never taken back from it. */
const HIDDEN: readonly MergeField[] = ['summary', 'description', 'location', 'attendees', 'conference'];

/** Which of the merged fields may be written into Feishu for this event. */
export function writableFields(
  feishu: CanonicalEvent,
  fields: readonly MergeField[],
  policy: SyncPolicy,
): MergeField[] {
  if (feishu.visibility === 'private' && policy.privateEvents === 'busy-only')
    return fields.filter((f) => !HIDDEN.includes(f));
  return [...fields];
}

/**
 * Feishu's event after the merge: `feishu` with `fields` taken from `merged`. Attendees: one already
 * in Feishu that the spoke still lists keeps its Feishu identity; a new one is translated.
 */
export function toFeishu(
  feishu: CanonicalEvent,
  merged: CanonicalEvent,
  fields: readonly MergeField[],
  forward: ((a: Attendee) => Attendee | undefined) | undefined,
  reverse: ReverseAttendee,
): CanonicalEvent {
  const out: CanonicalEvent = { ...feishu, attendees: [...feishu.attendees] };
  for (const f of fields) {
    if (f !== 'attendees') setField(out, merged, f);
  }
  if (fields.includes('attendees')) {
    const known = new Map<string, Attendee>();
    for (const a of feishu.attendees) {
      const there = forward ? forward(a) : a;
      const email = there?.email?.toLowerCase();
      if (email) known.set(email, a);
    }
    out.attendees = merged.attendees.map((a) => {
      const mine = a.email ? known.get(a.email.toLowerCase()) : undefined;
      return mine ? { ...mine, optional: a.optional } : reverse(a);
    });
    // Feishu keeps attendees the pair never shows on the spoke (unmapped people, other users' rooms)
    for (const a of feishu.attendees) {
      if (!forward || forward(a)) continue;
      out.attendees.push(a);
    }
  }
  return out;
}

/** A spoke-born event as Feishu should hold it (the owner's calendar; attendees translated). */
export function bornOnSpoke(ev: CanonicalEvent, spoke: Provider, reverse: ReverseAttendee): CanonicalEvent {
  return {
    ...ev,
    origin: spoke,
    organizer: undefined,
    attendees: ev.attendees.map(reverse),
  };
}

/** The RSVP of the calendar owner on the spoke copy, when it differs from Feishu's. */
export function ownerRsvpChange(
  feishu: CanonicalEvent,
  spoke: CanonicalEvent,
  owner: string,
  forward: ((a: Attendee) => Attendee | undefined) | undefined,
): Attendee['rsvp'] | undefined {
  const mine = feishu.attendees.find((a) => a.kind !== 'room' && a.id === owner);
  if (!mine) return undefined;
  const email = (forward ? forward(mine) : mine)?.email?.toLowerCase();
  const there = email ? spoke.attendees.find((a) => a.email?.toLowerCase() === email) : undefined;
  return there && there.rsvp !== mine.rsvp && there.rsvp !== 'needs-action' ? there.rsvp : undefined;
}

/** Whether any field other than the owner's own RSVP differs between two versions. */
export function beyondRsvp(
  a: CanonicalEvent,
  b: CanonicalEvent,
  fields: readonly MergeField[],
): MergeField[] {
  const strip = (e: CanonicalEvent) => ({
    ...e,
    attendees: e.attendees.map((x) => ({ ...x, rsvp: 'needs-action' as const })),
  });
  return fields.filter((f) => fieldValue(strip(a), f) !== fieldValue(strip(b), f));
}
