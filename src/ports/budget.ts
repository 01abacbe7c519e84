/**
 * A provider's request budget: before each request a connector takes one slot of the named budget
 * (e.g. `feishu:<app>:calendar_event.get`), which waits until every window allows it. In one
 * process the connectors' own sliding windows serve; several processes on one database share one
 * budget through the store (src/store/budget.ts), so that adding workers never exceeds the quota.
 */
export interface RateWindow {
  /** Requests allowed in any window of `ms` milliseconds. */
  count: number;
  ms: number;
}

export interface RateBudget {
  /** Resolves when one request of `key` may be sent under every window of `windows`. */
  take(key: string, windows: readonly RateWindow[]): Promise<void>;
}

/**
 * The in-process budget: per key and window, the send times of the last `count` requests (a sliding
 * log). A request is given the first instant at which every window has room, and that instant is
 * reserved at once, so callers queue in order without a lock. Exact for one process; several
 * processes need the shared one.
 */
export class LocalBudget implements RateBudget {
  private logs = new Map<string, number[]>();

  /** Reserves the next slot of `key`; answers how long to wait for it (ms). */
  reserve(key: string, windows: readonly RateWindow[], now = Date.now()): number {
    let at = now;
    const logs = windows.map((w) => {
      const id = `${key}\u0000${w.ms}`;
      let log = this.logs.get(id);
      if (!log) {
        log = [];
        this.logs.set(id, log);
      }
      if (log.length >= w.count) at = Math.max(at, log[log.length - w.count] + w.ms);
      return { log, w };
    });
    for (const { log, w } of logs) {
      log.push(at);
      if (log.length > w.count * 2) log.splice(0, log.length - w.count);
    }
    return at - now;
  }

  async take(key: string, windows: readonly RateWindow[]): Promise<void> {
    const wait = this.reserve(key, windows);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}
