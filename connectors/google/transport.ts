/**
 * Per-user and per-project request pacing (a RateBudget) and retries with exponential backoff and jitter,
 * for single SDK calls and for batch parts. Retryable: 403 rateLimitExceeded/userRateLimitExceeded,
 * 429, 5xx and network errors; Retry-After is honoured when present.
 */
import type { BridgeError } from '../../src/core/index.ts';
import { LocalBudget, type RateBudget } from '../../src/ports/index.ts';
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
 */
export class Pacer {
  private readonly budget: RateBudget;
  constructor(
    private readonly rate: RateOptions = {},
    budget?: RateBudget,
    /** The project the quotas belong to (the service account's), part of the budgets' names. */
    private readonly project = 'default',
  ) {
    this.budget = budget ?? new LocalBudget();
  }

  /** Waits until `n` requests of `user` fit in the user's and the project's windows, and counts them. */
  async take(user: string, n = 1): Promise<void> {
    const cap = this.rate.perUser ?? 600;
    if (cap <= 0 || n <= 0) return;
    const windowMs = this.rate.windowMs ?? 60_000;
    const ms = windowMs + Math.min(1000, windowMs / 20);
    await this.budget.take(`google:${this.project}:user:${user.toLowerCase()}`, [{ count: cap, ms }], n);
    await this.budget.take(
      `google:${this.project}:project`,
      [{ count: this.rate.perProject ?? 10_000, ms }],
      n,
    );
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
    await pacer.take(user);
    try {
      return await fn();
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
