/**
 * Occurrences deleted one by one on a spoke whose change feed names them by an instance id that no
 * link knows (Graph: a plain occurrence has no link of its own). When a reverse read meets such a
 * removal (and on every reconciliation), the spoke is asked which occurrences its linked series no
 * longer list (`SeriesReader`, batched, over the sync window). Each one that Feishu's series still
 * holds is cancelled in Feishu (uid + original_time) and on the other spokes, as a cancelled exception
 * read from Google is. Starts Feishu's series does not have (a rule widened for Graph, a series changed
 * in Feishu since) are left alone; more than max_deletes_per_run at once are held, not applied.
 */
import { BridgeError, type CanonicalEvent, formatKey } from '../core/index.ts';
import type { Link } from '../ports/index.ts';
import { emptyLink } from './apply.ts';
import { inWindow } from './project.ts';
import { failed, feishuNow } from './reverse-apply.ts';
import { cancelledFingerprint, occursAt } from './reverse-map.ts';
import { applyRemoval } from './reverse-spoke-events.ts';
import type { ReverseRun } from './reverse-types.ts';

/** The pair's linked series masters whose last synced version is recurring and in the window, by spoke id. */
async function linkedSeries(run: ReverseRun): Promise<Map<string, Link>> {
  const { store } = run.deps;
  const out = new Map<string, Link>();
  for await (const chunk of store.liveKeys(run.pair.id)) {
    const uids = [...new Set(chunk.filter((k) => k.originalTime === 0).map((k) => k.uid))];
    if (uids.length === 0) continue;
    for (const l of (await store.byUids(run.pair.id, uids)).values()) {
      if (l.originalTime !== 0 || l.tombstone || !l.spokeId || !l.base) continue;
      const ev = JSON.parse(l.base) as CanonicalEvent;
      if (ev.recurrence.some((x) => /^RRULE:/i.test(x)) && inWindow(ev, run.policy.window))
        out.set(l.spokeId, l);
    }
  }
  return out;
}

/** Finds and applies the occurrences deleted on each run's spoke (see the file comment). */
export async function applyDeletedOccurrences(runs: Iterable<ReverseRun>): Promise<void> {
  for (const run of runs) {
    const reader = run.spoke.series;
    if (!reader) continue;
    const masters = await linkedSeries(run);
    if (masters.size === 0) continue;
    let found: Awaited<ReturnType<typeof reader.deletedOccurrences>>;
    try {
      found = await reader.deletedOccurrences(run.pair.target, [...masters.keys()], run.policy.window);
    } catch (e) {
      failed(
        run,
        { uid: '*', originalTime: 0 },
        e instanceof BridgeError ? e : new BridgeError('transient', String(e)),
      );
      continue;
    }
    const cancelledFp = cancelledFingerprint(run.policy.fields);
    const todo: { link: Link; now: CanonicalEvent }[] = [];
    for (const [spokeId, starts] of found) {
      const master = masters.get(spokeId);
      if (!master) continue;
      if (starts instanceof BridgeError) {
        failed(run, { uid: master.uid, originalTime: 0 }, starts);
        continue;
      }
      if (starts.length === 0) continue;
      const links = await run.deps.store.byUids(run.pair.id, [master.uid]);
      const series = await feishuNow(run, { uid: master.uid, originalTime: 0 });
      if (!series) continue; // gone from Feishu: the forward pull removes the copy
      for (const originalTime of starts) {
        const key = { uid: master.uid, originalTime };
        const link = links.get(formatKey(key));
        // already cancelled (by us, or both sides), or deleted for good
        if (link?.tombstone || link?.feishuFingerprint === cancelledFp) continue;
        // an exception Feishu has would have its own link; a plain occurrence must be in Feishu's rule
        if (!link && !occursAt(series, originalTime)) continue;
        const now = await feishuNow(run, key);
        if (!now || now.status === 'cancelled') continue;
        todo.push({ link: link ?? emptyLink(run.pair.id, key), now });
      }
    }
    if (todo.length > run.policy.maxDeletesPerRun) {
      run.failures.push({
        key: '*',
        kind: 'held',
        error: `${todo.length} occurrences deleted on the spoke: more than max_deletes_per_run (${run.policy.maxDeletesPerRun}); nothing cancelled in Feishu`,
      });
      run.counts.failed += 1;
      continue;
    }
    for (const { link, now } of todo) await applyRemoval(run, link, now);
  }
}
