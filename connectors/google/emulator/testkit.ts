/** Test helpers: a throwaway service-account key, the emulator, and googleapis clients on it. */
import { generateKeyPairSync } from 'node:crypto';
import { type admin_directory_v1, type calendar_v3, google } from 'googleapis';
import { CALENDAR_SCOPE, DIRECTORY_SCOPE, delegatedClient, type ServiceAccountKey } from '../auth.ts';
import { startGoogleEmulator } from './index.ts';

let cachedKey: ServiceAccountKey | undefined;

export function serviceAccount(): ServiceAccountKey {
  if (!cachedKey) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    cachedKey = {
      type: 'service_account',
      client_email: 'feisync@demo-project.iam.gserviceaccount.com',
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      private_key_id: 'k1',
    };
  }
  return cachedKey;
}

export const USERS = ['ann@example.com', 'bob@example.com'];

export async function emulator(seed: object = {}) {
  const em = await startGoogleEmulator({ seed: { users: USERS.map((email) => ({ email })), ...seed } });
  const control = async (path: string, body?: unknown, method = 'POST') => {
    const res = await fetch(`${em.url}/_emulator/${path}`, {
      method: body === undefined && method === 'GET' ? 'GET' : method,
      headers: { 'content-type': 'application/json' },
      body: method === 'GET' ? undefined : JSON.stringify(body ?? {}),
    });
    return res.json() as Promise<any>;
  };
  return {
    ...em,
    control,
    state: () => control('state', undefined, 'GET'),
    requests: (since = 0) => control(`requests?since=${since}`, undefined, 'GET') as Promise<any[]>,
    reset: async () => {
      await control('reset');
      await control('seed', { users: USERS.map((email) => ({ email })), ...seed });
    },
  };
}

export function calendarFor(url: string, subject: string): calendar_v3.Calendar {
  const auth = delegatedClient(serviceAccount(), subject, [CALENDAR_SCOPE], `${url}/token`);
  return google.calendar({ version: 'v3', rootUrl: `${url}/`, auth, retry: false } as calendar_v3.Options);
}

export function directoryFor(url: string, subject: string): admin_directory_v1.Admin {
  const auth = delegatedClient(serviceAccount(), subject, [DIRECTORY_SCOPE], `${url}/token`);
  return google.admin({
    version: 'directory_v1',
    rootUrl: `${url}/`,
    auth,
    retry: false,
  } as admin_directory_v1.Options);
}

/** The rejection of a googleapis call: status and Google's error reason. */
export async function failure(
  p: Promise<unknown>,
): Promise<{ status?: number; reason?: string; body?: any }> {
  try {
    await p;
  } catch (e: any) {
    const body = e.response?.data;
    return {
      status: e.response?.status ?? e.status,
      reason: body?.error?.errors?.[0]?.reason ?? body?.error,
      body,
    };
  }
  throw new Error('expected the call to fail');
}

export const timed = (local: string, timeZone = 'Asia/Shanghai') => ({ dateTime: local, timeZone });
