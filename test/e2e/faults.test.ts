/**
 * Reliability: 429s, 5xx, dropped connections and latency injected into all three emulators during
 * a sync; the run retries what it can, a second run finishes the rest, and the spokes end in exact
 * parity with no duplicates.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, policyOf } from '../../src/app/compose.ts';
import { generateTenant } from '../../src/app/demo/tenant.ts';
import { control, type Emulators } from '../../src/app/emulators.ts';
import { resolvePairs } from '../../src/app/pairs.ts';
import { exact, readParity } from '../../src/app/parity-run.ts';
import { runSync } from '../../src/app/sync-run.ts';
import { openWorld } from '../support/world.ts';

const dir = mkdtempSync(join(tmpdir(), 'feisync-faults-'));
let em: Emulators;
let app: App;
const tenant = generateTenant({ users: 3, events: 120, now: Math.floor(Date.now() / 1000) });

beforeAll(async () => {
  ({ em, app } = await openWorld(tenant, dir));
});
afterAll(async () => {
  await app?.close();
  await em?.close();
  rmSync(dir, { recursive: true, force: true });
});

// the first request to each path always fails, so every run sees at least one fault; the rest are random
const faults = (path: string) => [
  { match: { path }, times: 1, action: { status: 503, body: {} } },
  { match: { path }, probability: 0.15, action: { status: 429, headers: { 'retry-after': '0' }, body: {} } },
  { match: { path }, probability: 0.1, action: { status: 503, body: {} } },
  { match: { path }, probability: 0.05, action: { drop: true } },
  { match: { path }, probability: 0.2, action: { delayMs: 30 } },
];

describe('a sync under injected faults', () => {
  it('ends in exact parity on both spokes with no duplicates', async () => {
    await control(em.google, 'faults', faults('^/batch/calendar/v3'));
    await control(em.graph, 'faults', faults('^/v1\\.0/\\$batch'));
    await control(em.feishu, 'faults', faults('/calendar/v4/calendars/[^/]+/events'));
    const first = await runSync(app);
    for (const url of [em.google, em.graph, em.feishu]) {
      await fetch(`${url}/_emulator/faults`, { method: 'DELETE' });
    }
    const log = (await (await fetch(`${em.google}/_emulator/requests`)).json()) as { status: number }[];
    expect(log.some((e) => e.status === 429 || e.status === 503)).toBe(true);
    // what failed in the first run (if anything) is written by the next one
    const second = await runSync(app);
    expect(second.totals.failed).toBe(0);
    expect(first.totals.created + second.totals.created).toBeGreaterThan(0);

    const { pairs, attendeeFor } = await resolvePairs(app);
    const { perSpoke } = await readParity(app, pairs, policyOf(app.config), attendeeFor);
    for (const p of Object.values(perSpoke)) {
      expect({
        missing: p.missing,
        extra: p.extra,
        differing: p.differing,
        examples: p.examples,
      }).toMatchObject({
        missing: 0,
        extra: 0,
        differing: 0,
      });
      expect(exact(p)).toBe(true);
    }
  });
});

describe('a copy whose version moved on the spoke', () => {
  it('is still updated from Feishu (one-way pair), not failed forever on the stale version', async () => {
    await runSync(app);
    const ev = tenant.seeds.feishu.events.find(
      (e) => !e.recurrence && !e.is_exception && e.visibility !== 'private',
    )!;
    const { pairs } = await resolvePairs(app);
    const pair = pairs.find((p) => p.spoke === 'graph' && p.feishu.id === ev.organizer_calendar_id)!;
    const link = (await app.links.byUids(pair.id, [ev.event_id.slice(0, ev.event_id.lastIndexOf('_'))])).get(
      ev.event_id,
    )!;
    // someone touches the copy in Outlook: its changeKey moves on
    const graph = app.spokes.graph!;
    const copies = [];
    for await (const page of graph.listChanges(pair.target, null)) copies.push(...page.upserts);
    const touched = copies.find((r) => r.ref.id === link.spokeId)!;
    const edited = await graph.write(pair.target, [
      {
        op: 'update',
        ref: { id: touched.ref.id },
        event: { ...touched.event, summary: 'Touched in Outlook' },
        tag: touched.tag!,
      },
    ]);
    expect(edited[0].ok).toBe(true);
    await control(em.feishu, 'events', {
      op: 'patch',
      calendar_id: ev.organizer_calendar_id,
      event_id: ev.event_id,
      event: { summary: 'Renamed in Feishu after the touch' },
    });
    const r = await runSync(app);
    expect(r.pairs.flatMap((p) => p.failures)).toEqual([]);
    const after = [];
    for await (const page of graph.listChanges(pair.target, null)) after.push(...page.upserts);
    expect(after.find((x) => x.ref.id === link.spokeId)?.event.summary).toBe(
      'Renamed in Feishu after the touch',
    );
  });
});
