/**
 * Cutover and rollback of a migration wave: a state machine per user, each step recorded in the
 * MigrationUser row, so a run that stops (crash, failure) resumes at the first step not done. Every
 * step is idempotent (syncs and a dry-run reconcile), so doing one twice writes nothing twice.
 *
 * Cutover: catch-up (sync as configured, the target holds everything) -> switch (the user's pair to
 * the target becomes two-way, spoke-wins: resolvePairs reads the row) -> first-pull (sync with the
 * override: the target read first, Feishu mirrored from it) -> verify (dry-run reconcile: parity).
 * Rollback: final-pull (one more sync with the override, so the last edits made in the target are in
 * Feishu) -> switch-back (Feishu the source again) -> resync (sync as configured).
 */
import type { PrismaClient } from '../store/db.ts';
import type { Spoke, SyncPolicy } from '../sync/pair.ts';
import { project } from '../sync/project.ts';
import type { App } from './compose.ts';
import { policyOf } from './compose.ts';
import {
  drift,
  type MigrationState,
  planWave,
  type Step,
  spokeOf,
  type WavePlan,
  waveOf,
} from './migrate.ts';
import { resolvePairs } from './pairs.ts';
import { runSync } from './sync-run.ts';

export interface WaveRunReport {
  wave: string;
  action: 'cutover' | 'rollback';
  ok: boolean;
  /** Cutover refused: the plan and its blockers. */
  refused?: WavePlan;
  /** Another process runs this wave now. */
  busy?: boolean;
  users: { user: string; state: MigrationState; steps: Step[]; error?: string; parity?: number }[];
}

type StepFn = (user: string) => Promise<{ detail: string; ok?: boolean; state?: MigrationState }>;

export const CUTOVER_STEPS = ['catch-up', 'switch', 'bases', 'first-pull', 'verify'] as const;
export const ROLLBACK_STEPS = ['final-pull', 'switch-back', 'resync'] as const;

/** Test hook: stop after this step (a crash in the middle of a cutover). */
export interface RunOptions {
  force?: boolean;
  stopAfter?: string;
}

export async function cutoverWave(app: App, name: string, options: RunOptions = {}): Promise<WaveRunReport> {
  const wave = waveOf(app.config, name);
  return locked(app, name, 'cutover', async () => {
    const plan = await planWave(app, name);
    // a user already switched resumes whatever the dry run finds (their target's edits wait for the first pull)
    const blocked = plan.users.some((u) => u.blockers.length && u.state !== 'cutover' && u.state !== 'done');
    if (blocked && !options.force)
      return { wave: name, action: 'cutover', ok: false, refused: plan, users: [] };
    const sync: StepFn = async (user) => {
      const r = await runSync(app, { user });
      const t = r.totals;
      const back = r.reverse.reduce((n, v) => n + v.counts.toFeishu, 0);
      return {
        ok: r.ok,
        detail: `run #${r.runId}: ${t.created} created, ${t.updated} updated, ${t.deleted} deleted, ${back} to Feishu`,
      };
    };
    const steps: Record<string, StepFn> = {
      'catch-up': sync,
      switch: async () => ({ detail: `${wave.target} is the source of truth`, state: 'cutover' }),
      bases: async (user) => ({
        detail: `${await seedBases(app, user, spokeOf(wave.target))} merge base(s) recorded`,
      }),
      'first-pull': sync,
      verify: async (user) => {
        const n = await drift(app, user);
        return { detail: `parity: ${n} difference(s)`, state: 'done' };
      },
    };
    const users = [];
    for (const u of plan.users) {
      if (u.blockers.some((b) => b.startsWith('has not consented') || b.startsWith('no '))) {
        users.push(
          await record(app.db.prisma, name, u.user, wave.target, 'failed', [], u.blockers.join('; ')),
        );
        continue;
      }
      users.push(await runUser(app, name, u.user, wave.target, 'cutover', CUTOVER_STEPS, steps, options));
    }
    return { wave: name, action: 'cutover', ok: users.every((u) => u.state === 'done'), users };
  });
}

export async function rollbackWave(app: App, name: string, options: RunOptions = {}): Promise<WaveRunReport> {
  const wave = waveOf(app.config, name);
  return locked(app, name, 'rollback', async () => {
    const rows = await app.db.prisma.migrationUser.findMany({ where: { wave: name } });
    const sync: StepFn = async (user) => {
      const r = await runSync(app, { user });
      const back = r.reverse.reduce((n, v) => n + v.counts.toFeishu, 0);
      return { ok: r.ok, detail: `run #${r.runId}: ${back} to Feishu, ${r.totals.updated} copies updated` };
    };
    const steps: Record<string, StepFn> = {
      'final-pull': sync,
      'switch-back': async () => ({ detail: 'Feishu is the source of truth', state: 'rolled_back' }),
      resync: sync,
    };
    const users = [];
    for (const row of rows) {
      const inRollback = lastStart(row.steps as unknown as Step[]) === 'rollback';
      if (row.state === 'pending' || (row.state === 'rolled_back' && !inRollback)) continue;
      users.push(
        await runUser(app, name, row.userKey, wave.target, 'rollback', ROLLBACK_STEPS, steps, options),
      );
    }
    return {
      wave: name,
      action: 'rollback',
      ok: users.every((u) => u.state === 'rolled_back' && !u.error),
      users,
    };
  });
}

/**
 * A pair that was one-way kept no merge base (the last version both sides agreed on): without one, an
 * event changed on both sides after the switch would be a conflict on every field that differs. Where
 * Feishu did not move since the copy was written, that version is Feishu's current projection.
 */
async function seedBases(app: App, user: string, spoke: Spoke): Promise<number> {
  const resolution = await resolvePairs(app, user);
  const policy = policyOf(app.config);
  const prisma = app.db.prisma;
  let n = 0;
  for (const pair of resolution.pairs.filter((p) => p.spoke === spoke)) {
    const missing = await prisma.eventLink.findMany({
      where: { pairId: pair.id, base: null, tombstone: false },
    });
    if (!missing.length) continue;
    const byKey = new Map(missing.map((l) => [`${l.uid}|${l.originalTime}`, l]));
    const projection = {
      ...policy,
      target: { ...app.spokes[spoke]?.capabilities, attendee: resolution.attendeeFor(pair) },
    } as SyncPolicy;
    for await (const page of app.feishu.listChanges(pair.feishu, null)) {
      for (const { event } of page.upserts) {
        const link = byKey.get(`${event.key.uid}|${BigInt(event.key.originalTime)}`);
        const p = link ? project(event, projection) : undefined;
        if (!link || !p || !('event' in p) || p.fingerprint !== link.feishuFingerprint) continue;
        await prisma.eventLink.update({ where: { id: link.id }, data: { base: JSON.stringify(p.event) } });
        n += 1;
      }
    }
  }
  return n;
}

async function locked(
  app: App,
  name: string,
  action: WaveRunReport['action'],
  body: () => Promise<WaveRunReport>,
): Promise<WaveRunReport> {
  const release = await app.db.locks.tryLock(`migrate:${name}`);
  if (!release) return { wave: name, action, ok: false, busy: true, users: [] };
  try {
    return await body();
  } finally {
    await release();
  }
}

/** The phase the steps' last `start:` marker opened (cutover or rollback). */
function lastStart(steps: Step[]): string | undefined {
  for (let i = steps.length - 1; i >= 0; i--)
    if (steps[i].step.startsWith('start:')) return steps[i].step.slice(6);
  return undefined;
}

async function runUser(
  app: App,
  wave: string,
  user: string,
  target: string,
  phase: 'cutover' | 'rollback',
  order: readonly string[],
  fns: Record<string, StepFn>,
  options: RunOptions,
): Promise<WaveRunReport['users'][number]> {
  const prisma = app.db.prisma;
  const row = await prisma.migrationUser.findUnique({ where: { wave_userKey: { wave, userKey: user } } });
  let steps = (row?.steps as unknown as Step[] | undefined) ?? [];
  let state = (row?.state as MigrationState | undefined) ?? 'pending';
  if (phase === 'cutover' && state === 'done' && lastStart(steps) === 'cutover')
    return { user, state, steps };
  // a new attempt (not a resume of this phase) opens with a marker; steps after it are this attempt's
  if (lastStart(steps) !== phase) {
    steps = [...steps, { step: `start:${phase}`, at: new Date().toISOString(), ok: true }];
    if (phase === 'cutover') state = 'pending';
  }
  await record(prisma, wave, user, target, state, steps);
  const since = steps.map((s) => s.step).lastIndexOf(`start:${phase}`);
  const done = new Set(
    steps
      .slice(since)
      .filter((s) => s.ok)
      .map((s) => s.step),
  );
  let parity: number | undefined;
  for (const name of order) {
    if (done.has(name)) continue;
    try {
      const r = await fns[name](user);
      if (name === 'verify') parity = Number(/parity: (\d+)/.exec(r.detail)?.[1]);
      steps = [...steps, { step: name, at: new Date().toISOString(), ok: r.ok !== false, detail: r.detail }];
      if (r.ok === false) {
        const error = `${name} did not finish cleanly (${r.detail}); run the command again to resume`;
        await record(prisma, wave, user, target, 'failed', steps, error);
        return { user, state: 'failed', steps, error };
      }
      if (r.state) state = r.state;
      await record(prisma, wave, user, target, state, steps);
    } catch (e) {
      const error = `${name}: ${(e as Error).message}`;
      steps = [...steps, { step: name, at: new Date().toISOString(), ok: false, detail: error }];
      await record(prisma, wave, user, target, 'failed', steps, error);
      return { user, state: 'failed', steps, error };
    }
    if (options.stopAfter === name) break;
  }
  return { user, state, steps, ...(parity !== undefined ? { parity } : {}) };
}

async function record(
  prisma: PrismaClient,
  wave: string,
  userKey: string,
  target: string,
  state: MigrationState,
  steps: Step[],
  error?: string,
) {
  const data = { target, state, steps: JSON.parse(JSON.stringify(steps)), error: error ?? null };
  await prisma.migrationUser.upsert({
    where: { wave_userKey: { wave, userKey } },
    create: { wave, userKey, ...data },
    update: data,
  });
  return { user: userKey, state, steps, ...(error ? { error } : {}) };
}
