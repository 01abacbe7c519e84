import type { BridgeError, CanonicalEvent, InstanceKey, Provider, Rsvp } from '../core/index.ts';
import type { ChangeFeed } from './feed.ts';
import type { SeriesReader } from './series.ts';

/** A calendar on some provider: its owner (Feishu open_id, Google user e-mail, Graph mailbox) and id. */
export interface CalendarRef {
  owner: string;
  /** Provider calendar id; `primary` is accepted by every connector for the owner's main calendar. */
  id: string;
}

/** A written or read event on a provider: its id there and its version mark (etag, changeKey). */
export interface RemoteRef {
  id: string;
  version?: string;
}

/** Where an event Feisync wrote came from; stored inside the event (Google private extended
 * property, Graph single-value extended property) so lost links can be rebuilt. */
export interface OriginTag {
  /** The sync pair id. */
  pair: string;
  /** The instance key string `uid_originalTime` of the source event. */
  key: string;
}

export interface RemoteEvent {
  ref: RemoteRef;
  event: CanonicalEvent;
  /** The origin tag found on the event, if Feisync wrote it. */
  tag?: OriginTag;
  /** For an exception (an instance of a series): the id of its series master on this provider. */
  parent?: string;
  /** The provider's iCalendar UID (Google `iCalUID`, Graph `iCalUId`), for adopting an event that
   * already exists under the same UID; an exception carries its series' UID. */
  icalUid?: string;
  /**
   * The calendar owner's own answer when the owner is an attendee of this copy but not its organizer
   * (Google's `self` attendee, Graph `responseStatus`); absent on the owner's own events.
   */
  selfRsvp?: Rsvp;
  /** What the connector had to change to read the event (e.g. an RFC 7529 rule made plain). */
  note?: string;
  /**
   * Listed without its attendees (`ListOptions.attendees: 'defer'`): `event.attendees` is empty
   * because they were not read, not because there are none. `readAttendees` fills them in.
   */
  attendeesPending?: true;
}

export interface ListOptions {
  /**
   * `defer`: leave out the attendees where the listing does not carry them and reading them costs a
   * request per event (Feishu); such events come marked `attendeesPending`, for `readAttendees`
   * later. Events whose attendees are not synced at all, or not needed (a cancelled occurrence),
   * are never marked. Default `inline`: every event complete.
   */
  attendees?: 'inline' | 'defer';
}

export interface RemoteRemoval {
  ref: RemoteRef;
  /** The instance key, when the provider still says which one (Feishu does; Google and Graph may not). */
  key?: InstanceKey;
}

export interface ChangePage {
  upserts: RemoteEvent[];
  removals: RemoteRemoval[];
  /** Present on the last page only: the cursor to resume from next time. */
  cursor?: string;
  /** The stored cursor was refused as expired: drop it and do a full listing. No other field is set. */
  expired?: true;
}

export type WriteOp =
  | {
      op: 'create';
      event: CanonicalEvent;
      tag: OriginTag;
      /** For an exception (event.key.originalTime != 0): the series master on this provider. */
      parent?: RemoteRef;
    }
  | {
      op: 'update';
      ref: RemoteRef;
      event: CanonicalEvent;
      tag: OriginTag;
      parent?: RemoteRef;
      /**
       * The event's start, end and recurrence are those the copy was last written with (only other
       * fields changed): a connector may leave them out of the write. With `ref.version` set, a copy
       * changed since fails the precondition; without one, the sync accepts that a change of the
       * times made on the spoke stays. Absent: unknown.
       */
      timesKept?: true;
    }
  | { op: 'remove'; ref: RemoteRef };

/** A meeting room's answer on an event, as the copy shows it: the room attendee's address and RSVP. */
export interface RoomAnswer {
  /** The room's calendar address (Google resource e-mail, Exchange room mailbox). */
  room: string;
  answer: Rsvp;
}

export type WriteResult =
  | {
      ok: true;
      /** Absent for a remove. */
      ref?: RemoteRef;
      /** What the connector had to change to express the event (e.g. a widened recurrence). */
      note?: string;
      /**
       * The room attendees' answers as the written copy came back from the provider (no extra
       * request). Absent when the answer to the write did not carry the event (a remove, a create
       * found already written): the answers are then unknown, not empty.
       */
      rooms?: RoomAnswer[];
    }
  | { ok: false; error: BridgeError };

export interface WriteOptions {
  /** Send invitation mail to attendees (config `sync.invitations: send`). Default false. */
  notify?: boolean;
  /**
   * Set during a full pull (initial sync, expired cursor), to an id of that pull: copies may be on
   * the spoke that no link knows (a crash between a write and its link save). A connector whose
   * creates are not idempotent by id looks such copies up, once per pull and calendar.
   */
  fullPull?: string;
  /**
   * Writes that yield: while other writes wait for the same budget (a user's or project's window),
   * these go after them. The attendees stage of busy time first, so that the events themselves reach
   * the spokes at the spokes' own write rate.
   */
  background?: boolean;
  /**
   * Writes of the same run still to come to this calendar after these (Infinity while they are not
   * all known; read when needed). A connector whose owners share a quota spreads an owner's writes
   * over the windows they need instead of taking a whole window at once, leaving owners who come
   * later their share of it.
   */
  queued?: () => number;
}

export interface CalendarInfo {
  id: string;
  summary: string;
  primary: boolean;
  /** The calendar's owner can write it (only such calendars are synced by default). */
  writable: boolean;
  deleted?: boolean;
}

/** A bookable meeting room of the provider's directory (Google resource calendar, Graph room). */
export interface RoomInfo {
  /** The room's calendar address (Google `resourceEmail`, Graph room mailbox). */
  email: string;
  name: string;
  /** The provider's own id of the room. */
  id?: string;
  capacity?: number;
}

/** One event on a room's own calendar (an occurrence of a series is one entry). */
export interface RoomEntry {
  /** The event's id on the room's calendar (an instance id for an occurrence). */
  id: string;
  /** Unix seconds; all-day events from 00:00 UTC of their dates. */
  start: number;
  end: number;
  /**
   * The room's answer: `accepted` or `tentative` hold the room. An event written straight onto the
   * room's calendar (the room is its organizer) reads as `accepted`.
   */
  answer: Rsvp;
  /** Shown as free: does not hold the room whatever the answer. */
  free: boolean;
  summary: string;
  /** The organizer's address, when the provider says. */
  organizer?: string;
  /** The origin tag, when Feisync wrote the event onto the room's calendar itself. */
  tag?: OriginTag;
}

/**
 * Meeting-room bookings on a spoke (optional). A room is addressed by its calendar address (Google
 * resource e-mail, Exchange room mailbox). Two ways of booking use it: a room attendee on an event
 * Feisync mirrors (the provider books the room, and the room answers on that event: `answer`), and a
 * booking event written straight onto the room's calendar with `write(calendar(room), ...)`, after
 * checking with `agenda` that nothing else holds the room then (the provider does not check writes
 * onto a room's own calendar).
 */
export interface RoomAccess {
  /** The calendar through which `write` puts booking events onto the room's own calendar. */
  calendar(room: string): CalendarRef;
  /** What the room's calendar holds overlapping [from, to) (Unix seconds), series expanded. */
  agenda(room: string, from: number, to: number): Promise<RoomEntry[]>;
  /**
   * Several agendas at once, batched where the provider allows (one request per batch of rooms), in
   * order; one that could not be read is a BridgeError in its place. Optional: else `agenda` each.
   */
  agendas?(asks: { room: string; from: number; to: number }[]): Promise<(RoomEntry[] | BridgeError)[]>;
  /**
   * The room's answer on an event of `calendar` (as its organizer's copy shows it), or undefined when
   * the event is gone or does not name the room.
   */
  answer(calendar: CalendarRef, eventId: string, room: string): Promise<Rsvp | undefined>;
}

/** What a provider can hold; the sync core shapes events to it so that fingerprints compare. */
export interface Capabilities {
  /** Reminders per event (the smallest ones are kept). */
  maxReminders?: number;
  /** Visibilities it can express; others become `default`. */
  visibilities?: Array<'default' | 'public' | 'private'>;
  /** A series can only end on a date (Graph's endDate): UNTIL becomes the local date of the last occurrence. */
  untilAsDate?: boolean;
  /** Tentative and free/busy share one field (Graph's showAs): a tentative event reads back as busy. */
  tentativeIsBusy?: boolean;
  /**
   * The recurrence lines a series written as `ev` reads back with, where the provider cannot hold
   * every rule (Graph: a rule widened to a pattern, its extra occurrences deleted, or none at all when
   * the series had to be written as its first occurrence). Two-way pairs take such a copy's rule as
   * unchanged. Absent: the rule reads back as written.
   */
  heldRecurrence?: (ev: CanonicalEvent) => string[];
  /**
   * Ops one write request carries (Google's batch, Graph's `$batch`). Pulls and the attendees stage
   * gather this many writes per pair before writing, so their requests go full. Absent: writes go
   * at once.
   */
  writesPerRequest?: number;
}

export interface CalendarConnector {
  readonly kind: Provider;
  readonly capabilities?: Capabilities;
  /**
   * Full listing when `cursor` is null, else the changes since it. Pages come as they are read; the
   * last page carries the next cursor. An expired cursor yields one page with `expired: true`.
   */
  listChanges(calendar: CalendarRef, cursor: string | null, options?: ListOptions): AsyncIterable<ChangePage>;
  /**
   * The attendees of events listed with `attendees: 'defer'` (optional: only connectors that defer
   * implement it), read as cheaply as the provider allows, in the given order. Yields one result per
   * event, in order, in runs as they are read: the event with its attendees and without the mark;
   * the event as given, still marked, when it was deleted since it was listed (the next listing
   * reports it); a BridgeError in its place when its read failed. Reads go on while the caller
   * handles a run; leaving the loop stops them. Throws only when nothing could be tried (the
   * calendar itself).
   */
  readAttendees?(calendar: CalendarRef, events: RemoteEvent[]): AsyncIterable<(RemoteEvent | BridgeError)[]>;
  /**
   * Apply writes, batched where the provider allows. One result per op, in order; a failed op never
   * fails the others. A create retried after a crash finds the earlier event (idempotent by tag).
   * A remove of something already gone is a success.
   */
  write(calendar: CalendarRef, ops: WriteOp[], options?: WriteOptions): Promise<WriteResult[]>;
  /**
   * A run is about to write these calendars (`feisync sync`, before its pulls). A connector whose
   * quota their owners share keeps each of them a share from the start, instead of serving first
   * the owners whose writes are ready first (optional).
   */
  expectWrites?(calendars: CalendarRef[]): void;
  /** Calendars of one owner. */
  listCalendars(owner: string): Promise<CalendarInfo[]>;
  /** Meeting rooms of the directory, where the connector can read them (optional). */
  listRooms?(): Promise<RoomInfo[]>;
  /** Room bookings, where the connector supports them (optional; see RoomAccess). */
  readonly rooms?: RoomAccess;
  /**
   * Answers an invitation as the calendar's owner (RSVP): Feishu `POST .../events/:event_id/reply`
   * with the owner's user token (`ref` may name an occurrence, `{uid}_{original_time}`); Google a
   * patch of the owner's attendee entry; Graph `accept`/`decline`/`tentativelyAccept`. The organizer
   * hears of it only with `notify` (Google `sendUpdates`, Graph `sendResponse`; Feishu has no switch).
   * Answering an event the owner organizes, or is not invited to, fails. The result carries no ref.
   */
  reply?(
    calendar: CalendarRef,
    ref: RemoteRef,
    rsvp: Exclude<Rsvp, 'needs-action'>,
    options?: WriteOptions,
  ): Promise<WriteResult>;
  /** Push notifications of changes (spokes on two-way pairs; see ChangeFeed). */
  readonly feed?: ChangeFeed;
  /** Occurrences deleted from series, where the change feed cannot name them (see SeriesReader). */
  readonly series?: SeriesReader;
}
