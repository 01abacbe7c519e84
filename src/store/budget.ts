/**
 * A rate budget shared by every process on one database (several `feisync serve` workers on one
 * Postgres): fixed windows aligned to multiples of their length, one row per key, window length and
 * window start, counting the requests reserved in it. A request takes a slot in the first window
 * with room (one upsert that only counts when under the limit), the longest window first, then waits
 * for that window; so workers together never exceed the quota, and a worker that dies holds nothing.
 *
 * A limit of fixed windows: a provider that counts a sliding window (Google's emulator, Graph's, and
 * likely the services) can see one window's requests sent late in it and the next window's sent
 * early in that one as up to twice the limit in its window. Saturated windows fill at their start,
 * so this happens where demand begins mid-window; the connectors' retries absorb the refusals.
 */
import type { RateBudget, RateWindow } from '../ports/index.ts';

type Sql = (text: string, values?: unknown[]) => Promise<{ rows: any[] }>;

const TAKE = `INSERT INTO "RateWindow" ("key", "windowMs", "start", "taken") VALUES ($1, $2, $3, $5)
ON CONFLICT ("key", "windowMs", "start") DO UPDATE SET "taken" = "RateWindow"."taken" + $5
WHERE "RateWindow"."taken" + $5 <= $4
RETURNING "taken"`;

/** Windows searched ahead before giving up (a full minute window every time means a bad limit). */
const MAX_AHEAD = 10_000;

export class SharedBudget implements RateBudget {
  private takes = 0;

  constructor(private readonly sql: Sql) {}

  /** Reserves `n` requests of `key` in every window; answers the instant (ms) they may be sent. */
  async reserve(key: string, windows: readonly RateWindow[], now = Date.now(), n = 1): Promise<number> {
    let at = now;
    for (const w of [...windows].sort((a, b) => b.ms - a.ms)) {
      let start = at - (at % w.ms);
      for (let i = 0; ; i++) {
        if (i >= MAX_AHEAD)
          throw new Error(`rate budget ${key}: no room in ${MAX_AHEAD} windows of ${w.ms} ms`);
        const { rows } = await this.sql(TAKE, [key, w.ms, start, w.count, Math.min(n, w.count)]);
        if (rows.length > 0) break;
        start += w.ms;
      }
      at = Math.max(at, start);
    }
    if (++this.takes % 500 === 0) await this.prune(now);
    return at;
  }

  async take(key: string, windows: readonly RateWindow[], n = 1): Promise<void> {
    const wait = (await this.reserve(key, windows, Date.now(), n)) - Date.now();
    // an idle wait keeps no process alive (a stopping worker does not sit out a 10-minute window)
    if (wait > 0) await new Promise((r) => setTimeout(r, wait).unref());
  }

  /** Drops windows over for more than a minute. */
  async prune(now = Date.now()): Promise<void> {
    await this.sql(`DELETE FROM "RateWindow" WHERE "start" + "windowMs" < $1`, [now - 60_000]);
  }
}
