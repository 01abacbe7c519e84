/**
 * Writes, batched: each op is a small state machine of calls (a create that meets 409 reads the
 * existing event, and re-writes it or moves to the next id generation if it was deleted). Calls of
 * all ops go out together in batches of at most `batchSize` parts; rate-limited and failed parts are
 * retried with backoff, the others are never held back by them.
 */
import { type BridgeError, fingerprint } from '../../src/core/index.ts';
import type { CalendarRef, WriteOp, WriteOptions, WriteResult } from '../../src/ports/index.ts';
import { invalidate, type JwtClient } from './auth.ts';
import { type Call, MAX_BATCH, type Reply, sendBatch } from './batch.ts';
import { fromThrown, toBridgeError } from './errors.ts';
import { eventIdFor, instanceIdFor } from './ids.ts';
import { fromGoogle, type GEvent, toGoogle } from './mapper.ts';
import { roomAnswers } from './rooms.ts';
import { backoffMs, type Pacer, type RetryOptions, sleep } from './transport.ts';

export interface WriteEnv {
  jwt(owner: string): JwtClient;
  rootUrl: string;
  pacer: Pacer;
  retry: RetryOptions;
  batchSize: number;
  concurrency: number;
  sendUpdates: 'none' | 'all';
}

type Outcome = { done: WriteResult } | { next: Step };
interface Step {
  call: Call;
  onReply(r: Reply): Outcome;
}
interface Task {
  index: number;
  step: Step;
  attempt: number;
  notBefore: number;
}

/** Id generations tried when earlier ids of a tag were deleted (deleted ids stay reserved). */
const MAX_GENERATION = 8;
const RATE_REASONS = ['rateLimitExceeded', 'userRateLimitExceeded'];

const fail = (r: Reply): Outcome => ({
  done: { ok: false, error: toBridgeError(r.status, r.body, r.headers) },
});
/** Done; an answer that carries the event also carries its rooms' answers (no further read). */
const ok = (g: GEvent | undefined, id: string): Outcome => ({
  done: {
    ok: true,
    ref: { id: g?.id ?? id, version: g?.etag ?? undefined },
    ...(g ? { rooms: roomAnswers(g) } : {}),
  },
});

function retryable(r: Reply): boolean {
  const reason = r.body?.error?.errors?.[0]?.reason;
  return (
    r.status === 0 ||
    r.status === 429 ||
    r.status >= 500 ||
    (r.status === 403 && RATE_REASONS.includes(reason))
  );
}

function steps(calendar: CalendarRef, op: WriteOp, query: string): Step {
  const base = `/calendar/v3/calendars/${encodeURIComponent(calendar.id)}/events`;
  const at = (id: string) => `${base}/${encodeURIComponent(id)}${query}`;
  const put = (id: string, body: GEvent, etag?: string): Step => ({
    call: { method: 'PUT', path: at(id), body, headers: etag ? { 'If-Match': etag } : undefined },
    onReply: (r) => (r.status === 200 ? ok(r.body, id) : fail(r)),
  });
  const cancel = (id: string): Step => ({
    call: { method: 'DELETE', path: at(id) },
    onReply: (r) => (r.status < 300 || r.status === 410 || r.status === 404 ? ok(undefined, id) : fail(r)),
  });
  if (op.op === 'remove') return cancel(op.ref.id);
  const parent = op.parent;
  if (parent && op.event.key.originalTime !== 0) {
    // An exception is an instance of the master: patched (full replace) or cancelled in place.
    const id = op.op === 'update' ? op.ref.id : instanceIdFor(parent.id, op.event);
    return op.event.status === 'cancelled'
      ? cancel(id)
      : put(id, toGoogle(op.event, op.tag, { instance: true }));
  }
  if (op.op === 'update') return put(op.ref.id, toGoogle(op.event, op.tag), op.ref.version);
  const tag = op.tag;
  const create = (generation: number): Step => {
    const id = eventIdFor(tag, generation);
    const body: GEvent = { ...toGoogle(op.event, tag), id };
    return {
      call: { method: 'POST', path: `${base}${query}`, body },
      onReply: (r) => {
        if (r.status === 200) return ok(r.body, id);
        if (r.status !== 409) return fail(r);
        // Already there: a repeated create, or a retry after a crash. Read it.
        return {
          next: {
            call: { method: 'GET', path: at(id) },
            onReply: (g) => {
              if (g.status !== 200) return fail(g);
              const existing = g.body as GEvent;
              if (existing.status === 'cancelled') {
                return generation + 1 < MAX_GENERATION ? { next: create(generation + 1) } : fail(r);
              }
              const same =
                fingerprint(fromGoogle(existing).event) ===
                fingerprint(fromGoogle({ ...body, organizer: existing.organizer }).event);
              return same ? ok(existing, id) : { next: put(id, body) };
            },
          },
        };
      },
    };
  };
  return create(0);
}

export async function runWrites(
  env: WriteEnv,
  calendar: CalendarRef,
  ops: WriteOp[],
  options: WriteOptions = {},
): Promise<WriteResult[]> {
  const results: WriteResult[] = new Array(ops.length);
  const query = `?sendUpdates=${options.notify ? 'all' : env.sendUpdates}`;
  let pending: Task[] = ops.map((op, index) => ({
    index,
    step: steps(calendar, op, query),
    attempt: 0,
    notBefore: 0,
  }));
  const size = Math.max(
    1,
    Math.min(env.batchSize, MAX_BATCH, env.pacer.limit > 0 ? env.pacer.limit : MAX_BATCH),
  );
  const attempts = env.retry.attempts ?? 6;
  let reauthed = false;
  const unauthorized = (status: number | undefined) => {
    // The token was refused (expired or revoked early): sign a new assertion once per write call.
    if (status !== 401 || reauthed) return false;
    reauthed = true;
    invalidate(env.jwt(calendar.owner));
    return true;
  };
  // the parts of a round that go again, sent together once the longest of their waits is over (so
  // they fill batches instead of leaving one by one as each part's own jitter ends)
  let retrying: Task[] = [];
  const again = (t: Task, err: BridgeError | undefined) => {
    if (t.attempt + 1 >= attempts) {
      results[t.index] = { ok: false, error: err ?? toBridgeError(undefined, undefined) };
      return;
    }
    retrying.push({
      ...t,
      attempt: t.attempt + 1,
      notBefore: Date.now() + backoffMs(t.attempt, env.retry, err),
    });
  };
  // what this call still has to send, so that the pacer spreads the user's writes over their
  // windows (background writes wait for them and are not counted)
  const owed = options.background ? undefined : env.pacer.owe(calendar.owner, options.queued);
  try {
    while (pending.length) {
      if (owed) owed.left = pending.length;
      const now = Date.now();
      const ready = pending.filter((t) => t.notBefore <= now);
      if (!ready.length) {
        await sleep(Math.min(...pending.map((t) => t.notBefore)) - now);
        continue;
      }
      const next: Task[] = pending.filter((t) => t.notBefore > now);
      const chunks: Task[][] = [];
      for (let i = 0; i < ready.length; i += size) chunks.push(ready.slice(i, i + size));
      const runChunk = async (chunk: Task[]) => {
        let replies: Reply[];
        try {
          const jwt = env.jwt(calendar.owner);
          // the token first: its round trip must not come between the count and the send
          await jwt.getAccessToken();
          replies = await env.pacer.within(
            calendar.owner,
            chunk.length,
            () =>
              sendBatch(
                jwt,
                env.rootUrl,
                chunk.map((t) => t.step.call),
              ),
            options.background,
            owed,
          );
        } catch (e) {
          const err = fromThrown(e);
          const reauth = unauthorized(err.status);
          for (const t of chunk) {
            if (reauth) next.push(t);
            else if (err.retryable) again(t, err);
            else results[t.index] = { ok: false, error: err };
          }
          return;
        }
        const reauth = replies.some((r) => r.status === 401) && unauthorized(401);
        for (const [i, t] of chunk.entries()) {
          const r = replies[i];
          if (r.status === 401 && reauth) {
            next.push(t);
            continue;
          }
          if (retryable(r)) {
            again(t, toBridgeError(r.status || undefined, r.body, r.headers));
            continue;
          }
          const out = t.step.onReply(r);
          if ('done' in out) results[t.index] = out.done;
          else next.push({ ...t, step: out.next, notBefore: 0 });
        }
      };
      for (let i = 0; i < chunks.length; i += env.concurrency) {
        await Promise.all(chunks.slice(i, i + env.concurrency).map(runChunk));
      }
      const at = Math.max(0, ...retrying.map((t) => t.notBefore));
      for (const t of retrying) next.push({ ...t, notBefore: at });
      retrying = [];
      pending = next;
    }
  } finally {
    owed?.close();
  }
  return results;
}
