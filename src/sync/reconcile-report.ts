/** What a reconciliation is given and what it answers, per pair. */
import type { Counts, Failure } from './apply.ts';
import type { Pair } from './pair.ts';
import type { describe } from './plan.ts';
import type { PullDeps } from './pull.ts';

export interface ReconcileDeps extends Omit<PullDeps, 'onProgress'> {
  /** Called after each Feishu page with the events seen so far on that calendar. */
  onProgress?: (p: { calendar: string; events: number }) => void;
}

export interface ReconcileOptions {
  /** false (`--dry-run`, `reconcile.repair: false`): judge and report, write nothing. */
  repair: boolean;
}

/** Parity of one pair before repair. `extra` counts strays and duplicates (duplicates also alone). */
export interface PairParity {
  expected: number;
  found: number;
  missing: number;
  extra: number;
  duplicates: number;
  differing: number;
  /** Links missing or pointing elsewhere, rebuilt from origin tags. */
  relinked: number;
  /** Two-way pairs: copies deleted or changed on the spoke (counted in missing/differing), left for the reverse sync. */
  leftForReverse: number;
  /** Events on the spoke calendar without an origin tag (counted on its first pair only). */
  untagged: number;
  /** Up to 20 examples of each kind of difference (instance key and what about it). */
  examples: { missing: string[]; extra: string[]; differing: string[] };
}

export interface PairReconcile {
  pair: Pair;
  parity: PairParity;
  /** Writes made (or, without repair, that would be made). */
  counts: Counts;
  failures: Failure[];
  /** Why judging or deleting was held back, if it was. */
  held?: string;
  /** Without repair: the repairs that would be made. */
  plan?: ReturnType<typeof describe>;
}

export const emptyPairParity = (): PairParity => ({
  expected: 0,
  found: 0,
  missing: 0,
  extra: 0,
  duplicates: 0,
  differing: 0,
  relinked: 0,
  leftForReverse: 0,
  untagged: 0,
  examples: { missing: [], extra: [], differing: [] },
});

export function note(p: PairParity, kind: keyof PairParity['examples'], example: string) {
  p[kind] += 1;
  if (p.examples[kind].length < 20) p.examples[kind].push(example);
}
