/** Feishu failures -> BridgeError, by Feishu `code` first, HTTP status second. */
import { BridgeError, type BridgeErrorKind } from '../../src/core/index.ts';

const KINDS: [BridgeErrorKind, number[]][] = [
  ['rate_limited', [99991400, 190004, 190005, 190010]],
  // Token problems (9999166x/99991671/99991677) and refused OAuth refresh tokens (v2 codes).
  ['auth', [99991661, 99991663, 99991664, 99991668, 99991671, 99991677, 20026, 20037, 20064, 20073, 10014]],
  // No access to the calendar/event/attendees.
  ['auth', [191002, 193002, 194001]],
  ['config', [99991672, 99991679, 190006, 190007, 190011, 190012]],
  ['not_found', [191000, 191003, 193001, 193003, 194000, 195100]],
  ['invalid', [190002, 190008, 190009, 191001, 191004, 193000, 194004, 99992402]],
  ['transient', [190003]],
];

export const TOKEN_INVALID = new Set([99991663, 99991671]);

export function toBridgeError(e: unknown, what: string): BridgeError {
  if (e instanceof BridgeError) return e;
  const err = e as any;
  const res = err?.response;
  const data = res?.data ?? (typeof err?.code === 'number' ? err : undefined);
  const code: number | undefined = typeof data?.code === 'number' ? data.code : undefined;
  const status: number | undefined = res?.status;
  const headers = res?.headers ?? {};
  const requestId: string | undefined = headers['x-tt-logid'] ?? data?.error?.log_id ?? undefined;
  const reset = Number(headers['x-ogw-ratelimit-reset'] ?? headers['retry-after']);
  const retryAfterMs = Number.isFinite(reset) && reset > 0 ? reset * 1000 : undefined;
  let kind: BridgeErrorKind | undefined =
    code === undefined ? undefined : KINDS.find(([, c]) => c.includes(code))?.[0];
  if (!kind) {
    if (status === 429) kind = 'rate_limited';
    else if (status === undefined || status >= 500) kind = 'transient';
    else if (status === 401) kind = 'auth';
    else if (status === 403) kind = 'auth';
    else if (status === 404) kind = 'not_found';
    else kind = 'invalid';
  }
  const msg = data?.msg ?? err?.message ?? String(e);
  return new BridgeError(kind, `feishu ${what}: ${code ?? status ?? 'network'} ${msg}`, {
    provider: 'feishu',
    status,
    code: code === undefined ? undefined : String(code),
    requestId,
    retryAfterMs,
    cause: e,
  });
}

/** A 200 answer whose envelope says otherwise (the SDK returns it instead of throwing). */
export function checkEnvelope<T extends { code?: number; msg?: string }>(r: T, what: string): T {
  if (r && typeof r.code === 'number' && r.code !== 0)
    throw toBridgeError({ response: { status: 200, data: r, headers: {} } }, what);
  return r;
}
