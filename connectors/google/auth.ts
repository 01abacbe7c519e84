/**
 * Service-account credentials acting as a user (domain-wide delegation) through the official
 * google-auth-library JWT client. Its token request always goes to Google's fixed token URL, so a
 * request interceptor on the client's own transporter (a gaxios instance) swaps that URL for the
 * configured one (the emulator's `/token`); signing, caching and refresh stay the library's.
 */
// only the Calendar API's module: the package's index loads every Google API (~90 MB, 2 s at start)
import { auth } from 'googleapis/build/src/apis/calendar/index.js';

export const CALENDAR_SCOPE = 'https://www.googleapis.com/auth/calendar';
export const DIRECTORY_SCOPE = 'https://www.googleapis.com/auth/admin.directory.resource.calendar.readonly';
const GOOGLE_TOKEN_URLS = [
  'https://oauth2.googleapis.com/token',
  'https://www.googleapis.com/oauth2/v4/token',
];

/** The service-account key JSON (as downloaded from the Cloud console); extra members are ignored. */
export interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  private_key_id?: string;
  token_uri?: string;
  [k: string]: unknown;
}

export type JwtClient = InstanceType<typeof auth.JWT>;

export function delegatedClient(
  key: ServiceAccountKey,
  subject: string,
  scopes: string[],
  tokenUrl?: string,
): JwtClient {
  const jwt = new auth.JWT({
    email: key.client_email,
    key: key.private_key,
    keyId: key.private_key_id,
    scopes,
    subject,
  });
  const target = tokenUrl ?? key.token_uri;
  if (target && !GOOGLE_TOKEN_URLS.includes(target)) {
    jwt.transporter.interceptors.request.add({
      resolved: async (config) => {
        if (GOOGLE_TOKEN_URLS.includes(String(config.url))) config.url = new URL(target);
        return config;
      },
    });
  }
  return jwt;
}

/** Drops the cached access token so the next call signs a new assertion (after a 401). */
export function invalidate(jwt: JwtClient) {
  jwt.credentials = { refresh_token: 'jwt-placeholder', expiry_date: 1 };
}
