/**
 * Three-way merge of one event, field by field, for two-way pairs. Pure.
 *
 * The three versions are in the pair's projection (what the spoke holds: `project`): the base is the
 * version both sides last agreed on (kept on the link), `feishu` the Feishu event projected now,
 * `spoke` the spoke copy as read now. A field changed on one side only takes that side's value; a
 * field changed on both sides to different values is a conflict, settled by the pair's policy
 * (`sync.conflicts`), or held for review (`report`). Without a base, every field the two sides
 * disagree on is a conflict.
 */

import type { SyncField } from '../core/index.ts';
import { type CanonicalEvent, normalized, stableJson } from '../core/index.ts';

export type ConflictPolicy = 'feishu-wins' | 'spoke-wins' | 'newest-wins' | 'report';

/** The units a merge compares: the optional synced fields, plus what always counts. */
export const MERGE_FIELDS = [
  'summary',
  'description',
  'location',
  'time',
  'recurrence',
  'status',
  'freeBusy',
  'visibility',
  'attendees',
  'reminders',
  'conference',
] as const;
export type MergeField = (typeof MERGE_FIELDS)[number];

const ALWAYS: readonly MergeField[] = ['time', 'recurrence', 'status', 'freeBusy'];

export interface FieldConflict {
  field: MergeField;
  /** Normalized values (JSON text), for reports. */
  base?: string;
  feishu: string;
  spoke: string;
  /** Which side the policy chose; absent when held (`report`). */
  winner?: 'feishu' | 'spoke';
}

export interface MergeResult {
  /** The merged event (Feishu's, with the fields the merge takes from the spoke). */
  event: CanonicalEvent;
  /** Fields whose merged value differs from Feishu's: Feishu must be written. */
  toFeishu: MergeField[];
  /** Fields whose merged value differs from the spoke's: the spoke copy must be written. */
  toSpoke: MergeField[];
  conflicts: FieldConflict[];
  /** `report` met a conflict: nothing may be written until it is resolved. */
  held: boolean;
}

/** The fields of the pair (config `sync.fields`) that take part, in a fixed order. */
export function mergeFields(fields: readonly SyncField[]): MergeField[] {
  return MERGE_FIELDS.filter((f) => ALWAYS.includes(f) || (fields as readonly string[]).includes(f));
}

/** One field's normalized value as text (formatting a provider changes does not count). */
export function fieldValue(ev: CanonicalEvent, field: MergeField): string {
  if (field === 'status') return ev.status;
  // a cancelled occurrence normalizes to its status alone: compare its content as if it were not
  const n = normalized({ ...ev, status: 'confirmed' });
  if (field === 'time') return stableJson([n.start, n.end]);
  return stableJson(n[field]);
}

/** Copies one field from `from` onto `into`. */
export function setField(into: CanonicalEvent, from: CanonicalEvent, field: MergeField): void {
  switch (field) {
    case 'time':
      into.start = from.start;
      into.end = from.end;
      return;
    case 'conference':
      into.conferenceUrl = from.conferenceUrl;
      return;
    case 'attendees':
      into.attendees = from.attendees.map((a) => ({ ...a }));
      return;
    case 'recurrence':
      into.recurrence = [...from.recurrence];
      return;
    case 'reminders':
      into.reminders = [...from.reminders];
      return;
    default:
      (into as unknown as Record<string, unknown>)[field] = from[field];
  }
}

export function merge(
  base: CanonicalEvent | undefined,
  feishu: CanonicalEvent,
  spoke: CanonicalEvent,
  policy: ConflictPolicy,
  fields: readonly MergeField[] = MERGE_FIELDS,
): MergeResult {
  const event: CanonicalEvent = { ...feishu, attendees: feishu.attendees.map((a) => ({ ...a })) };
  const toFeishu: MergeField[] = [];
  const toSpoke: MergeField[] = [];
  const conflicts: FieldConflict[] = [];
  let held = false;
  for (const f of fields) {
    const x = fieldValue(feishu, f);
    const y = fieldValue(spoke, f);
    if (x === y) continue;
    const b = base ? fieldValue(base, f) : undefined;
    let take: 'feishu' | 'spoke';
    if (b === x) take = 'spoke';
    else if (b === y) take = 'feishu';
    else {
      const c: FieldConflict = { field: f, feishu: x, spoke: y, ...(b !== undefined ? { base: b } : {}) };
      conflicts.push(c);
      if (policy === 'report') {
        held = true;
        continue;
      }
      take = winner(policy, feishu, spoke);
      c.winner = take;
    }
    if (take === 'spoke') {
      setField(event, spoke, f);
      toFeishu.push(f);
    } else toSpoke.push(f);
  }
  if (held) return { event: feishu, toFeishu: [], toSpoke: [], conflicts, held };
  return { event, toFeishu, toSpoke, conflicts, held };
}

function winner(policy: ConflictPolicy, feishu: CanonicalEvent, spoke: CanonicalEvent): 'feishu' | 'spoke' {
  if (policy === 'spoke-wins') return 'spoke';
  if (policy === 'newest-wins') return (spoke.updatedAt ?? 0) > (feishu.updatedAt ?? 0) ? 'spoke' : 'feishu';
  return 'feishu';
}
