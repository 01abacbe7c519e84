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
  /**
   * Resolves when `n` requests of `key` (default 1: a batch's parts count one each) may be sent
   * under every window of `windows`; they are counted together. `n` above a window's count is
   * counted as that count (a batch can never wait for room that never comes).
   */
  take(key: string, windows: readonly RateWindow[], n?: number): Promise<void>;
}

interface Line {
  waiting: { n: number; resolve: () => void }[];
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * The in-process budget: per key and window, the send times of the last `count` requests (a sliding
 * log). Requests of one key wait in line; the head goes as soon as every window has room, and its
 * send time is counted when it really goes, so timers that fire late (a busy event loop) can never
 * let a late group out together beyond the limit.
 */
export class LocalBudget implements RateBudget {
  private logs = new Map<string, number[]>();
  private lines = new Map<string, Line>();

  /** How long (ms) until `n` more requests of `key` fit every window at `now`; 0 when they do. */
  wait(key: string, windows: readonly RateWindow[], now = Date.now(), n = 1): number {
    let at = now;
    for (const w of windows) {
      const log = this.logs.get(`${key}\u0000${w.ms}`);
      // room for n when at most count - n of the log are inside the window
      const keep = w.count - Math.min(n, w.count);
      if (log && log.length > keep) at = Math.max(at, log[log.length - keep - 1] + w.ms);
    }
    return at - now;
  }

  /** Counts `n` requests of `key` sent at `now`. */
  record(key: string, windows: readonly RateWindow[], now = Date.now(), n = 1) {
    for (const w of windows) {
      const id = `${key}\u0000${w.ms}`;
      let log = this.logs.get(id);
      if (!log) {
        log = [];
        this.logs.set(id, log);
      }
      for (let i = 0; i < Math.min(n, w.count); i++) log.push(now);
      if (log.length > w.count * 2) log.splice(0, log.length - w.count);
    }
  }

  take(key: string, windows: readonly RateWindow[], n = 1): Promise<void> {
    let line = this.lines.get(key);
    if (!line) {
      line = { waiting: [] };
      this.lines.set(key, line);
    }
    const mine = new Promise<void>((resolve) => line.waiting.push({ n, resolve }));
    this.pump(key, windows, line);
    return mine;
  }

  private pump(key: string, windows: readonly RateWindow[], line: Line) {
    if (line.timer) return;
    while (line.waiting.length > 0) {
      const now = Date.now();
      const head = line.waiting[0];
      const wait = this.wait(key, windows, now, head.n);
      if (wait > 0) {
        line.timer = setTimeout(() => {
          line.timer = undefined;
          this.pump(key, windows, line);
        }, wait);
        return;
      }
      this.record(key, windows, now, head.n);
      line.waiting.shift()!.resolve();
    }
    this.lines.delete(key);
  }
}

/**
 * A limit on requests in flight at once (e.g. Graph's 4 per mailbox): in one process a queue does
 * it; several processes on one database share the slots through it (src/store/slots.ts).
 */
export interface ConcurrencySlots {
  /** Resolves, with its release, once one of the `limit` slots of `key` is free. */
  acquire(key: string, limit: number): Promise<() => Promise<void>>;
}
