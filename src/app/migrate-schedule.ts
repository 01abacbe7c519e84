/**
 * Cutover at a wave's `cutover` time inside `serve`: a `migrate` job every minute runs the waves that
 * are due. A wave is due once its time has passed and it was not cut over already; a wave an admin
 * rolled back is never cut over again by the schedule (only by hand). A refused wave (blockers) is
 * tried again at the next tick; the cutover's per-wave lock keeps two processes off the same wave.
 */
import type { Config } from '../config/index.ts';
import type { PrismaClient } from '../store/db.ts';
import type { Step } from './migrate-status.ts';

/** Waves whose cutover time has come and whose users are not all cut over (nor any rolled back). */
export async function dueWaves(config: Config, prisma: PrismaClient, now = new Date()): Promise<string[]> {
  const timed = config.migration.waves.filter((w) => w.cutover && Date.parse(w.cutover) <= now.getTime());
  if (!timed.length) return [];
  const rows = await prisma.migrationUser.findMany({ where: { wave: { in: timed.map((w) => w.name) } } });
  return timed
    .filter((w) => {
      const mine = rows.filter((r) => r.wave === w.name);
      // rolled back (or rolling back): left to the admin
      const rolledBack = mine.some(
        (r) =>
          r.state === 'rolled_back' ||
          (r.steps as unknown as Step[]).some((s) => s.step === 'start:rollback'),
      );
      return !rolledBack && (mine.length === 0 || mine.some((r) => r.state !== 'done'));
    })
    .map((w) => w.name);
}
