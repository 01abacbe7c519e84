/**
 * User access tokens (v1 OIDC): refreshed before expiry, the newest single-use refresh token kept
 * (saved before the new access token is used), one refresh at a time per user, and users whose consent
 * lapsed (refresh refused or expired) reported. Persistence is injected; encryption at rest is the
 * store's business, not this module's.
 */
import { TokenCache } from './cache.ts';
import { toBridgeError } from './errors.ts';
import { keepAliveHttp, lark } from './sdk.ts';

export interface UserTokens {
  accessToken: string;
  refreshToken: string;
  /** ms since epoch */
  accessExpiresAt: number;
  refreshExpiresAt: number;
}

export interface UserTokenStore {
  load(openId: string): Promise<UserTokens | undefined>;
  save(openId: string, tokens: UserTokens): Promise<void>;
}

/** The OIDC response `data` (also what the emulator's user-token control call returns). */
export interface OidcGrant {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  refresh_expires_in?: number;
}

export interface UserTokenProvider {
  /** A valid access token for the user, refreshed if it expires within the margin; undefined when the
   * user never consented or the consent lapsed. */
  get(openId: string): Promise<string | undefined>;
  /** Store tokens from a completed consent (OAuth code exchange). */
  adopt(openId: string, grant: OidcGrant): Promise<void>;
  /** Users whose refresh was refused: they must consent again. */
  lapsed(): string[];
  /** Where to send a user to consent; Feishu comes back to `redirectUri` with `code` and `state`. */
  authorizeUrl(redirectUri: string, state: string): string;
  /** Exchange a consent code (single use, 5 minutes) and learn whose it is. Does not store anything. */
  redeem(code: string): Promise<{ openId: string; grant: OidcGrant }>;
  /** Closes its pooled connections to Feishu. */
  close(): void;
}

const quiet = { error() {}, warn() {}, info() {}, debug() {}, trace() {} };

export function createUserTokenProvider(options: {
  appId: string;
  appSecret: string;
  domain: string;
  store: UserTokenStore;
  /** Refresh this long before expiry. Default 5 minutes. */
  marginMs?: number;
  now?: () => number;
}): UserTokenProvider {
  const http = keepAliveHttp();
  const sdk = new lark.Client({
    appId: options.appId,
    appSecret: options.appSecret,
    domain: options.domain,
    cache: new TokenCache(),
    logger: quiet,
    httpInstance: http.instance,
  });
  const now = options.now ?? Date.now;
  const margin = options.marginMs ?? 5 * 60_000;
  const inflight = new Map<string, Promise<string | undefined>>();
  const lapsed = new Set<string>();

  const fromGrant = (g: OidcGrant): UserTokens => ({
    accessToken: g.access_token,
    refreshToken: g.refresh_token,
    accessExpiresAt: now() + g.expires_in * 1000,
    refreshExpiresAt: now() + (g.refresh_expires_in ?? 30 * 86400) * 1000,
  });

  async function refresh(openId: string, t: UserTokens): Promise<string | undefined> {
    if (t.refreshExpiresAt <= now()) {
      lapsed.add(openId);
      return undefined;
    }
    try {
      const r = await sdk.authen.oidcRefreshAccessToken.create({
        data: { grant_type: 'refresh_token', refresh_token: t.refreshToken },
      });
      if (r.code !== 0 || !r.data?.access_token) throw { response: { status: 200, data: r, headers: {} } };
      const next = fromGrant(r.data as OidcGrant);
      await options.store.save(openId, next);
      lapsed.delete(openId);
      return next.accessToken;
    } catch (e) {
      const err = toBridgeError(e, 'oidc refresh');
      if (err.kind === 'auth' || err.kind === 'invalid') {
        lapsed.add(openId);
        return undefined;
      }
      throw err;
    }
  }

  return {
    get(openId) {
      // One lookup-or-refresh at a time per user: refresh tokens are single-use.
      const running = inflight.get(openId);
      if (running) return running;
      const p = (async () => {
        const t = await options.store.load(openId);
        if (!t) return undefined;
        if (t.accessExpiresAt - margin > now()) return t.accessToken;
        return refresh(openId, t);
      })().finally(() => inflight.delete(openId));
      inflight.set(openId, p);
      return p;
    },
    async adopt(openId, grant) {
      await options.store.save(openId, fromGrant(grant));
      lapsed.delete(openId);
    },
    lapsed: () => [...lapsed],
    close: () => http.close(),
    authorizeUrl(redirectUri, state) {
      const url = new URL('/open-apis/authen/v1/authorize', options.domain);
      url.searchParams.set('app_id', options.appId);
      url.searchParams.set('redirect_uri', redirectUri);
      url.searchParams.set('state', state);
      return url.toString();
    },
    async redeem(code) {
      try {
        const r = await sdk.authen.oidcAccessToken.create({
          data: { grant_type: 'authorization_code', code },
        });
        if (r.code !== 0 || !r.data?.access_token) throw { response: { status: 200, data: r, headers: {} } };
        const grant = r.data as OidcGrant;
        const me = await sdk.authen.userInfo.get({}, lark.withUserAccessToken(grant.access_token));
        const openId = me.data?.open_id;
        if (me.code !== 0 || !openId) throw { response: { status: 200, data: me, headers: {} } };
        return { openId, grant };
      } catch (e) {
        throw toBridgeError(e, 'oidc consent');
      }
    },
  };
}
