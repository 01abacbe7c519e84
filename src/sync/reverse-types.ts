/** Shapes shared by the reverse (spoke -> Feishu) steps of two-way pairs. */
import type { Attendee, CanonicalEvent, InstanceKey, Rsvp } from '../core/index.ts';
import type { CalendarConnector, CalendarRef, LinkStore } from '../ports/index.ts';
import type { Counts, Failure } from './apply.ts';
import type { ConflictPolicy, FieldConflict } from './merge.ts';
import type { Pair, Spoke, SyncPolicy } from './pair.ts';
import type { ReverseAttendee } from './reverse-map.ts';

/** The Feishu connector as the reverse steps need it: writes, and one event read as its owner. */
export interface FeishuSide extends CalendarConnector {
  /** `deleted` when Feishu says so, undefined when the calendar has no such event. */
  getEvent(calendar: CalendarRef, eventId: string): Promise<CanonicalEvent | 'deleted' | undefined>;
}

export interface HeldConflict {
  pair: Pair;
  key: InstanceKey;
  conflicts: FieldConflict[];
  feishu: CanonicalEvent;
  spoke: CanonicalEvent;
  spokeId: string;
}

export interface ReverseDeps {
  feishu: FeishuSide;
  spokes: Partial<Record<Spoke, CalendarConnector>>;
  store: LinkStore;
  policy: SyncPolicy;
  conflicts: ConflictPolicy;
  /** Every active pair of a Feishu calendar (the fan-out reaches the others). */
  pairsOf(feishuCalendar: string): Pair[];
  /** How Feishu attendees are known on a pair's spoke (as in the forward sync). */
  attendeeFor?: (pair: Pair) => ((a: Attendee, event: CanonicalEvent) => Attendee | undefined) | undefined;
  /** How a spoke attendee is known in Feishu (mapped users and rooms; others by e-mail). */
  reverseAttendee?: (pair: Pair) => ReverseAttendee;
  /** Stores a conflict held by `report` (an open one for the same event is replaced). */
  hold?: (c: HeldConflict) => Promise<void>;
  /** Replies to a Feishu event as the calendar's owner (RSVP); absent: RSVPs are reported, not sent. */
  reply?: (calendar: CalendarRef, eventId: string, rsvp: Rsvp) => Promise<void>;
}

export interface ReverseCounts {
  /** Spoke changes that were our own writes coming back. */
  echoes: number;
  /** Feishu events written (created, updated, deleted, replied). */
  toFeishu: number;
  /** Spoke copies written back (merged Feishu changes, set back after a refusal, origin tags). */
  toSpoke: number;
  conflicts: number;
  refused: number;
  skipped: number;
  failed: number;
}

export const zeroReverse = (): ReverseCounts => ({
  echoes: 0,
  toFeishu: 0,
  toSpoke: 0,
  conflicts: 0,
  refused: 0,
  skipped: 0,
  failed: 0,
});

export interface PlanStep {
  kind: 'to-feishu' | 'create-in-feishu' | 'delete-in-feishu' | 'decline' | 'conflict' | 'to-spoke' | 'adopt';
  key: string;
  reason: string;
}

export interface ReverseRun {
  pair: Pair;
  deps: ReverseDeps;
  /** The pair's policy with its spoke's capabilities and attendee mapping. */
  policy: SyncPolicy;
  spoke: CalendarConnector;
  counts: ReverseCounts;
  /** What the fan-out to the other pairs of the Feishu calendar wrote. */
  fanout: Counts;
  failures: Failure[];
  /** Refusals of Feishu, reported once (the spoke copy was set back). */
  refusals: Failure[];
  dryRun: boolean;
  plan: PlanStep[];
}
