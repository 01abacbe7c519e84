/**
 * Migration in waves on the emulators: four users in two waves, both spokes one-way by config. Wave 1
 * is cut over to Google (its Google pairs become two-way, spoke-wins), wave 2 stays on Feishu. Every
 * check reads the calendars back through the Lark, Google and Graph SDKs (the connectors).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTenant } from '../../src/app/demo/tenant.ts';
import { formatMigration, planWave, readMigration } from '../../src/app/migrate.ts';
import { cutoverWave, rollbackWave } from '../../src/app/migrate-run.ts';
import { resolvePairs } from '../../src/app/pairs.ts';
import { formatReconcileReport, runReconcile } from '../../src/app/reconcile-run.ts';
import { runSync } from '../../src/app/sync-run.ts';
import type { Pair } from '../../src/sync/pair.ts';
import { googleDrift } from '../support/drift.ts';
import { openWorld } from '../support/world.ts';
import {
  copyOf,
  feishuEdit,
  feishuEvent,
  marks,
  NOW,
  pairsOf,
  seedInvitation,
  someSingle,
  spokeEvents,
  type TwoWayWorld,
  writesSince,
} from './twoway-world.ts';

let w: TwoWayWorld;
let meeting: string;
const u = (i: number) => w.tenant.users[i];
let p: Record<'google' | 'graph', Pair>[];

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'feisync-migrate-'));
  const tenant = generateTenant({ users: 4, events: 24, now: NOW, seed: 12 });
  const config = tenant.config as any;
  config.sync.direction = { google: 'one-way', exchange: 'one-way' };
  config.migration = {
    waves: [
      { name: 'wave-1', users: [tenant.users[1].feishuEmail, tenant.users[2].feishuEmail], target: 'google' },
      { name: 'wave-2', users: [tenant.users[0].feishuEmail, tenant.users[3].feishuEmail], target: 'google' },
    ],
  };
  const { em, app, configFile } = await openWorld(tenant, dir);
  w = { dir, tenant, em, app, configFile };
  // organized by users[1] (wave 1), users[0] (wave 2) invited
  meeting = await seedInvitation(w, 'Across the waves', NOW + 9 * 86_400);
  await seedRoomMeeting(NOW + 10 * 86_400);
  const first = await runSync(w.app);
  expect(first.ok).toBe(true);
  p = await Promise.all([0, 1, 2, 3].map((i) => pairsOf(w, u(i))));
}, 180_000);
let closed = false;
afterAll(async () => {
  if (!closed) await w?.app.close();
  await w?.em.close();
  if (w) rmSync(w.dir, { recursive: true, force: true });
});

/** A meeting users[1] (wave 1) organizes in a mapped room, seeded into their Feishu calendar. */
async function seedRoomMeeting(start: number) {
  const organizer = u(1);
  const room = w.tenant.rooms[0];
  const event = {
    event_id: `room${start}-0000-4000-8000-000000000002_0`,
    calendar_id: organizer.calendarId,
    organizer_calendar_id: organizer.calendarId,
    summary: 'Room meeting',
    description: '',
    visibility: 'default',
    attendee_ability: 'none',
    free_busy_status: 'busy',
    reminders: [],
    status: 'confirmed',
    start_time: { timestamp: String(start), timezone: 'UTC' },
    end_time: { timestamp: String(start + 3600), timezone: 'UTC' },
    is_exception: false,
    create_time: String(NOW - 86_400),
    event_organizer: { user_id: organizer.openId, display_name: organizer.name },
    attendees: [
      {
        type: 'user',
        attendee_id: `user_${organizer.openId.slice(3, 19)}`,
        rsvp_status: 'accept',
        is_optional: false,
        is_organizer: true,
        is_external: false,
        display_name: organizer.name,
        user_id: organizer.openId,
      },
      {
        type: 'resource',
        attendee_id: 'resource_00000000000000aa',
        rsvp_status: 'accept',
        is_optional: false,
        is_organizer: false,
        is_external: false,
        display_name: room.name,
        room_id: room.feishuRoomId,
      },
    ],
  };
  const res = await fetch(`${w.em.feishu}/_emulator/seed`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ events: [event] }),
  });
  if (!res.ok) throw new Error(`seed: ${res.status} ${await res.text()}`);
}

/** Copies in a pair's spoke calendar per Feishu key: every key must have exactly one. */
async function copiesPerKey(pair: Pair) {
  const counts = new Map<string, number>();
  for (const r of await spokeEvents(w, pair))
    if (r.tag?.pair === pair.id) counts.set(r.tag.key, (counts.get(r.tag.key) ?? 0) + 1);
  return counts;
}
const dupes = async (pair: Pair) => [...(await copiesPerKey(pair)).values()].filter((n) => n > 1).length;

describe('migration in waves', () => {
  it('plan lists what cutover will do and writes nothing', async () => {
    const before = await marks(w);
    const plan = await planWave(w.app, 'wave-1');
    expect(plan.users.map((x) => x.user).sort()).toEqual([u(1).feishuEmail, u(2).feishuEmail].sort());
    expect(plan.blocked).toBe(false);
    const organizer = plan.users.find((x) => x.user === u(1).feishuEmail)!;
    expect(organizer.events).toBeGreaterThan(5);
    expect(organizer.drift).toBe(0);
    const across = organizer.organized.find((m) => m.summary === 'Across the waves')!;
    // the invitee is in wave 2: still on Feishu
    expect(across).toMatchObject({ moved: 0, onFeishu: 1, external: 0 });
    expect(await writesSince(w, before)).toEqual({ feishu: [], google: [], graph: [] });
    expect(await w.app.db.prisma.migrationUser.count()).toBe(0);
  }, 120_000);

  it('cutover refuses while a dry-run reconcile finds drift, and proceeds once repaired', async () => {
    const victim = (await someSingle(w, p[2].google, 2))!;
    await googleDrift(w.em.google, u(2).googleEmail).remove(victim.ref.id);
    const refused = await cutoverWave(w.app, 'wave-1');
    expect(refused.ok).toBe(false);
    const blockers = refused.refused!.users.find((x) => x.user === u(2).feishuEmail)!.blockers;
    expect(blockers.join('; ')).toMatch(/^drift: a dry-run reconcile would make 1 write/);
    expect(await w.app.db.prisma.migrationUser.count()).toBe(0);
    expect((await runReconcile(w.app)).inParity).toBe(true);
    expect(await copyOf(w, p[2].google, victim.tag!.key)).toBeDefined();
    expect((await planWave(w.app, 'wave-1')).blocked).toBe(false);
  }, 120_000);

  it('a cutover stopped after the switch resumes without duplicates', async () => {
    const googleBefore = (await spokeEvents(w, p[1].google)).length;
    const stopped = await cutoverWave(w.app, 'wave-1', { stopAfter: 'switch' });
    expect(stopped.users.map((x) => x.state)).toEqual(['cutover', 'cutover']);
    // the override is on for wave 1's Google pairs only
    const { pairs } = await resolvePairs(w.app);
    const google1 = pairs.find((x) => x.id === p[1].google.id)!;
    expect(google1).toMatchObject({ direction: 'two-way', conflicts: 'spoke-wins' });
    expect(pairs.find((x) => x.id === p[1].graph.id)!.direction).toBe('one-way');
    expect(pairs.find((x) => x.id === p[0].google.id)!.direction).toBe('one-way');
    const before = await marks(w);
    const resumed = await cutoverWave(w.app, 'wave-1');
    expect(resumed.ok).toBe(true);
    for (const x of resumed.users) {
      expect(x.state).toBe('done');
      // catch-up and switch were not done again
      expect(x.steps.filter((s) => s.step === 'switch')).toHaveLength(1);
      expect(x.parity).toBe(0);
      // the one-way pair kept no merge base: cutover recorded them (else a later edit on both sides
      // would take every differing field from Google)
      expect(x.steps.find((s) => s.step === 'bases')?.detail).toMatch(/^[1-9]\d* merge base/);
    }
    // the resume wrote nothing to Feishu, nor a second copy anywhere
    expect((await writesSince(w, before)).feishu).toEqual([]);
    expect((await spokeEvents(w, p[1].google)).length).toBe(googleBefore);
    for (const i of [0, 1, 2, 3]) {
      expect(await dupes(p[i].google)).toBe(0);
      expect(await dupes(p[i].graph)).toBe(0);
    }
    const status = await readMigration(w.app.db.prisma, w.app.config.migration.waves);
    expect(status.find((s) => s.wave === 'wave-1')!.counts).toMatchObject({ done: 2, pending: 0 });
    expect(formatMigration(status)).toContain('wave wave-1 -> google: 2 done');
    // the reconcile report has the wave section, and every pair is in parity after the cutover
    const rec = await runReconcile(w.app, { dryRun: true });
    expect(rec.inParity).toBe(true);
    expect(formatReconcileReport(rec)).toContain('wave wave-1 -> google: 2 done, 0 in cutover, 0 pending');
  }, 180_000);

  it('an edit made in Google by a wave-1 user reaches Feishu and Exchange', async () => {
    const copy = (await someSingle(w, p[1].google))!;
    const key = copy.tag!.key;
    await googleDrift(w.em.google, u(1).googleEmail).edit(copy.ref.id, 'Edited in Google after cutover');
    const r = await runSync(w.app);
    expect(r.ok).toBe(true);
    expect((await feishuEvent(w, p[1].google, key))?.summary).toBe('Edited in Google after cutover');
    expect((await copyOf(w, p[1].graph, key))?.event.summary).toBe('Edited in Google after cutover');
  }, 120_000);

  it('a meeting with a room, edited in Google after cutover: the room stays booked once on each side', async () => {
    const rooms = new Map(w.app.config.rooms.map((r) => [r.google?.toLowerCase(), r.feishu]));
    const withRoom = (await spokeEvents(w, p[1].google)).find(
      (r) =>
        r.tag?.pair === p[1].google.id &&
        r.event.key.originalTime === 0 &&
        r.event.recurrence.length === 0 &&
        r.event.summary === 'Room meeting' &&
        r.event.attendees.some((a) => rooms.has(a.email?.toLowerCase())),
    )!;
    expect(withRoom).toBeDefined();
    const key = withRoom.tag!.key;
    const room = withRoom.event.attendees.find((a) => rooms.has(a.email?.toLowerCase()))!;
    const roomId = rooms.get(room.email!.toLowerCase())!;
    await googleDrift(w.em.google, u(1).googleEmail).edit(withRoom.ref.id, 'Room meeting, edited in Google');
    expect((await runSync(w.app)).ok).toBe(true);
    const feishu = (await feishuEvent(w, p[1].google, key))!;
    expect(feishu.summary).toBe('Room meeting, edited in Google');
    expect(feishu.attendees.filter((a) => a.kind === 'room' && a.id === roomId)).toHaveLength(1);
    const google = (await copyOf(w, p[1].google, key))!;
    expect(
      google.event.attendees.filter((a) => a.email?.toLowerCase() === room.email!.toLowerCase()),
    ).toHaveLength(1);
    const exchangeRoom = w.app.config.rooms.find((r) => r.feishu === roomId)!.exchange!.toLowerCase();
    const graph = (await copyOf(w, p[1].graph, key))!;
    expect(graph.event.summary).toBe('Room meeting, edited in Google');
    expect(graph.event.attendees.filter((a) => a.email?.toLowerCase() === exchangeRoom)).toHaveLength(1);
    const [uid] = key.split('_');
    const bookings = await w.app.db.prisma.roomBooking.findMany({ where: { roomId, uid } });
    expect(bookings.filter((b) => b.status === 'conflict')).toEqual([]);
    expect(bookings.filter((b) => b.spoke === 'google')).toHaveLength(1);
  }, 120_000);

  it('a meeting between the waves edited on both sides: the target wins, one copy each', async () => {
    const copy = (await copyOf(w, p[1].google, meeting))!;
    expect(copy).toBeDefined();
    // the same field changed in Feishu and in Google (sync.conflicts is feishu-wins: the override
    // makes Google win), plus a field changed only in Feishu
    await feishuEdit(w, p[1].google, meeting, {
      summary: 'Renamed in Feishu',
      description: 'Agenda from Feishu',
    });
    await googleDrift(w.em.google, u(1).googleEmail).edit(copy.ref.id, 'Renamed in Google');
    const r = await runSync(w.app);
    expect(r.ok).toBe(true);
    const feishu = (await feishuEvent(w, p[1].google, meeting))!;
    expect(feishu.summary).toBe('Renamed in Google');
    expect(feishu.description).toBe('Agenda from Feishu');
    const google = (await copyOf(w, p[1].google, meeting))!;
    expect(google.event.summary).toBe('Renamed in Google');
    expect(google.event.description).toBe('Agenda from Feishu');
    expect((await copyOf(w, p[1].graph, meeting))!.event.summary).toBe('Renamed in Google');
    // the invitee (wave 2) still sees it on Feishu, and its attendees are the same on both sides
    const emails = (list: { email?: string }[]) => list.map((a) => a.email?.toLowerCase()).filter(Boolean);
    expect(emails(google.event.attendees)).toContain(u(0).googleEmail.toLowerCase());
    expect(feishu.attendees.filter((a) => a.kind === 'person').map((a) => a.id)).toEqual(
      expect.arrayContaining([u(0).openId, u(1).openId]),
    );
    // one copy each, on every calendar of both users
    for (const i of [0, 1]) {
      expect((await copiesPerKey(p[i].google)).get(meeting)).toBe(1);
      expect((await copiesPerKey(p[i].graph)).get(meeting)).toBe(1);
      expect(await dupes(p[i].google)).toBe(0);
    }
  }, 120_000);

  it('rollback makes Feishu the source again, with the edits made in Google kept', async () => {
    const copy = (await someSingle(w, p[2].google, 1))!;
    const key = copy.tag!.key;
    // edited in Google after cutover, not yet synced: rollback's final pull brings it in
    await googleDrift(w.em.google, u(2).googleEmail).edit(copy.ref.id, 'Last edit before rollback');
    const r = await rollbackWave(w.app, 'wave-1');
    expect(r.ok).toBe(true);
    expect(r.users.map((x) => x.state)).toEqual(['rolled_back', 'rolled_back']);
    expect((await feishuEvent(w, p[2].google, key))?.summary).toBe('Last edit before rollback');
    expect((await copyOf(w, p[2].graph, key))?.event.summary).toBe('Last edit before rollback');
    // the earlier Google edit of wave 1 is kept too
    const { pairs } = await resolvePairs(w.app);
    expect(pairs.find((x) => x.id === p[1].google.id)).toMatchObject({ direction: 'one-way' });
    expect(pairs.find((x) => x.id === p[1].google.id)!.conflicts).toBeUndefined();
    // Feishu is the source again: a Feishu edit reaches Google
    await feishuEdit(w, p[2].google, key, { summary: 'Feishu again' });
    expect((await runSync(w.app)).ok).toBe(true);
    expect((await copyOf(w, p[2].google, key))?.event.summary).toBe('Feishu again');
    const status = await readMigration(w.app.db.prisma, w.app.config.migration.waves);
    expect(status.find((s) => s.wave === 'wave-1')!.counts.rolled_back).toBe(2);
    expect(status.find((s) => s.wave === 'wave-2')!.users).toEqual([]);
  }, 180_000);

  it('the CLI: migrate status, plan, and an unknown wave (exit 2) through bin/feisync', async () => {
    // the embedded database is one process's: the app lets go of it first
    await w.app.close();
    closed = true;
    const bin = join(import.meta.dirname, '../../bin/feisync.mjs');
    const run = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(
          process.execPath,
          [bin, ...args, '--config', w.configFile],
          { cwd: w.dir },
          (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
        ),
      );
    const status = await run(['migrate', 'status', '--json']);
    expect(status.code).toBe(0);
    const waves = JSON.parse(status.stdout);
    expect(waves.map((x: any) => [x.wave, x.counts.rolled_back])).toEqual([
      ['wave-1', 2],
      ['wave-2', 0],
    ]);
    const plan = await run(['migrate', 'plan', 'wave-2']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('wave wave-2 -> google: 2 user(s)');
    expect(plan.stdout).toContain(u(0).feishuEmail);
    const all = await run(['status', '--offline', '--json']);
    expect(all.code).toBe(0);
    expect(JSON.parse(all.stdout).migration.map((x: any) => [x.wave, x.counts.rolled_back])).toEqual([
      ['wave-1', 2],
      ['wave-2', 0],
    ]);
    expect((await run(['status', '--offline'])).stdout).toMatch(
      /Migration waves.*\n.*\n.*wave-1\s+google\s+0\s+0\s+0\s+0\s+2/,
    );
    const unknown = await run(['migrate', 'cutover', 'wave-9']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no wave "wave-9"');
  }, 180_000);
});
