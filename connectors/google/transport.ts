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
 * Per-user and per-project pacing through a rate budget: in this process by default, shared through
 * the database when several workers run (`budget`). Requests are counted as the server can have
 * counted them (AnsweredView): the server counts a batch's parts when it gets to them, which may be
 * well after we sent them (a busy server works through a user's batches one after another). The
 * window carries a margin (5%, at most 1 s) for the clocks of the two sides.
 *
 * The project's window is shared fairly: while several users have requests waiting or in flight, or
 * are expected to (`expect`: a run about to write their calendars), none takes more than its share
 * of the project's count in a window. First come, first served, the users whose writes were ready
 * first would take their whole 600 of the first window and leave the others little of it; a user
 * left short then needs a third window where shares need two (20 users x 1,000 writes under 10,000
 * a minute for the project: 134 s against 62 s in the quota bench).
 */
export class Pacer {
  private readonly view: AnsweredView;
  /** Calls inside `within` (waiting or in flight), per user: the users sharing the project. */
  private readonly active = new Map<string, number>();
  /** Users expected to send soon, until when (ms). */
  private readonly expected = new Map<string, number>();

  constructor(
    private readonly rate: RateOptions = {},
    budget?: RateBudget,
    /** The project the quotas belong to (the service account's), part of the budgets' names. */
    private readonly project = 'default',
  ) {
    this.view = new AnsweredView(budget ?? new LocalBudget());
  }

  private limits(user: string): Limit[] {
    const windowMs = this.rate.windowMs ?? 60_000;
    const ms = windowMs + Math.min(1000, windowMs / 20);
    const perProject = this.rate.perProject ?? 10_000;
    const sharing = () => this.sharing();
    return [
      {
        key: `google:${this.project}:user:${user}`,
        windows: [{ count: this.limit, ms }],
        // read at every look: users come and go while a send waits
        get share() {
          return Math.floor(perProject / Math.max(1, sharing()));
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

  /** `users` are about to send: they share the project's window from now on, for one window at most. */
  expect(users: string[]) {
    const until = Date.now() + (this.rate.windowMs ?? 60_000);
    for (const u of users) this.expected.set(u.toLowerCase(), until);
  }

  /**
   * Runs `send` (`n` requests of `user`) once they fit the user's and the project's windows;
   * `background`: after the other sends waiting for those windows.
   */
  async within<T>(user: string, n: number, send: () => Promise<T>, background = false): Promise<T> {
    if (this.limit <= 0 || n <= 0) return send();
    const who = user.toLowerCase();
    this.active.set(who, (this.active.get(who) ?? 0) + 1);
    try {
      return await this.view.run(this.limits(who), n, send, background);
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
