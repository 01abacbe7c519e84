/**
 * The end of a reconciliation: removing unwanted copies and retiring links that nothing stands for.
 * I/O through the apply step and the link store only.
 */
import { formatKey, type InstanceKey } from '../core/index.ts';
import type { Link, RemoteRef } from '../ports/index.ts';
import { type ApplyContext, applyDeletes, removeCopies } from './apply.ts';
import type { Copy } from './copies.ts';
import type { DeleteAction } from './plan.ts';

/** A copy to remove, and why. */
export interface Removal {
  key: InstanceKey;
  copy: Copy;
  reason: string;
}

const live = (l: Link | undefined): l is Link => !!l && !l.tombstone && l.spokeId !== null;

/** Removals: a linked copy through applyDeletes (its link, and a series' exception links, tombstoned); others alone. */
export async function removeAll(ctx: ApplyContext, removals: Removal[]) {
  if (removals.length === 0) return;
  const links = await ctx.store.byUids(ctx.pair.id, [...new Set(removals.map((r) => r.key.uid))]);
  const linked: DeleteAction[] = [];
  const loose: { key: InstanceKey; ref: RemoteRef }[] = [];
  for (const r of removals) {
    const link = links.get(formatKey(r.key));
    if (live(link) && link.spokeId === r.copy.id)
      linked.push({ kind: 'delete', key: r.key, link, reason: r.reason });
    else loose.push({ key: r.key, ref: { id: r.copy.id, version: r.copy.version } });
  }
  await applyDeletes(ctx, linked, links);
  await removeCopies(ctx, loose);
}

/** Links still live for instances that neither Feishu nor the spoke has any more: tombstoned. */
export async function buryLinks(ctx: ApplyContext, seen: Set<string>, copies: Map<string, Copy[]>) {
  for await (const chunk of ctx.store.liveKeys(ctx.pair.id)) {
    const gone = chunk.filter((k) => !seen.has(formatKey(k)) && !copies.has(formatKey(k)));
    if (gone.length === 0) continue;
    const found = await ctx.store.byUids(ctx.pair.id, [...new Set(gone.map((k) => k.uid))]);
    const rows = [...found.values()].filter(
      (l) => !l.tombstone && !seen.has(formatKey(l)) && !copies.has(formatKey(l)),
    );
    await ctx.store.save(rows.map((l) => ({ ...l, tombstone: true, lastSyncedAt: new Date() })));
  }
}
