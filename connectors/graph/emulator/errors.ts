import { randomUUID } from 'node:crypto';
import { type EmResponse, fail } from '../../emulator/index.ts';

/** Graph's error body: `{error: {code, message, innerError: {date, request-id, client-request-id}}}`. */
export function errorBody(code: string, message: string, clientRequestId?: string) {
  const requestId = randomUUID();
  return {
    error: {
      code,
      message,
      innerError: {
        date: new Date().toISOString().replace(/\.\d{3}Z$/, ''),
        'request-id': requestId,
        'client-request-id': clientRequestId ?? requestId,
      },
    },
  };
}

export function graphError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): EmResponse {
  const body = errorBody(code, message);
  return {
    status,
    body,
    headers: { 'request-id': body.error.innerError['request-id'], ...headers },
  };
}

/** Throws a Graph error response out of a handler. */
export function gfail(
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
): never {
  const r = graphError(status, code, message, headers);
  return fail(r.status, r.body, r.headers);
}

export const invalid = (message: string): never => gfail(400, 'ErrorInvalidRequest', message);
export const notFound = (message = 'The specified object was not found in the store.'): never =>
  gfail(404, 'ErrorItemNotFound', message);
