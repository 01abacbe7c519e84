/**
 * The routes the internet reaches: webhooks (Feishu's, and any provider's mounted with `mountPush`),
 * the consent pages, and the probes. Webhook bodies are kept as raw bytes: signatures are over them.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Deduplicator, type HintHandler, handleWebhook } from '../../connectors/feishu/events.ts';
import type { PushRequest } from '../ports/feed.ts';
import type { WebDeps } from './deps.ts';
import { RateLimiter } from './limits.ts';
import { page } from './page.ts';

/** A provider's webhook: the request as it arrived, and what to answer. */
export type PushHandler = (req: PushRequest) => Promise<PushAnswer>;
export interface PushAnswer {
  status: number;
  contentType?: string;
  body?: string;
}

/** Lower-case header names, repeated headers joined by commas. */
export function flatHeaders(req: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : String(v);
  }
  return out;
}

/** Within this plugin's scope every body, whatever its content type (or none), arrives as a Buffer. */
function rawBodies(web: FastifyInstance): void {
  web.removeAllContentTypeParsers();
  web.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
}

const rawOf = (req: FastifyRequest): Buffer => (Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));

/**
 * Mounts a provider webhook under `path` (POST): the body cap, timeouts, in-flight bound and security
 * headers of every route apply; the handler gets the raw bytes and decides the answer.
 */
export async function mountPush(web: FastifyInstance, path: string, handler: PushHandler): Promise<void> {
  await web.register(async (scope) => {
    rawBodies(scope);
    scope.post(path, async (req, reply) => {
      const query = new URLSearchParams(req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '');
      const answer = await handler({
        method: req.method,
        query,
        headers: flatHeaders(req),
        body: rawOf(req),
      });
      reply.code(answer.status);
      if (answer.contentType) reply.type(answer.contentType);
      return reply.send(answer.body ?? '');
    });
  });
}

/** POST /webhooks/feishu: verified over the raw body, de-duplicated, handed on, acknowledged. */
export async function feishuWebhook(
  web: FastifyInstance,
  o: {
    enabled: boolean;
    encryptKey?: string;
    verificationToken?: string;
    dedup?: Deduplicator;
    onHint: HintHandler;
    counted?: (type: string, outcome: 'accepted' | 'duplicate' | 'rejected') => void;
  },
): Promise<void> {
  await web.register(async (scope) => {
    rawBodies(scope);
    scope.post('/webhooks/feishu', async (req, reply) => {
      if (!o.enabled) return reply.code(404).send({ error: 'webhooks are off (feishu.events.mode)' });
      let type = 'unknown';
      const answer = await handleWebhook(
        { headers: flatHeaders(req), body: rawOf(req).toString('utf8') },
        { encryptKey: o.encryptKey, verificationToken: o.verificationToken, dedup: o.dedup },
        (hint, meta) => {
          type = hint.type;
          return o.onHint(hint, meta);
        },
      );
      const outcome =
        answer.status >= 400 ? 'rejected' : (answer.body as any)?.duplicate ? 'duplicate' : 'accepted';
      o.counted?.(type, outcome);
      return reply.code(answer.status).send(answer.body);
    });
  });
}

export async function publicRoutes(web: FastifyInstance, deps: WebDeps, base: () => string): Promise<void> {
  const { app, metrics } = deps;

  await feishuWebhook(web, {
    enabled: deps.webhooks,
    encryptKey: app.config.feishu.events.encrypt_key || undefined,
    verificationToken: app.config.feishu.events.verification_token || undefined,
    dedup: deps.dedup,
    onHint: deps.onHint,
    counted: (type, outcome) => metrics.deliveries.inc({ transport: 'webhook', type, outcome }),
  });
  for (const [path, handler] of Object.entries(deps.push ?? {})) await mountPush(web, path, handler);

  const consentStarts = new RateLimiter(deps.limits.consentPerMinute);
  web.get('/oauth/feishu/start', async (req, reply) => {
    const wait = consentStarts.take(req.ip);
    if (wait > 0) {
      reply.header('retry-after', String(wait));
      return reply.code(429).send({ error: 'too many consent requests from this address: wait a minute' });
    }
    const user = (req.query as Record<string, string | undefined>).user;
    if (!user || typeof user !== 'string') {
      return reply.code(400).send({ error: 'add ?user=<e-mail or open_id of a configured user>' });
    }
    const target = await deps.consent.start(user, `${deps.publicUrl ?? base()}/oauth/feishu/callback`);
    return reply.redirect(target, 302);
  });
  web.get('/oauth/feishu/callback', async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === 'string' ? v : null);
    const { openId } = await deps.consent.finish(str(q.code), str(q.state));
    await deps.onConsent(openId);
    return sendPage(
      reply,
      200,
      page('Consent stored', [
        '<p>Thank you: Feisync can now keep your calendars in sync. You may close this page.</p>',
      ]),
    );
  });

  web.get('/healthz', async () => ({ ok: true }));
  web.get('/readyz', async (_req, reply) => {
    const why = await deps.notReady();
    return reply.code(why ? 503 : 200).send(why ? { ok: false, reason: why } : { ok: true });
  });
}

export function sendPage(reply: FastifyReply, status: number, html: string) {
  return reply.code(status).type('text/html; charset=utf-8').send(html);
}
