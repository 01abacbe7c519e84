/**
 * The Google Calendar connector: a service account acting as each user (domain-wide delegation),
 * googleapis for single calls, the batch endpoint for writes.
 */
import type { admin_directory_v1, calendar_v3 } from 'googleapis';
// the two APIs' own modules, not the package's index of every Google API (see auth.ts)
import { admin as adminApi } from 'googleapis/build/src/apis/admin/index.js';
import { calendar as calendarApi } from 'googleapis/build/src/apis/calendar/index.js';
import { BridgeError } from '../../src/core/index.ts';
import type {
  CalendarConnector,
  CalendarInfo,
  CalendarRef,
  ChangeFeed,
  ChangePage,
  RateBudget,
  RoomAccess,
  RoomInfo,
  WriteOp,
  WriteOptions,
  WriteResult,
} from '../../src/ports/index.ts';
import {
  CALENDAR_SCOPE,
  DIRECTORY_SCOPE,
  delegatedClient,
  invalidate,
  type JwtClient,
  type ServiceAccountKey,
} from './auth.ts';
import { sendBatch } from './batch.ts';
import { googleFeed } from './feed.ts';
import { listChanges } from './reader.ts';
import { replyGoogle } from './reply.ts';
import { googleRooms } from './rooms.ts';
import { Pacer, type RateOptions, type RetryOptions, withRetry } from './transport.ts';
import { runWrites } from './writer.ts';

export interface GoogleConnectorOptions {
  /** The service-account key JSON (client_email, private_key, ...). */
  credentials: ServiceAccountKey;
  /** API root, e.g. `https://www.googleapis.com/` or the emulator's URL. */
  rootUrl?: string;
  /** OAuth token endpoint, e.g. `https://oauth2.googleapis.com/token` or `${emulator}/token`. */
  tokenUrl?: string;
  /** Invitation mail for writes without `notify`. Default `none`. */
  sendUpdates?: 'none' | 'all';
  /** A Workspace admin to act as for the room directory (listRooms) and room calendars (rooms). */
  adminEmail?: string;
  /** Directory customer id for rooms. Default `my_customer`. */
  customer?: string;
  /** Calls per batch request (at most 1000, and at most the per-user rate). Default 100. */
  batchSize?: number;
  /** Batch requests in flight at once per write call. Default 4. */
  concurrency?: number;
  /** Client-side pacing per user. Default 600 per 60 s (Calendar's per-user quota). */
  rate?: RateOptions;
  /** Where the per-user and per-project budgets are kept: this process by default, the database when shared. */
  budget?: RateBudget;
  retry?: RetryOptions;
  /** Requested lifetime of watch channels (seconds). Default: Google's own (7 days per the docs). */
  channelTtlSeconds?: number;
}

export function createGoogleConnector(options: GoogleConnectorOptions): CalendarConnector & {
  listRooms(): Promise<RoomInfo[]>;
  rooms: RoomAccess;
  feed: ChangeFeed;
} {
  if (!options.credentials?.client_email || !options.credentials.private_key) {
    throw new BridgeError('config', 'google: credentials need client_email and private_key', {
      provider: 'google',
    });
  }
  const rootUrl = (options.rootUrl ?? 'https://www.googleapis.com/').replace(/\/*$/, '/');
  const pacer = new Pacer(
    options.rate,
    options.budget,
    String(options.credentials.project_id ?? options.credentials.client_email),
    options.batchSize ?? 100,
  );
  const retry = options.retry ?? {};
  const clients = new Map<string, JwtClient>();
  const jwt = (subject: string, scope = CALENDAR_SCOPE): JwtClient => {
    const k = `${scope} ${subject.toLowerCase()}`;
    let c = clients.get(k);
    if (!c) {
      c = delegatedClient(options.credentials, subject, [scope], options.tokenUrl);
      clients.set(k, c);
    }
    return c;
  };
  const calendar = (owner: string) =>
    calendarApi({ version: 'v3', rootUrl, auth: jwt(owner), retry: false } as calendar_v3.Options);
  const call = <T>(owner: string, fn: () => Promise<T>, scope = CALENDAR_SCOPE) =>
    withRetry(pacer, owner, retry, fn, () => invalidate(jwt(owner, scope)));
  const env = {
    jwt: (owner: string) => jwt(owner),
    rootUrl,
    pacer,
    retry,
    batchSize: options.batchSize ?? 100,
    concurrency: options.concurrency ?? 4,
    sendUpdates: options.sendUpdates ?? 'none',
  };

  return {
    kind: 'google',
    // at most 5 override reminders per event; a batch request carries batchSize calls
    capabilities: { maxReminders: 5, writesPerRequest: env.batchSize },
    rooms: googleRooms({
      calendar,
      call,
      batch: (owner, calls) => pacer.within(owner, calls.length, () => sendBatch(jwt(owner), rootUrl, calls)),
      adminEmail: options.adminEmail,
    }),
    feed: googleFeed({ calendar, call, ttlSeconds: options.channelTtlSeconds }),
    reply: (ref, remote, rsvp, wo) =>
      replyGoogle({ calendar, call, sendUpdates: env.sendUpdates }, ref, remote, rsvp, wo),
    listChanges(ref: CalendarRef, cursor: string | null): AsyncIterable<ChangePage> {
      return listChanges({ calendar, call }, ref, cursor);
    },
    write(ref: CalendarRef, ops: WriteOp[], writeOptions?: WriteOptions): Promise<WriteResult[]> {
      return runWrites(env, ref, ops, writeOptions);
    },
    expectWrites(refs: CalendarRef[]) {
      pacer.expect(refs.map((r) => r.owner));
    },
    async listCalendars(owner: string): Promise<CalendarInfo[]> {
      const out: CalendarInfo[] = [];
      let pageToken: string | undefined;
      do {
        const api = calendar(owner);
        const res = await call(owner, () => api.calendarList.list({ pageToken, showDeleted: true }));
        for (const c of res.data.items ?? []) {
          out.push({
            id: c.id ?? '',
            summary: c.summaryOverride ?? c.summary ?? '',
            primary: c.primary === true,
            writable: c.accessRole === 'owner' || c.accessRole === 'writer',
            ...(c.deleted ? { deleted: true } : {}),
          });
        }
        pageToken = res.data.nextPageToken ?? undefined;
      } while (pageToken);
      return out;
    },
    async listRooms(): Promise<RoomInfo[]> {
      const admin = options.adminEmail;
      if (!admin)
        throw new BridgeError(
          'config',
          'google: the room directory is read as a Workspace admin; set google.admin',
          { provider: 'google' },
        );
      const api = adminApi({
        version: 'directory_v1',
        rootUrl,
        auth: jwt(admin, DIRECTORY_SCOPE),
        retry: false,
      } as admin_directory_v1.Options);
      const out: RoomInfo[] = [];
      let pageToken: string | undefined;
      do {
        const res = await call(
          admin,
          () =>
            api.resources.calendars.list({
              customer: options.customer ?? 'my_customer',
              pageToken,
              maxResults: 500,
            }),
          DIRECTORY_SCOPE,
        );
        for (const r of res.data.items ?? []) {
          const room: RoomInfo = { email: r.resourceEmail ?? '', name: r.resourceName ?? '' };
          if (r.resourceId) room.id = r.resourceId;
          if (typeof r.capacity === 'number') room.capacity = r.capacity;
          out.push(room);
        }
        pageToken = res.data.nextPageToken ?? undefined;
      } while (pageToken);
      return out;
    },
  };
}
