import type { Provider } from './event.ts';

export type BridgeErrorKind =
  | 'not_found'
  | 'conflict'
  | 'precondition'
  | 'rate_limited'
  | 'auth'
  | 'transient'
  | 'invalid'
  | 'config';

/** The only error that leaves a connector. `sync` decides what to do from `kind` alone. */
export class BridgeError extends Error {
  override readonly name = 'BridgeError';
  readonly kind: BridgeErrorKind;
  readonly provider?: Provider;
  /** HTTP status, when there was a response. */
  readonly status?: number;
  /** The provider's own error code (Feishu `code`, Google `reason`, Graph `error.code`). */
  readonly code?: string;
  /** The provider's request id (Feishu log id, Google/Graph request id), for support tickets. */
  readonly requestId?: string;
  readonly retryAfterMs?: number;

  constructor(
    kind: BridgeErrorKind,
    message: string,
    details: {
      provider?: Provider;
      status?: number;
      code?: string;
      requestId?: string;
      retryAfterMs?: number;
      cause?: unknown;
    } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.kind = kind;
    this.provider = details.provider;
    this.status = details.status;
    this.code = details.code;
    this.requestId = details.requestId;
    this.retryAfterMs = details.retryAfterMs;
  }

  /** Worth trying again later, unchanged. */
  get retryable(): boolean {
    return this.kind === 'rate_limited' || this.kind === 'transient';
  }
}

export const isBridgeError = (e: unknown): e is BridgeError => e instanceof BridgeError;
