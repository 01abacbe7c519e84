/**
 * The HTTP side of `feisync serve`:
 *   POST /webhooks/feishu        Feishu change events: verified, de-duplicated, queued, then 200
 *   POST /webhooks/google|graph  spoke push notifications of two-way pairs (see spoke-intake.ts)
 *   GET  /oauth/feishu/start     ?user=... -> Feishu's consent page
 *   GET  /oauth/feishu/callback  stores the user's tokens, then sets the user up
 *   GET  /healthz                the process answers
 *   GET  /readyz                 database, job queue and event intake are up (503 otherwise)
 *   GET  /metrics                Prometheus text
 *   GET  /reports/latest         the last reconciliation report (JSON; 404 before the first)
 *   GET  /status                 what `feisync status --json` prints
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Deduplicator, type HintHandler, handleWebhook } from '../../connectors/feishu/events.ts';
import type { PushRequest } from '../ports/index.ts';
import type { App } from './compose.ts';
import { ConsentError, type createConsent } from './consent.ts';
import type { Metrics } from './metrics.ts';
import { latestReconcileReport } from './reconcile-run.ts';
import type { PushAnswer } from './spoke-intake.ts';
import { readStatus } from './status.ts';

export interface ServerDeps {
  app: App;
  metrics: Metrics;
  dedup: Deduplicator;
  consent: ReturnType<typeof createConsent>;
  /** Queue the work of one accepted event; resolves once it is stored. */
  onHint: HintHandler;
  /** After a consent is stored. */
  onConsent(openId: string): Promise<void>;
  /** Why the service is not ready, or undefined when it is. */
  notReady(): Promise<string | undefined>;
  /** Whether Feishu webhooks are expected (events.mode webhook). */
  webhooks: boolean;
  /** Base URL the outside world reaches us at (config server.public_url), for the consent callback. */
  publicUrl?: string;
  /** Spoke push intake (two-way pairs), per spoke. */
  spokeIntake?: Partial<Record<'google' | 'graph', (req: PushRequest) => Promise<PushAnswer>>>;
}

export interface HttpServer {
  url: string;
  server: Server;
  /** Stop accepting; answer what is in flight; then resolve. */
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, url: URL, res: ServerResponse) => Promise<void>;

export async function startHttpServer(
  deps: ServerDeps,
  listen: { host: string; port: number },
): Promise<HttpServer> {
  const { app, metrics } = deps;
  let base = '';
  const send = (res: ServerResponse, status: number, body: unknown, type = 'application/json'): void => {
    res
      .writeHead(status, { 'content-type': type })
      .end(type === 'application/json' ? JSON.stringify(body) : String(body));
  };

  const spokePush = async (
    spoke: 'google' | 'graph',
    req: IncomingMessage,
    url: URL,
    res: ServerResponse,
  ) => {
    const intake = deps.spokeIntake?.[spoke];
    if (!intake) return send(res, 404, { error: `no ${spoke} push intake` });
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const answer = await intake({
      method: req.method ?? 'POST',
      query: url.searchParams,
      headers: lowerHeaders(req),
      body: Buffer.concat(chunks),
    });
    res
      .writeHead(answer.status, answer.contentType ? { 'content-type': answer.contentType } : {})
      .end(answer.body ?? '');
  };

  const routes: Record<string, Handler> = {
    'POST /webhooks/feishu': async (req, _url, res) => {
      if (!deps.webhooks) return send(res, 404, { error: 'webhooks are off (feishu.events.mode)' });
      const body = await readBody(req);
      let type = 'unknown';
      const answer = await handleWebhook(
        { headers: lowerHeaders(req), body },
        {
          encryptKey: app.config.feishu.events.encrypt_key || undefined,
          verificationToken: app.config.feishu.events.verification_token || undefined,
          dedup: deps.dedup,
        },
        (hint, meta) => {
          type = hint.type;
          return deps.onHint(hint, meta);
        },
      );
      const outcome =
        answer.status >= 400 ? 'rejected' : (answer.body as any)?.duplicate ? 'duplicate' : 'accepted';
      metrics.deliveries.inc({ transport: 'webhook', type, outcome });
      send(res, answer.status, answer.body);
    },
    'POST /webhooks/google': (req, url, res) => spokePush('google', req, url, res),
    'POST /webhooks/graph': (req, url, res) => spokePush('graph', req, url, res),
    'GET /oauth/feishu/start': async (_req, url, res) => {
      const user = url.searchParams.get('user');
      if (!user) return send(res, 400, { error: 'add ?user=<e-mail or open_id of a configured user>' });
      const target = await deps.consent.start(user, `${deps.publicUrl ?? base}/oauth/feishu/callback`);
      res.writeHead(302, { location: target }).end();
    },
    'GET /oauth/feishu/callback': async (_req, url, res) => {
      const { openId } = await deps.consent.finish(
        url.searchParams.get('code'),
        url.searchParams.get('state'),
      );
      await deps.onConsent(openId);
      send(
        res,
        200,
        'Thank you: Feisync can now keep your calendars in sync. You may close this page.',
        'text/plain',
      );
    },
    'GET /healthz': async (_req, _url, res) => send(res, 200, { ok: true }),
    'GET /readyz': async (_req, _url, res) => {
      const why = await deps.notReady();
      send(res, why ? 503 : 200, why ? { ok: false, reason: why } : { ok: true });
    },
    'GET /metrics': async (_req, _url, res) =>
      send(res, 200, await metrics.registry.metrics(), metrics.registry.contentType),
    'GET /reports/latest': async (_req, _url, res) => {
      const report = await latestReconcileReport(app);
      if (!report) return send(res, 404, { error: 'no reconciliation has finished yet' });
      send(res, 200, report);
    },
    'GET /status': async (_req, _url, res) =>
      send(res, 200, await readStatus(app.db.prisma, { bossSchema: app.db.bossSchema })),
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = routes[`${req.method} ${url.pathname}`];
    if (!route) return send(res, 404, { error: `no route ${req.method} ${url.pathname}` });
    try {
      await route(req, url, res);
    } catch (e) {
      const status = e instanceof ConsentError ? e.status : 500;
      if (!res.headersSent) send(res, status, { error: (e as Error).message });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  base = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  return {
    url: base,
    server,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function lowerHeaders(req: IncomingMessage) {
  return Object.fromEntries(
    Object.entries(req.headers).map(([k, v]) => [
      k.toLowerCase(),
      Array.isArray(v) ? v.join(',') : (v ?? ''),
    ]),
  );
}
