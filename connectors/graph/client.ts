/**
 * The Graph client: client-credentials tokens (cached, refreshed), a middleware chain of our own
 * bearer middleware + the SDK's RetryHandler (429/503/504, Retry-After, else backoff with jitter) +
 * HTTPMessageHandler, and a per-mailbox queue of at most 4 concurrent requests.
 *
 * The SDK's own AuthenticationHandler sends the token to https Graph hosts only (ARCHITECTURE 6), so
 * the bearer middleware here always sets it: the base URL is trusted configuration.
 */
import {
  Client,
  type Context,
  HTTPMessageHandler,
  type Middleware,
  RetryHandler,
  RetryHandlerOptions,
} from '@microsoft/microsoft-graph-client';
import PQueue from 'p-queue';
import { BridgeError } from '../../src/core/index.ts';
import { type ConcurrencySlots, LocalBudget, type RateBudget } from '../../src/ports/index.ts';
import { fromResponse, toBridgeError } from './errors.ts';

export interface GraphClientOptions {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** Graph root without the version, e.g. `https://graph.microsoft.com` or the emulator's URL. */
  baseUrl: string;
  /** Token authority root, e.g. `https://login.microsoftonline.com` or the emulator's URL. */
  authorityUrl: string;
  /** Concurrent requests per mailbox (Outlook allows 4), in this process. */
  mailboxConcurrency?: number;
  /** Requests per mailbox per 10 minutes (Outlook allows 10,000; a $batch counts each part). 0: no pacing. */
  mailboxRequests?: number;
  /** Where the per-mailbox request budgets are kept: this process by default, the database when shared. */
  budget?: RateBudget;
  /** The mailboxes' concurrency slots shared with other processes (each process queues its own anyway). */
  slots?: ConcurrencySlots;
  /** RetryHandler retries of 429/503/504 (default 3) and its base delay in seconds (default 1). */
  maxRetries?: number;
  retryDelaySeconds?: number;
}

/** Client-credentials tokens, cached until a minute before expiry; one request in flight at a time. */
export class TokenSource {
  private token?: { value: string; expiresAt: number };
  private pending?: Promise<string>;
  requests = 0;

  constructor(private o: GraphClientOptions) {}

  invalidate() {
    this.token = undefined;
  }

  async get(): Promise<string> {
    if (this.token && Date.now() < this.token.expiresAt) return this.token.value;
    this.pending ??= this.fetchToken().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetchToken(): Promise<string> {
    this.requests += 1;
    const url = `${this.o.authorityUrl.replace(/\/+$/, '')}/${encodeURIComponent(this.o.tenantId)}/oauth2/v2.0/token`;
    const scope = `${this.o.baseUrl.replace(/\/+$/, '')}/.default`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          client_id: this.o.clientId,
          client_secret: this.o.clientSecret,
          scope: scope.startsWith('http://') ? 'https://graph.microsoft.com/.default' : scope,
          grant_type: 'client_credentials',
        }),
      });
    } catch (e) {
      throw toBridgeError(e, 'token request');
    }
    const body: any = await res.json().catch(() => ({}));
    if (!res.ok || typeof body.access_token !== 'string') {
      const kind = res.status >= 500 ? 'transient' : body.error === 'invalid_request' ? 'config' : 'auth';
      throw new BridgeError(
        kind,
        `token request: ${res.status} ${body.error ?? ''} ${body.error_description ?? ''}`,
        {
          provider: 'graph',
          status: res.status,
          code: body.error,
          requestId: body.trace_id ?? res.headers.get('x-ms-request-id') ?? undefined,
        },
      );
    }
    const lifetime = Number(body.expires_in ?? 3599) * 1000;
    this.token = {
      value: body.access_token,
      expiresAt: Date.now() + Math.max(lifetime - 60_000, lifetime / 2),
    };
    return body.access_token;
  }
}

/** Sets `Authorization: Bearer` on every request; on a 401 gets a fresh token and tries once more. */
class BearerMiddleware implements Middleware {
  private next?: Middleware;
  constructor(private tokens: TokenSource) {}

  setNext(next: Middleware) {
    this.next = next;
  }

  private async setToken(context: Context, fresh: boolean) {
    if (fresh) this.tokens.invalidate();
    const token = await this.tokens.get();
    context.options ??= {};
    const options = context.options;
    const headers = options.headers;
    if (headers instanceof Headers) headers.set('Authorization', `Bearer ${token}`);
    else options.headers = { ...(headers as Record<string, string>), Authorization: `Bearer ${token}` };
  }

  async execute(context: Context): Promise<void> {
    await this.setToken(context, false);
    await this.next!.execute(context);
    if (context.response?.status === 401) {
      await this.setToken(context, true);
      await this.next!.execute(context);
    }
  }
}

export class GraphClient {
  readonly api: Client;
  readonly tokens: TokenSource;
  private queues = new Map<string, PQueue>();
  private readonly budget: RateBudget;
  /** Highest number of requests seen running at once per mailbox (for tests and benchmarks). */
  readonly peak = new Map<string, number>();

  constructor(readonly options: GraphClientOptions) {
    this.tokens = new TokenSource(options);
    this.budget = options.budget ?? new LocalBudget();
    const retry = new RetryHandler(
      new RetryHandlerOptions(options.retryDelaySeconds ?? 1, options.maxRetries ?? 3),
    );
    this.api = Client.initWithMiddleware({
      baseUrl: options.baseUrl,
      defaultVersion: 'v1.0',
      middleware: [new BearerMiddleware(this.tokens), retry, new HTTPMessageHandler()],
    });
  }

  private queue(mailbox: string): PQueue {
    const key = mailbox.toLowerCase();
    let q = this.queues.get(key);
    if (!q) {
      q = new PQueue({ concurrency: this.options.mailboxConcurrency ?? 4 });
      this.queues.set(key, q);
    }
    return q;
  }

  /**
   * Runs one request for a mailbox inside its concurrency limit and its 10-minute budget (`cost`:
   * the requests it counts as, a $batch's parts); errors come out as BridgeError. `background`:
   * after the mailbox's other requests waiting in this process (WriteOptions.background).
   */
  async run<T>(
    mailbox: string,
    what: string,
    fn: (api: Client) => Promise<T>,
    cost = 1,
    background = false,
  ): Promise<T> {
    const q = this.queue(mailbox);
    const perTen = this.options.mailboxRequests ?? 10_000;
    return q.add(
      async () => {
        const key = mailbox.toLowerCase();
        // the window with a margin of a second for transit between our count and the server's
        if (perTen > 0)
          await this.budget.take(
            `graph:${this.options.tenantId}:${key}`,
            [{ count: perTen, ms: 601_000 }],
            cost,
          );
        this.peak.set(key, Math.max(this.peak.get(key) ?? 0, q.pending));
        // Token errors thrown inside the SDK lose their kind, so get the token before entering it.
        await this.tokens.get();
        let release: (() => Promise<void>) | undefined;
        try {
          release = await this.options.slots?.acquire(
            `graph:${this.options.tenantId}:${key}`,
            this.options.mailboxConcurrency ?? 4,
          );
          return await fn(this.api);
        } catch (e) {
          throw toBridgeError(e, what);
        } finally {
          await release?.().catch(() => {});
        }
      },
      background ? { priority: -1 } : undefined,
    ) as Promise<T>;
  }

  /** Turns a non-2xx batch item into a BridgeError. */
  static itemError(status: number, headers: any, body: any, what: string): BridgeError {
    return fromResponse(status, headers, body, what);
  }

  /** The path and query of a nextLink/deltaLink, relative to the version root (the SDK only strips https hosts). */
  static relative(link: string): string {
    const u = new URL(link);
    return `${u.pathname.replace(/^\/(v1\.0|beta)(?=\/)/, '')}${u.search}`;
  }
}

/** The path of a calendar: `primary` is the mailbox's default calendar. */
export function calendarBase(cal: { owner: string; id: string }): string {
  const user = `/users/${encodeURIComponent(cal.owner)}`;
  return cal.id === 'primary' ? `${user}/calendar` : `${user}/calendars/${encodeURIComponent(cal.id)}`;
}
