/**
 * Admin sessions without server state: the cookie carries who, until when and a random session id,
 * sealed with an HMAC under a key derived from `secret_key`. The CSRF token of a session is an HMAC of
 * its id, so a page can embed it and an action can check it without storing anything.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'feisync_session';
export const SIGNIN_COOKIE = 'feisync_signin';
export const SESSION_LIFE_MS = 8 * 3600_000;
export const SIGNIN_LIFE_MS = 10 * 60_000;

export interface Session {
  /** Feishu open_id of the admin. */
  sub: string;
  /** What the console shows (the admin's entry in server.admins). */
  name: string;
  /** Random id; the CSRF token derives from it. */
  sid: string;
  /** Expiry, ms since epoch. */
  exp: number;
}

export interface Sealer {
  seal(s: Session): string;
  /** The session in a cookie value, or undefined when forged, malformed or expired. */
  open(value: string | undefined, now?: number): Session | undefined;
  csrf(s: Session): string;
  checkCsrf(s: Session, token: unknown): boolean;
  /** A fresh sign-in attempt: the nonce for the browser's cookie and the signed OAuth `state`. */
  signinState(now?: number): { nonce: string; state: string };
  /** Whether `state` was issued here, is unexpired, and belongs to the browser holding `nonce`. */
  checkSigninState(state: unknown, nonce: string | undefined, now?: number): boolean;
}

export function newSession(sub: string, name: string, now = Date.now(), lifeMs = SESSION_LIFE_MS): Session {
  return { sub, name, sid: randomBytes(16).toString('base64url'), exp: now + lifeMs };
}

export function createSealer(secretKey: Buffer): Sealer {
  const key = createHmac('sha256', secretKey).update('feisync web session v1').digest();
  const mac = (label: string, data: string) =>
    createHmac('sha256', key).update(`${label}\n${data}`).digest('base64url');
  const same = (a: string, b: string) => {
    const x = Buffer.from(a);
    const y = Buffer.from(b);
    return x.length === y.length && timingSafeEqual(x, y);
  };
  return {
    seal(s) {
      const body = Buffer.from(JSON.stringify(s)).toString('base64url');
      return `${body}.${mac('session', body)}`;
    },
    open(value, now = Date.now()) {
      if (!value || value.length > 2000) return undefined;
      const [body, sig, extra] = value.split('.');
      if (!body || !sig || extra !== undefined || !same(sig, mac('session', body))) return undefined;
      let s: Session;
      try {
        s = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
      } catch {
        return undefined;
      }
      const valid =
        typeof s?.sub === 'string' &&
        typeof s.name === 'string' &&
        typeof s.sid === 'string' &&
        typeof s.exp === 'number' &&
        s.exp > now;
      return valid ? s : undefined;
    },
    csrf: (s) => mac('csrf', s.sid),
    checkCsrf: (s, token) => typeof token === 'string' && same(token, mac('csrf', s.sid)),
    signinState(now = Date.now()) {
      const nonce = randomBytes(16).toString('base64url');
      const exp = String(now + SIGNIN_LIFE_MS);
      return { nonce, state: `${exp}.${mac('signin', `${nonce}.${exp}`)}` };
    },
    checkSigninState(state, nonce, now = Date.now()) {
      if (typeof state !== 'string' || !nonce) return false;
      const [exp, sig] = state.split('.');
      return Boolean(sig) && same(sig, mac('signin', `${nonce}.${exp}`)) && Number(exp) > now;
    },
  };
}
