/** Per-user and per-project request quotas on a sliding window, as Calendar documents them. */
import type { EmRequest } from '../../emulator/index.ts';
import type { Principal } from './auth.ts';
import { gfail } from './errors.ts';
import type { GoogleState } from './state.ts';

export class SlidingWindows {
  private hits = new Map<string, number[]>();

  /** Oldest hit still inside the window, after dropping expired ones. */
  private live(key: string, windowMs: number, now: number): number[] {
    const list = this.hits.get(key) ?? [];
    let i = 0;
    while (i < list.length && list[i] <= now - windowMs) i++;
    const kept = i ? list.slice(i) : list;
    this.hits.set(key, kept);
    return kept;
  }

  count(key: string, windowMs: number, now: number) {
    return this.live(key, windowMs, now);
  }

  add(key: string, now: number) {
    this.hits.get(key)?.push(now) ?? this.hits.set(key, [now]);
  }

  clear() {
    this.hits.clear();
  }
}

/** When a request arrived, for calls that are parts of a batch (they count at the batch's arrival). */
export const arrivedAt = new WeakMap<EmRequest, number>();

/** Counts one request against the caller's quotas, or throws Google's quota error. */
export function takeQuota(state: GoogleState, windows: SlidingWindows, who: Principal, req: EmRequest) {
  const l = state.limits;
  if (!l.enabled) return;
  const now = arrivedAt.get(req) ?? state.clock.now();
  const user = windows.count(`u:${who.project}:${who.sub}`, l.windowMs, now);
  const project = windows.count(`p:${who.project}`, l.windowMs, now);
  const msg = 'Rate Limit Exceeded';
  if (project.length >= l.perProject || user.length >= l.perUser) state.quotaRejections += 1;
  if (project.length >= l.perProject) {
    const retry = String(Math.max(1, Math.ceil((project[0] + l.windowMs - now) / 1000)));
    gfail(
      l.projectStatus,
      'rateLimitExceeded',
      msg,
      { domain: 'usageLimits' },
      l.projectStatus === 429 ? { 'retry-after': retry } : undefined,
    );
  }
  if (user.length >= l.perUser) gfail(403, 'userRateLimitExceeded', msg, { domain: 'usageLimits' });
  windows.add(`u:${who.project}:${who.sub}`, now);
  windows.add(`p:${who.project}`, now);
}
