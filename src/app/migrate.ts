/**
 * Migration waves (config `migration.waves`): who is in a wave, what cutover will do for each of them
 * (`feisync migrate plan WAVE`), and where every wave stands (`feisync migrate status`). The state
 * machine that cuts over and rolls back is in migrate-run.ts.
 */
import type { Config } from '../config/index.ts';
import type { CanonicalEvent } from '../core/index.ts';
import { formatKey } from '../core/index.ts';
import type { Pair } from '../sync/pair.ts';
import type { App } from './compose.ts';
import { listConflicts } from './conflicts.ts';
import { UsageError } from './exit.ts';
import { type Resolution, resolvePairs } from './pairs.ts';
import { runReconcile } from './reconcile-run.ts';
import { formatTable } from './table.ts';

export type Wave = Config['migration']['waves'][number];

import type { MigrationState } from './migrate-status.ts';

export type { MigrationState, Step } from './migrate-status.ts';
export { formatMigration, readMigration } from './migrate-status.ts';

export function waveOf(config: Config, name: string): Wave {
  const wave = config.migration.waves.find((w) => w.name === name);
  if (!wave)
    throw new UsageError(
      `no wave "${name}" in migration.waves (${config.migration.waves.map((w) => w.name).join(', ') || 'none'})`,
    );
  return wave;
}

/** The config users of a wave (keys as pairs carry them), from a resolution of every user. */
export function waveUsers(wave: Wave, resolution: Resolution): string[] {
  const keys = new Set([
    ...resolution.pairs.map((p) => p.userKey),
    ...resolution.problems.map((p) => p.user),
  ]);
  keys.delete('rules');
  const listed = new Set(wave.users?.map((u) => u.toLowerCase()));
  const domain = wave.rule?.feishu_domain.toLowerCase();
  const out = [...keys].filter((k) =>
    wave.users ? listed.has(k.toLowerCase()) : k.toLowerCase().endsWith(`@${domain}`),
  );
  // listed users the config does not know are reported by the plan as blockers
  for (const u of wave.users ?? []) if (!out.some((k) => k.toLowerCase() === u.toLowerCase())) out.push(u);
  return out.sort();
}

export const spokeOf = (target: string) => (target === 'exchange' ? 'graph' : 'google');

export interface UserPlan {
  user: string;
  target: string;
  state: MigrationState | 'not started';
  /** Feishu events (singles and series masters) whose source of truth moves to the target. */
  events: number;
  series: number;
  /** Meetings the user organizes with other attendees: attendees moved (in the wave or already cut over) or still on Feishu. */
  organized: { key: string; summary: string; moved: number; onFeishu: number; external: number }[];
  rooms: string[];
  /** Writes a dry-run reconcile of the user's pairs would make (0: in parity). */
  drift: number;
  conflicts: number;
  blockers: string[];
}

export interface WavePlan {
  wave: string;
  target: string;
  cutover?: string;
  users: UserPlan[];
  blocked: boolean;
}

/** What cutover of a wave will do, per user. Writes nothing to a calendar or to the migration state. */
export async function planWave(app: App, name: string): Promise<WavePlan> {
  const wave = waveOf(app.config, name);
  const resolution = await resolvePairs(app);
  const users = waveUsers(wave, resolution);
  const rows = await app.db.prisma.migrationUser.findMany();
  const states = new Map(
    rows.filter((r) => r.wave === name).map((r) => [r.userKey, r.state as MigrationState]),
  );
  const movedKeys = new Set([
    ...users.map((u) => u.toLowerCase()),
    ...rows.filter((r) => r.state === 'cutover' || r.state === 'done').map((r) => r.userKey.toLowerCase()),
  ]);
  const openIdOf = new Map(resolution.pairs.map((p) => [p.feishu.owner, p.userKey.toLowerCase()]));
  const conflicts = await listConflicts(app.db.prisma);
  const roomName = new Map(app.config.rooms.map((r) => [r.feishu, r.name ?? r.feishu]));
  const out: UserPlan[] = [];
  for (const user of users) {
    const mine = resolution.pairs.filter((p) => p.userKey === user);
    const plan: UserPlan = {
      user,
      target: wave.target,
      state: states.get(user) ?? 'not started',
      events: 0,
      series: 0,
      organized: [],
      rooms: [],
      drift: 0,
      conflicts: conflicts.filter((c) => c.user === user).length,
      blockers: resolution.problems.filter((p) => p.user === user).map((p) => p.problem),
    };
    if (!mine.some((p) => p.spoke === spokeOf(wave.target)))
      plan.blockers.push(`no ${wave.target} mapping for this user (users[].${wave.target})`);
    if (plan.conflicts) plan.blockers.push(`${plan.conflicts} conflict(s) held (feisync conflicts)`);
    const rooms = new Set<string>();
    for (const calendar of new Map(mine.map((p) => [p.feishu.id, p])).values()) {
      for (const e of await feishuEvents(app, calendar)) {
        if (e.status === 'cancelled' || e.key.originalTime !== 0) continue;
        plan.events += 1;
        if (e.recurrence.length) plan.series += 1;
        const organizes = !e.organizer?.id || e.organizer.id === calendar.feishu.owner;
        for (const a of e.attendees) if (a.kind === 'room' && a.id) rooms.add(roomName.get(a.id) ?? a.id);
        const people = e.attendees.filter((a) => a.kind !== 'room' && a.id !== calendar.feishu.owner);
        if (!organizes || people.length === 0) continue;
        const moved = people.filter((a) => a.id && movedKeys.has(openIdOf.get(a.id) ?? '')).length;
        const external = people.filter((a) => a.kind === 'external' || !a.id).length;
        plan.organized.push({
          key: formatKey(e.key),
          summary: e.summary,
          moved,
          onFeishu: people.length - moved - external,
          external,
        });
      }
    }
    plan.rooms = [...rooms].sort();
    if (mine.length) {
      plan.drift = await drift(app, user);
      if (plan.drift) plan.blockers.push(`drift: a dry-run reconcile would make ${plan.drift} write(s)`);
    }
    out.push(plan);
  }
  return {
    wave: name,
    target: wave.target,
    ...(wave.cutover ? { cutover: wave.cutover } : {}),
    users: out,
    blocked: out.some((u) => u.blockers.length > 0),
  };
}

/** Writes a dry-run reconcile of the user's pairs would make (0: in parity). */
export async function drift(app: App, user: string): Promise<number> {
  const r = await runReconcile(app, { user, dryRun: true });
  return (
    r.rows.reduce((n, x) => n + x.writes.created + x.writes.updated + x.writes.deleted, 0) +
    r.reverse.reduce((n, v) => n + (v.plan?.length ?? 0), 0)
  );
}

async function feishuEvents(app: App, pair: Pair): Promise<CanonicalEvent[]> {
  const out: CanonicalEvent[] = [];
  for await (const page of app.feishu.listChanges(pair.feishu, null))
    out.push(...page.upserts.map((u) => u.event));
  return out;
}

export function formatPlan(p: WavePlan): string {
  const head = ['user', 'state', 'events', 'series', 'organized', 'rooms', 'drift', 'blockers'];
  const rows = p.users.map((u) => [
    u.user,
    u.state,
    String(u.events),
    String(u.series),
    String(u.organized.length),
    String(u.rooms.length),
    String(u.drift),
    String(u.blockers.length),
  ]);
  const lines = [
    `wave ${p.wave} -> ${p.target}${p.cutover ? ` (cutover ${p.cutover})` : ''}: ${p.users.length} user(s)`,
    ...formatTable([head, ...rows], 2),
  ];
  for (const u of p.users) {
    for (const m of u.organized.slice(0, 10))
      lines.push(
        `  ${u.user} organizes "${m.summary}": ${m.moved} attendee(s) moved, ${m.onFeishu} on Feishu, ${m.external} external`,
      );
    if (u.rooms.length) lines.push(`  ${u.user} rooms: ${u.rooms.join(', ')}`);
    for (const b of u.blockers) lines.push(`! ${u.user}: ${b}`);
  }
  lines.push(p.blocked ? 'blocked: cutover refuses unless --force' : 'ready: no blockers');
  return lines.join('\n');
}
