/** Retrying a dead letter: a failed job still in pg-boss's job table goes back to `retry`; one already
 * archived is sent again with its data, and its archived copy removed. */
import type { Boss } from '../../jobs/boss.ts';
import type { Database } from '../../store/db.ts';

export async function retryDeadLetter(boss: Boss, db: Database, queue: string, id: string): Promise<void> {
  const schema = db.bossSchema;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(schema)) throw new Error(`invalid pg-boss schema name: ${schema}`);
  const live = await db.prisma.$queryRawUnsafe<{ n: bigint }[]>(
    `SELECT count(*) AS n FROM "${schema}".job WHERE name = $1 AND id = $2::uuid AND state = 'failed'`,
    queue,
    id,
  );
  if (Number(live[0]?.n ?? 0) > 0) {
    await boss.retry(queue, id);
    return;
  }
  const archived = await db.prisma.$queryRawUnsafe<{ data: unknown }[]>(
    `SELECT data FROM "${schema}".archive WHERE name = $1 AND id = $2::uuid AND state = 'failed'`,
    queue,
    id,
  );
  if (archived.length === 0) throw Object.assign(new Error('no such dead letter'), { statusCode: 404 });
  await boss.send(queue, (archived[0].data ?? {}) as object);
  await db.prisma.$executeRawUnsafe(
    `DELETE FROM "${schema}".archive WHERE name = $1 AND id = $2::uuid`,
    queue,
    id,
  );
}
