/**
 * Conflicts on two-way pairs: edits of different fields in Feishu and on Google both survive; the
 * same field edited on both sides follows sync.conflicts; `report` holds (nothing written to that
 * copy, listed by `feisync conflicts` and status) until `resolve` settles it; then all is quiet.
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listConflicts, resolveConflict } from '../../src/app/conflicts.ts';
import { readStatus } from '../../src/app/status.ts';
import { runSync } from '../../src/app/sync-run.ts';
import type { Pair } from '../../src/sync/pair.ts';
import { googleDrift } from '../support/drift.ts';
import {
  copyOf,
  feishuEdit,
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
let closed = false;
afterAll(async () => {
  if (!closed) await w?.app.close();
  await w?.em.close();
  if (w) rmSync(w.dir, { recursive: true, force: true });
});

const drift = () => googleDrift(w.em.google, w.tenant.users[0].googleEmail);
const policy = (p: 'feishu-wins' | 'spoke-wins' | 'newest-wins' | 'report') => {
  (w.app.config.sync as { conflicts: string }).conflicts = p;
};

async function quiet() {
  const before = await marks(w);
  const versions = await graphVersions(w);
  expect((await runSync(w.app)).ok).toBe(true);
  expect(await writesSince(w, before)).toEqual({ feishu: [], google: [], graph: [] });
  expect(await graphVersions(w)).toEqual(versions);
}

/** The same event's summary on all three sides. */
async function summaries(key: string) {
  return {
    feishu: (await feishuEvent(w, pairs.google, key))?.summary,
    google: (await copyOf(w, pairs.google, key))?.event.summary,
    graph: (await copyOf(w, pairs.graph, key))?.event.summary,
  };
}

describe('two-way conflicts', () => {
  it('different fields edited in Feishu and on Google both survive everywhere', async () => {
    policy('report');
    const copy = (await someSingle(w, pairs.google, 0))!;
    const key = copy.tag!.key;
    await feishuEdit(w, pairs.google, key, { summary: 'Title from Feishu' });
    const api = (await import('../../connectors/google/emulator/testkit.ts')).calendarFor(
      w.em.google,
      w.tenant.users[0].googleEmail,
    );
    await api.events.patch({
      calendarId: w.tenant.users[0].googleEmail,
      eventId: copy.ref.id,
      requestBody: { location: 'Place from Google' },
    });
    const r = await runSync(w.app);
    expect(r.ok).toBe(true);
    expect(await listConflicts(w.app.db.prisma)).toEqual([]);
    const f = await feishuEvent(w, pairs.google, key);
    const g = await copyOf(w, pairs.google, key);
    const m = await copyOf(w, pairs.graph, key);
    for (const ev of [f, g?.event, m?.event]) {
      expect(ev?.summary).toBe('Title from Feishu');
      expect(ev?.location).toBe('Place from Google');
    }
    await quiet();
  });

  it.each([
    ['feishu-wins', 1, 'Feishu'],
    ['spoke-wins', 2, 'Google'],
    // Google's copy was edited after the Feishu event was created (Feishu's time for newest-wins)
    ['newest-wins', 3, 'Google'],
  ] as const)('the same field edited on both sides follows %s', async (p, n, winner) => {
    policy(p);
    const copy = (await someSingle(w, pairs.google, n))!;
    const key = copy.tag!.key;
    await feishuEdit(w, pairs.google, key, { summary: `${p} Feishu` });
    await drift().edit(copy.ref.id, `${p} Google`);
    const r = await runSync(w.app);
    expect(r.ok).toBe(true);
    const want = `${p} ${winner}`;
    expect(await summaries(key)).toEqual({ feishu: want, google: want, graph: want });
    expect(r.reverse.find((x) => x.pair === pairs.google.id)?.counts.conflicts).toBe(1);
    await quiet();
  });

  it('report holds the conflict (the Google copy is not written), lists it, and resolve settles it', async () => {
    policy('report');
    const copy = (await someSingle(w, pairs.google, 4))!;
    const key = copy.tag!.key;
    await feishuEdit(w, pairs.google, key, { summary: 'Held Feishu' });
    await drift().edit(copy.ref.id, 'Held Google');
    const r = await runSync(w.app);
    expect(r.ok).toBe(true);
    expect(await summaries(key)).toEqual({
      feishu: 'Held Feishu',
      google: 'Held Google',
      graph: 'Held Feishu',
    });
    const open = await listConflicts(w.app.db.prisma);
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ key, spoke: 'google', user: pairs.google.userKey });
    expect(open[0].fields).toEqual([
      { field: 'summary', base: expect.any(String), feishu: '"Held Feishu"', spoke: '"Held Google"' },
    ]);
    const status = await readStatus(w.app.db.prisma);
    expect(status.conflicts.map((c) => c.id)).toEqual([open[0].id]);

    // held: another run changes nothing and keeps one open conflict
    await quiet();
    expect(await listConflicts(w.app.db.prisma)).toHaveLength(1);

    await expect(resolveConflict(w.app, open[0].id, 'exchange')).rejects.toThrow(/--keep feishu or google/);
    const settled = await resolveConflict(w.app, open[0].id, 'google');
    expect(settled.ok).toBe(true);
    expect(await summaries(key)).toEqual({
      feishu: 'Held Google',
      google: 'Held Google',
      graph: 'Held Google',
    });
    expect(await listConflicts(w.app.db.prisma)).toEqual([]);
    await quiet();
  });

  it('feisync conflicts lists a held conflict as JSON, and resolve settles it from the command line', async () => {
    policy('report');
    const copy = (await someSingle(w, pairs.google, 5))!;
    const key = copy.tag!.key;
    await feishuEdit(w, pairs.google, key, { summary: 'CLI Feishu' });
    await drift().edit(copy.ref.id, 'CLI Google');
    expect((await runSync(w.app)).ok).toBe(true);
    // the commands open the same database: this test's app steps aside first
    await w.app.close();
    closed = true;
    const cli = (...args: string[]) =>
      new Promise<string>((resolve, reject) =>
        execFile(
          process.execPath,
          ['bin/feisync.mjs', 'conflicts', ...args, '--config', w.configFile],
          { env: { ...process.env } },
          (e, stdout, stderr) => (e ? reject(new Error(`${e.message}\n${stderr}`)) : resolve(stdout)),
        ),
      );
    const list = JSON.parse(await cli('--json'));
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      key,
      spoke: 'google',
      fields: [{ field: 'summary', feishu: '"CLI Feishu"', spoke: '"CLI Google"' }],
    });
    expect(await cli('resolve', String(list[0].id), '--keep', 'feishu')).toMatch(/resolved: kept feishu/);
    expect(JSON.parse(await cli('--json'))).toEqual([]);
  }, 120_000);
});
