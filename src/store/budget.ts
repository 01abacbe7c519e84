/**
 * A rate budget shared by every process on one database (several `feisync serve` workers on one
 * Postgres). Providers count sliding windows; fixed windows of the full length would let one window's
 * requests sent late and the next one's sent early reach twice the limit inside one sliding window.
 * So each window of `count` per `ms` is kept as K sub-windows of `ms / K`, each allowed
 * `count / (K + 1)`: any sliding window of `ms` overlaps at most K + 1 of them, so the provider never
 * sees more than `count`, at the cost of 1 / (K + 1) of the rate. One row per key, sub-window length
 * and start counts what is reserved in it; a request takes room in the first sub-window that has it
 * (one upsert that only counts when under the cap; a batch larger than the cap spans several), the
 * longest window first, then waits for it. A worker that dies holds nothing.
 */
import type { RateBudget, RateWindow } from '../ports/index.ts';

type Sql = (text: string, values?: unknown[]) => Promise<{ rows: any[] }>;

const TAKE = `INSERT INTO "RateWindow" ("key", "windowMs", "start", "taken") VALUES ($1, $2, $3, $5)
ON CONFLICT ("key", "windowMs", "start") DO UPDATE SET "taken" = "RateWindow"."taken" + $5
WHERE "RateWindow"."taken" + $5 <= $4
RETURNING "taken"`;

/** Sub-windows searched ahead before giving up (a full window every time means a bad limit). */
const MAX_AHEAD = 10_000;
/** Sub-windows per window: at most this many (fewer for small counts, so each allows at least one). */
const MAX_SLICES = 20;

/** The sub-windows of a window: their length (ms) and how many requests each allows. */
export function slicesOf(w: RateWindow): { ms: number; cap: number } {
  const k = Math.max(1, Math.min(MAX_SLICES, w.count - 1));
  return { ms: Math.ceil(w.ms / k), cap: Math.max(1, Math.floor(w.count / (k + 1))) };
}

export class SharedBudget implements RateBudget {
  private takes = 0;

  constructor(private readonly sql: Sql) {}

  /** Reserves `n` requests of `key` in every window; answers the instant (ms) they may be sent. */
  async reserve(key: string, windows: readonly RateWindow[], now = Date.now(), n = 1): Promise<number> {
    let at = now;
    for (const w of [...windows].sort((a, b) => b.ms - a.ms)) {
      const slice = slicesOf(w);
      let start = at - (at % slice.ms);
      let left = Math.min(n, w.count);
      for (let i = 0; left > 0; i++) {
        if (i >= MAX_AHEAD)
          throw new Error(`rate budget ${key}: no room in ${MAX_AHEAD} windows of ${slice.ms} ms`);
        const part = Math.min(left, slice.cap);
        const { rows } = await this.sql(TAKE, [key, slice.ms, start, slice.cap, part]);
        if (rows.length > 0) left -= part;
        if (left > 0) start += slice.ms;
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
