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
 * log). Requests of one key wait in line; the head goes as soon as every window has room, and its
 * send time is counted when it really goes, so timers that fire late (a busy event loop) can never
 * let a late group out together beyond the limit.
 */
export class LocalBudget implements RateBudget {
  private logs = new Map<string, number[]>();
  private lines = new Map<string, { waiting: (() => void)[]; timer?: ReturnType<typeof setTimeout> }>();

  /** How long (ms) until one more request of `key` fits every window at `now`; 0 when it does. */
  wait(key: string, windows: readonly RateWindow[], now = Date.now()): number {
    let at = now;
    for (const w of windows) {
      const log = this.logs.get(`${key}\u0000${w.ms}`);
      if (log && log.length >= w.count) at = Math.max(at, log[log.length - w.count] + w.ms);
    }
    return at - now;
  }

  /** Counts one request of `key` sent at `now`. */
  record(key: string, windows: readonly RateWindow[], now = Date.now()) {
    for (const w of windows) {
      const id = `${key}\u0000${w.ms}`;
      let log = this.logs.get(id);
      if (!log) {
        log = [];
        this.logs.set(id, log);
      }
      log.push(now);
      if (log.length > w.count * 2) log.splice(0, log.length - w.count);
    }
  }

  take(key: string, windows: readonly RateWindow[]): Promise<void> {
    let line = this.lines.get(key);
    if (!line) {
      line = { waiting: [] };
      this.lines.set(key, line);
    }
    const mine = new Promise<void>((resolve) => line.waiting.push(resolve));
    this.pump(key, windows, line);
    return mine;
  }

  private pump(
    key: string,
    windows: readonly RateWindow[],
    line: { waiting: (() => void)[]; timer?: ReturnType<typeof setTimeout> },
  ) {
    if (line.timer) return;
    while (line.waiting.length > 0) {
      const now = Date.now();
      const wait = this.wait(key, windows, now);
      if (wait > 0) {
        line.timer = setTimeout(() => {
          line.timer = undefined;
          this.pump(key, windows, line);
        }, wait);
        return;
      }
      this.record(key, windows, now);
      line.waiting.shift()!();
    }
    this.lines.delete(key);
  }
}
