/**
 * The spoke side of a reconciliation: every copy Feisync wrote to one spoke calendar, found by its
 * origin tag and sorted by pair and instance key, kept small (ids, fingerprint, field digests) so a
 * large calendar fits in memory. Events without a tag (not written by Feisync) are only counted.
 */
import { type CanonicalEvent, fingerprint, formatKey, type InstanceKey, parseKey } from '../core/index.ts';
import type { CalendarConnector, CalendarRef, Link, RemoteEvent, RoomAnswer } from '../ports/index.ts';
import type { SyncPolicy } from './pair.ts';
import { fieldDigest } from './parity.ts';
import { inWindow } from './project.ts';

export interface Copy {
  id: string;
  version?: string;
  key: InstanceKey;
  fingerprint: string;
  /** Field digests (see fieldDigest), to name what differs. */
  fields: string;
  /** For an exception: the id of its series master on the spoke. */
  parent?: string;
  /** Within the sync window: outside it, nothing is judged or repaired. */
  inWindow: boolean;
  /** The rooms' answers on the copy, when it names rooms (their bookings are recorded from them). */
  rooms?: RoomAnswer[];
}

export interface SpokeCopies {
  /** pair id -> instance key string -> the copies carrying that tag (more than one: duplicates). */
  byPair: Map<string, Map<string, Copy[]>>;
  /** Events in the window with no origin tag: not written by Feisync, never touched. */
  untagged: number;
  /** Events tagged by a pair that is not part of this run (another user's, a retired pair's). */
  foreign: number;
  /** The read failed (nothing may be judged from it). */
  error?: string;
}

/**
 * The key a copy stands for. An instance that carries its series master's tag (a provider may copy
 * the master's properties to an occurrence edited on the spoke) stands for its own occurrence.
 */
export function copyKey(r: RemoteEvent & { tag: NonNullable<RemoteEvent['tag']> }): InstanceKey {
  let key: InstanceKey;
  try {
    key = parseKey(r.tag.key);
  } catch {
    return r.event.key;
  }
  if (key.originalTime === 0 && r.event.key.originalTime !== 0 && r.event.key.uid === key.uid)
    return r.event.key;
  return key;
}

/** Reads the whole spoke calendar (full listing); never throws: a failure is in `error`. */
export async function readCopies(
  connector: CalendarConnector,
  target: CalendarRef,
  pairIds: Set<string>,
  policy: SyncPolicy,
): Promise<SpokeCopies> {
  const out: SpokeCopies = { byPair: new Map(), untagged: 0, foreign: 0 };
  for (const id of pairIds) out.byPair.set(id, new Map());
  try {
    for await (const page of connector.listChanges(target, null)) {
      if (page.expired) throw new Error('the full listing was refused as expired');
      for (const r of page.upserts) {
        const within = inWindow(r.event, policy.window);
        if (!r.tag) {
          if (within) out.untagged += 1;
          continue;
        }
        const mine = out.byPair.get(r.tag.pair);
        if (!mine) {
          if (within) out.foreign += 1;
          continue;
        }
        const key = copyKey(r as RemoteEvent & { tag: NonNullable<RemoteEvent['tag']> });
        const k = formatKey(key);
        const copy = toCopy(r, key, within, policy);
        const list = mine.get(k);
        if (list) list.push(copy);
        else mine.set(k, [copy]);
      }
    }
  } catch (e) {
    out.error = e instanceof Error ? e.message : String(e);
  }
  return out;
}

function toCopy(r: RemoteEvent, key: InstanceKey, within: boolean, policy: SyncPolicy): Copy {
  const event: CanonicalEvent = r.event;
  const c: Copy = {
    id: r.ref.id,
    key,
    fingerprint: fingerprint(event, policy.fields),
    fields: fieldDigest(event, policy),
    inWindow: within,
  };
  if (r.ref.version) c.version = r.ref.version;
  if (r.parent) c.parent = r.parent;
  const rooms = event.attendees.filter((a) => a.kind === 'room' && a.email);
  if (rooms.length) c.rooms = rooms.map((a) => ({ room: a.email!, answer: a.rsvp }));
  return c;
}

/**
 * Which copy of an instance to keep, the others being duplicates: the linked one, else (for an
 * exception) one under the kept series master, else one already equal to what is expected, else the
 * first listed.
 */
export function choose(
  copies: Copy[],
  link: Link | undefined,
  expected: string,
  master?: string,
): { keep?: Copy; rest: Copy[] } {
  if (copies.length === 0) return { rest: [] };
  const linked = link && !link.tombstone ? link.spokeId : null;
  const under = master ? copies.filter((c) => c.parent === master) : [];
  const pool = under.length ? under : copies;
  const keep = pool.find((c) => c.id === linked) ?? pool.find((c) => c.fingerprint === expected) ?? pool[0];
  return { keep, rest: copies.filter((c) => c !== keep) };
}
