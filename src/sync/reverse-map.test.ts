import { describe, expect, it } from 'vitest';
import { type Attendee, blankEvent, type CanonicalEvent } from '../core/index.ts';
import type { SyncPolicy } from './pair.ts';
import {
  beyondRsvp,
  occurrenceOf,
  occursAt,
  ownerRsvpChange,
  toFeishu,
  withHeldRule,
  writableFields,
} from './reverse-map.ts';

const zone = 'Asia/Shanghai';
const ev = (over: Partial<CanonicalEvent> = {}): CanonicalEvent => ({
  ...blankEvent(
    { uid: 'u1', originalTime: 0 },
    { timestamp: 1_800_000_000, timeZone: zone },
    { timestamp: 1_800_001_800, timeZone: zone },
    'feishu',
  ),
  ...over,
});

// Feishu's users as the Google spoke knows them
const google: Record<string, string> = { ou_alice: 'alice@example.com', ou_bob: 'bob@example.com' };
const forward = (a: Attendee): Attendee | undefined =>
  a.kind === 'room' ? undefined : a.id && google[a.id] ? { ...a, email: google[a.id] } : a;
const reverse = (a: Attendee): Attendee => {
  const id = Object.keys(google).find((k) => google[k] === a.email);
  return id ? { kind: 'person', id, rsvp: a.rsvp } : { kind: 'external', email: a.email, rsvp: a.rsvp };
};

const policy: SyncPolicy = {
  fields: ['summary', 'description', 'location', 'attendees', 'reminders', 'visibility', 'conference'],
  privateEvents: 'busy-only',
  invitations: 'none',
  maxDeletesPerRun: 10,
  window: { from: 0, to: 2_000_000_000 },
};

describe('reverse mapping (spoke -> Feishu)', () => {
  const feishu = ev({
    summary: 'Plan',
    organizer: { id: 'ou_alice' },
    attendees: [
      { kind: 'person', id: 'ou_alice', rsvp: 'accepted' },
      { kind: 'person', id: 'ou_bob', rsvp: 'needs-action' },
      { kind: 'room', id: 'omm_r1', rsvp: 'accepted' },
    ],
  });

  it('takes only the merged fields; attendees keep their Feishu identity, new ones are translated', () => {
    const merged = ev({
      summary: 'Plan B',
      location: 'ignored: not merged',
      attendees: [
        { kind: 'person', email: 'alice@example.com', rsvp: 'accepted' },
        { kind: 'person', email: 'carol@partner.example', rsvp: 'needs-action' },
      ],
    });
    const out = toFeishu(feishu, merged, ['summary', 'attendees'], forward, reverse);
    expect(out.summary).toBe('Plan B');
    expect(out.location).toBe('');
    expect(out.attendees).toEqual([
      { kind: 'person', id: 'ou_alice', rsvp: 'accepted', optional: undefined },
      { kind: 'external', email: 'carol@partner.example', rsvp: 'needs-action' },
      // the room never shows on this spoke: Feishu keeps it
      { kind: 'room', id: 'omm_r1', rsvp: 'accepted' },
    ]);
  });

  it('the owner’s own answer on the spoke is an RSVP, not an attendee edit', () => {
    const spoke = ev({
      attendees: [
        { kind: 'person', email: 'alice@example.com', rsvp: 'accepted' },
        { kind: 'person', email: 'bob@example.com', rsvp: 'declined' },
      ],
    });
    expect(ownerRsvpChange(feishu, spoke, 'ou_bob', forward)).toBe('declined');
    expect(ownerRsvpChange(feishu, spoke, 'ou_alice', forward)).toBeUndefined();
    // needs-action is no answer
    const none = ev({ attendees: [{ kind: 'person', email: 'bob@example.com', rsvp: 'needs-action' }] });
    expect(ownerRsvpChange(feishu, none, 'ou_bob', forward)).toBeUndefined();
    const projected = ev({ attendees: [{ kind: 'person', email: 'bob@example.com', rsvp: 'needs-action' }] });
    const answered = ev({ attendees: [{ kind: 'person', email: 'bob@example.com', rsvp: 'accepted' }] });
    expect(beyondRsvp(projected, answered, ['attendees'])).toEqual([]);
    const added = ev({
      attendees: [...answered.attendees, { kind: 'external', email: 'x@y.z', rsvp: 'needs-action' }],
    });
    expect(beyondRsvp(projected, added, ['attendees'])).toEqual(['attendees']);
  });

  it('a busy-only private event never takes its hidden fields back from the spoke', () => {
    const hidden = ev({ visibility: 'private' });
    expect(writableFields(hidden, ['summary', 'time', 'attendees', 'reminders'], policy)).toEqual([
      'time',
      'reminders',
    ]);
    expect(writableFields(ev(), ['summary', 'time'], policy)).toEqual(['summary', 'time']);
  });

  it('an occurrence Feishu never changed is the series at that time', () => {
    const master = ev({ recurrence: ['RRULE:FREQ=DAILY'] });
    const occ = occurrenceOf(master, 1_800_086_400);
    expect(occ.key).toEqual({ uid: 'u1', originalTime: 1_800_086_400 });
    expect(occ.recurrence).toEqual([]);
    expect(occ.start).toEqual({ timestamp: 1_800_086_400, timeZone: zone });
    expect(occ.end).toEqual({ timestamp: 1_800_088_200, timeZone: zone });
    const allDay = ev({
      start: { date: '2027-01-04' },
      end: { date: '2027-01-05' },
      recurrence: ['RRULE:FREQ=WEEKLY'],
    });
    const day = occurrenceOf(allDay, Date.parse('2027-01-11T00:00:00Z') / 1000);
    expect(day.start).toEqual({ date: '2027-01-11' });
    expect(day.end).toEqual({ date: '2027-01-12' });
  });
});

describe('occursAt', () => {
  // 1_800_000_000 is 2027-01-15T08:00:00Z, 16:00 in Shanghai (a Friday)
  const weekly = ev({ recurrence: ['RRULE:FREQ=WEEKLY;COUNT=4'] });
  const week = 7 * 86_400;
  it('says whether a series has an occurrence at an original time', () => {
    expect(occursAt(weekly, 1_800_000_000)).toBe(true);
    expect(occursAt(weekly, 1_800_000_000 + 3 * week)).toBe(true);
    expect(occursAt(weekly, 1_800_000_000 + 4 * week)).toBe(false); // past COUNT
    expect(occursAt(weekly, 1_800_000_000 + week + 3600)).toBe(false); // not a start of the rule
    expect(occursAt(ev(), 1_800_000_000)).toBe(false); // not a series
  });
  it('keeps wall time across DST, leaves EXDATEs out, and takes all-day occurrences at 00:00 UTC', () => {
    const berlin = ev({
      start: { timestamp: 1_800_000_000, timeZone: 'Europe/Berlin' },
      end: { timestamp: 1_800_003_600, timeZone: 'Europe/Berlin' },
      recurrence: ['RRULE:FREQ=WEEKLY', 'EXDATE;TZID=Europe/Berlin:20270129T090000'],
    });
    // 09:00 Berlin: 08:00Z in winter, 07:00Z in summer (2027-04-02)
    expect(occursAt(berlin, 1_800_000_000 + 11 * week - 3600)).toBe(true);
    expect(occursAt(berlin, 1_800_000_000 + 11 * week)).toBe(false);
    expect(occursAt(berlin, 1_800_000_000 + 2 * week)).toBe(false);
    const allDay = ev({
      start: { date: '2027-01-15' },
      end: { date: '2027-01-16' },
      recurrence: ['RRULE:FREQ=DAILY'],
    });
    expect(occursAt(allDay, Date.parse('2027-01-20T00:00:00Z') / 1000)).toBe(true);
    expect(occursAt(allDay, Date.parse('2027-01-20T08:00:00Z') / 1000)).toBe(false);
  });
});

describe('withHeldRule', () => {
  const base = ev({ recurrence: ['RRULE:FREQ=WEEKLY;BYMONTH=1,3'] });
  const held = { ...policy, target: { heldRecurrence: () => ['RRULE:FREQ=WEEKLY'] } };
  it('takes a rule the spoke holds widened as no change, and anything else as it is', () => {
    expect(withHeldRule(ev({ recurrence: ['RRULE:FREQ=WEEKLY'] }), base, held).recurrence).toEqual(
      base.recurrence,
    );
    expect(withHeldRule(ev({ recurrence: ['RRULE:FREQ=DAILY'] }), base, held).recurrence).toEqual([
      'RRULE:FREQ=DAILY',
    ]);
    expect(withHeldRule(ev({ recurrence: ['RRULE:FREQ=WEEKLY'] }), base, policy).recurrence).toEqual([
      'RRULE:FREQ=WEEKLY',
    ]);
    expect(withHeldRule(ev({ recurrence: ['RRULE:FREQ=WEEKLY'] }), undefined, held).recurrence).toEqual([
      'RRULE:FREQ=WEEKLY',
    ]);
  });
});
