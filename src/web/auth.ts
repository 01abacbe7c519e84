/**
 * Admin sign-in through Feishu OAuth (the flow users consent through), and the guards of the admin
 * routes: pages redirect to /signin without a session, JSON answers 401; every action (POST) needs
 * the session's CSRF token and, when the browser names one, our own origin. No token is kept: the
 * code is redeemed only to learn who signed in.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebDeps } from './deps.ts';
import { RateLimiter } from './limits.ts';
import { esc, page } from './page.ts';
import { sendPage } from './public.ts';
import {
  createSealer,
  newSession,
  SESSION_COOKIE,
  SESSION_LIFE_MS,
  type Sealer,
  type Session,
  SIGNIN_COOKIE,
  SIGNIN_LIFE_MS,
} from './session.ts';

export interface Auth {
  sealer: Sealer;
  /** The signed-in admin of this request, if any. */
  admin(req: FastifyRequest): Session | undefined;
  /** onRequest hook for admin pages (redirect) or admin JSON (401). */
  guard(kind: 'page' | 'json'): (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  /** preHandler hook for actions: a session, its CSRF token (form field `_csrf` or header
   * `x-csrf-token`) and, when the browser sent one, an Origin (or Referer) that is ours. */
  action(req: FastifyRequest, reply: FastifyReply): Promise<unknown>;
}

export function createAuth(deps: WebDeps, secretKey: Buffer, base: () => string): Auth {
  const sealer = createSealer(secretKey);
  const admin = (req: FastifyRequest) => sealer.open(req.cookies[SESSION_COOKIE]);
  const origins = (req: FastifyRequest) => {
    const own = new Set([`${req.protocol}://${req.host}`, new URL(base()).origin]);
    if (deps.publicUrl) own.add(new URL(deps.publicUrl).origin);
    return own;
  };
  return {
    sealer,
    admin,
    guard: (kind) => async (req, reply) => {
      if (admin(req)) return;
      if (kind === 'json') return reply.code(401).send({ error: 'sign in as an admin at /signin' });
      return reply.redirect('/signin', 302);
    },
    async action(req, reply) {
      const s = admin(req);
      if (!s) return reply.code(401).send({ error: 'sign in as an admin at /signin' });
      const from = req.headers.origin ?? refererOrigin(req.headers.referer);
      if (from !== undefined && !origins(req).has(from)) {
        return reply.code(403).send({ error: 'this action came from another origin' });
      }
      const token = (req.body as Record<string, unknown> | undefined)?._csrf ?? req.headers['x-csrf-token'];
      if (!sealer.checkCsrf(s, token)) return reply.code(403).send({ error: 'missing or wrong CSRF token' });
    },
  };
}

function refererOrigin(referer: string | undefined): string | undefined {
  if (!referer) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return 'null';
  }
}

/** /signin, /auth/feishu/start, /auth/feishu/callback, /signout. */
export async function signinRoutes(web: FastifyInstance, deps: WebDeps, auth: Auth, base: () => string) {
  const { app } = deps;
  const secure = (deps.publicUrl ?? '').startsWith('https:');
  const cookie = { httpOnly: true, sameSite: 'lax' as const, path: '/', secure };
  const starts = new RateLimiter(deps.limits.consentPerMinute);
  let admins: { at: number; byOpenId: Map<string, string> } | undefined;

  /** server.admins by open_id (e-mails looked up in Feishu's directory, for five minutes). */
  async function adminIds(): Promise<Map<string, string>> {
    if (admins && Date.now() - admins.at < 5 * 60_000) return admins.byOpenId;
    const list = app.config.server.admins;
    const emails = list.filter((a) => !a.startsWith('ou_'));
    const found = emails.length ? await app.feishu.lookupUsersByEmail(emails) : new Map<string, string>();
    const byOpenId = new Map<string, string>();
    for (const a of list) {
      const id = a.startsWith('ou_') ? a : found.get(a);
      if (id) byOpenId.set(id, a);
    }
    admins = { at: Date.now(), byOpenId };
    return byOpenId;
  }

  web.get('/signin', async (req, reply) => {
    if (auth.admin(req)) return reply.redirect('/', 302);
    return sendPage(
      reply,
      200,
      page('Sign in', [
        '<p>The Feisync console is for the admins listed in the configuration (<code>server.admins</code>).</p>',
        '<p><a class="button" href="/auth/feishu/start">Sign in with Feishu</a></p>',
      ]),
    );
  });
  web.get('/auth/feishu/start', async (req, reply) => {
    const wait = starts.take(req.ip);
    if (wait > 0)
      return reply.code(429).header('retry-after', String(wait)).send({ error: 'too many sign-ins' });
    const { nonce, state } = auth.sealer.signinState();
    reply.setCookie(SIGNIN_COOKIE, nonce, { ...cookie, maxAge: SIGNIN_LIFE_MS / 1000 });
    const callback = `${deps.publicUrl ?? base()}/auth/feishu/callback`;
    return reply.redirect(app.userTokens.authorizeUrl(callback, state), 302);
  });
  web.get('/auth/feishu/callback', async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const nonce = req.cookies[SIGNIN_COOKIE];
    reply.clearCookie(SIGNIN_COOKIE, { path: '/' });
    if (typeof q.code !== 'string' || !auth.sealer.checkSigninState(q.state, nonce)) {
      return refuse(reply, 400, 'This sign-in link was not started in this browser, or it expired.');
    }
    let openId: string;
    try {
      openId = (await app.userTokens.redeem(q.code)).openId;
    } catch {
      return refuse(reply, 400, 'Feishu did not accept the sign-in code: start again.');
    }
    const name = (await adminIds()).get(openId);
    if (!name) {
      req.log.warn({ openId }, 'console sign-in refused: not an admin');
      return refuse(reply, 403, 'You signed in to Feishu, but you are not an admin of this Feisync.');
    }
    reply.setCookie(SESSION_COOKIE, auth.sealer.seal(newSession(openId, name)), {
      ...cookie,
      maxAge: SESSION_LIFE_MS / 1000,
    });
    req.log.info({ openId }, 'console sign-in');
    return reply.redirect('/', 302);
  });
  web.post('/signout', { preHandler: auth.action }, async (_req, reply) => {
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect('/signin', 303);
  });
}

function refuse(reply: FastifyReply, status: number, why: string) {
  return sendPage(
    reply,
    status,
    page('Not signed in', [`<p>${esc(why)}</p>`, '<p><a href="/signin">Back to sign-in</a></p>']),
  );
}
