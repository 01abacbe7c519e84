/**
 * ChangeFeed for Google Calendar: `events.watch` channels.
 *
 * - subscribe: `POST calendars/{id}/events/watch` with a channel id we choose (a UUID, at most 64
 *   characters), `type: web_hook`, the receiver address, and the secret as the channel `token` (at
 *   most 256 characters), which Google echoes in `X-Goog-Channel-Token` on every delivery. The
 *   lifetime is Google's to choose (the default is 7 days per the watch reference; the maximum is
 *   not documented), optionally shortened by `ttlSeconds`.
 * - renew: there is no renewal in Google's API; a new channel (new id) is opened, then the old one
 *   is stopped. Both are live for a moment: deliveries of either channel are good.
 * - unsubscribe: `channels.stop` with the channel id and `resourceId`; a channel already gone (404)
 *   is a success.
 * - parse: deliveries have no body; the headers `X-Goog-Channel-ID`, `X-Goog-Channel-Token` and
 *   `X-Goog-Resource-State` (`sync` on a new channel, `exists` or `not_exists` after a change) say all.
 *   The reply is 200 with no body (200, 201, 202, 204 and 102 count as success).
 */
import { randomUUID } from 'node:crypto';
import type { calendar_v3 } from 'googleapis';
import { BridgeError } from '../../src/core/index.ts';
import type {
  CalendarRef,
  ChangeFeed,
  Notification,
  PushParse,
  PushRequest,
  Subscription,
} from '../../src/ports/index.ts';

export interface FeedEnv {
  calendar(owner: string): calendar_v3.Calendar;
  call<T>(owner: string, fn: () => Promise<T>): Promise<T>;
  /** Requested channel lifetime (seconds); Google may give less. Default: Google's own default. */
  ttlSeconds?: number;
}

const invalid = (message: string) =>
  new BridgeError('invalid', `google push: ${message}`, { provider: 'google' });

export function googleFeed(env: FeedEnv): ChangeFeed {
  async function subscribe(calendar: CalendarRef, address: string, secret: string): Promise<Subscription> {
    if (secret.length > 256) throw invalid('the channel token (secret) is at most 256 characters');
    const api = env.calendar(calendar.owner);
    const requestBody: calendar_v3.Schema$Channel = {
      id: randomUUID(),
      type: 'web_hook',
      address,
      token: secret,
    };
    if (env.ttlSeconds) requestBody.params = { ttl: String(env.ttlSeconds) };
    const res = await env.call(calendar.owner, () =>
      api.events.watch({ calendarId: calendar.id, requestBody }),
    );
    const ch = res.data;
    return {
      id: ch.id ?? requestBody.id!,
      calendar,
      ...(ch.resourceId ? { resource: ch.resourceId } : {}),
      expiresAt: Number(ch.expiration ?? 0),
    };
  }

  async function unsubscribe(sub: Subscription): Promise<void> {
    const api = env.calendar(sub.calendar.owner);
    try {
      await env.call(sub.calendar.owner, () =>
        api.channels.stop({ requestBody: { id: sub.id, resourceId: sub.resource } }),
      );
    } catch (e) {
      if ((e as BridgeError).kind !== 'not_found') throw e;
    }
  }

  return {
    subscribe,
    async renew(sub, address, secret) {
      const next = await subscribe(sub.calendar, address, secret);
      // The old channel would expire on its own: a failed stop does not undo the renewal.
      await unsubscribe(sub).catch(() => undefined);
      return next;
    },
    unsubscribe,
    parse: parseGooglePush,
  };
}

/** Reads one Google channel delivery (headers only). */
export function parseGooglePush(request: PushRequest): PushParse {
  const h = request.headers;
  const id = h['x-goog-channel-id'];
  const state = h['x-goog-resource-state'];
  if (!id) throw invalid('no X-Goog-Channel-ID header');
  if (!state) throw invalid('no X-Goog-Resource-State header');
  let kind: Notification['kind'];
  if (state === 'sync') kind = 'sync';
  else if (state === 'exists' || state === 'not_exists') kind = 'change';
  else throw invalid(`unknown resource state ${state}`);
  const n: Notification = { subscriptionId: id, kind };
  const token = h['x-goog-channel-token'];
  if (token !== undefined) n.secret = token;
  return { reply: { status: 200 }, notifications: [n] };
}
