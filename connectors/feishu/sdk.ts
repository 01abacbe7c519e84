/**
 * The Lark SDK, loaded with `require`. It is one 6 MB CommonJS bundle: imported through ESM (and
 * more so through tsx's loader, as `bin/feisync.mjs` runs) it costs about 75 MB more resident memory
 * than the same module required (Node 20: +111 MB against +36 MB), for the same exports.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { createRequire } from 'node:module';
import type * as Lark from '@larksuiteoapi/node-sdk';

const require = createRequire(import.meta.url);
export const lark: typeof Lark = require('@larksuiteoapi/node-sdk');
export type LarkClient = Lark.Client;

export interface FeishuHttp {
  /** For `new lark.Client({ httpInstance })`. */
  instance: Lark.HttpInstance;
  /** Closes every pooled connection, idle or in use: for when its client is done. */
  close(): void;
}

/** What a socket closed by the server under an unanswered request looks like (`socket hang up`). */
const STALE = new Set(['ECONNRESET', 'EPIPE']);

/** The part of an SDK request this instance reads (the SDK passes axios-style options). */
interface SdkRequest {
  url?: string;
  method?: string;
  headers?: Record<string, unknown>;
  params?: Record<string, unknown>;
  paramsSerializer?: unknown;
  data?: unknown;
  responseType?: string;
  $return_headers?: boolean;
}

/** A failed answer, shaped as the SDK and `toBridgeError` read one (axios's: `response.status/data/headers`). */
export class FeishuHttpError extends Error {
  constructor(readonly response: { status: number; data: unknown; headers: IncomingHttpHeaders }) {
    super(`Request failed with status code ${response.status}`);
  }
}

/**
 * An HTTP instance of one SDK client's own, on Node's `http`/`https` with its connections kept alive
 * and pooled (closed with its client); the SDK's shared axios instance is left to the WSClient.
 *
 * The SDK sends its calls through `request` (and `post` and the like) with axios-style options and expects
 * the JSON body back (or `{data, headers}` when a call asks with `$return_headers`), a non-2xx
 * answer thrown with its `response`. Going without axios costs a Feishu read less than half the CPU
 * (0.09 ms against 0.2 ms, steady state, measured through the SDK against the emulator).
 */
export function keepAliveHttp(options: { maxSockets?: number; idleMs?: number } = {}): FeishuHttp {
  const agentOptions = {
    keepAlive: true,
    // in flight at once; more wait in the agent's queue (a rate-limited app needs far fewer)
    maxSockets: options.maxSockets ?? 64,
    maxFreeSockets: options.maxSockets ?? 64,
    // An idle connection is closed well before the server would close it (the emulators after 65 s;
    // load balancers in front of APIs commonly after 60 s or less). Node also honours a server's
    // `Keep-Alive: timeout=` hint when it is shorter.
    timeout: options.idleMs ?? 10_000,
    scheduling: 'lifo' as const,
  };
  const httpAgent = new HttpAgent(agentOptions);
  const httpsAgent = new HttpsAgent(agentOptions);
  // what the SDK's own instance sends on requests that name none (the token requests)
  const userAgent = `oapi-node-sdk/${require('@larksuiteoapi/node-sdk/package.json').version}`;

  function send(opts: SdkRequest, resent: boolean): Promise<unknown> {
    if (opts.responseType && opts.responseType !== 'json')
      return Promise.reject(new Error(`feishu http: responseType ${opts.responseType} is not supported`));
    const url = new URL(opts.url ?? '');
    const query = queryOf(opts);
    if (query) url.search += (url.search ? '&' : '') + query;
    const method = (opts.method ?? 'GET').toUpperCase();
    const headers: Record<string, string> = { 'User-Agent': userAgent };
    for (const [k, v] of Object.entries(opts.headers ?? {}))
      if (v !== undefined && v !== null) headers[k] = String(v);
    // the SDK passes `{}` as the body of its GETs; nothing is sent for it
    const data = opts.data;
    const empty =
      data === undefined || (typeof data === 'object' && data !== null && Object.keys(data).length === 0);
    let body: string | undefined;
    if (!(empty && (method === 'GET' || method === 'HEAD' || method === 'DELETE'))) {
      body = typeof data === 'string' ? data : JSON.stringify(data ?? {});
      headers['Content-Type'] ??= 'application/json; charset=utf-8';
    }
    const https = url.protocol === 'https:';
    return new Promise((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(
        url,
        { method, headers, agent: https ? httpsAgent : httpAgent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            if (text)
              try {
                parsed = JSON.parse(text);
              } catch {
                // not JSON (a proxy's error page): the text as it is
              }
            const status = res.statusCode ?? 0;
            if (status < 200 || status >= 300)
              reject(new FeishuHttpError({ status, data: parsed, headers: res.headers }));
            else resolve(opts.$return_headers ? { data: parsed, headers: res.headers } : parsed);
          });
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        // The server closed an idle connection just as a request was written onto it: the request
        // never reached it, so it is sent again at once on a fresh connection (once).
        if (req.reusedSocket && !resent && STALE.has(err.code ?? '')) resolve(send(opts, true));
        else reject(err);
      });
      req.end(body);
    });
  }

  const request = (opts: SdkRequest) => send(opts, false);
  const withoutBody = (method: string) => (url: string, opts?: SdkRequest) =>
    request({ ...opts, url, method });
  const withBody = (method: string) => (url: string, data?: unknown, opts?: SdkRequest) =>
    request({ ...opts, url, method, data });
  const instance = {
    request,
    get: withoutBody('GET'),
    delete: withoutBody('DELETE'),
    head: withoutBody('HEAD'),
    options: withoutBody('OPTIONS'),
    post: withBody('POST'),
    put: withBody('PUT'),
    patch: withBody('PATCH'),
  };
  return {
    instance: instance as unknown as Lark.HttpInstance,
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

/** The query string: the SDK's own serializer when it gives one (arrays repeated), else the same by hand. */
function queryOf(opts: SdkRequest): string {
  const params = opts.params;
  if (!params || Object.keys(params).length === 0) return '';
  if (typeof opts.paramsSerializer === 'function') return opts.paramsSerializer(params);
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    for (const x of Array.isArray(v) ? v : [v]) if (x !== undefined && x !== null) q.append(k, String(x));
  return q.toString();
}
