/**
 * The Feishu connector: `CalendarConnector` over the Lark SDK, with one token cache per client,
 * rate limits (50/s and 1000/min per app and per API: each API has its own budget) and retries
 * (backoff with jitter, honouring the reset headers) inside. Reads use the calendar owner's user token when `userToken(owner)` has one, else the
 * tenant token (the app then needs the calendar shared with it).
 */
import { BridgeError, type CanonicalEvent } from '../../src/core/index.ts';
import {
  AnsweredView,
  type CalendarConnector,
  type CalendarInfo,
  type CalendarRef,
  LocalBudget,
  type RateBudget,
  type RateWindow,
} from '../../src/ports/index.ts';
import { readAttendees } from './attendees.ts';
import { TokenCache } from './cache.ts';
import { listDirectory } from './directory.ts';
import { checkEnvelope, TOKEN_INVALID, toBridgeError } from './errors.ts';
import { type FeishuEvent, toCanonical } from './mapper.ts';
import { listChanges } from './pull.ts';
import { keepAliveHttp, type LarkClient, lark } from './sdk.ts';
import { replyAs, writeOps } from './write.ts';

export interface FeishuConnectorOptions {
  appId: string;
  appSecret: string;
  /** Base URL: https://open.feishu.cn, https://open.larksuite.com, or an emulator's URL. */
  domain: string;
  /** The user's current access token (see user-tokens.ts), or undefined to use the tenant token. */
  userToken?: (openId: string) => Promise<string | undefined>;
  /** E-mail of a Feishu user, for attendee mapping. */
  emailOf?: (openId: string) => string | undefined;
  /**
   * Requests per second and per minute, for each API on its own (Feishu limits every API of an app
   * separately: reference feishu-write-path.md section 7). Default the documented 50/s and 1000/min.
   * Requests are counted as Feishu can have counted them, from their send until their answer
   * (AnsweredView): counted by send times alone, requests sent over two seconds reached a busy
   * server within one (1,100 of 19,852 refused at 30/s and 950/min in an initial sync of 20 users).
   */
  rate?: { perSecond?: number; perMinute?: number };
  /** Where the per-API budgets are kept: in this process by default, in the database when shared. */
  budget?: RateBudget;
  /** Attempts after the first on rate limits and transient failures. Default 5. */
  retries?: number;
  /** First backoff step; doubles per attempt, with jitter. Default 500 ms. */
  baseDelayMs?: number;
  /** anchor_time (Unix seconds) for full listings. Default 0: everything. */
  anchorTime?: number;
  /**
   * Read each listed event's attendees (list items carry none): one request per event, spread over
   * the two APIs that return them (event get, attendee list), each on its own budget, while listing
   * or later (`listChanges` with `attendees: 'defer'`, then `readAttendees`). Default true.
   */
  attendees?: boolean;
}

export interface Api {
  sdk: LarkClient;
  options: FeishuConnectorOptions;
  /** One SDK call of the API `what` (its budget's name), rate-limited and retried; throws BridgeError. */
  call<T extends { code?: number; msg?: string }>(what: string, fn: () => Promise<T>): Promise<T>;
  /** The next of the APIs that read attendees (spread evenly over both budgets). */
  attendeeApi(): 'get' | 'list';
  /** The request option that selects the owner's user token, if any. */
  as(owner: string): Promise<ReturnType<typeof lark.withUserAccessToken> | undefined>;
  resolve(calendar: CalendarRef): Promise<string>;
}

export interface FeishuConnector extends CalendarConnector {
  readonly kind: 'feishu';
  /** open_id by e-mail, for the e-mails Feishu knows (tenant token, 50 per call). */
  lookupUsersByEmail(emails: string[]): Promise<Map<string, string>>;
  /** Everyone in the tenant's department tree (every department, each user once), with their e-mail. */
  listUsers(): Promise<{ openId: string; email: string }[]>;
  /** Subscribe a user's calendar-list changes (needs the user's token). */
  subscribeCalendarList(openId: string): Promise<void>;
  /** Subscribe event changes of one calendar for a user (needs the user's token). */
  subscribeEvents(openId: string, calendarId: string): Promise<void>;
  unsubscribeEvents(openId: string, calendarId: string): Promise<void>;
  /** The user's primary calendar id (needs the user's token). */
  primaryCalendar(openId: string): Promise<string>;
  /**
   * One event by its event id (`{uid}_{original_time}`: a single event, a series master or an
   * exception), attendees included, read as the calendar's owner: `deleted` when Feishu says it was
   * deleted (193003), undefined when the calendar has no such event (193001).
   */
  getEvent(calendar: CalendarRef, eventId: string): Promise<CanonicalEvent | 'deleted' | undefined>;
  /** Closes its pooled connections to Feishu. */
  close(): void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quiet = { error() {}, warn() {}, info() {}, debug() {}, trace() {} };

export function createFeishuConnector(options: FeishuConnectorOptions): FeishuConnector {
  const cache = new TokenCache();
  const http = keepAliveHttp();
  const sdk = new lark.Client({
    appId: options.appId,
    appSecret: options.appSecret,
    domain: options.domain,
    disableTokenCache: false,
    cache,
    logger: quiet,
    httpInstance: http.instance,
  });
  const view = new AnsweredView(options.budget ?? new LocalBudget());
  const windows: RateWindow[] = [
    { count: options.rate?.perSecond ?? 50, ms: 1000 },
    { count: options.rate?.perMinute ?? 1000, ms: 60_000 },
  ];
  let attendeeTurn = 0;
  const retries = options.retries ?? 5;
  const base = options.baseDelayMs ?? 500;
  const primaries = new Map<string, string>();

  const api: Api = {
    sdk,
    options,
    async call(what, fn) {
      let tokenRetried = false;
      for (let attempt = 0; ; attempt++) {
        try {
          const r = await view.run([{ key: `feishu:${options.appId}:${what}`, windows }], 1, fn);
          return checkEnvelope(r as any, what);
        } catch (e) {
          const err = toBridgeError(e, what);
          // A tenant token the SDK still caches but the server refused (expired early, revoked): drop it once.
          if (err.kind === 'auth' && TOKEN_INVALID.has(Number(err.code)) && !tokenRetried) {
            tokenRetried = true;
            cache.clear();
            continue;
          }
          if (!err.retryable || attempt >= retries) throw err;
          const backoff = base * 2 ** attempt * (0.5 + Math.random());
          await sleep(Math.max(err.retryAfterMs ?? 0, backoff));
        }
      }
    },
    attendeeApi: () => (attendeeTurn++ % 2 === 0 ? 'get' : 'list'),
    async as(owner) {
      const token = owner && options.userToken ? await options.userToken(owner) : undefined;
      return token ? lark.withUserAccessToken(token) : undefined;
    },
    async resolve(calendar) {
      return calendar.id === 'primary' ? connector.primaryCalendar(calendar.owner) : calendar.id;
    },
  };

  async function userOption(openId: string) {
    const opt = await api.as(openId);
    if (!opt)
      throw new BridgeError('auth', `feishu: no user token for ${openId} (consent missing or lapsed)`, {
        provider: 'feishu',
      });
    return opt;
  }

  const connector: FeishuConnector = {
    kind: 'feishu',
    close: () => http.close(),
    listChanges: (calendar, cursor, listOptions) => listChanges(api, calendar, cursor, listOptions),
    readAttendees: (calendar, events) => readAttendees(api, calendar, events),
    write: (calendar, ops, writeOptions) => writeOps(api, calendar, ops, writeOptions),
    reply: (calendar, ref, rsvp) => replyAs(api, calendar, ref, rsvp),
    async listCalendars(owner) {
      const opt = await api.as(owner);
      const out: CalendarInfo[] = [];
      let page_token: string | undefined;
      do {
        const r = await api.call('calendar.list', () =>
          sdk.calendar.v4.calendar.list(
            { params: { page_size: 1000, ...(page_token ? { page_token } : {}) } },
            opt,
          ),
        );
        for (const c of r.data?.calendar_list ?? []) {
          out.push({
            id: c.calendar_id!,
            summary: c.summary ?? '',
            primary: c.type === 'primary',
            writable: c.role === 'owner' || c.role === 'writer',
            ...(c.is_deleted ? { deleted: true } : {}),
          });
        }
        page_token = r.data?.has_more ? r.data.page_token : undefined;
      } while (page_token);
      return out;
    },
    async lookupUsersByEmail(emails) {
      const out = new Map<string, string>();
      for (let i = 0; i < emails.length; i += 50) {
        const chunk = emails.slice(i, i + 50);
        const r = await api.call('contact.batch_get_id', () =>
          sdk.contact.v3.user.batchGetId({ data: { emails: chunk }, params: { user_id_type: 'open_id' } }),
        );
        for (const u of r.data?.user_list ?? []) if (u.user_id && u.email) out.set(u.email, u.user_id);
      }
      return out;
    },
    listUsers: () => listDirectory(api),
    async subscribeCalendarList(openId) {
      const opt = await userOption(openId);
      await api.call('calendar.subscription', () => sdk.calendar.v4.calendar.subscription({}, opt));
    },
    async subscribeEvents(openId, calendarId) {
      const opt = await userOption(openId);
      await api.call('calendar_event.subscription', () =>
        sdk.calendar.v4.calendarEvent.subscription({ path: { calendar_id: calendarId } }, opt),
      );
    },
    async unsubscribeEvents(openId, calendarId) {
      const opt = await userOption(openId);
      await api.call('calendar_event.unsubscription', () =>
        sdk.calendar.v4.calendarEvent.unsubscription({ path: { calendar_id: calendarId } }, opt),
      );
    },
    async primaryCalendar(openId) {
      const known = primaries.get(openId);
      if (known) return known;
      const opt = await userOption(openId);
      const r = await api.call('calendar.primary', () => sdk.calendar.v4.calendar.primary({}, opt));
      const id = r.data?.calendars?.[0]?.calendar?.calendar_id;
      if (!id)
        throw new BridgeError('not_found', `feishu: no primary calendar for ${openId}`, {
          provider: 'feishu',
        });
      primaries.set(openId, id);
      return id;
    },
    async getEvent(calendar, eventId) {
      const calendar_id = await api.resolve(calendar);
      const opt = await api.as(calendar.owner);
      try {
        const r = await api.call('calendar_event.get', () =>
          sdk.calendar.v4.calendarEvent.get(
            {
              path: { calendar_id, event_id: eventId },
              params: { need_attendee: true, max_attendee_num: 100 },
            },
            opt as any,
          ),
        );
        const ev = r.data?.event as FeishuEvent | undefined;
        return ev ? toCanonical(ev, { emailOf: options.emailOf }) : undefined;
      } catch (e) {
        if ((e as BridgeError).code === '193003') return 'deleted';
        if ((e as BridgeError).kind === 'not_found') return undefined;
        throw e;
      }
    },
  };
  return connector;
}
