/**
 * Reconciliation of two-way pairs: spoke drift whose notifications were lost (an edit on Google, a
 * copy deleted on Exchange) is repaired by the same rules as the reverse sync; --dry-run shows the
 * plan and writes nothing; afterwards a second reconciliation finds parity and writes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReconcile } from '../../src/app/reconcile-run.ts';
import { runSync } from '../../src/app/sync-run.ts';
import type { Pair } from '../../src/sync/pair.ts';
import { googleDrift, graphDrift } from '../support/drift.ts';
import {
  closeTwoWay,
  copyOf,
  feishuEvent,
  graphVersions,
  marks,
  openTwoWay,
  pairsOf,
  someSingle,
  type TwoWayWorld,
  writesSince,
} from './twoway-world.ts';

let w: TwoWayWorld;
let pairs: Record<'google' | 'graph', Pair>;

beforeAll(async () => {
  w = await openTwoWay('feishu-wins');
  expect((await runSync(w.app)).ok).toBe(true);
  pairs = await pairsOf(w);
}, 120_000);
afterAll(() => closeTwoWay(w));

describe('reconcile on two-way pairs', () => {
  it('repairs spoke drift by the two-way rules; --dry-run only shows it', async () => {
    const user = w.tenant.users[0];
    const edited = (await someSingle(w, pairs.google, 0))!;
    const removed = (await someSingle(w, pairs.graph, 1))!;
    expect(edited.tag!.key).not.toBe(removed.tag!.key);
    await googleDrift(w.em.google, user.googleEmail).edit(edited.ref.id, 'Edited, notification lost');
    await graphDrift(w.em.graph, w.tenant.seeds.graph.tenants[0], user.exchangeEmail).remove(removed.ref.id);

    const before = await marks(w);
    const versions = await graphVersions(w);
    const dry = await runReconcile(w.app, { dryRun: true });
    expect(dry.repair).toBe(false);
    const plan = dry.reverse.flatMap((r) => (r.plan ?? []).map((p) => `${r.spoke} ${p.kind} ${p.key}`));
    expect(plan).toContain(`google to-feishu ${edited.tag!.key}`);
    expect(plan).toContain(`graph delete-in-feishu ${removed.tag!.key}`);
    expect(await writesSince(w, before)).toEqual({ feishu: [], google: [], graph: [] });
    expect(await graphVersions(w)).toEqual(versions);
    expect((await feishuEvent(w, pairs.google, edited.tag!.key))?.summary).not.toBe(
      'Edited, notification lost',
    );

    const r = await runReconcile(w.app);
    expect(r.ok).toBe(true);
    expect(r.inParity).toBe(true);
    expect((await feishuEvent(w, pairs.google, edited.tag!.key))?.summary).toBe('Edited, notification lost');
    expect((await copyOf(w, pairs.graph, edited.tag!.key))?.event.summary).toBe('Edited, notification lost');
    expect(await feishuEvent(w, pairs.graph, removed.tag!.key)).toBeUndefined();
    expect(await copyOf(w, pairs.google, removed.tag!.key)).toBeUndefined();

    const again = await marks(w);
    const v2 = await graphVersions(w);
    const second = await runReconcile(w.app);
    expect(second.inParity).toBe(true);
    expect(second.totals).toMatchObject({ missing: 0, extra: 0, differing: 0, repaired: 0, failed: 0 });
    expect(await writesSince(w, again)).toEqual({ feishu: [], google: [], graph: [] });
    expect(await graphVersions(w)).toEqual(v2);
    // and the sync that follows finds nothing to do either
    const sync = await runSync(w.app);
    expect(sync.ok).toBe(true);
    expect(await writesSince(w, again)).toEqual({ feishu: [], google: [], graph: [] });
  });
});
