/**
 * Parity of one pair: what the spoke should hold (the Feishu events projected for the pair) against
 * what it holds (read back through its API). Pure.
 */
import { createHash } from 'node:crypto';
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
    const verdict = judge(
      { fingerprint: want.fp, cancelled: want.cancelled },
      got === undefined ? undefined : { fingerprint: got },
    );
    if (verdict === 'found') {
      if (got === undefined) out.found += 1; // a cancelled occurrence the spoke does not show
    } else if (verdict === 'missing') note('missing', key);
    else
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

export type Verdict = 'found' | 'missing' | 'differing';

/**
 * One expected instance against the spoke's copy of it (undefined: none). A cancelled occurrence is
 * in parity when the spoke shows it cancelled or does not show it at all. Shared by parity() and
 * reconciliation, so that both call the same things differences.
 */
export function judge(
  want: { fingerprint: string; cancelled: boolean },
  copy: { fingerprint: string } | undefined,
): Verdict {
  if (copy === undefined) return want.cancelled ? 'found' : 'missing';
  return copy.fingerprint === want.fingerprint ? 'found' : 'differing';
}

/**
 * A compact digest of each normalized field (`name=hash;...`): enough to name the fields on which
 * two events differ without keeping the events themselves.
 */
export function fieldDigest(ev: CanonicalEvent, policy: SyncPolicy): string {
  const fields = normalized(ev, policy.fields);
  return Object.keys(fields)
    .sort()
    .map((k) => `${k}=${createHash('sha1').update(stableJson(fields[k])).digest('base64').slice(0, 8)}`)
    .join(';');
}

/** The fields on which two field digests differ. */
export function digestDiff(a: string, b: string): string[] {
  const parse = (d: string) => new Map(d.split(';').map((p) => p.split('=') as [string, string]));
  const x = parse(a);
  const y = parse(b);
  return [...new Set([...x.keys(), ...y.keys()])].filter((k) => x.get(k) !== y.get(k)).sort();
}

/** The normalized fields on which two events differ. */
export function differingFields(a: CanonicalEvent, b: CanonicalEvent, policy: SyncPolicy): string[] {
  const x = normalized(a, policy.fields);
  const y = normalized(b, policy.fields);
  return Object.keys(x).filter((k) => stableJson(x[k]) !== stableJson(y[k]));
}
