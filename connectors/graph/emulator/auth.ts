/** Client-credentials tokens and per-mailbox throttling. */
import { randomBytes } from 'node:crypto';
import { type Clock, type EmRequest, type EmResponse, RateWindows } from '../../emulator/index.ts';
import { gfail, graphError } from './errors.ts';
import type { Store } from './model.ts';

export const TOKEN_LIFETIME_S = 3599;

function aadError(status: number, error: string, code: string, description: string): EmResponse {
  return {
    status,
    body: {
      error,
      error_description: `${code}: ${description}`,
      error_codes: [Number(code.slice(5))],
      timestamp: new Date().toISOString(),
      trace_id: randomBytes(16).toString('hex'),
      correlation_id: randomBytes(16).toString('hex'),
    },
  };
}

/** `POST /{tenant}/oauth2/v2.0/token`, form-encoded, client_credentials only. */
export function tokenEndpoint(store: Store, clock: Clock, tenantId: string, req: EmRequest): EmResponse {
  const form = new URLSearchParams(req.text());
  const tenant = store.tenants.get(tenantId);
  if (!tenant) return aadError(400, 'invalid_request', 'AADSTS90002', `Tenant '${tenantId}' not found.`);
  if (form.get('grant_type') !== 'client_credentials') {
    return aadError(
      400,
      'unsupported_grant_type',
      'AADSTS70003',
      'The app requested an unsupported grant type.',
    );
  }
  if (form.get('client_id') !== tenant.client_id) {
    return aadError(
      400,
      'unauthorized_client',
      'AADSTS700016',
      `Application with identifier '${form.get('client_id')}' was not found in the directory.`,
    );
  }
  if (form.get('client_secret') !== tenant.client_secret) {
    return aadError(401, 'invalid_client', 'AADSTS7000215', 'Invalid client secret provided.');
  }
  const scope = form.get('scope') ?? '';
  if (!scope.endsWith('/.default')) {
    return aadError(400, 'invalid_scope', 'AADSTS1002012', 'The provided value for scope is not valid.');
  }
  const token = `eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.${randomBytes(32).toString('base64url')}`;
  store.tokens.set(token, {
    tenantId,
    clientId: tenant.client_id,
    expiresMs: clock.now() + TOKEN_LIFETIME_S * 1000,
  });
  return {
    status: 200,
    body: {
      token_type: 'Bearer',
      expires_in: TOKEN_LIFETIME_S,
      ext_expires_in: TOKEN_LIFETIME_S,
      access_token: token,
    },
  };
}

/** The tenant of a valid bearer token, or a 401 thrown. */
export function authenticate(
  store: Store,
  clock: Clock,
  req: EmRequest,
): { tenantId: string; clientId: string } {
  const header = String(req.headers.authorization ?? '');
  const token = /^Bearer\s+(.+)$/i.exec(header)?.[1];
  if (!token) return gfail(401, 'InvalidAuthenticationToken', 'Access token is empty.');
  const t = store.tokens.get(token);
  if (!t) return gfail(401, 'InvalidAuthenticationToken', 'IDX14100: JWT is not well formed.');
  if (t.expiresMs <= clock.now()) {
    return gfail(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.');
  }
  return t;
}

export interface Limits {
  enabled: boolean;
  /** Requests per mailbox per 10 minutes. */
  perTenMinutes: number;
  /** Concurrent requests per mailbox. */
  concurrency: number;
  /** Time each mailbox request holds its slot, to make concurrency observable. */
  latencyMs: number;
}
export const DEFAULT_LIMITS: Limits = { enabled: true, perTenMinutes: 10_000, concurrency: 4, latencyMs: 0 };

/** Outlook's per-app, per-mailbox limits: 4 concurrent requests, 10,000 requests per 10 minutes. */
export class Throttle {
  limits: Limits = { ...DEFAULT_LIMITS };
  private windows = new RateWindows();
  private active = new Map<string, number>();
  readonly peak = new Map<string, number>();
  throttled = 0;

  constructor(private clock: Clock) {}

  reset() {
    this.limits = { ...DEFAULT_LIMITS };
    this.windows.clear();
    this.active.clear();
    this.peak.clear();
    this.throttled = 0;
  }

  /** Takes a slot for a mailbox request: a release function, or a 429 response. */
  acquire(mailbox: string): (() => void) | EmResponse {
    const n = this.active.get(mailbox) ?? 0;
    if (this.limits.enabled && n >= this.limits.concurrency) {
      this.throttled += 1;
      return graphError(429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', {
        'Retry-After': '1',
      });
    }
    if (this.limits.enabled) {
      const w = this.windows.take(mailbox, this.limits.perTenMinutes, 600_000, this.clock.now());
      if (!w.ok) {
        this.throttled += 1;
        return graphError(429, 'ApplicationThrottled', 'Application is over its MailboxRequests limit.', {
          'Retry-After': String(Math.max(1, Math.ceil(w.resetMs / 1000))),
        });
      }
    }
    this.active.set(mailbox, n + 1);
    this.peak.set(mailbox, Math.max(this.peak.get(mailbox) ?? 0, n + 1));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active.set(mailbox, (this.active.get(mailbox) ?? 1) - 1);
    };
  }

  stats() {
    return { limits: this.limits, peakConcurrency: Object.fromEntries(this.peak), throttled: this.throttled };
  }
}
