import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blankEvent, type CanonicalEvent } from './event.ts';
import { fingerprint, normalized, SYNC_FIELDS, stableJson } from './fingerprint.ts';

const base = (): CanonicalEvent => ({
  ...blankEvent(
    { uid: 'u1', originalTime: 0 },
    { timestamp: 1_767_250_800, timeZone: 'Asia/Shanghai' },
    { timestamp: 1_767_254_400, timeZone: 'Asia/Shanghai' },
    'feishu',
  ),
  summary: 'Weekly sync',
  description: 'Agenda:\n- items',
  location: 'Room 101',
  recurrence: ['RRULE:FREQ=WEEKLY;BYDAY=MO'],
  attendees: [
    { kind: 'person', email: 'a@example.com', rsvp: 'accepted' },
    { kind: 'room', id: 'omm_1', name: 'Room 101', rsvp: 'accepted' },
  ],
  reminders: [10, 5],
  conferenceUrl: 'https://vc.example.com/j/1',
});

/** Reverses the key order of every object, recursively. */
const reversed = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(reversed)
    : v && typeof v === 'object'
      ? Object.fromEntries(
          Object.entries(v)
            .reverse()
            .map(([k, x]) => [k, reversed(x)]),
        )
      : v;

describe('fingerprint', () => {
  it('ignores key order at every depth', () => {
    const ev = base();
    expect(fingerprint(reversed(ev) as CanonicalEvent)).toBe(fingerprint(ev));
    expect(stableJson({ b: 1, a: { d: 2, c: 3 } })).toBe(stableJson({ a: { c: 3, d: 2 }, b: 1 }));
  });

  it('ignores irrelevant whitespace, attendee order, e-mail case, reminder order and bookkeeping', () => {
    const ev = base();
    const other: CanonicalEvent = {
      ...ev,
      summary: '  Weekly   sync ',
      description: 'Agenda:  \r\n- items\n\n',
      attendees: [ev.attendees[1], { ...ev.attendees[0], email: 'A@Example.com' }],
      reminders: [5, 10, 10],
      origin: 'google',
      updatedAt: 42,
      key: { uid: 'other', originalTime: 7 },
    };
    expect(fingerprint(other)).toBe(fingerprint(ev));
  });

  it("ignores a room's answer: each system's room answers for itself", () => {
    const other = base();
    other.attendees[1].rsvp = 'declined';
    expect(fingerprint(other)).toBe(fingerprint(base()));
  });

  const changes: Record<string, (e: CanonicalEvent) => void> = {
    summary: (e) => {
      e.summary = 'Weekly sync!';
    },
    description: (e) => {
      e.description = 'Agenda:\n- other';
    },
    location: (e) => {
      e.location = 'Room 102';
    },
    attendees: (e) => {
      e.attendees[0].rsvp = 'declined';
    },
    reminders: (e) => {
      e.reminders = [15];
    },
    visibility: (e) => {
      e.visibility = 'private';
    },
    conference: (e) => {
      e.conferenceUrl = 'https://vc.example.com/j/2';
    },
    start: (e) => {
      e.start = { timestamp: 1_767_250_900, timeZone: 'Asia/Shanghai' };
    },
    end: (e) => {
      e.end = { timestamp: 1_767_254_500, timeZone: 'Asia/Shanghai' };
    },
    zone: (e) => {
      e.start = { timestamp: 1_767_250_800, timeZone: 'Europe/Berlin' };
    },
    allDay: (e) => {
      e.start = { date: '2026-01-01' };
      e.end = { date: '2026-01-02' };
    },
    recurrence: (e) => {
      e.recurrence = ['RRULE:FREQ=WEEKLY;BYDAY=TU'];
    },
    status: (e) => {
      e.status = 'cancelled';
    },
    freeBusy: (e) => {
      e.freeBusy = 'free';
    },
  };

  for (const [field, change] of Object.entries(changes)) {
    it(`changes when ${field} changes`, () => {
      const ev = base();
      const edited = structuredClone(ev);
      change(edited);
      expect(fingerprint(edited)).not.toBe(fingerprint(ev));
    });
  }

  it('covers only the synced fields of a pair', () => {
    const ev = base();
    const edited = { ...structuredClone(ev), description: 'something else' };
    const withoutDescription = SYNC_FIELDS.filter((f) => f !== 'description');
    expect(fingerprint(edited, withoutDescription)).toBe(fingerprint(ev, withoutDescription));
    expect(fingerprint(edited)).not.toBe(fingerprint(ev));
  });
});

describe('fingerprint: the same thing however a provider writes it', () => {
  const at = (over: Partial<CanonicalEvent>) => fingerprint({ ...base(), ...over });

  it('an RRULE with parts in another order, INTERVAL=1, WKST=MO or parts implied by the start', () => {
    // base() starts on Thursday 2026-01-01 09:00 in Shanghai
    expect(at({ recurrence: ['RRULE:FREQ=WEEKLY;INTERVAL=1;BYDAY=MO;COUNT=17'] })).toBe(
      at({ recurrence: ['RRULE:COUNT=17;BYDAY=MO;FREQ=WEEKLY'] }),
    );
    expect(at({ recurrence: ['RRULE:FREQ=YEARLY'] })).toBe(
      at({ recurrence: ['RRULE:FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=1'] }),
    );
    expect(at({ recurrence: ['RRULE:FREQ=MONTHLY'] })).toBe(
      at({ recurrence: ['RRULE:FREQ=MONTHLY;BYMONTHDAY=1'] }),
    );
    expect(at({ recurrence: ['RRULE:FREQ=WEEKLY'] })).toBe(
      at({ recurrence: ['RRULE:FREQ=WEEKLY;BYDAY=TH;WKST=MO'] }),
    );
    expect(at({ recurrence: ['RRULE:FREQ=WEEKLY'] })).not.toBe(
      at({ recurrence: ['RRULE:FREQ=WEEKLY;BYDAY=FR'] }),
    );
  });

  it('a cancelled occurrence is only its status', () => {
    expect(at({ status: 'cancelled', summary: 'a' })).toBe(
      at({ status: 'cancelled', summary: 'b', attendees: [] }),
    );
  });

  it('an external attendee is the same person as a directory one with that address', () => {
    const [a] = base().attendees;
    expect(at({ attendees: [{ ...a, kind: 'external' }] })).toBe(at({ attendees: [a] }));
  });

  it('hashes exactly stableJson(normalized(ev)), the text links already hold hashes of', () => {
    const sha = (t: string) => createHash('sha256').update(t).digest('hex');
    const events: CanonicalEvent[] = [
      base(),
      { ...base(), status: 'cancelled' },
      { ...base(), start: { date: '2026-01-01' }, end: { date: '2026-01-02' }, recurrence: [] },
      {
        ...base(),
        conferenceUrl: undefined,
        attendees: [
          { kind: 'person', name: '  Ann  Lee ', rsvp: 'tentative', optional: true },
          { kind: 'room', email: 'R1@Example.com', rsvp: 'declined' },
          { kind: 'external', id: 'ou_1', rsvp: undefined as any },
        ],
        reminders: [30, 5, 30],
        recurrence: ['RRULE:FREQ=MONTHLY;INTERVAL=1', 'EXDATE;TZID=Asia/Shanghai:20260201T090000'],
      },
    ];
    for (const ev of events)
      for (const fields of [SYNC_FIELDS, ['summary'] as const, [] as const])
        expect(fingerprint(ev, fields)).toBe(sha(stableJson(normalized(ev, fields))));
  });
});
