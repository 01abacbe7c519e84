/** Google errors -> BridgeError. Nothing else leaves the connector. */
import { BridgeError, type BridgeErrorKind } from '../../src/core/index.ts';

const RATE_REASONS = ['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded'];

function header(headers: unknown, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const h = headers as Record<string, string | undefined>;
  return h[name] ?? h[name.toLowerCase()];
}

export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** From a status, a parsed body (Google's JSON error or an OAuth error) and response headers. */
export function toBridgeError(
  status: number | undefined,
  body: any,
  headers?: unknown,
  cause?: unknown,
): BridgeError {
  const first = body?.error?.errors?.[0];
  const oauth = typeof body?.error === 'string' ? (body.error as string) : undefined;
  const code: string | undefined = first?.reason ?? oauth;
  const message: string =
    body?.error?.message ??
    body?.error_description ??
    oauth ??
    (status ? `HTTP ${status}` : String(cause ?? 'error'));
  let kind: BridgeErrorKind;
  if (status === undefined) kind = 'transient';
  else if (
    oauth &&
    ['invalid_grant', 'unauthorized_client', 'invalid_client', 'access_denied'].includes(oauth)
  )
    kind = 'auth';
  else if (status === 404 || status === 410) kind = 'not_found';
  else if (status === 409) kind = 'conflict';
  else if (status === 412) kind = 'precondition';
  else if (status === 401) kind = 'auth';
  else if (status === 429) kind = 'rate_limited';
  else if (status === 403) kind = code && RATE_REASONS.includes(code) ? 'rate_limited' : 'auth';
  else if (status >= 500) kind = 'transient';
  else kind = 'invalid';
  return new BridgeError(kind, `google: ${message}`, {
    provider: 'google',
    status,
    code,
    requestId: header(headers, 'x-goog-request-id') ?? header(headers, 'x-request-id'),
    retryAfterMs: retryAfterMs(header(headers, 'retry-after')),
    cause,
  });
}

/** From whatever the SDK or fetch threw (GaxiosError, network error...). */
export function fromThrown(e: unknown): BridgeError {
  if (e instanceof BridgeError) return e;
  const res = (e as any)?.response;
  let body = res?.data;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      /* not JSON */
    }
  }
  return toBridgeError(res?.status, body, res?.headers, e);
}
