/**
 * One spoke change of a two-way pair, written where it must go: Feishu (with the owner's token), the
 * spoke copy (merged Feishu changes, or set back after Feishu refused), and in the same step the
 * other pairs of that Feishu calendar. Links are saved so that every write comes back as an echo.
 */
import { BridgeError, type CanonicalEvent, fingerprint, formatKey, type InstanceKey } from '../core/index.ts';
import type { Link, RemoteEvent, RemoteRef, WriteOp, WriteResult } from '../ports/index.ts';
import { type ApplyContext, addCounts, applyDeletes, applyWrites, emptyLink, zeroCounts } from './apply.ts';
import { diff } from './diff.ts';
import { type MergeField, merge, mergeFields, setField } from './merge.ts';
import { waves } from './plan.ts';
import { project } from './project.ts';
import {
  beyondRsvp,
  comparable,
  occurrenceOf,
  ownerRsvpChange,
  toFeishu,
  withHeldRule,
  writableFields,
} from './reverse-map.ts';
import type { ReverseRun } from './reverse-types.ts';

function forwardFor(run: ReverseRun, ev: CanonicalEvent) {
  const f = run.policy.target?.attendee;
  return f ? (a: Parameters<typeof f>[0]) => f(a, ev) : undefined;
}

/** Feishu's event for a key now; an occurrence Feishu never changed is derived from its series. */
export async function feishuNow(run: ReverseRun, key: InstanceKey): Promise<CanonicalEvent | undefined> {
  const got = await run.deps.feishu.getEvent(run.pair.feishu, formatKey(key));
  if (got && got !== 'deleted') return got;
  if (key.originalTime === 0 || got === 'deleted') return undefined;
  const master = await run.deps.feishu.getEvent(
    run.pair.feishu,
    formatKey({ uid: key.uid, originalTime: 0 }),
  );
  return master && master !== 'deleted' ? occurrenceOf(master, key.originalTime) : undefined;
}

export async function writeFeishu(run: ReverseRun, op: WriteOp): Promise<WriteResult> {
  try {
    const [r] = await run.deps.feishu.write(run.pair.feishu, [op], {
      notify: run.policy.invitations === 'send',
    });
    return r;
  } catch (e) {
    return { ok: false, error: e instanceof BridgeError ? e : new BridgeError('transient', String(e)) };
  }
}

export async function writeSpoke(run: ReverseRun, op: WriteOp): Promise<WriteResult> {
  try {
    const [r] = await run.spoke.write(run.pair.target, [op], { notify: run.policy.invitations === 'send' });
    return r;
  } catch (e) {
    return { ok: false, error: e instanceof BridgeError ? e : new BridgeError('transient', String(e)) };
  }
}

export const refusal = (e: BridgeError) => e.kind === 'auth' || e.kind === 'invalid' || e.kind === 'conflict';

export function failed(run: ReverseRun, key: InstanceKey, e: BridgeError, refused = false) {
  const f = { key: formatKey(key), kind: e.kind, error: `${e.kind}: ${e.message}` };
  if (refused) {
    run.counts.refused += 1;
    run.refusals.push(f);
  } else {
    run.counts.failed += 1;
    run.failures.push(f);
  }
}

/** The Feishu event as the other pairs of its calendar must now hold it (or its removal). */
export async function fanOut(run: ReverseRun, ev: CanonicalEvent | undefined, key: InstanceKey) {
  for (const pair of run.deps.pairsOf(run.pair.feishu.id)) {
    if (pair.id === run.pair.id) continue;
    const connector = run.deps.spokes[pair.spoke];
    if (!connector) continue;
    const ctx: ApplyContext = {
      pair,
      connector,
      store: run.deps.store,
      policy: {
        ...run.deps.policy,
        target: { ...connector.capabilities, attendee: run.deps.attendeeFor?.(pair) },
      },
      counts: zeroCounts(),
      failures: [],
    };
    const links = await run.deps.store.byUids(pair.id, [key.uid]);
    const actions = diff({ upserts: ev ? [ev] : [], removals: ev ? [] : [key] }, links, ctx.policy);
    const { masters, exceptions, deletes } = waves(actions);
    await applyWrites(ctx, [...masters, ...exceptions], links);
    await applyDeletes(ctx, deletes, links);
    addCounts(run.fanout, ctx.counts);
    run.failures.push(...ctx.failures.map((f) => ({ ...f, key: `${pair.spoke}:${f.key}` })));
  }
}

/** The link after both sides hold `feishu` / the spoke copy. */
export function settled(
  run: ReverseRun,
  link: Link,
  feishu: CanonicalEvent | undefined,
  spoke: RemoteRef,
  spokeEv: CanonicalEvent,
): Link {
  const f = feishu ? project(feishu, run.policy) : undefined;
  const s = comparable(spokeEv, run.policy);
  const fp = f && 'event' in f ? f : undefined;
  return {
    ...link,
    spokeId: spoke.id,
    spokeVersion: spoke.version ?? null,
    feishuFingerprint: fp?.fingerprint ?? link.feishuFingerprint,
    spokeFingerprint: 'event' in s ? s.fingerprint : fingerprint(spokeEv, run.policy.fields),
    base: fp ? JSON.stringify(fp.event) : (link.base ?? null),
    tombstone: false,
    lastError: null,
    lastSyncedAt: new Date(),
  };
}

/**
 * A changed spoke copy of a linked event (or a new exception of a linked series): three-way merge,
 * then Feishu, the copy and the other pairs are written as needed.
 */
export async function applyChange(run: ReverseRun, r: RemoteEvent, key: InstanceKey, link: Link | undefined) {
  const k = formatKey(key);
  if ('skip' in comparable({ ...r.event, key }, run.policy)) {
    run.counts.skipped += 1;
    return;
  }
  const now = await feishuNow(run, key);
  if (!now) {
    // gone from Feishu meanwhile: the forward pull removes the copy
    run.counts.skipped += 1;
    return;
  }
  const projected = project(now, run.policy);
  if ('skip' in projected) {
    run.counts.skipped += 1;
    return;
  }
  // the merge base: kept on the link; else Feishu's side when it did not move since the last sync
  let base: CanonicalEvent | undefined;
  if (link?.base) base = JSON.parse(link.base) as CanonicalEvent;
  else if (!link || link.feishuFingerprint === projected.fingerprint) base = projected.event;
  // a rule the spoke holds widened (or not at all) is no change of the spoke's
  const spokeProj = comparable(
    withHeldRule({ ...r.event, key }, base ?? projected.event, run.policy),
    run.policy,
  );
  if ('skip' in spokeProj) {
    run.counts.skipped += 1;
    return;
  }
  const fields = mergeFields(run.policy.fields);
  const m = merge(base, projected.event, spokeProj.event, run.pair.conflicts ?? run.deps.conflicts, fields);
  if (m.conflicts.length) run.counts.conflicts += 1;
  if (m.held) {
    run.plan.push({
      kind: 'conflict',
      key: k,
      reason: `changed on both sides: ${m.conflicts.map((c) => c.field).join(', ')}`,
    });
    if (!run.dryRun)
      await run.deps.hold?.({
        pair: run.pair,
        key,
        conflicts: m.conflicts,
        feishu: now,
        spoke: r.event,
        spokeId: r.ref.id,
      });
    return;
  }
  const forward = forwardFor(run, now);
  let toFeishuFields: MergeField[] = writableFields(now, m.toFeishu, run.policy);
  // an untagged copy (an adopted event, an occurrence changed on a spoke-born series) gets our tag, and
  // so does an occurrence changed on the spoke that carries its series' tag (Graph copies it over)
  const tagged = r.tag?.pair === run.pair.id && r.tag.key === k;
  let toSpoke = m.toSpoke.length > 0 || toFeishuFields.length < m.toFeishu.length || !tagged;
  let merged = m.event;
  // fields Feishu may not take from this copy (hidden on a busy-only private event) are set back
  for (const f of m.toFeishu) if (!toFeishuFields.includes(f)) setField(merged, projected.event, f);
  // the owner's own answer: the connector names it on an invitation; else their attendee entry
  const mine = now.attendees.find((a) => a.kind !== 'room' && a.id === run.pair.feishu.owner);
  const rsvp =
    r.selfRsvp && mine && r.selfRsvp !== mine.rsvp && r.selfRsvp !== 'needs-action'
      ? r.selfRsvp
      : toFeishuFields.includes('attendees')
        ? ownerRsvpChange(now, spokeProj.event, run.pair.feishu.owner, forward)
        : undefined;
  const organizes = !now.organizer?.id || now.organizer.id === run.pair.feishu.owner;
  if (!organizes) {
    // an invitation: only the owner's answer is theirs to give; the rest is the organizer's
    const wanted = toFeishuFields.filter(
      (f) => f !== 'attendees' || beyondRsvp(projected.event, merged, ['attendees']).length > 0,
    );
    if (wanted.length) {
      failed(
        run,
        key,
        new BridgeError('auth', `not the organizer: ${wanted.join(', ')} changed on the spoke were set back`),
        true,
      );
      merged = projected.event;
      toSpoke = true;
    }
    toFeishuFields = [];
  } else if (rsvp && beyondRsvp(projected.event, merged, ['attendees']).length === 0) {
    toFeishuFields = toFeishuFields.filter((f) => f !== 'attendees');
  }
  if (toFeishuFields.length)
    run.plan.push({
      kind: 'to-feishu',
      key: k,
      reason: `changed on the spoke: ${toFeishuFields.join(', ')}`,
    });
  if (rsvp) run.plan.push({ kind: 'to-feishu', key: k, reason: `owner answered ${rsvp} on the spoke` });
  if (toSpoke) run.plan.push({ kind: 'to-spoke', key: k, reason: 'Feishu side merged into the copy' });
  if (run.dryRun) return;

  let after: CanonicalEvent | undefined = now;
  if (toFeishuFields.length) {
    const target = toFeishu(
      now,
      merged,
      toFeishuFields,
      forward,
      run.deps.reverseAttendee?.(run.pair) ?? ((a) => a),
    );
    const exists =
      link?.feishuFingerprint != null ||
      key.originalTime === 0 ||
      (await run.deps.feishu.getEvent(run.pair.feishu, k)) !== undefined;
    const tag = { pair: run.pair.id, key: k };
    const op: WriteOp = exists
      ? { op: 'update', ref: { id: k }, event: target, tag }
      : { op: 'create', event: target, tag, parent: { id: formatKey({ uid: key.uid, originalTime: 0 }) } };
    const res = await writeFeishu(run, op);
    if (!res.ok) {
      if (!refusal(res.error)) return failed(run, key, res.error);
      failed(run, key, res.error, true);
      merged = projected.event;
      toSpoke = true;
    } else {
      run.counts.toFeishu += 1;
      after = target.status === 'cancelled' ? target : ((await feishuNow(run, key)) ?? target);
    }
  }
  if (rsvp) {
    if (!run.deps.reply)
      failed(run, key, new BridgeError('invalid', 'answering in Feishu is not supported yet'), true);
    else {
      try {
        await run.deps.reply(run.pair.feishu, k, rsvp);
        run.counts.toFeishu += 1;
        after = (await feishuNow(run, key)) ?? after;
      } catch (e) {
        failed(run, key, e instanceof BridgeError ? e : new BridgeError('transient', String(e)));
      }
    }
  }
  // Feishu read back after our write holds more than it (the owner changed it meanwhile): the copy
  // takes Feishu's state now, else the link would call both sides settled while they differ
  if (!toSpoke && after && after !== now) {
    const read = project(after, run.policy);
    toSpoke = 'event' in read && read.fingerprint !== spokeProj.fingerprint;
  }
  let spokeRef: RemoteRef = r.ref;
  let spokeEv: CanonicalEvent = spokeProj.event;
  if (toSpoke) {
    const want = after && after !== now ? project(after, run.policy) : { event: merged };
    const ev = 'event' in want ? want.event : merged;
    const parent = key.originalTime !== 0 && r.parent ? { id: r.parent } : undefined;
    const res = await writeSpoke(run, {
      op: 'update',
      ref: r.ref,
      event: ev,
      tag: { pair: run.pair.id, key: k },
      parent,
    });
    if (!res.ok) return failed(run, key, res.error);
    run.counts.toSpoke += 1;
    spokeRef = res.ref ?? r.ref;
    spokeEv = ev;
  }
  const row = settled(run, link ?? emptyLink(run.pair.id, key), after, spokeRef, spokeEv);
  await run.deps.store.save([row]);
  if (after !== now || toFeishuFields.length || rsvp) await fanOut(run, after, key);
}
