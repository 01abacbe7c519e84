/**
 * Where every migration wave stands (`feisync migrate status`, `feisync status`, `/status`): the
 * MigrationUser rows, database only (no provider is called).
 */
import { epochMs, type SqlReader, toDate } from '../store/sql.ts';

export type MigrationState = 'pending' | 'cutover' | 'done' | 'failed' | 'rolled_back';
export interface Step {
  step: string;
  at: string;
  ok: boolean;
  detail?: string;
}

/** The configured waves (names, targets, cutover times). */
export type WaveConfig = { name: string; target: string; cutover?: string }[];

export interface WaveStatus {
  wave: string;
  target: string;
  cutover?: string;
  counts: Record<MigrationState, number>;
  users: { user: string; state: MigrationState; steps: Step[]; error?: string; updatedAt: string }[];
}

/** Where every configured wave stands (database only). */
export async function readMigration(db: SqlReader, waves: WaveConfig = []): Promise<WaveStatus[]> {
  // raw SQL (see sql.ts): `feisync status` reads it without Prisma
  const rows = await db.$queryRawUnsafe<any[]>(
    `SELECT wave, "userKey", target, state, steps, error, ${epochMs('"updatedAt"')}
     FROM "MigrationUser" ORDER BY wave, "userKey"`,
  );
  const names = [...new Set([...waves.map((w) => w.name), ...rows.map((r) => r.wave)])];
  return names.map((name) => {
    const mine = rows.filter((r) => r.wave === name);
    const wave = waves.find((w) => w.name === name);
    const counts = { pending: 0, cutover: 0, done: 0, failed: 0, rolled_back: 0 };
    for (const r of mine) counts[r.state as MigrationState] += 1;
    return {
      wave: name,
      target: wave?.target ?? mine[0]?.target ?? '?',
      ...(wave?.cutover ? { cutover: wave.cutover } : {}),
      counts,
      users: mine.map((r) => ({
        user: r.userKey,
        state: r.state as MigrationState,
        steps: r.steps as unknown as Step[],
        ...(r.error ? { error: r.error } : {}),
        updatedAt: toDate(r.updatedAt)!.toISOString(),
      })),
    };
  });
}

export function formatMigration(list: WaveStatus[]): string {
  if (!list.length) return 'no migration waves';
  const lines: string[] = [];
  for (const w of list) {
    const c = w.counts;
    lines.push(
      `wave ${w.wave} -> ${w.target}: ${c.done} done, ${c.cutover} in cutover, ${c.pending} pending, ${c.failed} failed, ${c.rolled_back} rolled back`,
    );
    for (const u of w.users) {
      const last = u.steps[u.steps.length - 1];
      lines.push(
        `  ${u.user}: ${u.state}${last ? ` (last step ${last.step}${last.detail ? `: ${last.detail}` : ''})` : ''}`,
      );
      if (u.error) lines.push(`  ! ${u.user}: ${u.error}`);
    }
  }
  return lines.join('\n');
}
