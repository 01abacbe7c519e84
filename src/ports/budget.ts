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

  /** Requests of `key` counted in the last `ms` before `now` (under a window of that length). */
  count(key: string, ms: number, now = Date.now()): number {
    const log = this.logs.get(`${key}\u0000${ms}`);
    if (!log) return 0;
    // the log is in time order: the first inside the window, found by halving
    let lo = 0;
    let hi = log.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (log[mid] > now - ms) hi = mid;
      else lo = mid + 1;
    }
    return log.length - lo;
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

/** A budget's name with its windows, as one provider limit (a user's, a project's, an API's). */
export interface Limit {
  key: string;
  windows: readonly RateWindow[];
  /**
   * At most this many in any of the windows from this process's sends (a fair share of a limit
   * above this one); the budget itself keeps the provider's own counts. Read at every look (it may
   * be a getter: a share changes as others come and go).
   */
  readonly share?: number;
}

/**
 * Sends under a budget, counting each request as the server can have counted it. A server counts a
 * request when it gets to it, which can be well after we sent it (a busy server works through its
 * queue, a network stalls), so requests sent over two seconds can reach it within one. This view
 * keeps a request from its send until its answer (the latest the server can have counted it), then
 * as of its answer; a request goes only when this view has room as well as the budget. The server's
 * own count is never above the view's, so the documented limits can be used as they are.
 */
export class AnsweredView {
  private readonly answered = new LocalBudget();
  /** Requests sent and not yet answered, per budget key. */
  private readonly inFlight = new Map<string, number>();
  /**
   * Sends waiting for room, in lines by the limits they count against (e.g. one per API or user):
   * only a line's head is looked at, and again only when its timer fires or an answer comes, so a
   * thousand waiting reads cost one look per event instead of a thousand.
   */
  private readonly lines = new Map<string, ViewLine>();

  constructor(readonly budget: RateBudget = new LocalBudget()) {}

  /**
   * Requests waiting per budget key in sends that are not `background`: a background send leaves
   * that much of each window to them (whatever line they wait in).
   */
  private readonly demand = new Map<string, number>();
  /** Lines whose head is a background send waiting: they look again when the demand falls. */
  private readonly held = new Set<ViewLine>();
  private rewake = false;

  /**
   * Runs `send` (`n` requests, a batch's parts counted one each) once every limit has room;
   * `background`: after every other send waiting for any of the same limits.
   */
  async run<T>(
    limits: readonly Limit[],
    n: number,
    send: () => Promise<T>,
    background = false,
    /** Told the moment the send is given its room (counted unanswered), before it goes. */
    admitted?: () => void,
  ): Promise<T> {
    await this.room(limits, n, background, admitted);
    try {
      for (const l of limits) await this.budget.take(l.key, l.windows, n);
      return await send();
    } finally {
      const now = Date.now();
      for (const l of limits) {
        this.inFlight.set(l.key, (this.inFlight.get(l.key) ?? 0) - n);
        this.answered.record(l.key, l.windows, now, n);
      }
      // an answer frees room only for the lines held by unanswered requests; the others wait on timers
      for (const line of this.lines.values()) if (!line.timer) this.pump(line);
    }
  }

  /** Requests of `key` in its window of `ms` as this view counts them: unanswered, and answered within it. */
  used(key: string, ms: number, now = Date.now()): number {
    return (this.inFlight.get(key) ?? 0) + this.answered.count(key, ms, now);
  }

  /** Lets every waiting line look again now (a share grew). */
  wakeAll() {
    for (const line of this.lines.values()) {
      clearTimeout(line.timer);
      line.timer = undefined;
      this.pump(line);
    }
  }

  private room(
    limits: readonly Limit[],
    n: number,
    background: boolean,
    admitted?: () => void,
  ): Promise<void> {
    const id = limits.map((l) => l.key).join('\u0000');
    let line = this.lines.get(id);
    if (!line) {
      line = { id, waiting: [] };
      this.lines.set(id, line);
    }
    const waiting = line.waiting;
    const mine = new Promise<void>((resolve) => {
      const go = () => {
        admitted?.();
        resolve();
      };
      const entry = { limits, n, resolve: go, background };
      if (background) waiting.push(entry);
      else {
        // ahead of the line's background sends, behind its other ones
        const at = waiting.findIndex((w) => w.background);
        waiting.splice(at < 0 ? waiting.length : at, 0, entry);
        for (const l of limits) this.demand.set(l.key, (this.demand.get(l.key) ?? 0) + n);
      }
    });
    if (!line.timer) this.pump(line);
    return mine;
  }

  /**
   * Lets the line's sends go while they fit every window with the unanswered requests counted
   * inside it, counting each as unanswered as it goes (so two never both take the last room). A
   * batch above a window's count goes alone. Then waits on a timer, or for an answer when the
   * unanswered requests alone fill a window.
   */
  private pump(line: ViewLine) {
    while (line.waiting.length > 0) {
      const { limits, n, resolve, background } = line.waiting[0];
      if (background) this.held.add(line);
      else this.held.delete(line);
      const now = Date.now();
      let wait = 0;
      let blocked = false;
      for (const l of limits) {
        const pending = this.inFlight.get(l.key) ?? 0;
        // a background send: what the others waiting need of the window is not its room
        const others = background ? (this.demand.get(l.key) ?? 0) : 0;
        for (const w of l.windows) {
          const count = Math.min(w.count, l.share ?? w.count) - others;
          if (count < 1 && others > 0) blocked = true;
          else if (pending > 0 && pending + n > Math.max(1, count)) blocked = true;
          else {
            const c = Math.max(1, count);
            const room = this.answered.wait(l.key, [{ count: c, ms: w.ms }], now, Math.min(pending + n, c));
            wait = Math.max(wait, room);
          }
        }
      }
      if (blocked) return;
      if (wait > 0) {
        line.timer = setTimeout(() => {
          line.timer = undefined;
          this.pump(line);
        }, wait);
        return;
      }
      for (const l of limits) this.inFlight.set(l.key, (this.inFlight.get(l.key) ?? 0) + n);
      line.waiting.shift();
      if (!background) this.demandLeft(limits, n);
      resolve();
    }
    this.held.delete(line);
    this.lines.delete(line.id);
  }

  /** A send that was not background went: the lines of background sends look again (once, soon). */
  private demandLeft(limits: readonly Limit[], n: number) {
    for (const l of limits) {
      const left = (this.demand.get(l.key) ?? 0) - n;
      if (left > 0) this.demand.set(l.key, left);
      else this.demand.delete(l.key);
    }
    if (this.held.size === 0 || this.rewake) return;
    this.rewake = true;
    // after the pump running now returns: it may be one of theirs
    queueMicrotask(() => {
      this.rewake = false;
      for (const line of [...this.held]) {
        clearTimeout(line.timer);
        line.timer = undefined;
        this.pump(line);
      }
    });
  }
}

interface ViewLine {
  id: string;
  waiting: { limits: readonly Limit[]; n: number; resolve: () => void; background: boolean }[];
  timer?: ReturnType<typeof setTimeout>;
}
