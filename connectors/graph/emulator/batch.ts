/**
 * JSON `$batch`: at most 20 requests, unique ids, `dependsOn` (424 when a dependency failed), one
 * status per request. Requests whose dependencies are done run together as one wave, so more than
 * `concurrency` parallel requests for one mailbox trip MailboxConcurrency (429), as Graph does.
 */
import type { EmRequest, EmResponse } from '../../emulator/index.ts';
import { errorBody, gfail } from './errors.ts';

export interface BatchItem {
  id: string;
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  dependsOn?: string[];
}

/** Runs one wave of item requests; the callback owns throttling and routing. */
export type WaveRunner = (requests: EmRequest[]) => Promise<EmResponse[]>;

export const MAX_BATCH = 20;

function itemRequest(outer: EmRequest, item: BatchItem): EmRequest {
  const url = new URL(`/v1.0/${item.url.replace(/^\/+/, '').replace(/^v1\.0\//, '')}`, 'http://emulator');
  const headers: Record<string, string> = { host: String(outer.headers.host ?? '') };
  if (outer.headers.authorization) headers.authorization = String(outer.headers.authorization);
  for (const [k, v] of Object.entries(item.headers ?? {})) headers[k.toLowerCase()] = String(v);
  const text =
    item.body === undefined ? '' : typeof item.body === 'string' ? item.body : JSON.stringify(item.body);
  const body = Buffer.from(text, 'utf8');
  return {
    method: item.method.toUpperCase(),
    path: url.pathname,
    query: url.searchParams,
    headers,
    params: {},
    body,
    text: () => text,
    json: () => {
      if (!text) return {};
      try {
        return JSON.parse(text);
      } catch {
        return gfail(400, 'BadRequest', 'Invalid JSON body.');
      }
    },
  };
}

export async function runBatch(req: EmRequest, runWave: WaveRunner): Promise<EmResponse> {
  const b = req.json();
  const items: BatchItem[] = b.requests;
  if (!Array.isArray(items) || items.length === 0) gfail(400, 'BadRequest', 'Invalid batch payload format.');
  if (items.length > MAX_BATCH) {
    gfail(400, 'BadRequest', `The number of requests in the batch exceeds the limit of ${MAX_BATCH}.`);
  }
  const ids = new Set<string>();
  for (const it of items) {
    if (typeof it?.id !== 'string' || typeof it.method !== 'string' || typeof it.url !== 'string') {
      gfail(400, 'BadRequest', 'Each request needs id, method and url.');
    }
    if (ids.has(it.id)) gfail(400, 'BadRequest', `Request id '${it.id}' is duplicated.`);
    ids.add(it.id);
    if (/^https?:/i.test(it.url)) gfail(400, 'BadRequest', 'Batch request urls must be relative.');
    const hasType = Object.keys(it.headers ?? {}).some((k) => k.toLowerCase() === 'content-type');
    if (it.body !== undefined && !hasType) {
      gfail(400, 'BadRequest', `Content-Type header must be specified for request '${it.id}' with a body.`);
    }
  }
  for (const it of items) {
    for (const d of it.dependsOn ?? [])
      if (!ids.has(d)) gfail(400, 'BadRequest', `Unknown dependsOn id '${d}'.`);
  }
  const done = new Map<string, EmResponse>();
  while (done.size < items.length) {
    const ready = items.filter((it) => !done.has(it.id) && (it.dependsOn ?? []).every((d) => done.has(d)));
    if (ready.length === 0) gfail(400, 'BadRequest', 'The dependsOn graph of the batch has a cycle.');
    const failedDep = (it: BatchItem) => (it.dependsOn ?? []).some((d) => done.get(d)!.status >= 400);
    for (const it of ready.filter(failedDep)) {
      done.set(it.id, {
        status: 424,
        body: errorBody('FailedDependency', 'A dependency of this request failed.'),
      });
    }
    const run = ready.filter((it) => !failedDep(it));
    const responses = await runWave(run.map((it) => itemRequest(req, it)));
    for (const [i, it] of run.entries()) done.set(it.id, responses[i]);
  }
  const responses = items.map((it) => {
    const r = done.get(it.id)!;
    const headers: Record<string, string> = { ...(r.headers ?? {}) };
    if (r.body !== undefined && typeof r.body === 'object') headers['Content-Type'] = 'application/json';
    return { id: it.id, status: r.status, headers, body: r.body };
  });
  const parts = items.map((it) => `${it.method.toUpperCase()} ${it.url.split('?')[0]}`);
  return { status: 200, body: { responses }, items: items.length, parts };
}
