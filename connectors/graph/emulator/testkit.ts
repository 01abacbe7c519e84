/** Helpers for the Graph emulator tests: a seeded emulator and a real SDK client pointed at it. */
import type { Client } from '@microsoft/microsoft-graph-client';
import { GraphClient } from '../client.ts';
import { startGraphEmulator } from './index.ts';

export const SEED = {
  tenants: [{ tenant_id: 'tenant-1', client_id: 'app-1', client_secret: 'secret-1' }],
  users: [
    { id: 'u-ann', userPrincipalName: 'ann@contoso.com', mail: 'ann@contoso.com', displayName: 'Ann' },
    { id: 'u-bob', userPrincipalName: 'bob@contoso.com', mail: 'bob@contoso.com' },
  ],
  calendars: [
    { userId: 'u-ann', id: 'cal-ann', name: 'Calendar', isDefaultCalendar: true },
    { userId: 'u-ann', id: 'cal-ann-2', name: 'Projects' },
  ],
  rooms: [
    { emailAddress: 'room1@contoso.com', displayName: 'Room 1', capacity: 8 },
    { emailAddress: 'room2@contoso.com', displayName: 'Room 2' },
  ],
};

export interface Kit {
  url: string;
  api: Client;
  client: GraphClient;
  close(): Promise<void>;
  control(path: string, body?: unknown, method?: string): Promise<any>;
}

export async function startKit(options: { maxRetries?: number } = {}): Promise<Kit> {
  const em = await startGraphEmulator({ seed: SEED });
  const client = new GraphClient({
    tenantId: 'tenant-1',
    clientId: 'app-1',
    clientSecret: 'secret-1',
    baseUrl: em.url,
    authorityUrl: em.url,
    maxRetries: options.maxRetries ?? 0,
  });
  const control = async (path: string, body?: unknown, method = 'POST') => {
    const res = await fetch(`${em.url}/_emulator/${path}`, {
      method: body === undefined && method === 'POST' ? 'POST' : method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return res.json();
  };
  return { url: em.url, api: client.api, client, close: em.close, control };
}

/** Reset and re-seed between tests. */
export async function fresh(kit: Kit) {
  await kit.control('reset', {});
  await kit.control('seed', SEED);
}

export const timed = (local: string, zone = 'UTC') => ({ dateTime: local, timeZone: zone });

/** The status and code of what a call throws (the SDK's GraphError). */
export async function failure(
  p: Promise<unknown>,
): Promise<{ status: number; code: string; requestId?: string }> {
  try {
    await p;
  } catch (e: any) {
    return { status: e.statusCode, code: e.code, requestId: e.requestId };
  }
  throw new Error('expected the call to fail');
}
