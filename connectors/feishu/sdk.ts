/**
 * The Lark SDK, loaded with `require`. It is one 6 MB CommonJS bundle: imported through ESM (and
 * more so through tsx's loader, as `bin/feisync.mjs` runs) it costs about 75 MB more resident memory
 * than the same module required (Node 20: +111 MB against +36 MB), for the same exports.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
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

/** Marks a request already sent again once, after its kept-alive connection turned out dead (a
 * string key: axios copies a request's own string-keyed config entries onto its error's config). */
const RESENT = '$feisync_resent';
/** What a socket closed by the server under an unanswered request looks like (`socket hang up`). */
const STALE = new Set(['ECONNRESET', 'EPIPE']);

/**
 * An HTTP instance of one SDK client's own, with its connections kept alive and pooled: the SDK's
 * shared instance is left as it is (the WSClient and anyone else use it) and the pool can be closed
 * with its client.
 *
 * Made with the shared instance's `create` (axios's own, so no second copy of axios to keep in
 * step): that copies its defaults but not its interceptors, so the one that matters is repeated
 * here: the SDK's clients expect `resp.data` back (or `{data, headers}` when a call asks with
 * `$return_headers`), not axios's response.
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
  const instance = lark.defaultHttpInstance.create({
    httpAgent,
    httpsAgent,
    // Feishu's APIs do not redirect; without redirects axios uses Node's own request, whose
    // `reusedSocket` tells a dead kept-alive connection from a failure of a fresh one.
    maxRedirects: 0,
    // what the shared instance sends on requests that name none (the token requests)
    headers: { 'User-Agent': `oapi-node-sdk/${require('@larksuiteoapi/node-sdk/package.json').version}` },
  });
  instance.interceptors.response.use(
    (resp) => ((resp.config as any).$return_headers ? { data: resp.data, headers: resp.headers } : resp.data),
    (err) => {
      // The server closed an idle connection just as a request was written onto it: the request
      // never reached it, so it is sent again at once on a fresh connection (once).
      const config = err?.config;
      if (err?.request?.reusedSocket && STALE.has(err.code) && config && !config[RESENT])
        return instance.request({ ...config, [RESENT]: true });
      throw err;
    },
  );
  return {
    instance: instance as unknown as Lark.HttpInstance,
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
