import type { EmRequest, EmResponse } from './server.ts';

type Route = {
  method: string;
  re: RegExp;
  names: string[];
  handler: (req: EmRequest) => EmResponse | Promise<EmResponse>;
};

/** Routes like `GET /calendar/v3/calendars/:calendarId/events`; `:name` matches one path segment. */
export class Router {
  private routes: Route[] = [];

  on(method: string, pattern: string, handler: Route['handler']): this {
    const names: string[] = [];
    const re = new RegExp(
      `^${pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:(\w+)/g, (_, n) => {
        names.push(n);
        return '([^/]+)';
      })}$`,
    );
    this.routes.push({ method, re, names, handler });
    return this;
  }

  handle(req: EmRequest): EmResponse | Promise<EmResponse> | undefined {
    for (const r of this.routes) {
      if (r.method !== req.method) continue;
      const m = r.re.exec(req.path);
      if (!m) continue;
      req.params = Object.fromEntries(r.names.map((n, i) => [n, decodeURIComponent(m[i + 1])]));
      return r.handler(req);
    }
    return undefined;
  }
}

/**
 * Fixed-window counters, for rate limits: `take(key, limit, windowMs, now)` is false once `limit`
 * calls fell in the current window. Windows are aligned to multiples of `windowMs`.
 */
export class RateWindows {
  private counts = new Map<string, { start: number; n: number }>();

  take(
    key: string,
    limit: number,
    windowMs: number,
    now: number,
  ): { ok: boolean; remaining: number; resetMs: number } {
    const start = now - (now % windowMs);
    let c = this.counts.get(key);
    if (!c || c.start !== start) {
      c = { start, n: 0 };
      this.counts.set(key, c);
    }
    const resetMs = start + windowMs - now;
    if (c.n >= limit) return { ok: false, remaining: 0, resetMs };
    c.n += 1;
    return { ok: true, remaining: limit - c.n, resetMs };
  }

  clear() {
    this.counts.clear();
  }
}
