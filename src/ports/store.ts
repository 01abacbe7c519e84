import type { InstanceKey } from '../core/index.ts';

/** A row of the mapping table: one Feishu instance on one pair. */
export interface Link {
  pairId: string;
  uid: string;
  originalTime: number;
  spokeId: string | null;
  spokeVersion: string | null;
  /** Fingerprint of what was last written to the spoke (the Feishu side projected for the pair). */
  feishuFingerprint: string | null;
  /** Fingerprint of the spoke copy when last seen. */
  spokeFingerprint: string | null;
  tombstone: boolean;
  note: string | null;
  /**
   * Two-way pairs: the last synced version of the event as the pair projects it (canonical JSON),
   * the base of a three-way merge. Absent on links written before it was kept.
   */
  base?: string | null;
  /**
   * The copy was written without its attendees (busy time first) and waits for them. Absent: a
   * save keeps what the row had.
   */
  attendeesPending?: boolean;
  lastError: string | null;
  lastSyncedAt: Date | null;
}

export interface CursorWrite {
  pairId: string;
  side: 'feishu' | 'spoke';
  /** null drops the cursor (the next pull is a full one). */
  value: string | null;
}

export interface LinkStore {
  /** Links of the pair for these uids (every instance of each series), keyed `uid_originalTime`. */
  byUids(pairId: string, uids: string[]): Promise<Map<string, Link>>;
  /** Saves links (insert or update by pair + key) and cursors, in one transaction. */
  save(links: Link[], cursors?: CursorWrite[]): Promise<void>;
  /** Keys of the pair's live (not tombstoned) links, in chunks. */
  liveKeys(pairId: string, chunk?: number): AsyncIterable<InstanceKey[]>;
  cursor(pairId: string, side: 'feishu' | 'spoke'): Promise<string | null>;
  /** Links of the pair whose spoke copy has one of these ids, keyed by spoke id. */
  bySpokeIds(pairId: string, ids: string[]): Promise<Map<string, Link>>;
  /** How many live links of each pair wait for their attendees (`attendeesPending`). */
  pendingAttendees(pairIds: string[]): Promise<Map<string, number>>;
}
