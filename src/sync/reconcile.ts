/**
 * Reconciliation of a group of pairs (in practice one user's): every spoke calendar is listed once in
 * full and its copies sorted by origin tag (copies.ts); then each Feishu calendar is listed in full,
 * page by page, and every instance the pair should mirror is judged against its copy (parity.ts's
 * judge): missing copies are created, copies changed on the spoke are rewritten, duplicates and strays
 * (tagged copies whose source Feishu no longer has) are removed, and links lost from the database are
 * rebuilt from the tags instead of writing new copies. Writes go through apply.ts, as a pull's do.
 *
 * Guards: a spoke whose read failed is not judged at all; deletes wait for the end and pass
 * guardDeletes (complete, non-empty Feishu read; max_deletes_per_run over the whole run). Exception
 * copies are never removed one by one (on the spokes that would cancel an occurrence): a duplicate
 * series takes its exceptions with it. Copies outside the sync window and events without a tag are
 * never touched. With `repair: false` nothing is written, links included: the report says what would be.
 */
import { type CanonicalEvent, formatKey } from '../core/index.ts';
import type { Link } from '../ports/index.ts';
import { type ApplyContext, applyWrites, emptyLink, zeroCounts } from './apply.ts';
import { type Copy, choose, readCopies } from './copies.ts';
import { DECLINED_ON_SPOKE } from './diff.ts';
import type { Pair } from './pair.ts';
import { digestDiff, fieldDigest, judge } from './parity.ts';
import { describe, guardDeletes, type WriteAction } from './plan.ts';
import { inWindow, project } from './project.ts';
import {
  emptyPairParity,
  note,
  type PairParity,
  type PairReconcile,
  type ReconcileDeps,
  type ReconcileOptions,
} from './reconcile-report.ts';
import { buryLinks, type Removal, removeAll } from './removals.ts';
import { recordRooms, type WrittenCopy } from './room-records.ts';

export type { PairParity, PairReconcile, ReconcileDeps, ReconcileOptions };

interface State {
  ctx: ApplyContext;
  copies: Map<string, Copy[]>;
  parity: PairParity;
  seen: Set<string>;
  removals: Removal[];
  deferred: WriteAction[];
  plan: ReturnType<typeof describe>;
  spokeError?: string;
  feishu: { complete: boolean; error?: string };
}

const live = (l: Link | undefined): l is Link => !!l && !l.tombstone && l.spokeId !== null;

export async function reconcile(
  pairs: Pair[],
  deps: ReconcileDeps,
  options: ReconcileOptions,
): Promise<PairReconcile[]> {
  const states = new Map<string, State>();
  for (const group of groupBy(pairs, (p) => `${p.spoke}|${p.target.owner}|${p.target.id}`)) {
    const connector = deps.spokes[group[0].spoke];
    if (!connector) throw new Error(`no connector for spoke ${group[0].spoke}`);
    const ids = new Set(group.map((p) => p.id));
    const side = await readCopies(connector, group[0].target, ids, deps.policy);
    group.forEach((pair, i) => {
      const state: State = {
        ctx: {
          pair,
          connector,
          store: deps.store,
          policy: {
            ...deps.policy,
            target: { ...connector.capabilities, attendee: deps.attendeeFor?.(pair) },
          },
          counts: zeroCounts(),
          failures: [],
          rooms: deps.rooms,
        },
        copies: side.byPair.get(pair.id) ?? new Map(),
        parity: emptyPairParity(),
        seen: new Set(),
        removals: [],
        deferred: [],
        plan: [],
        spokeError: side.error,
        feishu: { complete: false },
      };
      if (i === 0) state.parity.untagged = side.untagged;
      states.set(pair.id, state);
    });
  }
  for (const group of groupBy(pairs, (p) => p.feishu.id)) {
    const judged = group.map((p) => states.get(p.id)!).filter((s) => !s.spokeError);
    if (judged.length === 0) continue;
    const feishu = { complete: false } as State['feishu'];
    let events = 0;
    try {
      for await (const page of deps.feishu.listChanges(group[0].feishu, null)) {
        if (page.expired) throw new Error('Feishu refused a full listing as expired');
        const upserts = page.upserts.map((u) => u.event);
        events += upserts.length;
        await Promise.all(judged.map((s) => judgePage(s, upserts, deps, options)));
        deps.onProgress?.({ calendar: group[0].feishu.id, events });
      }
      feishu.complete = true;
    } catch (e) {
      feishu.error = e instanceof Error ? e.message : String(e);
    }
    for (const s of judged) s.feishu = feishu;
  }
  return Promise.all(pairs.map((p) => finish(states.get(p.id)!, deps, options)));
}

/** Judges one page of Feishu events against the pair's copies and repairs what differs. */
async function judgePage(
  s: State,
  upserts: CanonicalEvent[],
  deps: ReconcileDeps,
  options: ReconcileOptions,
) {
  const { ctx, parity } = s;
  const links = await deps.store.byUids(ctx.pair.id, [...new Set(upserts.map((e) => e.key.uid))]);
  const relinks: Link[] = [];
  const writes: WriteAction[] = [];
  // copies found as they should be: their rooms' answers come with the listing
  const found: WrittenCopy[] = [];
  // series masters and single events first: an exception's copy is chosen under its kept master
  const ordered = [
    ...upserts.filter((e) => e.key.originalTime === 0),
    ...upserts.filter((e) => e.key.originalTime !== 0),
  ];
  for (const ev of ordered) {
    const k = formatKey(ev.key);
    s.seen.add(k);
    const copies = s.copies.get(k) ?? [];
    s.copies.delete(k);
    if (!inWindow(ev, ctx.policy.window)) continue;
    const p = project(ev, ctx.policy);
    if ('skip' in p) {
      for (const c of copies) unwanted(s, c, `not to be mirrored (${p.skip})`);
      continue;
    }
    const link = links.get(k);
    // two-way: an invitation whose copy the user deleted on the spoke (declined) is not expected there
    if (link?.tombstone && link.note === DECLINED_ON_SPOKE && copies.length === 0) continue;
    parity.expected += 1;
    const master = ev.key.originalTime ? links.get(`${ev.key.uid}_0`) : undefined;
    const { keep, rest } = choose(copies, link, p.fingerprint, live(master) ? master.spokeId! : undefined);
    for (const c of rest) unwanted(s, c, 'duplicate copy', true);
    let current = link;
    if (keep) {
      const relink = !live(link) || link.spokeId !== keep.id;
      if (relink) parity.relinked += 1;
      // the copy as read now: its id, and its version for the precondition of an update
      if (relink || link?.spokeVersion !== (keep.version ?? null)) {
        current = {
          ...(link ?? emptyLink(ctx.pair.id, ev.key)),
          spokeId: keep.id,
          spokeVersion: keep.version ?? null,
          tombstone: false,
        };
        links.set(k, current);
      }
    }
    const verdict = judge({ fingerprint: p.fingerprint, cancelled: ev.status === 'cancelled' }, keep);
    if (verdict === 'found') {
      parity.found += 1;
      ctx.counts.unchanged += 1;
      if (keep) found.push({ source: ev, copy: p.event, copyId: keep.id, answers: keep.rooms ?? [] });
      if (current !== link || current?.feishuFingerprint !== p.fingerprint) {
        const row: Link = {
          ...(current ?? emptyLink(ctx.pair.id, ev.key)),
          feishuFingerprint: p.fingerprint,
          spokeFingerprint: keep?.fingerprint ?? p.fingerprint,
          lastSyncedAt: new Date(),
        };
        links.set(k, row);
        relinks.push(row);
      }
    } else if (verdict === 'missing') {
      note(parity, 'missing', k);
      if (leftForReverse(s, link, p.fingerprint)) continue;
      writes.push({
        kind: 'create',
        key: ev.key,
        event: p.event,
        fingerprint: p.fingerprint,
        link,
        reason: 'missing on the spoke',
        source: ev,
      });
    } else {
      const fields = digestDiff(keep!.fields, fieldDigest(p.event, ctx.policy));
      note(parity, 'differing', `${k} (${fields.join(', ')})`);
      if (leftForReverse(s, link, p.fingerprint)) continue;
      writes.push({
        kind: 'update',
        key: ev.key,
        event: p.event,
        fingerprint: p.fingerprint,
        link: current!,
        reason: `changed on the spoke (${fields.join(', ')})`,
        source: ev,
      });
    }
  }
  if (!options.repair) {
    s.plan.push(...describe(writes));
    for (const w of writes) ctx.counts[`${w.kind}d`] += 1;
    return;
  }
  await deps.store.save(relinks);
  await recordRooms(ctx, found);
  const masters = writes.filter((w) => w.key.originalTime === 0);
  await applyWrites(ctx, masters, links);
  const known = (w: WriteAction) => live(links.get(`${w.key.uid}_0`));
  const exceptions = writes.filter((w) => w.key.originalTime !== 0);
  s.deferred.push(...exceptions.filter((w) => !known(w)));
  await applyWrites(ctx, exceptions.filter(known), links);
}

/**
 * On a two-way pair, a copy deleted or changed on the spoke while Feishu stayed as last written is a
 * change for the reverse sync to carry to Feishu, not drift: it is reported and left as it is.
 */
function leftForReverse(s: State, link: Link | undefined, fingerprint: string): boolean {
  if (s.ctx.pair.direction !== 'two-way' || !live(link) || link.feishuFingerprint !== fingerprint)
    return false;
  s.parity.leftForReverse += 1;
  return true;
}

/** A copy that should not be there: removed at the end (under the guards) unless an exception's. */
function unwanted(s: State, c: Copy, reason: string, duplicate = false) {
  if (!c.inWindow) return;
  const k = formatKey(c.key);
  s.parity.duplicates += duplicate ? 1 : 0;
  if (c.key.originalTime !== 0) {
    note(s.parity, 'extra', `${k} (${reason}; an occurrence: left as is)`);
    return;
  }
  note(s.parity, 'extra', `${k} (${reason})`);
  s.removals.push({ key: c.key, copy: c, reason });
}

async function finish(s: State, deps: ReconcileDeps, options: ReconcileOptions): Promise<PairReconcile> {
  const { ctx, parity } = s;
  const result = (held?: string): PairReconcile => ({
    pair: ctx.pair,
    parity,
    counts: ctx.counts,
    failures: ctx.failures,
    ...(held ? { held } : {}),
    ...(options.repair ? {} : { plan: s.plan }),
  });
  if (s.spokeError) return result(`the ${ctx.pair.spoke} read failed, nothing judged: ${s.spokeError}`);
  if (options.repair && s.deferred.length) {
    const uids = [...new Set(s.deferred.map((w) => w.key.uid))];
    await applyWrites(ctx, s.deferred, await deps.store.byUids(ctx.pair.id, uids));
  }
  // what is left on the spoke is what Feishu does not have (known only after a complete read)
  if (s.feishu.complete) {
    for (const copies of s.copies.values())
      for (const c of copies) unwanted(s, c, 'stray copy: its source is not in Feishu');
  }
  const budget = deps.deleteBudget ?? { remaining: deps.policy.maxDeletesPerRun };
  const verdict = guardDeletes(
    s.removals.length,
    { complete: s.feishu.complete, sawAny: s.seen.size > 0, full: true },
    budget,
    deps.policy.maxDeletesPerRun,
  );
  const held =
    [s.feishu.error ? `the Feishu read failed: ${s.feishu.error}` : '', verdict.ok ? '' : verdict.reason]
      .filter(Boolean)
      .join('; ') || undefined;
  if (verdict.ok) budget.remaining -= s.removals.length;
  if (!options.repair) {
    if (verdict.ok) ctx.counts.deleted += s.removals.length;
    s.plan.push(
      ...s.removals.map((r) => ({ kind: 'delete' as const, key: formatKey(r.key), reason: r.reason })),
    );
    return result(held);
  }
  if (!verdict.ok) return result(held);
  await removeAll(ctx, s.removals);
  if (s.feishu.complete && s.seen.size > 0) await buryLinks(ctx, s.seen, s.copies);
  return result(held);
}

function groupBy<T>(items: T[], key: (t: T) => string): T[][] {
  const out = new Map<string, T[]>();
  for (const t of items) out.set(key(t), [...(out.get(key(t)) ?? []), t]);
  return [...out.values()];
}
