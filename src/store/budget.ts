/**
 * A rate budget shared by every process on one database (several `feisync serve` workers on one
 * Postgres): fixed windows aligned to multiples of their length, one row per key, window length and
 * window start, counting the requests reserved in it. A request takes a slot in the first window
 * with room (one upsert that only counts when under the limit), the longest window first, then waits
 * for that window; so workers together never exceed the quota, and a worker that dies holds nothing.
 */
import type { RateBudget, RateWindow } from '../ports/index.ts';

type Sql = (text: string, values?: unknown[]) => Promise<{ rows: any[] }>;

const TAKE = `INSERT INTO "RateWindow" ("key", "windowMs", "start", "taken") VALUES ($1, $2, $3, 1)
ON CONFLICT ("key", "windowMs", "start") DO UPDATE SET "taken" = "RateWindow"."taken" + 1
WHERE "RateWindow"."taken" < $4
RETURNING "taken"`;

/** Windows searched ahead before giving up (a full minute window every time means a bad limit). */
const MAX_AHEAD = 10_000;

export class SharedBudget implements RateBudget {
  private takes = 0;

  constructor(private readonly sql: Sql) {}

  /** Reserves one request of `key` in every window; answers the instant (ms) it may be sent. */
  async reserve(key: string, windows: readonly RateWindow[], now = Date.now()): Promise<number> {
    let at = now;
    for (const w of [...windows].sort((a, b) => b.ms - a.ms)) {
      let start = at - (at % w.ms);
      for (let i = 0; ; i++) {
        if (i >= MAX_AHEAD)
          throw new Error(`rate budget ${key}: no room in ${MAX_AHEAD} windows of ${w.ms} ms`);
        const { rows } = await this.sql(TAKE, [key, w.ms, start, w.count]);
        if (rows.length > 0) break;
        start += w.ms;
      }
      at = Math.max(at, start);
    }
    if (++this.takes % 500 === 0) await this.prune(now);
    return at;
  }

  async take(key: string, windows: readonly RateWindow[]): Promise<void> {
    const wait = (await this.reserve(key, windows)) - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }

  /** Drops windows over for more than a minute. */
  async prune(now = Date.now()): Promise<void> {
    await this.sql(`DELETE FROM "RateWindow" WHERE "start" + "windowMs" < $1`, [now - 60_000]);
  }
}
