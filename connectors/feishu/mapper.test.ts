import { describe, expect, it } from 'vitest';
import { blankEvent, type CanonicalEvent, fingerprint } from '../../src/core/index.ts';
import { type FeishuEvent, fromCanonical, toCanonical } from './mapper.ts';

/** Feishu -> canonical -> Feishu fields -> canonical: nothing lost. */
function roundTrip(f: FeishuEvent): { first: CanonicalEvent; second: CanonicalEvent } {
  const first = toCanonical(f);
  const { event, attendees } = fromCanonical(first);
  const back = {
    ...(event as any),
    event_id: f.event_id,
    is_exception: f.is_exception,
    attendees,
    create_time: f.create_time,
  };
  // Written attendees come back with their answers; copy the RSVP the way Feishu would keep it.
  back.attendees = attendees.map((a, i) => ({
    ...a,
    rsvp_status: f.attendees?.[i]?.rsvp_status,
    display_name: f.attendees?.[i]?.display_name,
  }));
  return { first, second: toCanonical(back) };
}

describe('feishu mapper', () => {
  it('maps a single timed event with all fields, and round-trips', () => {
    const f: FeishuEvent = {
      event_id: 'abc-1_0',
      summary: 'Planning',
      description: 'Agenda',
      start_time: { timestamp: '1767240000', timezone: 'Europe/Berlin' },
      end_time: { timestamp: '1767243600', timezone: 'Europe/Berlin' },
      location: { name: 'HQ', address: '1 Main St' },
      status: 'tentative',
      visibility: 'private',
      free_busy_status: 'free',
      event_organizer: { user_id: 'ou_alice', display_name: 'Alice' },
      attendees: [
        { type: 'user', user_id: 'ou_bob', rsvp_status: 'accept', display_name: 'Bob' },
        { type: 'resource', room_id: 'omm_1', rsvp_status: 'accept', display_name: 'Room' },
        { type: 'third_party', third_party_email: 'x@ext.com', rsvp_status: 'decline', is_optional: true },
        { type: 'chat', chat_id: 'oc_team', rsvp_status: 'needs_action' },
      ],
      reminders: [{ minutes: 15 }, { minutes: 60 }],
      vchat: { vc_type: 'third_party', meeting_url: 'https://meet.example.com/x' },
      create_time: '1767000000',
    };
    const c = toCanonical(f, { emailOf: (id) => (id === 'ou_bob' ? 'bob@example.com' : undefined) });
    expect(c).toMatchObject({
      key: { uid: 'abc-1', originalTime: 0 },
      summary: 'Planning',
      location: 'HQ, 1 Main St',
      start: { timestamp: 1767240000, timeZone: 'Europe/Berlin' },
      status: 'tentative',
      visibility: 'private',
      freeBusy: 'free',
      organizer: { id: 'ou_alice', name: 'Alice' },
      reminders: [15, 60],
      conferenceUrl: 'https://meet.example.com/x',
      origin: 'feishu',
      updatedAt: 1767000000,
    });
    expect(c.attendees).toEqual([
      { kind: 'person', id: 'ou_bob', email: 'bob@example.com', rsvp: 'accepted', name: 'Bob' },
      { kind: 'room', id: 'omm_1', rsvp: 'accepted', name: 'Room' },
      { kind: 'external', email: 'x@ext.com', rsvp: 'declined', optional: true },
      { kind: 'person', id: 'oc_team', rsvp: 'needs-action' },
    ]);
    const { first, second } = roundTrip({ ...f, status: 'confirmed', location: { name: 'HQ, 1 Main St' } });
    expect(fingerprint(second)).toBe(fingerprint(first));
  });

  it('converts the inclusive all-day end date to the exclusive canonical end and back', () => {
    const f: FeishuEvent = {
      event_id: 'day-1_0',
      summary: 'Offsite',
      start_time: { date: '2026-03-02', timezone: 'UTC' },
      end_time: { date: '2026-03-03', timezone: 'UTC' },
    };
    const c = toCanonical(f);
    expect(c.start).toEqual({ date: '2026-03-02' });
    expect(c.end).toEqual({ date: '2026-03-04' });
    expect(fromCanonical(c).event.end_time).toEqual({ date: '2026-03-03', timezone: 'UTC' });
    const { first, second } = roundTrip(f);
    expect(second).toEqual(first);
  });

  it('maps a recurring master: bare RRULE <-> RRULE: line', () => {
    const f: FeishuEvent = {
      event_id: 'series-1_0',
      start_time: { timestamp: '1767229200', timezone: 'Asia/Shanghai' },
      end_time: { timestamp: '1767231000', timezone: 'Asia/Shanghai' },
      recurrence: 'FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10',
    };
    const c = toCanonical(f);
    expect(c.recurrence).toEqual(['RRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10']);
    expect(fromCanonical(c).event.recurrence).toBe('FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10');
    const withExdate = { ...c, recurrence: [...c.recurrence, 'EXDATE;TZID=Asia/Shanghai:20260105T090000'] };
    expect(fromCanonical(withExdate).notes[0]).toContain('EXDATE');
    const { first, second } = roundTrip(f);
    expect(second).toEqual(first);
  });

  it('maps an exception: key from its event_id, no recurrence of its own', () => {
    const f: FeishuEvent = {
      event_id: 'series-1_1767315600',
      is_exception: true,
      recurring_event_id: 'series-1_0',
      summary: 'Moved',
      start_time: { timestamp: '1767319200', timezone: 'Asia/Shanghai' },
      end_time: { timestamp: '1767321000', timezone: 'Asia/Shanghai' },
    };
    const c = toCanonical(f);
    expect(c.key).toEqual({ uid: 'series-1', originalTime: 1767315600 });
    expect(c.recurrence).toEqual([]);
    expect(fromCanonical(c).event).not.toHaveProperty('recurrence');
    const { first, second } = roundTrip(f);
    expect(second).toEqual(first);
  });

  it('maps a cancelled occurrence to an exception with status cancelled', () => {
    const f: FeishuEvent = {
      event_id: 'series-1_1767402000',
      is_exception: true,
      recurring_event_id: 'series-1_0',
      status: 'cancelled',
      start_time: { timestamp: '1767402000', timezone: 'Asia/Shanghai' },
      end_time: { timestamp: '1767403800', timezone: 'Asia/Shanghai' },
    };
    const c = toCanonical(f);
    expect(c).toMatchObject({ key: { uid: 'series-1', originalTime: 1767402000 }, status: 'cancelled' });
    const blank = blankEvent(c.key, c.start, c.end, 'feishu');
    expect(fromCanonical(blank).event).toMatchObject({ start_time: { timestamp: '1767402000' } });
  });
});
