/** Reads both sides back through their APIs and computes parity per pair and per spoke. */
import type { Attendee, CanonicalEvent } from '../core/index.ts';
import type { CalendarConnector, CalendarRef, RemoteEvent } from '../ports/index.ts';
import type { Pair, SyncPolicy } from '../sync/pair.ts';
import { addParity, emptyParity, type Parity, parity } from '../sync/parity.ts';
import type { App } from './compose.ts';

async function listAll(connector: CalendarConnector, cal: CalendarRef): Promise<RemoteEvent[]> {
  const out: RemoteEvent[] = [];
  for await (const page of connector.listChanges(cal, null)) {
    if (page.expired) throw new Error('a full listing was refused as expired');
    out.push(...page.upserts);
  }
  return out;
}

export async function readParity(
  app: App,
  pairs: Pair[],
  policy: SyncPolicy,
  attendeeFor?: (pair: Pair) => ((a: Attendee) => Attendee | undefined) | undefined,
): Promise<{ perPair: { pair: Pair; parity: Parity }[]; perSpoke: Record<string, Parity> }> {
  const feishuCache = new Map<string, Promise<CanonicalEvent[]>>();
  const spokeCache = new Map<string, Promise<RemoteEvent[]>>();
  const untaggedCounted = new Set<string>();
  const perPair = await Promise.all(
    pairs.map(async (pair) => {
      const fk = pair.feishu.id;
      if (!feishuCache.has(fk)) {
        feishuCache.set(
          fk,
          listAll(app.feishu, pair.feishu).then((l) => l.map((r) => r.event)),
        );
      }
      const sk = `${pair.spoke}|${pair.target.owner}|${pair.target.id}`;
      if (!spokeCache.has(sk)) spokeCache.set(sk, listAll(app.spokes[pair.spoke]!, pair.target));
      const [feishu, spoke] = await Promise.all([feishuCache.get(fk)!, spokeCache.get(sk)!]);
      let untagged = 0;
      if (!untaggedCounted.has(sk)) {
        untaggedCounted.add(sk);
        untagged = spoke.filter((r) => !r.tag).length;
      }
      const connector = app.spokes[pair.spoke]!;
      const target = { ...connector.capabilities, attendee: attendeeFor?.(pair) };
      return { pair, parity: parity(feishu, spoke, pair.id, { ...policy, target }, untagged) };
    }),
  );
  const perSpoke: Record<string, Parity> = {};
  for (const { pair, parity: p } of perPair) {
    perSpoke[pair.spoke] = addParity(perSpoke[pair.spoke] ?? emptyParity(), p);
  }
  return { perPair, perSpoke };
}

export const exact = (p: Parity) => p.missing === 0 && p.extra === 0 && p.differing === 0;
