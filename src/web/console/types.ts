/** What the console needs from `serve` beyond the database (which it reads through `readStatus`). */
import type { Resolution } from '../../app/pairs.ts';

/** One side's version of a conflicting event: the fields as that side has them. */
export interface ConflictVersion {
  /** feishu | google | exchange */
  side: string;
  fields: Record<string, string>;
}

/** A two-way conflict held for review (`sync.conflicts: report`). */
export interface ConflictView {
  id: string;
  user: string;
  /** The event's instance key (`uid_originalTime`). */
  key: string;
  summary?: string;
  detectedAt?: Date;
  /** Both (or all) versions, shown side by side. */
  versions: ConflictVersion[];
}

/**
 * The conflicts store of two-way sync, as the console uses it. Until one is passed in, the
 * Conflicts page says so and lists nothing.
 */
export interface ConflictsProvider {
  list(): Promise<ConflictView[]>;
  /** Settles a conflict by keeping one side's version. */
  resolve(id: string, keep: string): Promise<void>;
}

export interface ConsoleDeps {
  /** Users and pairs as last resolved by the worker. */
  resolution(): Resolution | undefined;
  /** Puts a failed job (dead letter) back on its queue. */
  retry(queue: string, id: string): Promise<void>;
  /** Starts a reconciliation now (does not wait for it). */
  reconcile(mode: 'dry-run' | 'repair'): Promise<void>;
  /** Whether a reconciliation started from the console is still running. */
  reconciling(): boolean;
  conflicts?: ConflictsProvider;
}
