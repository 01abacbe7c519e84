/**
 * Writes through JSON `$batch`: up to 20 requests per batch, chained with `dependsOn` so one batch
 * never runs more than one request at a time against the mailbox (Graph runs unchained items in
 * parallel, and more than 4 for one mailbox trip MailboxConcurrency). Items that fail with 429 or
 * 5xx are retried after their `Retry-After` (else backoff with jitter); items that got 424 because an
 * earlier one failed are simply sent again in the next round.
 */
import type { BridgeError } from '../../src/core/index.ts';
import type { GraphClient } from './client.ts';
import { retryAfterMs } from './errors.ts';

export interface BatchRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Relative to the version root, starting with `/`. */
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface BatchResult {
  /** The item's HTTP status; 0 when its batch got no answer (the connection dropped, retries spent). */
  status: number;
  headers: Record<string, string>;
  body: any;
}

/** A 2xx answer. Not `status < 300`: an item whose batch got no answer has status 0. */
export const succeeded = (r: BatchResult | undefined): boolean => !!r && r.status >= 200 && r.status < 300;

export const BATCH_LIMIT = 20;
const MAX_ITEM_RETRIES = 4;
const MAX_ROUNDS = 60;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runBatched(
  client: GraphClient,
  mailbox: string,
  requests: BatchRequest[],
  stats?: { batches: number },
  /** After the mailbox's other requests (WriteOptions.background). */
  background = false,
): Promise<BatchResult[]> {
  const results: BatchResult[] = new Array(requests.length);
  const attempts = new Map<number, number>();
  let pending = requests.map((_, i) => i);
  for (let round = 0; pending.length > 0; round++) {
    const next: number[] = [];
    let waitMs = 0;
    const retry = (i: number, ms: number | undefined, fallback: BatchResult) => {
      const n = (attempts.get(i) ?? 0) + 1;
      attempts.set(i, n);
      if (n > MAX_ITEM_RETRIES || round + 1 >= MAX_ROUNDS) results[i] = fallback;
      else {
        next.push(i);
        waitMs = Math.max(waitMs, ms ?? Math.min(30_000, 500 * 2 ** n));
      }
    };
    const chunks: number[][] = [];
    for (let k = 0; k < pending.length; k += BATCH_LIMIT) chunks.push(pending.slice(k, k + BATCH_LIMIT));
    await Promise.all(
      chunks.map(async (idx) => {
        const body = {
          requests: idx.map((i, k) => {
            const r = requests[i];
            return {
              id: String(i),
              method: r.method,
              url: r.url,
              ...(r.body !== undefined
                ? { body: r.body, headers: { 'Content-Type': 'application/json', ...r.headers } }
                : r.headers
                  ? { headers: r.headers }
                  : {}),
              ...(k > 0 ? { dependsOn: [String(idx[k - 1])] } : {}),
            };
          }),
        };
        let out: {
          responses: { id: string; status: number; headers?: Record<string, string>; body?: any }[];
        };
        try {
          if (stats) stats.batches += 1;
          out = await client.run(
            mailbox,
            '$batch',
            (api) => api.api('/$batch').post(body),
            idx.length,
            background,
          );
        } catch (e) {
          const err = e as BridgeError;
          const failed: BatchResult = {
            status: err.status ?? 0,
            headers: {},
            body: { error: { code: err.code ?? 'BatchFailed', message: err.message } },
          };
          for (const i of idx) {
            if (err.retryable) retry(i, err.retryAfterMs, failed);
            else results[i] = failed;
          }
          return;
        }
        for (const r of out.responses) {
          const i = Number(r.id);
          const res: BatchResult = { status: r.status, headers: r.headers ?? {}, body: r.body };
          if (r.status === 424) next.push(i);
          else if (r.status === 429 || r.status >= 500) {
            const h = Object.entries(res.headers).find(([k]) => k.toLowerCase() === 'retry-after')?.[1];
            retry(i, retryAfterMs(h), res);
          } else results[i] = res;
        }
      }),
    );
    if (next.length > 0 && waitMs > 0) await sleep(waitMs + Math.random() * 250);
    pending = next.sort((a, b) => a - b);
  }
  return results;
}
