/**
 * The embedded database runs Postgres in single-user mode, which has no autovacuum: rows updated or
 * deleted stay in the tables and their indexes, and the planner never gets statistics. A long-running
 * `serve` calls this from its maintenance; on a Postgres server autovacuum does the work and this does
 * nothing.
 */
import type { Database } from './db.ts';

/**
 * VACUUM (ANALYZE) each table that autovacuum's default thresholds would pick: dead rows above 50 +
 * 20% of the live ones, or changes since the last analyze above 50 + 10%. Returns the tables done.
 */
export async function vacuumIfDue(db: Database): Promise<string[]> {
  if (db.kind !== 'pglite') return [];
  // a backend reports its counts about once a second; ask for them now
  await db.executeSql('SELECT pg_stat_force_next_flush()');
  const { rows } = await db.executeSql(
    `SELECT schemaname, relname FROM pg_stat_user_tables
     WHERE n_dead_tup > 50 + 0.2 * n_live_tup OR n_mod_since_analyze > 50 + 0.1 * n_live_tup
     ORDER BY schemaname, relname`,
  );
  const done: string[] = [];
  for (const { schemaname, relname } of rows as { schemaname: string; relname: string }[]) {
    const name = `${quote(schemaname)}.${quote(relname)}`;
    await db.executeSql(`VACUUM (ANALYZE) ${name}`);
    done.push(`${schemaname}.${relname}`);
  }
  return done;
}

const quote = (ident: string) => `"${ident.replaceAll('"', '""')}"`;
