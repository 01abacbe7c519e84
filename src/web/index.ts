/**
 * The web layer of `feisync serve`, on Fastify.
 *
 * Public (the internet reaches these; each verifies what it is sent):
 *   POST /webhooks/feishu        Feishu change events: verified over the raw body, de-duplicated, queued, 200
 *   POST <path>                  any provider webhook mounted through `WebDeps.push` (see below)
 *   GET  /oauth/feishu/start     ?user=... -> Feishu's consent page (limited per client address)
 *   GET  /oauth/feishu/callback  stores the user's tokens, then sets the user up
 *   GET  /healthz, /readyz       the process answers / database, queue and intake are up
 *
 * Admin (a Feishu sign-in of someone in server.admins; session cookie signed with secret_key):
 *   GET  /signin, /auth/feishu/start, /auth/feishu/callback; POST /signout     (auth.ts)
 *   GET  /, /rooms, /reconcile, /dead-letters, /conflicts and POST /actions/... the console
 *        (console/index.ts): without a session pages redirect to /signin; actions need a CSRF token
 *   GET  /status, /reports/latest   JSON, 401 without a session
 *   GET  /metrics                   Prometheus text; wants "Bearer <server.metrics_token>" when set
 *
 * Every route holds against hostile traffic (limits.ts): a body cap answered 413 before the body is
 * buffered, header and request timeouts of seconds, a bound on requests in flight (429 above it), and
 * security headers on every HTML page (headers.ts).
 *
 * Mounting a provider webhook (Google channel notifications, Graph change notifications): pass
 * `push: { '/webhooks/google': handler }` in the deps, where
 *   handler: (req: PushRequest) => Promise<{ status: number; contentType?: string; body?: string }>
 * (`PushRequest` from src/ports/feed.ts: method, query, lower-case headers, raw body as a Buffer).
 * The route takes POST with any content type (or none), under the same cap, timeouts and bound;
 * whatever the handler answers is sent as is. `mountPush(fastify, path, handler)` does the same on
 * an instance of your own.
 */

import { timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import pino, { type Logger } from 'pino';
import { ConsentError } from '../app/consent.ts';
import { latestReconcileReport } from '../app/reconcile-run.ts';
import { readStatus } from '../app/status.ts';
import { parseSecretKey } from '../store/credentials.ts';
import { createAuth, signinRoutes } from './auth.ts';
import { consoleRoutes } from './console/index.ts';
import type { WebDeps } from './deps.ts';
import { securityHeaders } from './headers.ts';
import { boundInFlight, DEFAULT_LIMITS, serverFactory, type WebLimits } from './limits.ts';
import { publicRoutes } from './public.ts';

export type { ConflictsProvider, ConflictVersion, ConflictView, ConsoleDeps } from './console/index.ts';
export type { WebDeps } from './deps.ts';
export { DEFAULT_LIMITS, type WebLimits } from './limits.ts';
export { mountPush, type PushAnswer, type PushHandler } from './public.ts';

export interface HttpServer {
  url: string;
  server: Server;
  web: FastifyInstance;
  /** Requests being handled now (for tests and metrics). */
  inFlight(): number;
  /** Stop accepting; answer what is in flight; then resolve. */
  close(): Promise<void>;
}

export async function startWebServer(
  input: Omit<WebDeps, 'limits'> & { limits?: Partial<WebLimits>; log?: Logger },
  listen: { host: string; port: number },
): Promise<HttpServer> {
  const limits: WebLimits = { ...DEFAULT_LIMITS, ...input.limits };
  const deps: WebDeps = { ...input, limits };
  const log = input.log ?? pino({ level: 'silent' });
  const web = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: limits.bodyLimit,
    serverFactory: serverFactory(limits),
    return503OnClosing: true,
  });
  let base = '';

  // request log: method, path (never the query: OAuth codes travel there), status, time
  web.addHook('onResponse', async (req, reply) => {
    req.log.info(
      { method: req.method, path: req.url.split('?')[0], status: reply.statusCode, ms: reply.elapsedTime },
      'request',
    );
  });
  web.setErrorHandler(async (err: Error & { statusCode?: number }, req, reply) => {
    const status = err instanceof ConsentError ? err.status : (err.statusCode ?? 500);
    if (status === 413) reply.header('connection', 'close');
    if (status >= 500) {
      req.log.error({ path: req.url.split('?')[0], err: err.message }, 'request failed');
      return reply.code(status).send({ error: 'internal error' });
    }
    return reply.code(status).send({ error: err.message });
  });
  web.setNotFoundHandler(async (req, reply) =>
    reply.code(404).send({ error: `no route ${req.method} ${req.url.split('?')[0]}` }),
  );
  const bound = boundInFlight(web, limits.maxInFlight);
  securityHeaders(web);

  await web.register(cookie);
  await web.register(formbody, { bodyLimit: limits.bodyLimit });
  await publicRoutes(web, deps, () => base);

  const auth = createAuth(deps, parseSecretKey(deps.app.config.secret_key), () => base);
  await signinRoutes(web, deps, auth, () => base);
  const metricsToken = deps.app.config.server.metrics_token;
  web.get('/metrics', async (req, reply) => {
    if (metricsToken && !bearerIs(req.headers.authorization, metricsToken)) {
      reply.header('www-authenticate', 'Bearer realm="feisync metrics"');
      return reply.code(401).send({ error: 'metrics need "Authorization: Bearer <server.metrics_token>"' });
    }
    return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  if (deps.console) await consoleRoutes(web, deps, auth, () => base, deps.console);
  const json = { onRequest: auth.guard('json') };
  web.get('/reports/latest', json, async (_req, reply) => {
    const report = await latestReconcileReport(deps.app);
    if (!report) return reply.code(404).send({ error: 'no reconciliation has finished yet' });
    return report;
  });
  web.get('/status', json, async () =>
    readStatus(deps.app.db.prisma, {
      bossSchema: deps.app.db.bossSchema,
      rooms: deps.app.config.rooms,
      waves: deps.app.config.migration.waves,
    }),
  );

  await web.listen({ host: listen.host, port: listen.port });
  const { address, port } = web.server.address() as AddressInfo;
  base = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  return { url: base, server: web.server, web, inFlight: bound.inFlight, close: () => web.close() };
}

function bearerIs(header: string | undefined, token: string): boolean {
  const got = Buffer.from(/^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1] ?? '');
  const want = Buffer.from(token);
  return got.length === want.length && timingSafeEqual(got, want);
}
