/**
 * The one step with I/O: writes actions to a spoke through its connector and saves each link right
 * after its write. A failed write never stops the others; it is counted and kept on the link.
 */
import {
  BridgeError,
  type CanonicalEvent,
  fingerprint,
  formatKey,
  type InstanceKey,
  stableJson,
} from '../core/index.ts';
import type { CalendarConnector, Link, LinkStore, RemoteRef, WriteOp, WriteResult } from '../ports/index.ts';
import type { Pair, SyncPolicy } from './pair.ts';
import type { DeleteAction, WriteAction } from './plan.ts';
import type { PullDeps } from './pull.ts';
import type { RoomLedger } from './room-copies.ts';
import { type HolderAsk, recordRooms, releaseRooms, type WrittenCopy } from './room-records.ts';

export interface Counts {
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
  skipped: number;
  failed: number;
}

export const zeroCounts = (): Counts => ({
  created: 0,
  updated: 0,
  deleted: 0,
  unchanged: 0,
  skipped: 0,
  failed: 0,
});

export function addCounts(into: Counts, more: Counts): Counts {
  for (const k of Object.keys(into) as (keyof Counts)[]) into[k] += more[k];
  return into;
}

export interface Failure {
  key: string;
  kind: string;
  error: string;
}

/** A pair's writing context: its spoke's connector, and the policy as that spoke can hold it. */
export function applyContext(
  pair: Pair,
  deps: Pick<PullDeps, 'spokes' | 'store' | 'policy' | 'attendeeFor' | 'rooms'>,
): ApplyContext {
  const connector = deps.spokes[pair.spoke];
  if (!connector) throw new Error(`no connector for spoke ${pair.spoke}`);
  return {
    pair,
    connector,
    store: deps.store,
    policy: { ...deps.policy, target: { ...connector.capabilities, attendee: deps.attendeeFor?.(pair) } },
    counts: zeroCounts(),
    failures: [],
    rooms: deps.rooms,
  };
}

export interface ApplyContext {
  pair: Pair;
  connector: CalendarConnector;
  store: LinkStore;
  policy: SyncPolicy;
  counts: Counts;
  failures: Failure[];
  /** Where the rooms of written copies are recorded (none: not recorded). */
  rooms?: RoomLedger;
  /** Declined rooms whose holders are named at the end of the pull or stage (room-records.ts). */
  holders?: HolderAsk[];
  /** The id of the full pull these writes belong to (see WriteOptions.fullPull); unset when incremental. */
  fullPull?: string;
  /** Writes that yield to others of the same budget (see WriteOptions.background). */
  background?: boolean;
  /** Writes of this run still to come to the pair after those being written (see WriteOptions.queued). */
  queued?: () => number;
}

/** Writes creates and updates; `links` (keyed `uid_originalTime`) is updated with the new refs. */
export async function applyWrites(
  ctx: ApplyContext,
  actions: WriteAction[],
  links: Map<string, Link>,
): Promise<void> {
  if (actions.length === 0) return;
  const tag = (key: InstanceKey) => ({ pair: ctx.pair.id, key: formatKey(key) });
  const parentOf = (key: InstanceKey): RemoteRef | undefined => {
    if (key.originalTime === 0) return undefined;
    const master = links.get(formatKey({ uid: key.uid, originalTime: 0 }));
    return master?.spokeId && !master.tombstone ? ref(ctx, master) : undefined;
  };
  const ready: WriteAction[] = [];
  for (const a of actions) {
    if (a.key.originalTime === 0 || parentOf(a.key)) ready.push(a);
    // a cancelled occurrence of a series the spoke does not have (deleted, or never synced): nothing to cancel
    else if (a.event.status === 'cancelled') ctx.counts.skipped += 1;
    else fail(ctx, a.key, new BridgeError('not_found', 'series master is not on the spoke'));
  }
  const ops: WriteOp[] = ready.map((a) =>
    a.kind === 'create'
      ? { op: 'create', event: a.event, tag: tag(a.key), parent: parentOf(a.key) }
      : {
          op: 'update',
          ref: ref(ctx, a.link),
          event: a.event,
          tag: tag(a.key),
          parent: parentOf(a.key),
          ...(timesKept(ctx, a) ? { timesKept: true as const } : {}),
        },
  );
  const results = await write(ctx, ops);
  // A second chance for an update whose copy was deleted on the spoke: create it again.
  const retry = new Map<WriteAction, WriteOp>();
  ready.forEach((a, i) => {
    const r = results[i];
    if (a.kind === 'update' && !r.ok && r.error.kind === 'not_found')
      retry.set(a, { op: 'create', event: a.event, tag: tag(a.key), parent: parentOf(a.key) });
  });
  const second = retry.size ? await write(ctx, [...retry.values()]) : [];
  const secondOf = new Map([...retry.keys()].map((a, j) => [a, second[j]]));
  const rows: Link[] = [];
  const written: WrittenCopy[] = [];
  ready.forEach((a, i) => {
    const recreated = retry.get(a)?.op === 'create';
    const r = secondOf.get(a) ?? results[i];
    rows.push(linkAfter(ctx, a, r, links, recreated || a.kind === 'create' ? 'created' : 'updated'));
    if (r.ok) {
      const copyId = r.ref?.id ?? a.link?.spokeId ?? null;
      written.push({ source: a.source, copy: a.event, copyId, answers: r.rooms, replaced: !!a.link });
    }
  });
  await ctx.store.save(rows);
  // the rooms' answers came with the writes: recording them asks the spoke nothing more
  await recordRooms(ctx, written);
}

function linkAfter(
  ctx: ApplyContext,
  a: WriteAction,
  r: WriteResult,
  links: Map<string, Link>,
  counted: 'created' | 'updated',
): Link {
  const k = formatKey(a.key);
  const previous = links.get(k) ?? a.link;
  let row: Link;
  if (r.ok) {
    ctx.counts[counted] += 1;
    row = {
      ...(previous ?? emptyLink(ctx.pair.id, a.key)),
      spokeId: r.ref?.id ?? previous?.spokeId ?? null,
      spokeVersion: r.ref?.version ?? null,
      feishuFingerprint: a.fingerprint,
      spokeFingerprint: a.fingerprint,
      tombstone: false,
      note: r.note ?? null,
      lastError: null,
      lastSyncedAt: new Date(),
      // a copy written with what Feishu has now has its attendees, unless they were left for later
      attendeesPending: a.attendeesPending ?? false,
    };
    // two-way pairs keep what both sides now agree on: the base of the next three-way merge
    if (ctx.pair.direction === 'two-way') row.base = JSON.stringify(a.event);
  } else if (r.error.kind === 'precondition' && ctx.pair.direction === 'two-way') {
    // edited on the spoke since our last write: the reverse pull merges both sides (not a failure)
    ctx.counts.skipped += 1;
    row = { ...(previous ?? emptyLink(ctx.pair.id, a.key)) };
  } else {
    fail(ctx, a.key, r.error);
    row = { ...(previous ?? emptyLink(ctx.pair.id, a.key)), lastError: describeError(r.error) };
  }
  links.set(k, row);
  return row;
}

/** Removes spoke copies; a removed series master takes its exceptions' links with it. */
export async function applyDeletes(
  ctx: ApplyContext,
  actions: DeleteAction[],
  links: Map<string, Link>,
): Promise<void> {
  if (actions.length === 0) return;
  const results = await write(
    ctx,
    actions.map((a) => ({ op: 'remove', ref: ref(ctx, a.link) })),
  );
  const rows: Link[] = [];
  const goneSeries = new Set<string>();
  actions.forEach((a, i) => {
    const r = results[i];
    if (r.ok) {
      ctx.counts.deleted += 1;
      rows.push({ ...a.link, tombstone: true, lastError: null, lastSyncedAt: new Date() });
      if (a.key.originalTime === 0) goneSeries.add(a.key.uid);
    } else {
      fail(ctx, a.key, r.error);
      rows.push({ ...a.link, lastError: describeError(r.error) });
    }
  });
  if (goneSeries.size) {
    const more = await ctx.store.byUids(ctx.pair.id, [...goneSeries]);
    for (const l of more.values())
      if (l.originalTime !== 0 && !l.tombstone) rows.push({ ...l, tombstone: true });
  }
  for (const r of rows) links.set(formatKey(r), r);
  await ctx.store.save(rows);
  const removed = rows.filter((r) => r.tombstone);
  await releaseRooms(ctx, removed);
}

/**
 * Removes spoke copies that no link stands for (a duplicate, or a stray found by its origin tag):
 * links are left as they are. A copy already gone counts as removed.
 */
export async function removeCopies(
  ctx: ApplyContext,
  copies: { key: InstanceKey; ref: RemoteRef }[],
): Promise<void> {
  if (copies.length === 0) return;
  const results = await write(
    ctx,
    copies.map((c) => ({ op: 'remove', ref: c.ref })),
  );
  results.forEach((r, i) => {
    if (r.ok) ctx.counts.deleted += 1;
    else fail(ctx, copies[i].key, r.error);
  });
}

async function write(ctx: ApplyContext, ops: WriteOp[]): Promise<WriteResult[]> {
  try {
    return await ctx.connector.write(ctx.pair.target, ops, {
      notify: ctx.policy.invitations === 'send',
      ...(ctx.fullPull ? { fullPull: ctx.fullPull } : {}),
      ...(ctx.background ? { background: true } : {}),
      ...(ctx.queued ? { queued: ctx.queued } : {}),
    });
  } catch (e) {
    // a connector should answer per op; if the whole call failed, every op failed the same way
    const error = e instanceof BridgeError ? e : new BridgeError('transient', String(e), { cause: e });
    return ops.map(() => ({ ok: false, error }));
  }
}

/**
 * Whether an update keeps the start, end and recurrence its copy was last written with: two-way
 * pairs compare with the merge base; a copy written without its attendees (busy time first) and
 * waiting for them, when nothing but the attendees differs from what was written.
 */
function timesKept(ctx: ApplyContext, a: WriteAction): boolean {
  const l = a.link;
  if (a.kind !== 'update' || !l) return false;
  const times = (e: CanonicalEvent) => stableJson([e.start, e.end, e.recurrence]);
  if (l.base) {
    try {
      return times(JSON.parse(l.base)) === times(a.event);
    } catch {
      return false;
    }
  }
  return (
    !!l.attendeesPending &&
    fingerprint({ ...a.event, attendees: [] }, ctx.policy.fields) === l.feishuFingerprint
  );
}

function fail(ctx: ApplyContext, key: InstanceKey, error: BridgeError) {
  ctx.counts.failed += 1;
  ctx.failures.push({ key: formatKey(key), kind: error.kind, error: describeError(error) });
}

const describeError = (e: BridgeError) =>
  `${e.kind}: ${e.message}${e.requestId ? ` (request ${e.requestId})` : ''}`;

/**
 * A copy as a write names it. Its version (the precondition of an update) only on two-way pairs,
 * where an edit made on the spoke is merged: on a one-way pair Feishu wins, so a precondition would
 * only cost a refusal and a second write (and an exception written would make its master's stored
 * version stale, Exchange's included).
 */
const ref = (ctx: ApplyContext, l: Link): RemoteRef =>
  ctx.pair.direction === 'two-way' && l.spokeVersion
    ? { id: l.spokeId!, version: l.spokeVersion }
    : { id: l.spokeId! };

export function emptyLink(pairId: string, key: InstanceKey): Link {
  return {
    pairId,
    uid: key.uid,
    originalTime: key.originalTime,
    spokeId: null,
    spokeVersion: null,
    feishuFingerprint: null,
    spokeFingerprint: null,
    tombstone: false,
    note: null,
    lastError: null,
    lastSyncedAt: null,
  };
}

export type { CanonicalEvent };
