/**
 * The reverse pull of two-way pairs: one spoke calendar's changes (from its saved cursor; all of it
 * when there is none), each one sorted out against the links:
 * - our own write coming back (same version, or the fingerprint we last wrote or saw): dropped;
 * - a change of a linked copy, or a new exception of a linked series: merged and written;
 * - an event born on the spoke: adopted or created in Feishu, then on the other spokes;
 * - a linked copy deleted: deleted in Feishu (the owner organizes it) or declined;
 * - a removal no link knows (Graph names an occurrence deleted on its own by its instance id only):
 *   the linked series are asked which occurrences they lost (reverse-series.ts), as on reconcile.
 * Every pair sharing the spoke calendar is served by one read: a tagged event belongs to the pair its
 * tag names; an untagged one to the first pair of the group (the user's main calendar).
 */
import { type CanonicalEvent, fingerprint, formatKey, type InstanceKey, parseKey } from '../core/index.ts';
import type { Link, RemoteEvent } from '../ports/index.ts';
import { type Counts, type Failure, zeroCounts } from './apply.ts';
import type { Pair } from './pair.ts';
import { inWindow } from './project.ts';
import { applyChange } from './reverse-apply.ts';
import { comparable, withHeldRule } from './reverse-map.ts';
import { applyDeletedOccurrences } from './reverse-series.ts';
import { applyBorn, applyRemoval } from './reverse-spoke-events.ts';
import {
  type PlanStep,
  type ReverseCounts,
  type ReverseDeps,
  type ReverseRun,
  zeroReverse,
} from './reverse-types.ts';

export interface ReverseResult {
  pair: Pair;
  counts: ReverseCounts;
  fanout: Counts;
  failures: Failure[];
  refusals: Failure[];
  plan?: PlanStep[];
  full: boolean;
  cursorSaved: boolean;
  /** The read failed: nothing was judged from it. */
  error?: string;
}

export interface ReverseOptions {
  full?: boolean;
  dryRun?: boolean;
  /**
   * Reconciliation: after a complete full listing, a linked copy that is no longer there (a delete
   * whose notification and delta were lost) counts as deleted on the spoke. Only for links whose last
   * synced version lies in the window, never after an empty listing, and at most max_deletes_per_run.
   */
  absentAreDeleted?: boolean;
}

/** Pulls one spoke calendar for the two-way pairs that mirror into it (same spoke, owner, calendar). */
export async function pullSpoke(
  group: Pair[],
  deps: ReverseDeps,
  options: ReverseOptions = {},
): Promise<ReverseResult[]> {
  const home = group[0];
  const spoke = deps.spokes[home.spoke]!;
  const runs = new Map<string, ReverseRun>();
  for (const pair of group) runs.set(pair.id, newRun(pair, deps, options.dryRun === true));
  let cursor = options.full ? null : await deps.store.cursor(home.id, 'spoke');
  let full = cursor === null;
  let next: string | undefined;
  let error: string | undefined;
  const seen = new Set<string>();
  // removals no link knows (Graph: an occurrence deleted on its own names only its instance id)
  let unknown = 0;
  try {
    let pages = spoke.listChanges(home.target, cursor)[Symbol.asyncIterator]();
    for (;;) {
      const { value: page, done } = await pages.next();
      if (done) break;
      if (page.expired) {
        if (full) throw new Error(`${home.spoke} refused a full listing as expired`);
        full = true;
        cursor = null;
        pages = spoke.listChanges(home.target, null)[Symbol.asyncIterator]();
        continue;
      }
      for (const u of page.upserts) seen.add(u.ref.id);
      unknown += await handlePage(
        runs,
        home,
        page.upserts,
        page.removals.map((x) => x.ref.id),
      );
      if (page.cursor) next = page.cursor;
    }
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  if (!error && full && options.absentAreDeleted && seen.size > 0) await absent(runs, seen);
  if (!error && (unknown > 0 || options.absentAreDeleted)) await applyDeletedOccurrences(runs.values());
  const all = [...runs.values()];
  const clean = !error && all.every((r) => r.counts.failed === 0);
  const advance = clean && !options.dryRun && next !== undefined;
  if (advance)
    await deps.store.save(
      [],
      group.map((p) => ({ pairId: p.id, side: 'spoke' as const, value: next! })),
    );
  return all.map((r) => ({
    pair: r.pair,
    counts: r.counts,
    fanout: r.fanout,
    failures: r.failures,
    refusals: r.refusals,
    ...(options.dryRun ? { plan: r.plan } : {}),
    full,
    cursorSaved: advance,
    ...(error ? { error } : {}),
  }));
}

/** The state of one pair's reverse work (also for settling a conflict outside a pull). */
export function newRun(pair: Pair, deps: ReverseDeps, dryRun = false): ReverseRun {
  const spoke = deps.spokes[pair.spoke];
  if (!spoke) throw new Error(`no connector for spoke ${pair.spoke}`);
  return {
    pair,
    deps,
    spoke,
    policy: { ...deps.policy, target: { ...spoke.capabilities, attendee: deps.attendeeFor?.(pair) } },
    counts: zeroReverse(),
    fanout: zeroCounts(),
    failures: [],
    refusals: [],
    dryRun,
    plan: [],
  };
}

async function handlePage(
  runs: Map<string, ReverseRun>,
  home: Pair,
  upserts: RemoteEvent[],
  removed: string[],
): Promise<number> {
  const store = runs.get(home.id)!.deps.store;
  const pairIds = [...runs.keys()];
  // links by spoke id (deletions name only the id; spoke-born events have no tag) and by key
  const ids = [
    ...new Set([
      ...removed,
      ...upserts.map((u) => u.ref.id),
      ...upserts.flatMap((u) => (u.parent ? [u.parent] : [])),
    ]),
  ];
  const bySpoke = new Map<string, Link>();
  for (const id of pairIds)
    for (const [sid, l] of await store.bySpokeIds(id, ids))
      if (!bySpoke.has(sid) || !l.tombstone) bySpoke.set(sid, l);

  // series masters before their exceptions (an exception of a spoke-born series needs its master's link)
  const ordered = [...upserts].sort(
    (a, b) => Number(a.event.key.originalTime !== 0) - Number(b.event.key.originalTime !== 0),
  );
  for (const r of ordered) {
    const run0 = runs.get(home.id)!;
    if (!inWindow(r.event, run0.policy.window)) continue;
    let run = run0;
    let key: InstanceKey | undefined;
    if (r.tag) {
      const mine = runs.get(r.tag.pair);
      if (!mine) continue; // another pair's copy (a retired pair, another user's calendar)
      run = mine;
      key = keyOf(r);
    } else {
      const linked = bySpoke.get(r.ref.id);
      const master = r.parent ? bySpoke.get(r.parent) : undefined;
      const owner = linked ?? master;
      if (owner) run = runs.get(owner.pairId) ?? run0;
      if (linked) key = { uid: linked.uid, originalTime: linked.originalTime };
      else if (master) key = { uid: master.uid, originalTime: r.event.key.originalTime };
    }
    if (!key) {
      // born on the spoke (an exception of a series we do not know is left to its master)
      if (r.event.key.originalTime === 0 && !r.parent) {
        await applyBorn(run, r);
        // its exceptions later in this page find the new series by its link
        const born = (await store.bySpokeIds(run.pair.id, [r.ref.id])).get(r.ref.id);
        if (born) bySpoke.set(r.ref.id, born);
      } else run.counts.skipped += 1;
      continue;
    }
    const link = (await store.byUids(run.pair.id, [key.uid])).get(formatKey(key));
    if (link?.tombstone) {
      run.counts.skipped += 1;
      continue;
    }
    if (link && isEcho(run, r, link)) {
      run.counts.echoes += 1;
      if (!run.dryRun && r.ref.version && r.ref.version !== link.spokeVersion)
        await store.save([{ ...link, spokeVersion: r.ref.version }]);
      continue;
    }
    if (!link && key.originalTime === 0) {
      // tagged by this pair but unlinked (links lost): reconcile rebuilds it from the tag
      run.counts.skipped += 1;
      continue;
    }
    await applyChange(run, r, key, link);
  }
  let unknown = 0;
  for (const id of removed) {
    const link = bySpoke.get(id);
    if (!link) unknown += 1;
    if (!link || link.tombstone) continue;
    const run = runs.get(link.pairId);
    if (run) await applyRemoval(run, link);
  }
  return unknown;
}

function keyOf(r: RemoteEvent): InstanceKey {
  try {
    const k = parseKey(r.tag!.key);
    // an occurrence edited on the spoke may carry its master's tag
    if (k.originalTime === 0 && r.event.key.originalTime !== 0)
      return { uid: k.uid, originalTime: r.event.key.originalTime };
    return k;
  } catch {
    return r.event.key;
  }
}

/** Our own write coming back: the version we saved, or the content we last wrote or saw. */
function isEcho(run: ReverseRun, r: RemoteEvent, link: Link): boolean {
  if (r.ref.version && link.spokeVersion && r.ref.version === link.spokeVersion) return true;
  const base = link.base ? (JSON.parse(link.base) as CanonicalEvent) : undefined;
  const p = comparable(withHeldRule(r.event, base, run.policy), run.policy);
  const fp = 'event' in p ? p.fingerprint : fingerprint(r.event, run.policy.fields);
  return fp === link.spokeFingerprint;
}

/** Linked copies missing from a complete full listing: deleted on the spoke (see absentAreDeleted). */
async function absent(runs: Map<string, ReverseRun>, seen: Set<string>) {
  for (const run of runs.values()) {
    const { store, policy } = run.deps;
    const gone: Link[] = [];
    for await (const chunk of store.liveKeys(run.pair.id)) {
      const masters = chunk.filter((k) => k.originalTime === 0);
      if (masters.length === 0) continue;
      const links = await store.byUids(run.pair.id, [...new Set(masters.map((k) => k.uid))]);
      for (const l of links.values()) {
        if (l.tombstone || l.originalTime !== 0 || !l.spokeId || seen.has(l.spokeId) || !l.base) continue;
        if (inWindow(JSON.parse(l.base) as CanonicalEvent, run.policy.window)) gone.push(l);
      }
    }
    if (gone.length > policy.maxDeletesPerRun) {
      run.failures.push({
        key: '*',
        kind: 'held',
        error: `${gone.length} copies missing on the spoke: more than max_deletes_per_run (${policy.maxDeletesPerRun}); nothing deleted in Feishu`,
      });
      run.counts.failed += 1;
      continue;
    }
    for (const l of gone) await applyRemoval(run, l);
  }
}
