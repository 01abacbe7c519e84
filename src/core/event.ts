/**
 * The canonical event: one provider-neutral shape that every connector maps to and from.
 *
 * Times are exact. An all-day event carries calendar dates (`date`, end exclusive, as in RFC 5545
 * and Google); a timed event carries an instant (Unix seconds) plus the IANA zone it was written in.
 */

export type Provider = 'feishu' | 'google' | 'graph';

/** Feishu's instance identity: series uid plus the original start (Unix seconds) of an exception, else 0. */
export interface InstanceKey {
  uid: string;
  originalTime: number;
}

export type EventTime =
  /** All-day: a calendar date `YYYY-MM-DD`. As an end, exclusive (the day after the last day). */
  | { date: string }
  /** Timed: Unix seconds, plus the IANA zone the event is expressed in. */
  | { timestamp: number; timeZone: string };

export type Rsvp = 'needs-action' | 'accepted' | 'declined' | 'tentative';

export interface Attendee {
  /** person: a user of some directory; room: a meeting room; external: a bare e-mail address. */
  kind: 'person' | 'room' | 'external';
  email?: string;
  name?: string;
  /** The id of the person or room in the system the event came from (Feishu open_id, omm_ room id...). */
  id?: string;
  rsvp: Rsvp;
  optional?: boolean;
}

export interface Person {
  email?: string;
  name?: string;
  id?: string;
}

export interface CanonicalEvent {
  key: InstanceKey;
  summary: string;
  description: string;
  location: string;
  start: EventTime;
  end: EventTime;
  /**
   * Present on a series master only: RFC 5545 content lines, e.g. `RRULE:FREQ=WEEKLY;BYDAY=MO`,
   * `EXDATE;TZID=Asia/Shanghai:20250105T090000`, `RDATE;VALUE=DATE:20250110`.
   */
  recurrence: string[];
  /**
   * `cancelled` on an exception (originalTime != 0) is a cancelled occurrence. A whole event that is
   * gone is not an event but a removal (see ports).
   */
  status: 'confirmed' | 'tentative' | 'cancelled';
  visibility: 'default' | 'public' | 'private';
  freeBusy: 'busy' | 'free';
  organizer?: Person;
  attendees: Attendee[];
  /** Minutes before the start, one entry per reminder. */
  reminders: number[];
  conferenceUrl?: string;
  /** Which system the event was born in. */
  origin: Provider;
  /** Last modification in the source system, Unix seconds, when known (for newest-wins). */
  updatedAt?: number;
}

export const isAllDay = (t: EventTime): t is { date: string } => 'date' in t;

/** A new event with every optional field empty, for mappers and tests to fill. */
export function blankEvent(
  key: InstanceKey,
  start: EventTime,
  end: EventTime,
  origin: Provider,
): CanonicalEvent {
  return {
    key,
    summary: '',
    description: '',
    location: '',
    start,
    end,
    recurrence: [],
    status: 'confirmed',
    visibility: 'default',
    freeBusy: 'busy',
    attendees: [],
    reminders: [],
    origin,
  };
}
