/**
 * Change-notification subscriptions: create (with the `validationToken` handshake), renew, delete,
 * and delivery of `{value: [notification]}` POSTs with `clientState` on every event change.
 * Where the docs disagree, the stricter reading: lifetime at most 4,230 minutes, at least 45 minutes.
 */
import { randomUUID } from 'node:crypto';
import type { Clock, EmRequest, EmResponse } from '../../emulator/index.ts';
import { gfail, invalid, notFound } from './errors.ts';
import type { Store, Subscription, User } from './model.ts';
import { baseUrl } from './query.ts';

export const MAX_LIFETIME_MIN = 4230;
export const MIN_LIFETIME_MIN = 45;
const MAX_PER_MAILBOX = 1000;
const RETRY_DELAYS_MS = [0, 1000, 3000];

export interface Delivery {
  subscriptionId: string;
  changeType: string;
  resource: string;
  status: number;
  attempts: number;
}

export class Subscriptions {
  deliveries: Delivery[] = [];
  private timers = new Set<NodeJS.Timeout>();
  closed = false;

  constructor(
    private store: Store,
    private clock: Clock,
  ) {}

  reset() {
    this.deliveries = [];
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private checkExpiration(value: unknown): string {
    const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
    if (Number.isNaN(ms)) return invalid('expirationDateTime is required.');
    const minutes = (ms - this.clock.now()) / 60_000;
    if (minutes > MAX_LIFETIME_MIN) {
      gfail(
        400,
        'ExtensionError',
        `Subscription expiration can only be ${MAX_LIFETIME_MIN} minutes in the future.`,
      );
    }
    if (minutes < MIN_LIFETIME_MIN) {
      gfail(
        400,
        'ExtensionError',
        `Subscription expiration must be at least ${MIN_LIFETIME_MIN} minutes in the future.`,
      );
    }
    return new Date(ms).toISOString();
  }

  private resolveResource(resource: unknown): User {
    const m = /^\/?users\/([^/]+)\/(?:calendars\/[^/]+\/)?events$/i.exec(String(resource ?? ''));
    if (!m) return invalid(`Resource '${resource}' is not supported for change notifications.`);
    return this.store.user(m[1]) ?? gfail(404, 'ResourceNotFound', 'The user of the resource was not found.');
  }

  async create(req: EmRequest, tenantId: string, clientId: string): Promise<EmResponse> {
    const b = req.json();
    const types = String(b.changeType ?? '').split(',');
    if (!b.changeType || types.some((t) => !['created', 'updated', 'deleted'].includes(t.trim()))) {
      invalid('changeType must be a list of created, updated, deleted.');
    }
    if (typeof b.notificationUrl !== 'string') invalid('notificationUrl is required.');
    const url = new URL(b.notificationUrl);
    // Graph requires https; plain http is allowed here for loopback receivers only.
    if (url.protocol !== 'https:' && !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
      invalid('The notification URL must use https.');
    }
    if (b.clientState !== undefined && String(b.clientState).length > 128) {
      invalid('clientState must be at most 128 characters.');
    }
    const expirationDateTime = this.checkExpiration(b.expirationDateTime);
    const user = this.resolveResource(b.resource);
    const mine = [...this.store.subscriptions.values()].filter((s) => s.userId === user.id);
    if (mine.length >= MAX_PER_MAILBOX)
      gfail(403, 'ExtensionError', 'Too many subscriptions for this mailbox.');
    for (const u of [b.notificationUrl, b.lifecycleNotificationUrl]) {
      if (u && !(await this.validate(u))) {
        invalid(
          'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.',
        );
      }
    }
    const sub: Subscription = {
      id: randomUUID(),
      userId: user.id,
      resource: b.resource,
      changeType: b.changeType,
      notificationUrl: b.notificationUrl,
      lifecycleNotificationUrl: b.lifecycleNotificationUrl,
      clientState: b.clientState,
      expirationDateTime,
      tenantId,
      applicationId: clientId,
    };
    this.store.subscriptions.set(sub.id, sub);
    return { status: 201, body: this.render(req, sub) };
  }

  /** The handshake: POST ?validationToken=..., expect 200 text/plain echoing it within 10 s. */
  private async validate(url: string): Promise<boolean> {
    const token = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
    const target = `${url}${url.includes('?') ? '&' : '?'}validationToken=${encodeURIComponent(token)}`;
    try {
      const res = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        signal: AbortSignal.timeout(10_000),
      });
      return res.status === 200 && (await res.text()) === token;
    } catch {
      return false;
    }
  }

  render(req: EmRequest, s: Subscription) {
    return {
      '@odata.context': `${baseUrl(req)}/v1.0/$metadata#subscriptions/$entity`,
      id: s.id,
      resource: s.resource,
      applicationId: s.applicationId,
      changeType: s.changeType,
      clientState: s.clientState ?? null,
      notificationUrl: s.notificationUrl,
      lifecycleNotificationUrl: s.lifecycleNotificationUrl ?? null,
      expirationDateTime: s.expirationDateTime,
      creatorId: s.applicationId,
      includeResourceData: false,
      latestSupportedTlsVersion: 'v1_2',
      notificationUrlAppId: null,
    };
  }

  private live(id: string): Subscription {
    const s = this.store.subscriptions.get(id);
    if (!s || Date.parse(s.expirationDateTime) <= this.clock.now()) {
      return notFound(`The object '${id}' doesn't exist.`);
    }
    return s;
  }

  get(req: EmRequest, id: string): EmResponse {
    return { status: 200, body: this.render(req, this.live(id)) };
  }

  list(req: EmRequest): EmResponse {
    const now = this.clock.now();
    const value = [...this.store.subscriptions.values()]
      .filter((s) => Date.parse(s.expirationDateTime) > now)
      .map((s) => this.render(req, s));
    return { status: 200, body: { '@odata.context': `${baseUrl(req)}/v1.0/$metadata#subscriptions`, value } };
  }

  renew(req: EmRequest, id: string): EmResponse {
    const s = this.live(id);
    s.expirationDateTime = this.checkExpiration(req.json().expirationDateTime);
    return { status: 200, body: this.render(req, s) };
  }

  /** `POST /subscriptions/{id}/reauthorize`: 204, the expiry unchanged (the docs' reauthorize action). */
  reauthorize(id: string): EmResponse {
    this.live(id);
    return { status: 204 };
  }

  /**
   * Control call `POST /_emulator/lifecycle` `{subscriptionId, lifecycleEvent}`: sends a lifecycle
   * notification (`reauthorizationRequired`, `subscriptionRemoved` or `missed`) to the subscription's
   * `lifecycleNotificationUrl`, in the documented shape `{value: [{lifecycleEvent, subscriptionId,
   * subscriptionExpirationDateTime, clientState, tenantId}]}`. `subscriptionRemoved` deletes the
   * subscription first (no more deliveries). A subscription without a lifecycle URL gets nothing from
   * Graph (the docs send lifecycle events to that URL only), so the call answers 400 then.
   */
  lifecycle(body: { subscriptionId?: string; lifecycleEvent?: string }): EmResponse {
    const s = this.store.subscriptions.get(String(body.subscriptionId));
    if (!s) return { status: 404, body: { error: 'no such subscription' } };
    const event = String(body.lifecycleEvent);
    if (!['reauthorizationRequired', 'subscriptionRemoved', 'missed'].includes(event)) {
      return { status: 400, body: { error: `unknown lifecycleEvent ${event}` } };
    }
    if (!s.lifecycleNotificationUrl) {
      return { status: 400, body: { error: 'the subscription has no lifecycleNotificationUrl' } };
    }
    if (event === 'subscriptionRemoved') this.store.subscriptions.delete(s.id);
    const payload = {
      value: [
        {
          lifecycleEvent: event,
          subscriptionId: s.id,
          subscriptionExpirationDateTime: s.expirationDateTime,
          clientState: s.clientState ?? null,
          tenantId: s.tenantId,
        },
      ],
    };
    const record: Delivery = {
      subscriptionId: s.id,
      changeType: event,
      resource: s.resource,
      status: 0,
      attempts: 0,
    };
    this.deliveries.push(record);
    this.deliver(s.lifecycleNotificationUrl, payload, record, 0);
    return { status: 200, body: { ok: true } };
  }

  remove(id: string): EmResponse {
    this.live(id);
    this.store.subscriptions.delete(id);
    return { status: 204 };
  }

  /** Sends a notification to every live subscription on this mailbox and calendar. */
  notify(userId: string, calendarId: string, eventId: string, changeType: string, changeKey?: string) {
    if (this.closed) return;
    const now = this.clock.now();
    for (const s of this.store.subscriptions.values()) {
      if (s.userId !== userId || Date.parse(s.expirationDateTime) <= now) continue;
      if (!s.changeType.split(',').some((t) => t.trim() === changeType)) continue;
      const cal = /calendars\/([^/]+)\/events$/i.exec(s.resource)?.[1];
      // `users/{id}/events` watches the default calendar; `users/{id}/calendars/{c}/events` that one.
      if ((cal ?? this.store.defaultCalendar(userId).id) !== calendarId) continue;
      const resource = `Users/${userId}/Events/${eventId}`;
      const body = {
        value: [
          {
            subscriptionId: s.id,
            subscriptionExpirationDateTime: s.expirationDateTime,
            changeType,
            resource,
            resourceData: {
              '@odata.type': '#Microsoft.Graph.Event',
              '@odata.id': resource,
              '@odata.etag': changeKey ? `W/"${changeKey}"` : undefined,
              id: eventId,
            },
            clientState: s.clientState ?? null,
            tenantId: s.tenantId,
          },
        ],
      };
      const record: Delivery = { subscriptionId: s.id, changeType, resource, status: 0, attempts: 0 };
      this.deliveries.push(record);
      this.deliver(s.notificationUrl, body, record, 0);
    }
  }

  /** At-least-once delivery: a reply other than 2xx within 3 s is retried a bounded number of times. */
  private deliver(url: string, body: unknown, record: Delivery, attempt: number) {
    const t = setTimeout(async () => {
      this.timers.delete(t);
      if (this.closed) return;
      record.attempts += 1;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(3000),
        });
        record.status = res.status;
        await res.arrayBuffer();
        if (res.status >= 200 && res.status < 300) return;
      } catch {
        record.status = -1;
      }
      if (attempt + 1 < RETRY_DELAYS_MS.length) this.deliver(url, body, record, attempt + 1);
    }, RETRY_DELAYS_MS[attempt]);
    t.unref?.();
    this.timers.add(t);
  }
}
