/**
 * Named locks that keep two workers off the same calendar. Within a process a set of held names
 * decides; across processes on one Postgres server, session advisory locks on one dedicated
 * connection do, so a crashed process's locks vanish with its connection. PGlite is a single
 * process by construction, so the in-process set is the whole story there.
 */
import type pg from 'pg';

export type Release = () => Promise<void>;

export interface Locks {
  /** The lock, or null when someone holds it. Never waits. */
  tryLock(name: string): Promise<Release | null>;
  close(): Promise<void>;
}

export function createLocks(connectionString?: string): Locks {
  const held = new Set<string>();
  let client: Promise<pg.Client> | undefined;
  const connection = () => {
    client ??= (async () => {
      // loaded here: PGlite's locks (no connection string) never need the driver
      const { default: pg } = await import('pg');
      const c = new pg.Client({ connectionString });
      // a dropped connection only loses the locks; the next tryLock reconnects
      c.on('error', () => {
        client = undefined;
      });
      await c.connect();
      return c;
    })();
    return client;
  };
  const sql = async (text: string, name: string) => {
    const c = await connection();
    const r = await c.query(text, [name]);
    return r.rows[0]?.ok === true;
  };
  return {
    async tryLock(name) {
      if (held.has(name)) return null;
      held.add(name);
      try {
        if (
          connectionString &&
          !(await sql('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', name))
        ) {
          held.delete(name);
          return null;
        }
      } catch (e) {
        held.delete(name);
        throw e;
      }
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        try {
          if (connectionString) await sql('SELECT pg_advisory_unlock(hashtextextended($1, 0)) AS ok', name);
        } finally {
          held.delete(name);
        }
      };
    },
    async close() {
      const c = client;
      client = undefined;
      held.clear();
      if (c) await (await c).end();
    },
  };
}
