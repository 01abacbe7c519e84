/**
 * Reconciliation against the three emulators: drift made on both spokes through their own APIs is
 * found and repaired; a wiped mapping table is rebuilt from origin tags without a single new event;
 * an empty listing (fault) deletes nothing; --dry-run and `reconcile.repair: false` change nothing;
 * events Feisync did not write are never touched. Then the CLI command, table and JSON.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, policyOf } from '../../src/app/compose.ts';
import { generateTenant } from '../../src/app/demo/tenant.ts';
import { control, type Emulators } from '../../src/app/emulators.ts';
import { resolvePairs } from '../../src/app/pairs.ts';
import { readParity } from '../../src/app/parity-run.ts';
import { latestReconcileReport, runReconcile } from '../../src/app/reconcile-run.ts';
import { runSync } from '../../src/app/sync-run.ts';
import { lastRuns } from '../../src/store/runs.ts';
import type { Pair } from '../../src/sync/pair.ts';
import { type Drift, googleDrift, graphDrift } from '../support/drift.ts';
import { openWorld } from '../support/world.ts';

const dir = mkdtempSync(join(tmpdir(), 'feisync-reconcile-'));
const NOW = Math.floor(Date.now() / 1000);
const tenant = generateTenant({ users: 3, events: 120, now: NOW });
let em: Emulators;
let app: App;
let configFile: string;
let pairs: Pair[];
let closed = false;

beforeAll(async () => {
  ({ em, app, configFile } = await openWorld(tenant, dir));
  const sync = await runSync(app);
  expect(sync.totals.failed).toBe(0);
  pairs = (await resolvePairs(app)).pairs;
}, 120_000);
afterAll(async () => {
  if (!closed) await app?.close();
  await em?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Every event the spokes hold (cancelled ones included), with its version: equal means untouched. */
async function snapshot() {
  const google = (await (await fetch(`${em.google}/_emulator/state`)).json()) as any;
  const graph = (await (await fetch(`${em.graph}/_emulator/state`)).json()) as any;
  return {
    google: google.events.map((e: any) => `${e.id}|${e.status}|${e.etag}|${e.summary}`).sort() as string[],
    graph: graph.events
      .map((e: any) => `${e.id}|${e.changeKey}|${e.subject}|${(e.cancelledOccurrences ?? []).length}`)
      .sort() as string[],
  };
}
const ids = (s: string[]) => s.map((x) => x.split('|')[0]);

async function spokeParity() {
  const resolved = await resolvePairs(app);
  return (await readParity(app, resolved.pairs, policyOf(app.config), resolved.attendeeFor)).perSpoke;
}

/** The copies of one pair, as its spoke lists them. */
async function copies(pair: Pair) {
  const out = [];
  for await (const page of app.spokes[pair.spoke]!.listChanges(pair.target, null)) out.push(...page.upserts);
  return out.filter((r) => r.tag?.pair === pair.id);
}

const user = tenant.users[0];
const driftOf = (pair: Pair): Drift =>
  pair.spoke === 'google'
    ? googleDrift(em.google, user.googleEmail)
    : graphDrift(em.graph, tenant.seeds.graph.tenants[0], user.exchangeEmail);

describe('feisync reconcile against the emulators', () => {
  it('finds the spokes in parity after a sync and writes nothing', async () => {
    const before = await snapshot();
    const r = await runReconcile(app);
    expect(r.ok).toBe(true);
    expect(r.inParity).toBe(true);
    expect(r.totals).toMatchObject({
      missing: 0,
      extra: 0,
      differing: 0,
      repaired: 0,
      relinked: 0,
      failed: 0,
    });
    expect(r.totals.expected).toBeGreaterThan(100);
    expect(r.rows).toHaveLength(pairs.length);
    expect(await snapshot()).toEqual(before);
  });

  it('finds and repairs an edited, a deleted, a stray and a duplicated copy on both spokes; leaves untagged events alone', async () => {
    const untagged: Record<string, string> = {};
    const mine = pairs.filter((p) => p.userKey === user.feishuEmail);
    expect(mine.map((p) => p.spoke).sort()).toEqual(['google', 'graph']);
    for (const pair of mine) {
      const drift = driftOf(pair);
      const all = await copies(pair);
      const singles = all.filter(
        (r) =>
          r.event.key.originalTime === 0 && r.event.recurrence.length === 0 && r.event.status !== 'cancelled',
      );
      const exception = all.find((r) => r.event.key.originalTime !== 0 && r.event.status !== 'cancelled');
      expect(singles.length).toBeGreaterThan(3);
      expect(exception).toBeDefined();
      await drift.edit(singles[0].ref.id, 'Edited on the spoke');
      await drift.edit(exception!.ref.id, 'Occurrence edited on the spoke');
      await drift.remove(singles[1].ref.id);
      await drift.insert('Stray', NOW + 86_400, { pair: pair.id, key: 'ghost0000000000_0' });
      await drift.insert('Duplicate', NOW + 2 * 86_400, singles[2].tag!);
      untagged[pair.spoke] = await drift.insert('Not written by Feisync', NOW + 3 * 86_400);
    }
    const drifted = await snapshot();

    // report only: --dry-run, and the config's repair: false
    const dry = await runReconcile(app, { dryRun: true });
    const reportOnly = await runReconcile({
      ...app,
      config: { ...app.config, reconcile: { ...app.config.reconcile, repair: false } },
    });
    expect(await snapshot()).toEqual(drifted);
    for (const r of [dry, reportOnly]) {
      expect(r.repair).toBe(false);
      for (const spoke of ['google', 'graph']) {
        const row = r.rows.find((x) => x.user === user.feishuEmail && x.spoke === spoke)!;
        expect(row).toMatchObject({ missing: 1, differing: 2, extra: 2, duplicates: 1, repaired: 0 });
        expect(row.untagged).toBeGreaterThanOrEqual(1);
        expect(row.plan?.map((a) => a.kind).sort()).toEqual([
          'create',
          'delete',
          'delete',
          'update',
          'update',
        ]);
      }
    }
    expect(dry.inParity).toBe(false);

    const fixed = await runReconcile(app);
    expect(fixed.ok).toBe(true);
    expect(fixed.totals).toMatchObject({ missing: 2, differing: 4, extra: 4, repaired: 10, failed: 0 });
    expect(fixed.inParity).toBe(true);
    for (const p of Object.values(await spokeParity())) {
      // the untagged event is the only extra left: parity counts what Feisync did not write
      expect({ missing: p.missing, differing: p.differing, extra: p.extra }).toEqual({
        missing: 0,
        differing: 0,
        extra: 1,
      });
    }
    const after = await snapshot();
    expect(after.google.find((x) => x.startsWith(`${untagged.google}|`))).toBe(
      drifted.google.find((x) => x.startsWith(`${untagged.google}|`)),
    );
    expect(after.graph.find((x) => x.startsWith(`${untagged.graph}|`))).toBe(
      drifted.graph.find((x) => x.startsWith(`${untagged.graph}|`)),
    );
    const again = await runReconcile(app);
    expect(again.totals).toMatchObject({ missing: 0, extra: 0, differing: 0, repaired: 0 });
    // each run is recorded with its full report
    const runs = await lastRuns(app.db.prisma, 4, 'reconcile');
    expect(runs[0]).toMatchObject({ id: again.runId, status: 'ok' });
    expect((runs[1].report as any).totals.repaired).toBe(10);
    expect((await latestReconcileReport(app))?.runId).toBe(again.runId);
  });

  it('rebuilds a wiped mapping table from origin tags without a single new event', async () => {
    const live = await app.db.prisma.eventLink.count({ where: { tombstone: false, spokeId: { not: null } } });
    const before = await snapshot();
    await app.db.prisma.eventLink.deleteMany();
    const r = await runReconcile(app);
    expect(r.ok).toBe(true);
    expect(r.totals).toMatchObject({ repaired: 0, missing: 0, extra: 0, differing: 0 });
    expect(r.totals.relinked).toBe(live);
    expect(await snapshot()).toEqual(before);
    expect(await app.db.prisma.eventLink.count({ where: { tombstone: false, spokeId: { not: null } } })).toBe(
      live,
    );
    // and the ordinary sync takes up from the rebuilt links: nothing to write
    const sync = await runSync(app, { full: true });
    expect(sync.totals).toMatchObject({ created: 0, updated: 0, deleted: 0, failed: 0 });
  });

  it('deletes nothing when a listing comes back empty', async () => {
    const pair = pairs.find((p) => p.spoke === 'google' && p.userKey === user.feishuEmail)!;
    await driftOf(pair).insert('Stray', NOW + 86_400, { pair: pair.id, key: 'ghost0000000001_0' });
    const before = await snapshot();
    // Feishu answers every listing with no events at all
    await control(em.feishu, 'faults', [
      {
        match: { method: 'GET', path: '/calendar/v4/calendars/[^/]+/events$' },
        action: { status: 200, body: { code: 0, msg: 'success', data: { items: [], has_more: false } } },
      },
    ]);
    const r = await runReconcile(app);
    await fetch(`${em.feishu}/_emulator/faults`, { method: 'DELETE' });
    expect(r.ok).toBe(false);
    expect(r.rows.every((x) => x.writes.deleted === 0)).toBe(true);
    expect(r.rows.some((x) => /empty/.test(x.held ?? ''))).toBe(true);
    expect(await snapshot()).toEqual(before);

    // a spoke answers with no events: nothing to delete, and what looks missing is found again, not copied
    await control(em.google, 'faults', [
      {
        match: { method: 'GET', path: '/calendar/v3/calendars/[^/]+/events$' },
        action: { status: 200, body: { kind: 'calendar#events', items: [], nextSyncToken: 'empty' } },
      },
    ]);
    const s = await runReconcile(app);
    await fetch(`${em.google}/_emulator/faults`, { method: 'DELETE' });
    expect(s.rows.every((x) => x.writes.deleted === 0)).toBe(true);
    expect(ids((await snapshot()).google)).toEqual(ids(before.google));

    // with the faults gone the stray goes
    const fixed = await runReconcile(app);
    expect(fixed.totals).toMatchObject({ extra: 1, repaired: 1, failed: 0 });
    for (const p of Object.values(await spokeParity())) expect(p.missing + p.differing).toBe(0);
  });
});

describe('the reconcile command', () => {
  const env = () => ({
    PATH: process.env.PATH ?? '',
    HOME: dir,
    FEISHU_URL: em.feishu,
    GOOGLE_URL: em.google,
    GRAPH_URL: em.graph,
  });
  const cli = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [join(import.meta.dirname, '../../bin/feisync.mjs'), ...args],
        { cwd: dir, env: env(), timeout: 120_000 },
        (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
      );
    });

  it('prints the parity table, or JSON lines with --json', async () => {
    await app.close(); // the embedded database is the CLI's now
    closed = true;
    const table = await cli(['reconcile', '--config', configFile, '--dry-run']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(
      /user\s+calendar\s+spoke\s+expected\s+found\s+missing\s+extra\s+differing\s+repaired/,
    );
    expect(table.stdout).toMatch(/report only/);
    const json = await cli(['reconcile', '--config', configFile, '--json']);
    expect(json.code).toBe(0);
    const lines = json.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ type: 'start' });
    const result = lines.find((l) => l.type === 'result');
    expect(result.rows).toHaveLength(pairs.length);
    expect(result.totals).toMatchObject({ missing: 0, differing: 0, roomsPending: 0 });
    // the rooms of the mirrored meetings were recorded by the sync, from the copies it wrote
    expect(result.totals.roomsBooked).toBeGreaterThan(0);
  });
});
