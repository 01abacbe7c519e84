/**
 * Per-user and per-project request pacing (a RateBudget) and retries with exponential backoff and jitter,
 * for single SDK calls and for batch parts. Retryable: 403 rateLimitExceeded/userRateLimitExceeded,
 * 429, 5xx and network errors; Retry-After is honoured when present.
 */
import type { BridgeError } from '../../src/core/index.ts';
import { AnsweredView, type Limit, LocalBudget, type RateBudget } from '../../src/ports/index.ts';
import { fromThrown } from './errors.ts';

export interface RetryOptions {
  /** Attempts per request, the first included. Default 6. */
  attempts?: number;
  /** First backoff, ms. Default 500. */
  baseMs?: number;
  /** Longest backoff, ms. Default 32,000. */
  maxMs?: number;
}

export interface RateOptions {
  /** Requests per window per user. Default 600 (Calendar's per-user quota). 0 turns pacing off. */
  perUser?: number;
  /**
   * Requests per window for the whole project (the service account), every user together. Default
   * 10,000 (Calendar's per-project quota): twenty users at their own 600 a minute would exceed it.
   */
  perProject?: number;
  /** Window, ms. Default 60,000. */
  windowMs?: number;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function backoffMs(attempt: number, o: RetryOptions, err?: BridgeError): number {
  if (err?.retryAfterMs !== undefined) return err.retryAfterMs;
  const cap = Math.min(o.maxMs ?? 32_000, (o.baseMs ?? 500) * 2 ** attempt);
  return Math.round(cap / 2 + (Math.random() * cap) / 2);
}

/**
 * What one write call still has to send (`left`), counted down by `within` as each of its batches
 * is given room; `close` when the call ends.
 */
export interface Owed {
  left: number;
  close(): void;
}

/** One run's writes to a user's calendar: its write calls in progress, and what it holds behind them. */
interface Run {
  calls: Set<Owed>;
  queued?: () => number;
}

/**
 * Per-user and per-project pacing through a rate budget: in this process by default, shared through
 * the database when several workers run (`budget`). Requests are counted as the server can have
 * counted them (AnsweredView): the server counts a batch's parts when it gets to them, which may be
 * well after we sent them (a busy server works through a user's batches one after another). The
 * window carries a margin (5%, at most 1 s) for the clocks of the two sides.
 *
 * The project's window is shared so that no user needs more windows than their own writes do:
 * - while several users have requests waiting or in flight, or are expected to (`expect`: a run
 *   about to write their calendars), none takes more than its share of the project's count;
 * - a user whose writes still to send are known (`owe`) spreads them evenly over the windows they
 *   need: 1,000 writes go as 500 and 500, not 600 and 400, leaving the project room for users who
 *   come later in the window;
 * - writes in the background (the attendees of busy time first) wait while any user has writes of
 *   their own to send.
 * First come, first served, the users whose writes were ready first would take their whole 600 of
 * the first window and leave those who came later little of it; a user left short then needs a
 * third window where two would do (20 users x 1,000 writes under 10,000 a minute for the project).
 */
export class Pacer {
  private readonly view: AnsweredView;
  /** Calls inside `within` (waiting or in flight), per user: the users sharing the project. */
  private readonly active = new Map<string, number>();
  /** Users expected to send soon, until when (ms). */
  private readonly expected = new Map<string, number>();
  /** Writes still to send per user, by run (keyed by the run's `queued`, or by the call). */
  private readonly owing = new Map<string, Map<object, Run>>();

  constructor(
    private readonly rate: RateOptions = {},
    budget?: RateBudget,
    /** The project the quotas belong to (the service account's), part of the budgets' names. */
    private readonly project = 'default',
    /** Requests per batch the writes go in (a user's share of a window is in whole batches). */
    private readonly batch = 1,
  ) {
    this.view = new AnsweredView(budget ?? new LocalBudget());
  }

  private limits(user: string): Limit[] {
    const windowMs = this.rate.windowMs ?? 60_000;
    const ms = windowMs + Math.min(1000, windowMs / 20);
    const perProject = this.rate.perProject ?? 10_000;
    const key = `google:${this.project}:user:${user}`;
    const self = this;
    return [
      {
        key,
        windows: [{ count: this.limit, ms }],
        // read at every look: users come and go, and writes are sent, while a send waits
        get share() {
          return Math.min(Math.floor(perProject / Math.max(1, self.sharing())), self.level(user, key, ms));
        },
      },
      { key: `google:${this.project}:project`, windows: [{ count: perProject, ms }] },
    ];
  }

  /** Users sharing the project's window now: those sending, and those expected who have not lapsed. */
  private sharing(): number {
    const now = Date.now();
    let n = this.active.size;
    for (const [user, until] of this.expected) {
      if (until <= now) this.expected.delete(user);
      else if (!this.active.has(user)) n += 1;
    }
    return n;
  }

  /**
   * The most a user sends in one window while their writes still to send are known: those and the
   * window's sends so far, spread evenly over the windows they need at the user's limit, in whole
   * batches (983 writes: 500 now and 483 later; 492 now would be 400, and the project's window would
   * lose the 100 that its later users need).
   */
  private level(user: string, key: string, ms: number): number {
    const owed = this.owed(user);
    if (owed === 0 || owed === Infinity) return this.limit;
    const total = this.view.used(key, ms) + owed;
    const windows = Math.ceil(total / this.limit);
    const g = Math.min(this.batch, this.limit);
    const even = Math.round(total / windows / g) * g;
    // never so little now that the rest no longer fits the windows after this one
    const least = Math.ceil((total - (windows - 1) * this.limit) / g) * g;
    return Math.min(this.limit, Math.max(g, even, least));
  }

  /** A user's writes still to send (Infinity while a run's are not all known yet). */
  private owed(user: string): number {
    let n = 0;
    for (const run of this.runs(user)) {
      n += run.queued?.() ?? 0;
      for (const c of run.calls) n += c.left;
    }
    return n;
  }

  /** A user's runs with writes to send: those that have ended (no call, nothing queued) are let go. */
  private runs(user: string): Run[] {
    const runs = this.owing.get(user);
    if (!runs) return [];
    for (const [id, run] of runs) if (run.calls.size === 0 && !((run.queued?.() ?? 0) > 0)) runs.delete(id);
    if (runs.size === 0) this.owing.delete(user);
    return [...runs.values()];
  }

  /**
   * A write call of `user` begins: what it still has to send is counted in `left`. `queued`: what
   * its run holds behind it (Infinity while unknown); the run stays counted between its calls.
   */
  owe(user: string, queued?: () => number): Owed {
    const who = user.toLowerCase();
    let runs = this.owing.get(who);
    if (!runs) {
      runs = new Map();
      this.owing.set(who, runs);
    }
    const call: Owed = { left: 0, close: () => {} };
    const id = queued ?? call;
    let run = runs.get(id);
    if (!run) {
      run = { calls: new Set(), queued };
      runs.set(id, run);
    }
    const mine = run;
    mine.calls.add(call);
    call.close = () => {
      mine.calls.delete(call);
      call.left = 0;
      this.runs(who);
    };
    return call;
  }

  /** Whether any user has writes of their own to send (a run's count read at each look). */
  private busy(): boolean {
    for (const user of this.owing.keys()) if (this.runs(user).length) return true;
    return false;
  }

  /** `users` are about to send: they share the project's window from now on, for one window at most. */
  expect(users: string[]) {
    const until = Date.now() + (this.rate.windowMs ?? 60_000);
    for (const u of users) this.expected.set(u.toLowerCase(), until);
  }

  /**
   * Runs `send` (`n` requests of `user`) once they fit the user's and the project's windows;
   * `background`: once no user has writes of their own to send, and after the other sends waiting
   * for those windows. `owed`: the write call's count, less `n` once they are given room (from then
   * the window counts them).
   */
  async within<T>(
    user: string,
    n: number,
    send: () => Promise<T>,
    background = false,
    owed?: Owed,
  ): Promise<T> {
    if (this.limit <= 0 || n <= 0) {
      if (owed) owed.left -= n;
      return send();
    }
    // looked at again every half second: runs end without telling
    while (background && this.busy()) await sleep(BUSY_LOOK_MS);
    const who = user.toLowerCase();
    this.active.set(who, (this.active.get(who) ?? 0) + 1);
    try {
      const admitted = owed
        ? () => {
            owed.left -= n;
          }
        : undefined;
      return await this.view.run(this.limits(who), n, send, background, admitted);
    } finally {
      const left = this.active.get(who)! - 1;
      if (left > 0) this.active.set(who, left);
      else {
        this.active.delete(who);
        // one user fewer: the others' shares grow
        this.view.wakeAll();
      }
    }
  }

  get limit() {
    return this.rate.perUser ?? 600;
  }
}

const BUSY_LOOK_MS = 500;

/** Runs an SDK call for a user under pacing and retries; failures come out as BridgeError. */
export async function withRetry<T>(
  pacer: Pacer,
  user: string,
  retry: RetryOptions,
  fn: () => Promise<T>,
  onUnauthorized?: () => void,
): Promise<T> {
  const attempts = retry.attempts ?? 6;
  let reauthed = false;
  for (let attempt = 0; ; attempt++) {
    try {
      return await pacer.within(user, 1, fn);
    } catch (e) {
      const err = fromThrown(e);
      // A token the server no longer accepts: sign a new assertion once, then try again at once.
      if (err.status === 401 && onUnauthorized && !reauthed) {
        reauthed = true;
        onUnauthorized();
        continue;
      }
      if (!err.retryable || attempt + 1 >= attempts) throw err;
      await sleep(backoffMs(attempt, retry, err));
    }
  }
}
