/**
 * Per-user and per-project request pacing (a RateBudget) and retries with exponential backoff and jitter,
 * for single SDK calls and for batch parts. Retryable: 403 rateLimitExceeded/userRateLimitExceeded,
 * 429, 5xx and network errors; Retry-After is honoured when present.
 */
import type { BridgeError } from '../../src/core/index.ts';
import { LocalBudget, type RateBudget, type RateWindow } from '../../src/ports/index.ts';
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
 * the database when several workers run (`budget`). The window carries a margin (5%, at most 1 s)
 * that absorbs transit time between our count and the server's.
 *
 * The server counts a request when it gets to it, which may be well after we sent it (a busy server
 * works through a user's batches one after another). So this process also keeps each user's and the
 * project's requests as the server may have counted them: in the window from their send until their
 * answer (the latest the server can have counted them), then as of their answer. A request goes
 * only when both views have room, so a window that opens by our send times but not yet by the
 * server's never turns into a round of refusals.
 */
export class Pacer {
  private readonly budget: RateBudget;
  /** Requests as of their answers, per budget key. */
  private readonly answered = new LocalBudget();
  /** Requests sent and not yet answered, per budget key. */
  private readonly inFlight = new Map<string, number>();
  /** Woken when an answer comes (room may have opened in the answered view). */
  private wake: (() => void)[] = [];

  constructor(
    private readonly rate: RateOptions = {},
    budget?: RateBudget,
    /** The project the quotas belong to (the service account's), part of the budgets' names. */
    private readonly project = 'default',
  ) {
    this.budget = budget ?? new LocalBudget();
  }

  private windows(user: string): [string, RateWindow][] {
    const windowMs = this.rate.windowMs ?? 60_000;
    const ms = windowMs + Math.min(1000, windowMs / 20);
    return [
      [`google:${this.project}:user:${user.toLowerCase()}`, { count: this.limit, ms }],
      [`google:${this.project}:project`, { count: this.rate.perProject ?? 10_000, ms }],
    ];
  }

  /** Runs `send` (`n` requests of `user`) once they fit the user's and the project's windows. */
  async within<T>(user: string, n: number, send: () => Promise<T>): Promise<T> {
    if (this.limit <= 0 || n <= 0) return send();
    const windows = this.windows(user);
    await this.roomAsAnswered(windows, n);
    try {
      for (const [key, w] of windows) await this.budget.take(key, [w], n);
      return await send();
    } finally {
      const now = Date.now();
      for (const [key, w] of windows) {
        this.inFlight.set(key, (this.inFlight.get(key) ?? 0) - Math.min(n, w.count));
        this.answered.record(key, [w], now, n);
      }
      for (const wake of this.wake.splice(0)) wake();
    }
  }

  /**
   * Waits until `n` more fit every window counting the unanswered requests as inside it, then counts
   * them as unanswered (in the same turn as the check, so two sends never both take the last room).
   */
  private async roomAsAnswered(windows: [string, RateWindow][], n: number): Promise<void> {
    for (;;) {
      let wait = 0;
      let blocked = false;
      for (const [key, w] of windows) {
        const pending = this.inFlight.get(key) ?? 0;
        const want = Math.min(n, w.count);
        if (pending + want > w.count) blocked = true;
        else wait = Math.max(wait, this.answered.wait(key, [w], Date.now(), pending + want));
      }
      if (!blocked && wait <= 0) {
        for (const [key, w] of windows)
          this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + Math.min(n, w.count));
        return;
      }
      // an answer can open room before the computed time; the timer covers windows that just expire
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          const i = this.wake.indexOf(done);
          if (i >= 0) this.wake.splice(i, 1);
          resolve();
        };
        const timer = blocked ? undefined : setTimeout(done, wait);
        this.wake.push(done);
      });
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
