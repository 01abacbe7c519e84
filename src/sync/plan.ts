/**
 * Orders and guards the actions of a run. Pure.
 * - Series masters and single events are written before exceptions, which need their master's id.
 * - Deletes wait for the end of the run, then pass the guards: nothing is deleted after an empty or
 *   failed read, and a run that would delete more than `max_deletes_per_run` deletes nothing.
 */
import type { Action } from './diff.ts';

export type WriteAction = Extract<Action, { kind: 'create' | 'update' }>;
export type DeleteAction = Extract<Action, { kind: 'delete' }>;

export function waves(actions: Action[]): {
  masters: WriteAction[];
  exceptions: WriteAction[];
  deletes: DeleteAction[];
} {
  const masters: WriteAction[] = [];
  const exceptions: WriteAction[] = [];
  const deletes: DeleteAction[] = [];
  for (const a of actions) {
    if (a.kind === 'delete') deletes.push(a);
    else if (a.kind === 'create' || a.kind === 'update')
      (a.key.originalTime === 0 ? masters : exceptions).push(a);
  }
  return { masters, exceptions, deletes };
}

export type DeleteVerdict = { ok: true } | { ok: false; reason: string };

export function guardDeletes(
  count: number,
  read: { complete: boolean; sawAny: boolean; full: boolean },
  budget: { remaining: number },
  cap: number,
): DeleteVerdict {
  if (count === 0) return { ok: true };
  if (!read.complete)
    return { ok: false, reason: `${count} delete(s) held: the Feishu read did not complete` };
  if (read.full && !read.sawAny)
    return { ok: false, reason: `${count} delete(s) held: the Feishu listing was empty` };
  if (count > budget.remaining) {
    return {
      ok: false,
      reason: `${count} delete(s) held: more than max_deletes_per_run (${cap}) allows; check Feishu, then raise the limit or run again`,
    };
  }
  return { ok: true };
}

/** Human summary of a plan, for --dry-run. */
export function describe(actions: Action[]): { kind: Action['kind']; key: string; reason: string }[] {
  return actions
    .filter((a) => a.kind !== 'unchanged')
    .map((a) => ({ kind: a.kind, key: `${a.key.uid}_${a.key.originalTime}`, reason: a.reason }));
}
