/**
 * OAuth 2.0 token endpoint for service-account JWT bearer assertions (domain-wide delegation), and
 * the bearer-token check every API route makes.
 */
import { randomBytes } from 'node:crypto';
import type { EmRequest, EmResponse } from '../../emulator/index.ts';
import { fail } from '../../emulator/index.ts';
import { gfail } from './errors.ts';
import type { GoogleState } from './state.ts';

const GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const TOKEN_TTL_S = 3600;
/** Assertion clock skew tolerated, seconds. */
const SKEW_S = 300;

const oauthError = (error: string, description: string, status = 400): never =>
  fail(status, { error, error_description: description });

function decodePart(part: string): any {
  if (!/^[A-Za-z0-9_-]+$/.test(part)) return oauthError('invalid_request', 'Invalid JWT: not base64url');
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return oauthError('invalid_request', 'Invalid JWT: not JSON');
  }
}

export function tokenEndpoint(state: GoogleState, selfUrl: () => string) {
  return (req: EmRequest): EmResponse => {
    const type = String(req.headers['content-type'] ?? '');
    const form = type.includes('application/json')
      ? new URLSearchParams(req.json())
      : new URLSearchParams(req.text());
    if (form.get('grant_type') !== GRANT) {
      return oauthError('unsupported_grant_type', `Invalid grant_type: ${form.get('grant_type') ?? ''}`);
    }
    const parts = (form.get('assertion') ?? '').split('.');
    if (parts.length !== 3 || parts.some((p) => p === '')) {
      return oauthError('invalid_request', 'Invalid JWT: expected three base64url parts');
    }
    const header = decodePart(parts[0]);
    const claims = decodePart(parts[1]);
    if (!/^[A-Za-z0-9_-]+$/.test(parts[2])) return oauthError('invalid_grant', 'Invalid JWT Signature.');
    if (header.alg !== 'RS256') return oauthError('invalid_grant', 'Invalid JWT: alg must be RS256');
    for (const claim of ['iss', 'scope', 'aud'] as const) {
      if (typeof claims[claim] !== 'string' || claims[claim] === '') {
        return oauthError('invalid_request', `Invalid JWT: missing claim ${claim}`);
      }
    }
    if (!claims.iss.includes('@')) return oauthError('invalid_grant', 'Invalid JWT: iss is not an e-mail');
    const auds = ['https://oauth2.googleapis.com/token', 'https://accounts.google.com/o/oauth2/token'];
    if (!auds.includes(claims.aud) && claims.aud !== `${selfUrl()}/token`) {
      return oauthError('invalid_grant', 'Invalid JWT: Failed audience check.');
    }
    // The assertion is signed by the client's own clock, so its times are checked against the wall
    // clock; the emulator clock (which tests move) governs the lifetime of the issued token.
    const wall = Math.floor(Date.now() / 1000);
    if (typeof claims.iat !== 'number' || typeof claims.exp !== 'number') {
      return oauthError('invalid_request', 'Invalid JWT: iat and exp are required numbers');
    }
    if (claims.iat > wall + SKEW_S || claims.exp < wall - SKEW_S || claims.exp - claims.iat > 3600) {
      return oauthError(
        'invalid_grant',
        'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.',
      );
    }
    // Delegation: the subject must be a user of the (seeded) domain.
    if (typeof claims.sub !== 'string' || !state.users.has(claims.sub.toLowerCase())) {
      return oauthError('invalid_grant', 'Invalid email or User ID');
    }
    const user = state.users.get(claims.sub.toLowerCase())!;
    state.subjects.push(user.email);
    const accessToken = `ya29.emu-${randomBytes(18).toString('base64url')}`;
    state.tokens.set(accessToken, {
      sub: user.email,
      scopes: String(claims.scope).split(/\s+/).filter(Boolean),
      exp: state.clock.now() + TOKEN_TTL_S * 1000,
      project: String(claims.iss).split('@')[1] ?? claims.iss,
    });
    return {
      status: 200,
      body: { access_token: accessToken, expires_in: TOKEN_TTL_S, token_type: 'Bearer' },
    };
  };
}

export interface Principal {
  sub: string;
  scopes: string[];
  project: string;
}

/** Checks `Authorization: Bearer` and the scope; returns the delegated user. */
export function authenticate(
  state: GoogleState,
  req: EmRequest,
  scopePrefix: string,
  write = false,
): Principal {
  const m = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''));
  const token = m ? state.tokens.get(m[1]) : undefined;
  if (!token || token.exp <= state.clock.now()) {
    return gfail(
      401,
      'authError',
      'Invalid Credentials',
      { location: 'Authorization', locationType: 'header' },
      { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' },
    );
  }
  const base = 'https://www.googleapis.com/auth/';
  const fits = (s: string) => s.startsWith(base + scopePrefix) && !(write && s.endsWith('.readonly'));
  if (!token.scopes.some(fits)) {
    return gfail(403, 'insufficientPermissions', 'Request had insufficient authentication scopes.');
  }
  return { sub: token.sub, scopes: token.scopes, project: token.project };
}
