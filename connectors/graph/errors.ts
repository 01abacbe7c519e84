/** Graph errors (SDK GraphError, batch item responses, token endpoint replies) -> BridgeError. */
import { BridgeError, type BridgeErrorKind } from '../../src/core/index.ts';

export function kindOfStatus(status: number, code?: string): BridgeErrorKind {
  if (status === 429) return 'rate_limited';
  if (status === 412) return 'precondition';
  if (status === 409) return code === 'ErrorIrresolvableConflict' ? 'precondition' : 'conflict';
  if (status === 404 || status === 410) return 'not_found';
  if (status === 401 || status === 403) return 'auth';
  if (status === 400 || status === 422 || status === 413) return 'invalid';
  if (status === 424) return 'transient';
  if (status <= 0 || status >= 500 || status === 408) return 'transient';
  return 'invalid';
}

/** `Retry-After` in seconds or an HTTP date, to milliseconds. */
export function retryAfterMs(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  const n = Number(value);
  if (!Number.isNaN(n)) return Math.max(0, n * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

const header = (h: any, name: string): string | undefined => {
  if (!h) return undefined;
  if (typeof h.get === 'function') return h.get(name) ?? undefined;
  const key = Object.keys(h).find((k) => k.toLowerCase() === name.toLowerCase());
  return key ? String(h[key]) : undefined;
};

/** A response (status, headers, Graph error body) as a BridgeError. */
export function fromResponse(status: number, headers: any, body: any, what: string): BridgeError {
  const err = body?.error;
  const code = typeof err === 'object' ? err?.code : undefined;
  const message = typeof err === 'object' ? err?.message : undefined;
  return new BridgeError(
    kindOfStatus(status, code),
    `${what}: ${status} ${code ?? ''} ${message ?? ''}`.trim(),
    {
      provider: 'graph',
      status,
      code,
      requestId: err?.innerError?.['request-id'] ?? header(headers, 'request-id'),
      retryAfterMs: retryAfterMs(header(headers, 'retry-after')),
    },
  );
}

/** Anything thrown by the SDK or fetch, as a BridgeError. */
export function toBridgeError(e: unknown, what: string): BridgeError {
  if (e instanceof BridgeError) return e;
  const g = e as any;
  if (g && typeof g.statusCode === 'number' && g.statusCode > 0) {
    return new BridgeError(
      kindOfStatus(g.statusCode, g.code ?? undefined),
      `${what}: ${g.statusCode} ${g.code ?? ''} ${g.message ?? ''}`.trim(),
      {
        provider: 'graph',
        status: g.statusCode,
        code: g.code ?? undefined,
        requestId: g.requestId ?? header(g.headers, 'request-id'),
        retryAfterMs: retryAfterMs(header(g.headers, 'retry-after')),
        cause: e,
      },
    );
  }
  return new BridgeError('transient', `${what}: ${g?.message ?? String(e)}`, { provider: 'graph', cause: e });
}
