/**
 * ChangeFeed for Microsoft Graph: change-notification subscriptions on a mailbox's events.
 *
 * - subscribe: `POST /subscriptions` with `changeType: created,updated,deleted`, the receiver address
 *   as both `notificationUrl` and `lifecycleNotificationUrl` (a lifecycle URL cannot be added later),
 *   the secret as `clientState` (at most 128 characters), and an expiry `lifetimeMinutes` ahead
 *   (default 4,200: under the documented 4,230-minute maximum for Outlook events, with margin for
 *   clock skew). Graph validates both URLs first (the `validationToken` handshake, see parse).
 *   Resource: `/users/{mailbox}/events` for the default calendar (documented); another calendar uses
 *   `/users/{mailbox}/calendars/{id}/events`, which the docs do not list (unconfirmed).
 * - renew: `PATCH /subscriptions/{id}` with a new `expirationDateTime` (this also reauthorizes).
 *   When Graph no longer has the subscription (404), a new one is created: the returned
 *   Subscription then has a new id, which the caller must store in place of the old one.
 * - unsubscribe: `DELETE /subscriptions/{id}`; already gone (404) is a success.
 * - parse: `?validationToken=...` is the handshake, answered 200 `text/plain` with the decoded token
 *   and no notification. Otherwise the JSON body `{value: [...]}`: an item with `lifecycleEvent`
 *   is `reauthorize` (reauthorizationRequired), `removed` (subscriptionRemoved) or `missed`; any other
 *   item is a `change` (an unknown lifecycle event counts as `missed`). Each carries its `subscriptionId` and `clientState` (the secret). Items
 *   repeating the same subscription and kind are folded into one. The reply is 202 Accepted.
 */
import { BridgeError } from '../../src/core/index.ts';
import type {
  CalendarRef,
  ChangeFeed,
  Notification,
  PushParse,
  PushRequest,
  Subscription,
} from '../../src/ports/index.ts';
import type { GraphClient } from './client.ts';

/** Documented maximum lifetime of an Outlook event subscription. */
export const MAX_LIFETIME_MINUTES = 4230;
const DEFAULT_LIFETIME_MINUTES = 4200;

const invalid = (message: string) =>
  new BridgeError('invalid', `graph push: ${message}`, { provider: 'graph' });
const enc = encodeURIComponent;

export function resourceOf(calendar: CalendarRef): string {
  const user = `/users/${calendar.owner}`;
  return calendar.id === 'primary' ? `${user}/events` : `${user}/calendars/${calendar.id}/events`;
}

export function graphFeed(client: GraphClient, options: { lifetimeMinutes?: number } = {}): ChangeFeed {
  const lifetime = Math.min(options.lifetimeMinutes ?? DEFAULT_LIFETIME_MINUTES, MAX_LIFETIME_MINUTES);
  const expiry = () => new Date(Date.now() + lifetime * 60_000).toISOString();
  const toSub = (calendar: CalendarRef, body: any): Subscription => ({
    id: String(body.id),
    calendar,
    expiresAt: Date.parse(body.expirationDateTime),
  });

  async function subscribe(calendar: CalendarRef, address: string, secret: string): Promise<Subscription> {
    if (secret.length > 128) throw invalid('clientState (the secret) is at most 128 characters');
    const body = await client.run(calendar.owner, 'create subscription', (api) =>
      api.api('/subscriptions').post({
        changeType: 'created,updated,deleted',
        notificationUrl: address,
        lifecycleNotificationUrl: address,
        resource: resourceOf(calendar),
        expirationDateTime: expiry(),
        clientState: secret,
      }),
    );
    return toSub(calendar, body);
  }

  return {
    subscribe,
    async renew(sub, address, secret) {
      try {
        const body = await client.run(sub.calendar.owner, 'renew subscription', (api) =>
          api.api(`/subscriptions/${enc(sub.id)}`).patch({ expirationDateTime: expiry() }),
        );
        return toSub(sub.calendar, body);
      } catch (e) {
        if ((e as BridgeError).kind !== 'not_found') throw e;
        return subscribe(sub.calendar, address, secret);
      }
    },
    async unsubscribe(sub) {
      try {
        await client.run(sub.calendar.owner, 'delete subscription', (api) =>
          api.api(`/subscriptions/${enc(sub.id)}`).delete(),
        );
      } catch (e) {
        if ((e as BridgeError).kind !== 'not_found') throw e;
      }
    },
    parse: parseGraphPush,
  };
}

const LIFECYCLE: Record<string, Notification['kind']> = {
  reauthorizationRequired: 'reauthorize',
  subscriptionRemoved: 'removed',
  missed: 'missed',
};

/** Reads one Graph delivery: the validation handshake or a batch of notifications. */
export function parseGraphPush(request: PushRequest): PushParse {
  const token = request.query.get('validationToken');
  if (token !== null) {
    return { reply: { status: 200, contentType: 'text/plain', body: token }, notifications: [] };
  }
  let payload: any;
  try {
    payload = JSON.parse(request.body.toString('utf8'));
  } catch {
    throw invalid('the body is not JSON');
  }
  if (!payload || !Array.isArray(payload.value)) throw invalid('no value[] in the body');
  const out: Notification[] = [];
  const seen = new Set<string>();
  for (const item of payload.value) {
    if (!item || typeof item.subscriptionId !== 'string')
      throw invalid('a notification has no subscriptionId');
    let kind: Notification['kind'] = 'change';
    if (item.lifecycleEvent !== undefined) {
      // A lifecycle event this code does not know yet: read the changes, as for `missed`.
      kind = LIFECYCLE[item.lifecycleEvent] ?? 'missed';
    }
    const secret = typeof item.clientState === 'string' ? item.clientState : undefined;
    const key = `${item.subscriptionId}\n${kind}\n${secret ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ subscriptionId: item.subscriptionId, kind, ...(secret !== undefined ? { secret } : {}) });
  }
  return { reply: { status: 202 }, notifications: out };
}
