/**
 * Parity of one pair: what the spoke should hold (the Feishu events projected for the pair) against
 * what it holds (read back through its API). Pure.
 */
import { type CanonicalEvent, fingerprint, formatKey, normalized, stableJson } from '../core/index.ts';
import type { RemoteEvent } from '../ports/index.ts';
import type { SyncPolicy } from './pair.ts';
import { project } from './project.ts';

export interface Parity {
  expected: number;
  found: number;
  missing: number;
  extra: number;
  differing: number;
  /** Up to 20 examples of each kind of difference, as instance keys. */
  examples: { missing: string[]; extra: string[]; differing: string[] };
}

export const emptyParity = (): Parity => ({
  expected: 0,
  found: 0,
  missing: 0,
  extra: 0,
  differing: 0,
  examples: { missing: [], extra: [], differing: [] },
});

export function addParity(into: Parity, more: Parity): Parity {
  for (const k of ['expected', 'found', 'missing', 'extra', 'differing'] as const) into[k] += more[k];
  for (const k of ['missing', 'extra', 'differing'] as const) {
    into.examples[k] = [...into.examples[k], ...more.examples[k]].slice(0, 20);
  }
  return into;
}

/**
 * `feishu`: every Feishu event of the pair's calendar. `spoke`: every event of the spoke calendar
 * that carries this pair's origin tag, plus `untagged` events (not written by Feisync) there.
 * A cancelled occurrence is in parity when the spoke shows it cancelled or does not show it at all.
 */
export function parity(
  feishu: CanonicalEvent[],
  spoke: RemoteEvent[],
  pairId: string,
  policy: SyncPolicy,
  untagged = 0,
): Parity {
  const out = emptyParity();
  const expected = new Map<string, { fp: string; cancelled: boolean; event: CanonicalEvent }>();
  for (const ev of feishu) {
    const p = project(ev, policy);
    if ('event' in p)
      expected.set(formatKey(ev.key), {
        fp: p.fingerprint,
        cancelled: ev.status === 'cancelled',
        event: p.event,
      });
  }
  const found = new Map<string, string>();
  const foundEvents = new Map<string, CanonicalEvent>();
  const note = (kind: keyof Parity['examples'], key: string) => {
    out[kind] += 1;
    if (out.examples[kind].length < 20) out.examples[kind].push(key);
  };
  for (const r of spoke) {
    if (r.tag?.pair !== pairId) continue;
    if (found.has(r.tag.key)) note('extra', `${r.tag.key} (duplicate)`);
    found.set(r.tag.key, fingerprint(r.event, policy.fields));
    foundEvents.set(r.tag.key, r.event);
  }
  for (const [key, want] of expected) {
    const got = found.get(key);
    out.expected += 1;
    if (got === undefined && want.cancelled) out.found += 1;
    else if (got === undefined) note('missing', key);
    else if (got !== want.fp)
      note('differing', `${key} (${differingFields(want.event, foundEvents.get(key)!, policy).join(', ')})`);
  }
  for (const key of found.keys()) {
    const want = expected.get(key);
    if (!want) note('extra', key);
    else out.found += 1;
  }
  for (let i = 0; i < untagged; i++) note('extra', '(not written by Feisync)');
  return out;
}

/** The normalized fields on which two events differ. */
export function differingFields(a: CanonicalEvent, b: CanonicalEvent, policy: SyncPolicy): string[] {
  const x = normalized(a, policy.fields);
  const y = normalized(b, policy.fields);
  return Object.keys(x).filter((k) => stableJson(x[k]) !== stableJson(y[k]));
}
