import type { Attendee, CanonicalEvent, SyncField } from '../core/index.ts';
import type { CalendarRef, Capabilities } from '../ports/index.ts';

export type Spoke = 'google' | 'graph';

/** One Feishu calendar mirrored to one spoke calendar. */
export interface Pair {
  id: string;
  /** The config user it belongs to. */
  userKey: string;
  feishu: CalendarRef;
  spoke: Spoke;
  target: CalendarRef;
  direction: 'one-way' | 'two-way';
}

export interface SyncPolicy {
  fields: readonly SyncField[];
  privateEvents: 'copy' | 'busy-only' | 'skip';
  invitations: 'none' | 'send';
  maxDeletesPerRun: number;
  /** Events entirely outside [from, to) (Unix seconds) are not mirrored. */
  window: { from: number; to: number };
  /** The pair's spoke: what it can hold, and how Feishu attendees are known there. */
  target?: Capabilities & {
    /**
     * The attendee of `event` as the spoke knows it (mapped user's address, room mailbox), or
     * undefined to leave it out.
     */
    attendee?: (a: Attendee, event: CanonicalEvent) => Attendee | undefined;
  };
}
