/**
 * Compares what Feishu says with the links of one pair and decides, per instance, what the spoke
 * needs. Pure: every action carries its reason.
 */
import { type CanonicalEvent, formatKey, type InstanceKey } from '../core/index.ts';
import type { Link } from '../ports/index.ts';
import type { SyncPolicy } from './pair.ts';
import { project } from './project.ts';

export type Action =
  | {
      kind: 'create';
      key: InstanceKey;
      event: CanonicalEvent;
      fingerprint: string;
      link?: Link;
      reason: string;
      /** The Feishu event it was projected from (its rooms, organizer). */
      source?: CanonicalEvent;
      /** Written without its attendees, which come later (busy time first): its link says so. */
      attendeesPending?: boolean;
    }
  | {
      kind: 'update';
      key: InstanceKey;
      event: CanonicalEvent;
      fingerprint: string;
      link: Link;
      reason: string;
      source?: CanonicalEvent;
      attendeesPending?: boolean;
    }
  | { kind: 'delete'; key: InstanceKey; link: Link; reason: string }
  | { kind: 'unchanged'; key: InstanceKey; reason: string }
  | { kind: 'skip'; key: InstanceKey; reason: string };

/** The note on the link of an invitation whose copy the user deleted on a two-way spoke. */
export const DECLINED_ON_SPOKE = 'declined on the spoke';

const live = (l: Link | undefined): boolean => !!l && !l.tombstone && l.spokeId !== null;

export function diff(
  changes: { upserts: CanonicalEvent[]; removals: InstanceKey[] },
  links: Map<string, Link>,
  policy: SyncPolicy,
): Action[] {
  const actions: Action[] = [];
  for (const ev of changes.upserts) {
    const key = ev.key;
    const link = links.get(formatKey(key));
    const p = project(ev, policy);
    if ('skip' in p) {
      actions.push(
        live(link)
          ? { kind: 'delete', key, link: link!, reason: p.skip }
          : { kind: 'skip', key, reason: p.skip },
      );
    } else if (
      ev.status === 'cancelled' &&
      link &&
      !link.tombstone &&
      link.feishuFingerprint === p.fingerprint
    ) {
      // a cancelled occurrence already written: the spoke may keep no id for it (Graph deletes it)
      actions.push({ kind: 'unchanged', key, reason: 'occurrence already cancelled' });
    } else if (link?.tombstone && link.note === DECLINED_ON_SPOKE) {
      // two-way: the user removed the copy of an invitation on the spoke (declined in Feishu)
      actions.push({ kind: 'skip', key, reason: DECLINED_ON_SPOKE });
    } else if (!live(link)) {
      const reason = link?.tombstone ? 'back in Feishu' : link ? 'not yet on the spoke' : 'new in Feishu';
      actions.push({
        kind: 'create',
        key,
        event: p.event,
        fingerprint: p.fingerprint,
        link,
        reason,
        source: ev,
      });
    } else if (link!.feishuFingerprint === p.fingerprint) {
      actions.push({ kind: 'unchanged', key, reason: 'same fingerprint' });
    } else {
      actions.push({
        kind: 'update',
        key,
        event: p.event,
        fingerprint: p.fingerprint,
        link: link!,
        reason: 'changed in Feishu',
        source: ev,
      });
    }
  }
  for (const key of changes.removals) {
    const link = links.get(formatKey(key));
    if (live(link)) actions.push({ kind: 'delete', key, link: link!, reason: 'deleted in Feishu' });
  }
  return actions;
}

/** After a complete full listing: live links whose instance Feishu no longer has. */
export function missing(linked: Map<string, Link>, seen: Set<string>): Action[] {
  const out: Action[] = [];
  for (const [k, link] of linked) {
    if (live(link) && !seen.has(k)) {
      out.push({
        kind: 'delete',
        key: { uid: link.uid, originalTime: link.originalTime },
        link,
        reason: 'gone from Feishu',
      });
    }
  }
  return out;
}
