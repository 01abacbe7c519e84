/**
 * Spoke events coming and going on two-way pairs: an event born on the spoke (adopted when Feishu
 * already has its iCalUID, else created in Feishu, tagged on the spoke and fanned out), and a linked
 * copy deleted on the spoke (the Feishu event deleted when the owner organizes it, else declined).
 */
import { BridgeError, type CanonicalEvent, formatKey, type InstanceKey, parseKey } from '../core/index.ts';
import type { Link, RemoteEvent, WriteOp } from '../ports/index.ts';
import { emptyLink } from './apply.ts';
import { DECLINED_ON_SPOKE } from './diff.ts';
import { project } from './project.ts';
import {
  applyChange,
  failed,
  fanOut,
  feishuNow,
  refusal,
  settled,
  writeFeishu,
  writeSpoke,
} from './reverse-apply.ts';
import { bornOnSpoke, cancelledFingerprint, comparable } from './reverse-map.ts';
import type { ReverseRun } from './reverse-types.ts';

/** An event created on the spoke: adopted (same iCalUID already in Feishu) or created in Feishu. */
export async function applyBorn(run: ReverseRun, r: RemoteEvent) {
  const spokeKey = r.event.key;
  const proj = comparable(r.event, run.policy);
  if ('skip' in proj || r.event.status === 'cancelled') {
    run.counts.skipped += 1;
    return;
  }
  const existing = await run.deps.feishu.getEvent(
    run.pair.feishu,
    formatKey({ uid: r.icalUid ?? spokeKey.uid, originalTime: 0 }),
  );
  if (existing && existing !== 'deleted') {
    run.plan.push({
      kind: 'adopt',
      key: formatKey(existing.key),
      reason: 'the same iCalUID is already in Feishu',
    });
    if (run.dryRun) return;
    const link = { ...emptyLink(run.pair.id, existing.key), spokeId: r.ref.id };
    return applyChange(run, r, existing.key, link);
  }
  run.plan.push({
    kind: 'create-in-feishu',
    key: formatKey(spokeKey),
    reason: `created on ${run.pair.spoke}`,
  });
  if (run.dryRun) return;
  const event = bornOnSpoke(proj.event, run.pair.spoke, run.deps.reverseAttendee?.(run.pair) ?? ((a) => a));
  const tag = { pair: run.pair.id, key: formatKey(spokeKey) };
  const res = await writeFeishu(run, { op: 'create', event, tag });
  if (!res.ok || !res.ref)
    return failed(
      run,
      spokeKey,
      res.ok ? new BridgeError('invalid', 'no event id') : res.error,
      !res.ok && refusal(res.error),
    );
  run.counts.toFeishu += 1;
  const key = parseKey(res.ref.id);
  const after = (await feishuNow(run, key)) ?? { ...event, key };
  // the original carries the origin tag from now on, so a lost database rebuilds its link
  const tagged = await writeSpoke(run, {
    op: 'update',
    ref: r.ref,
    event: r.event,
    tag: { pair: run.pair.id, key: formatKey(key) },
  });
  let ref = r.ref;
  if (tagged.ok) {
    run.counts.toSpoke += 1;
    ref = tagged.ref ?? r.ref;
  } else failed(run, key, tagged.error);
  await run.deps.store.save([settled(run, emptyLink(run.pair.id, key), after, ref, proj.event)]);
  await fanOut(run, after, key);
}

/** A linked copy deleted on the spoke: the Feishu event is deleted when the owner organizes it, else declined. */
export async function applyRemoval(run: ReverseRun, link: Link, known?: CanonicalEvent) {
  const key: InstanceKey = { uid: link.uid, originalTime: link.originalTime };
  const k = formatKey(key);
  // an occurrence already cancelled both sides: the spoke dropping it (Graph deletes a cancelled
  // occurrence) is our own cancellation coming back
  if (key.originalTime !== 0 && link.feishuFingerprint === cancelledFingerprint(run.policy.fields)) {
    run.counts.echoes += 1;
    return;
  }
  const now = known ?? (await feishuNow(run, key));
  const save = (row: Partial<Link>) => run.deps.store.save([{ ...link, ...row, lastSyncedAt: new Date() }]);
  if (!now) {
    if (!run.dryRun) await save({ tombstone: true });
    return;
  }
  const organizes = !now.organizer?.id || now.organizer.id === run.pair.feishu.owner;
  if (organizes || key.originalTime !== 0) {
    run.plan.push({ kind: 'delete-in-feishu', key: k, reason: `deleted on ${run.pair.spoke}` });
    if (run.dryRun) return;
    const cancel = {
      event: { ...now, status: 'cancelled' as const },
      tag: { pair: run.pair.id, key: k },
      parent: { id: formatKey({ uid: key.uid, originalTime: 0 }) },
    };
    const op: WriteOp =
      key.originalTime === 0 ? { op: 'remove', ref: { id: k } } : { op: 'create', ...cancel };
    const res = await writeFeishu(run, op);
    if (!res.ok) return failed(run, key, res.error, refusal(res.error));
    run.counts.toFeishu += 1;
    if (key.originalTime === 0) {
      await save({ tombstone: true });
      const rest = await run.deps.store.byUids(run.pair.id, [key.uid]);
      await run.deps.store.save(
        [...rest.values()].filter((l) => !l.tombstone).map((l) => ({ ...l, tombstone: true })),
      );
      await fanOut(run, undefined, key);
    } else {
      const cancelled = { ...now, status: 'cancelled' as const };
      const p = project(cancelled, run.policy);
      await save({
        tombstone: false,
        feishuFingerprint: 'event' in p ? p.fingerprint : null,
        spokeFingerprint: 'event' in p ? p.fingerprint : null,
      });
      await fanOut(run, cancelled, key);
    }
    return;
  }
  run.plan.push({
    kind: 'decline',
    key: k,
    reason: `deleted on ${run.pair.spoke}; an invitation is declined`,
  });
  if (run.dryRun) return;
  if (!run.deps.reply)
    return failed(run, key, new BridgeError('invalid', 'declining in Feishu is not supported yet'), true);
  try {
    await run.deps.reply(run.pair.feishu, k, 'declined');
    run.counts.toFeishu += 1;
  } catch (e) {
    return failed(run, key, e instanceof BridgeError ? e : new BridgeError('transient', String(e)));
  }
  const after = await feishuNow(run, key);
  const p = after ? project(after, run.policy) : undefined;
  await save({
    tombstone: true,
    note: DECLINED_ON_SPOKE,
    feishuFingerprint: p && 'event' in p ? p.fingerprint : link.feishuFingerprint,
  });
  await fanOut(run, after, key);
}
