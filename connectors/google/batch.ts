/**
 * Batch requests over the JWT client's authenticated transport (googleapis has no batch support):
 * one multipart/mixed POST to `/batch/calendar/v3`, one application/http part per call.
 */
import { randomBytes } from 'node:crypto';
import type { JwtClient } from './auth.ts';
import { boundaryOf, buildMultipart, parseMultipart } from './multipart.ts';

/** The documented maximum number of calls in one batch. */
export const MAX_BATCH = 1000;

export interface Call {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** `/calendar/v3/...` with its query string. */
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Reply {
  /** 0 when the batch response had no answer for the call. */
  status: number;
  body: any;
  headers: Record<string, string>;
}

export async function sendBatch(jwt: JwtClient, rootUrl: string, calls: Call[]): Promise<Reply[]> {
  if (calls.length > MAX_BATCH) throw new Error(`at most ${MAX_BATCH} calls per batch`);
  const boundary = `feisync_${randomBytes(12).toString('hex')}`;
  const parts = calls.map((c, i) => ({
    contentId: `item${i}`,
    startLine: `${c.method} ${c.path} HTTP/1.1`,
    headers: {
      ...(c.body === undefined ? {} : { 'Content-Type': 'application/json; charset=UTF-8' }),
      ...c.headers,
    },
    body: c.body === undefined ? '' : JSON.stringify(c.body),
  }));
  const res = await jwt.request<string>({
    url: `${rootUrl.replace(/\/+$/, '')}/batch/calendar/v3`,
    method: 'POST',
    headers: { 'Content-Type': `multipart/mixed; boundary=${boundary}` },
    data: buildMultipart(parts, boundary),
    responseType: 'text',
    retry: false,
  });
  const type =
    typeof (res.headers as any)?.get === 'function'
      ? (res.headers as any).get('content-type')
      : (res.headers as any)?.['content-type'];
  const replies: Reply[] = calls.map(() => ({ status: 0, body: undefined, headers: {} }));
  const outer = boundaryOf(type);
  if (!outer) return replies;
  for (const part of parseMultipart(String(res.data), outer)) {
    const m = /^response-item(\d+)$/.exec(part.contentId ?? '');
    const status = Number(/^HTTP\/\d(?:\.\d)?\s+(\d{3})/.exec(part.startLine)?.[1] ?? 0);
    if (!m || !replies[Number(m[1])]) continue;
    let body: any = part.body;
    try {
      body = part.body ? JSON.parse(part.body) : undefined;
    } catch {
      /* keep text */
    }
    replies[Number(m[1])] = { status, body, headers: part.headers };
  }
  return replies;
}
