import type { CalendarRef } from './connector.ts';

/**
 * Push notifications of a spoke calendar's changes: Google `events.watch` channels, Graph change
 * notification subscriptions. A notification only says "something changed": the receiver reads the
 * changes with `listChanges` and the calendar's saved cursor. The connector knows the wire format;
 * the app keeps the subscriptions (to check the secret, renew them and stop them).
 */
export interface Subscription {
  /** The provider's id: Google channel id (chosen by us), Graph subscription id. */
  id: string;
  calendar: CalendarRef;
  /** Google's `resourceId` of the watched resource (needed to stop a channel). */
  resource?: string;
  /** Unix milliseconds. */
  expiresAt: number;
}

/** An HTTP request as it arrived, before any parsing (signatures and handshakes need it raw). */
export interface PushRequest {
  method: string;
  query: URLSearchParams;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  body: Buffer;
}

export type NotificationKind =
  /** The calendar changed: read its changes. */
  | 'change'
  /** Handshake of a new channel (Google `sync`): nothing to read. */
  | 'sync'
  /** Notifications were lost (Graph `missed`): read the changes; the subscription stands. */
  | 'missed'
  /** The subscription must be renewed now (Graph `reauthorizationRequired`). */
  | 'reauthorize'
  /** The provider dropped the subscription (Graph `subscriptionRemoved`): subscribe again, then read. */
  | 'removed';

export interface Notification {
  subscriptionId: string;
  kind: NotificationKind;
  /** The secret the delivery presented (Google channel token, Graph `clientState`); the app compares
   * it with the subscription's before acting. Absent when the delivery carried none. */
  secret?: string;
}

export interface PushParse {
  /** What to answer when every notification is accepted (a handshake answers its token here). */
  reply: { status: number; contentType?: string; body?: string };
  notifications: Notification[];
}

export interface ChangeFeed {
  /** Starts notifications for the calendar to `address`, presenting `secret` on every delivery. */
  subscribe(calendar: CalendarRef, address: string, secret: string): Promise<Subscription>;
  /**
   * Extends a subscription (Graph PATCH) or replaces it (Google: a new channel, then the old one is
   * stopped). Store the returned Subscription in place of the old one: its id differs for Google
   * always, and for Graph when the provider had lost the subscription (then it subscribes anew).
   */
  renew(sub: Subscription, address: string, secret: string): Promise<Subscription>;
  /** Stops it; one already gone is a success. */
  unsubscribe(sub: Subscription): Promise<void>;
  /**
   * Reads one inbound delivery (no I/O). Malformed input throws BridgeError kind `invalid`. A Google
   * `sync` may arrive before `subscribe` has resolved (so before the channel is stored): answer it
   * without looking the subscription up. Graph's validation handshake yields no notification.
   */
  parse(request: PushRequest): PushParse;
}
