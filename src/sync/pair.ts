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
  /**
   * Two-way pairs: the conflict policy of this pair when it differs from sync.conflicts (a migrated
   * user's pair to their target spoke: the spoke is the source of truth, `spoke-wins`).
   */
  conflicts?: 'feishu-wins' | 'spoke-wins' | 'newest-wins' | 'report';
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
