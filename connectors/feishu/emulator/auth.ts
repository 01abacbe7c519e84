/** Token endpoints, token checks, rate limits and the Feishu error envelope. */
import type { Clock, EmRequest, EmResponse, Router } from '../../emulator/index.ts';
import { fail, type RateWindows } from '../../emulator/index.ts';
import { newId, type Store, type Token } from './store.ts';

export interface Limits {
  enabled: boolean;
  perSecond: number;
  perMinute: number;
}

export interface Ctx {
  store: Store;
  clock: Clock;
  windows: RateWindows;
  limits: Limits;
  /** Called after every change of an event: queue change events for subscribed apps. */
  eventChanged(calendar_id: string, event_id: string, change: 'create' | 'update' | 'delete' | 'rsvp'): void;
  /** Called after a change of a user's calendar list. */
  calendarListChanged(open_id: string): void;
}

const TOKEN_LIFE_S = 7200;
const REUSE_MIN_S = 30 * 60;
const ACCESS_LIFE_S = 7200;
const REFRESH_LIFE_S = 30 * 24 * 3600;

/** Answer with Feishu's envelope `{code, msg, error: {log_id}}` and the log id header. */
export function ferr(status: number, code: number, msg: string, headers: Record<string, string> = {}): never {
  const logId = newLogId();
  return fail(status, { code, msg, error: { log_id: logId } }, { 'x-tt-logid': logId, ...headers });
}

export const newLogId = () => `${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}${newId(10)}`;

export const ok = (data: unknown): EmResponse => ({
  status: 200,
  body: { code: 0, msg: 'success', data },
  headers: { 'x-tt-logid': newLogId() },
});

export const badParam = (what: string): never => ferr(400, 190002, `invalid parameters in request: ${what}`);

/**
 * The caller's token. The HTTP status of the token errors is unconfirmed (reference §3); we answer
 * 400 like the other parameter errors, and the connector decides by `code`, never by status.
 */
export function authorize(
  ctx: Ctx,
  req: EmRequest,
  api: string,
  kinds: Token['kind'][] = ['tenant', 'user'],
) {
  const header = String(req.headers.authorization ?? '');
  const m = /^Bearer\s+(\S+)$/.exec(header);
  if (!m) return ferr(400, 99991661, 'Missing access token for authorization');
  const token = ctx.store.tokens.get(m[1]);
  const prefix = m[1].slice(0, 2);
  if (!token) {
    if (prefix === 'u-') return ferr(400, 99991668, 'Invalid access token for authorization');
    if (prefix === 'a-') return ferr(400, 99991664, 'Invalid app access token');
    return ferr(400, 99991663, 'Invalid access token for authorization');
  }
  if (token.expiresAt <= ctx.clock.now()) {
    if (token.kind === 'user') return ferr(400, 99991677, 'Authentication token expired');
    return ferr(400, token.kind === 'app' ? 99991664 : 99991663, 'Invalid access token for authorization');
  }
  if (!kinds.includes(token.kind)) {
    return badParam(`${api} accepts only ${kinds.map((k) => `${k}_access_token`).join(' or ')}`);
  }
  limit(ctx, token.app_id, api);
  return token;
}

/** 50/s and 1000/min per app and API (reference §2), as HTTP 429 code 99991400 with x-ogw-ratelimit-*. */
export function limit(ctx: Ctx, app_id: string, api: string) {
  if (!ctx.limits.enabled) return;
  const now = Date.now();
  for (const [n, windowMs] of [
    [ctx.limits.perSecond, 1000],
    [ctx.limits.perMinute, 60_000],
  ] as const) {
    const r = ctx.windows.take(`${app_id} ${api} ${windowMs}`, n, windowMs, now);
    if (!r.ok) {
      ferr(429, 99991400, 'request trigger frequency limit', {
        'x-ogw-ratelimit-limit': String(n),
        'x-ogw-ratelimit-reset': String(Math.max(1, Math.ceil(r.resetMs / 1000))),
      });
    }
  }
}

function mint(ctx: Ctx, kind: 'tenant' | 'app', app_id: string): { token: string; expire: number } {
  const key = `${kind} ${app_id}`;
  const prev = ctx.store.lastToken.get(key);
  const now = ctx.clock.now();
  const left = prev ? Math.floor(((ctx.store.tokens.get(prev)?.expiresAt ?? 0) - now) / 1000) : 0;
  // Same token while more than 30 minutes are left; otherwise a new one (the old one stays valid).
  if (prev && left > REUSE_MIN_S) return { token: prev, expire: left };
  const token = `${kind === 'tenant' ? 't' : 'a'}-${newId(20)}`;
  ctx.store.tokens.set(token, { kind, app_id, expiresAt: now + TOKEN_LIFE_S * 1000 });
  ctx.store.lastToken.set(key, token);
  return { token, expire: TOKEN_LIFE_S };
}

function checkApp(ctx: Ctx, body: any) {
  const app = ctx.store.apps.get(body?.app_id);
  if (!app || app.app_secret !== body?.app_secret) {
    return fail(400, { code: 10014, msg: 'app secret invalid' });
  }
  return app;
}

export function issueUserToken(ctx: Ctx, app_id: string, open_id: string) {
  const now = ctx.clock.now();
  const access_token = `u-${newId(20)}`;
  const refresh_token = `ur-${newId(20)}`;
  ctx.store.tokens.set(access_token, {
    kind: 'user',
    app_id,
    open_id,
    expiresAt: now + ACCESS_LIFE_S * 1000,
  });
  ctx.store.refreshTokens.set(refresh_token, {
    app_id,
    open_id,
    expiresAt: now + REFRESH_LIFE_S * 1000,
    used: false,
  });
  return {
    access_token,
    refresh_token,
    token_type: 'Bearer',
    expires_in: ACCESS_LIFE_S,
    refresh_expires_in: REFRESH_LIFE_S,
    scope: 'calendar:calendar calendar:calendar:readonly',
    open_id,
  };
}

export function authRoutes(router: Router, ctx: Ctx) {
  router.on('POST', '/open-apis/auth/v3/tenant_access_token/internal', (req) => {
    const app = checkApp(ctx, req.json());
    const t = mint(ctx, 'tenant', app.app_id);
    return { status: 200, body: { code: 0, msg: 'ok', tenant_access_token: t.token, expire: t.expire } };
  });
  router.on('POST', '/open-apis/auth/v3/app_access_token/internal', (req) => {
    const app = checkApp(ctx, req.json());
    const a = mint(ctx, 'app', app.app_id);
    const t = mint(ctx, 'tenant', app.app_id);
    return {
      status: 200,
      body: { code: 0, msg: 'ok', app_access_token: a.token, expire: a.expire, tenant_access_token: t.token },
    };
  });
  // v1 OIDC refresh. The docs ask for the app token; the node helper sends its tenant token. Whether both
  // work is unconfirmed: we accept either, of the same app. Refresh tokens are single-use. The error codes
  // 20026 (invalid), 20037 (expired) and 20073 (already used) follow the v2 OAuth docs [UNCONFIRMED for v1].
  router.on('POST', '/open-apis/authen/v1/oidc/refresh_access_token', (req) => {
    const caller = authorizeApp(ctx, req);
    const body = req.json();
    if (body.grant_type !== 'refresh_token') return badParam('grant_type must be refresh_token');
    const rt = ctx.store.refreshTokens.get(body.refresh_token);
    if (!rt || rt.app_id !== caller.app_id) return ferr(400, 20026, 'refresh token is invalid');
    if (rt.used) return ferr(400, 20073, 'refresh token has been used');
    if (rt.expiresAt <= ctx.clock.now()) return ferr(400, 20037, 'refresh token has expired');
    rt.used = true;
    return ok(issueUserToken(ctx, rt.app_id, rt.open_id));
  });
}

/**
 * The user consent flow (v1): the authorize page signs in as the emulator's signed-in user (control
 * call `login`; a real browser session) and redirects back with a code; the code is exchanged once,
 * within 5 minutes, with the app's token; `user_info` tells whose token it is.
 */
export function consentRoutes(router: Router, ctx: Ctx) {
  router.on('GET', '/open-apis/authen/v1/authorize', (req) => {
    const q = req.query;
    const appId = q.get('app_id') ?? q.get('client_id') ?? '';
    const redirect = q.get('redirect_uri') ?? '';
    if (!ctx.store.apps.has(appId)) return ferr(400, 20001, 'invalid app_id');
    if (!/^https?:\/\//.test(redirect)) return ferr(400, 20002, 'invalid redirect_uri');
    const user = ctx.store.signedIn;
    if (!user) {
      return fail(401, { error: 'nobody is signed in to the emulator (POST /_emulator/login {open_id})' });
    }
    const code = `c-${newId(20)}`;
    ctx.store.codes.set(code, { app_id: appId, open_id: user, expiresAt: ctx.clock.now() + 300_000 });
    const to = new URL(redirect);
    to.searchParams.set('code', code);
    const state = q.get('state');
    if (state !== null) to.searchParams.set('state', state);
    return { status: 302, headers: { location: to.toString() }, body: '' };
  });
  router.on('POST', '/open-apis/authen/v1/oidc/access_token', (req) => {
    const caller = authorizeApp(ctx, req);
    const body = req.json();
    if (body.grant_type !== 'authorization_code') return badParam('grant_type must be authorization_code');
    const code = ctx.store.codes.get(body.code);
    ctx.store.codes.delete(body.code);
    if (!code || code.app_id !== caller.app_id) return ferr(400, 20003, 'authorization code not found');
    if (code.expiresAt <= ctx.clock.now()) return ferr(400, 20004, 'authorization code has expired');
    const { open_id: _who, ...grant } = issueUserToken(ctx, code.app_id, code.open_id);
    return ok(grant);
  });
  router.on('GET', '/open-apis/authen/v1/user_info', (req) => {
    const token = authorize(ctx, req, 'user_info', ['user']);
    const user = ctx.store.users.get(token.open_id ?? '');
    if (!user) return ferr(404, 99991672, 'user not found');
    return ok({
      open_id: user.open_id,
      union_id: user.union_id,
      user_id: user.user_id,
      name: user.name,
      email: user.email,
    });
  });
}

function authorizeApp(ctx: Ctx, req: EmRequest): Token {
  const m = /^Bearer\s+(\S+)$/.exec(String(req.headers.authorization ?? ''));
  const token = m ? ctx.store.tokens.get(m[1]) : undefined;
  if (!m) return ferr(400, 99991661, 'Missing access token for authorization');
  if (!token || token.kind === 'user' || token.expiresAt <= ctx.clock.now()) {
    return ferr(400, 99991664, 'Invalid app access token');
  }
  return token;
}
