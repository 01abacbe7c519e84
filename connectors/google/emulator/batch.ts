/** POST /batch/calendar/v3: multipart/mixed of embedded HTTP requests, answered part by part. */
import { STATUS_CODES } from 'node:http';
import { type EmRequest, type EmResponse, emRequest, HttpError } from '../../emulator/index.ts';
import { boundaryOf, buildMultipart, type HttpPart, parseMultipart } from '../multipart.ts';
import { badRequest } from './errors.ts';
import { arrivedAt } from './quota.ts';

/** The documented maximum of calls in one batch request. */
export const MAX_BATCH_PARTS = 1000;

type Dispatch = (req: EmRequest) => Promise<EmResponse>;

export async function batch(req: EmRequest, dispatch: Dispatch, now: number): Promise<EmResponse> {
  const boundary = boundaryOf(String(req.headers['content-type'] ?? ''));
  if (!/^multipart\/mixed/i.test(String(req.headers['content-type'] ?? '')) || !boundary) {
    return badRequest('Batch requests must be multipart/mixed with a boundary.');
  }
  const parts = parseMultipart(req.text(), boundary);
  if (parts.length === 0) return badRequest('Batch request contains no parts.');
  if (parts.length > MAX_BATCH_PARTS) {
    return badRequest(`A batch request may contain at most ${MAX_BATCH_PARTS} calls.`, 'batchSizeTooLarge');
  }
  // Outer headers, except Content-*, apply to every part unless the part overrides them.
  const outer: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (!k.startsWith('content-') && typeof v === 'string' && !['host', 'connection'].includes(k))
      outer[k] = v;
  }
  const answers: HttpPart[] = [];
  for (const part of parts) {
    const res = await runPart(part, outer, dispatch, now);
    const headers: Record<string, string> = {};
    let body = '';
    if (res.body !== undefined && res.body !== null) {
      body =
        typeof res.body === 'string' || Buffer.isBuffer(res.body)
          ? String(res.body)
          : JSON.stringify(res.body);
      headers['Content-Type'] = 'application/json; charset=UTF-8';
    }
    for (const [k, v] of Object.entries(res.headers ?? {})) headers[k.replace(/^etag$/i, 'ETag')] = v;
    if (res.body && typeof res.body === 'object' && (res.body as any).etag)
      headers.ETag = (res.body as any).etag;
    headers['Content-Length'] = String(Buffer.byteLength(body));
    answers.push({
      contentId: part.contentId === undefined ? undefined : `response-${part.contentId}`,
      startLine: `HTTP/1.1 ${res.status} ${STATUS_CODES[res.status] ?? ''}`,
      headers,
      body,
    });
  }
  const out = `batch_${Math.random().toString(36).slice(2)}`;
  return {
    status: 200,
    headers: { 'content-type': `multipart/mixed; boundary=${out}` },
    body: buildMultipart(answers, out),
    items: parts.length,
    parts: parts.map((p) => p.startLine.split(' ').slice(0, 2).join(' ').split('?')[0]),
  };
}

async function runPart(
  part: HttpPart,
  outer: Record<string, string>,
  dispatch: Dispatch,
  now: number,
): Promise<EmResponse> {
  const m = /^([A-Z]+)\s+(\S+)(?:\s+HTTP\/1\.1)?$/.exec(part.startLine.trim());
  if (!m) return { status: 400, body: errorOf('Invalid batch part request line.') };
  const url = new URL(m[2], 'http://batch');
  // All calls of a batch must go to the same API.
  if (!url.pathname.startsWith('/calendar/v3/')) {
    return { status: 400, body: errorOf('All calls in a batch must be to the Calendar API.') };
  }
  const body = Buffer.from(part.body, 'utf8');
  const sub = emRequest(m[1], url, { ...outer, ...part.headers }, body, () => {
    throw new HttpError({ status: 400, body: errorOf('Parse Error') });
  });
  arrivedAt.set(sub, now);
  try {
    return await dispatch(sub);
  } catch (e) {
    if (e instanceof HttpError) return e.response;
    return {
      status: 500,
      body: { error: { code: 500, message: String(e), errors: [{ reason: 'backendError' }] } },
    };
  }
}

const errorOf = (message: string) => ({
  error: { errors: [{ domain: 'global', reason: 'badRequest', message }], code: 400, message },
});
