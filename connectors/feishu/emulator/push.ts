/**
 * Event push to subscribed apps: 3-second aggregation (seed 001), webhook delivery (encrypted, signed,
 * retried with the same event id until HTTP 200) and long-connection delivery (acked frames).
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../emulator/index.ts';
import { encryptPayload, signDelivery } from '../crypto.ts';
import { newId, type Store } from './store.ts';

export type Change = 'create' | 'update' | 'delete' | 'rsvp';

export interface Delivery {
  seq: number;
  app_id: string;
  /** header.event_id (schema 2.0) or uuid (v1): the same on every retry. */
  event_id: string;
  event_type: string;
  mode: 'webhook' | 'websocket';
  body: Record<string, any>;
  attempts: { at: number; status?: number; error?: string }[];
  /** Webhook: answered 200. Long connection: the client's ack frame arrived. */
  done: boolean;
  ackCode?: number;
  gaveUp?: boolean;
}

export interface PushOptions {
  /** Aggregation window; 3000 ms as documented. */
  aggregateMs: number;
  /** Delays before each retry; documented 15 s, 5 min, 1 h, 6 h. */
  retryDelaysMs: number[];
  /** How long a delivery may take before it counts as failed; 3 s as documented. */
  answerTimeoutMs: number;
}

export const DEFAULT_PUSH: PushOptions = {
  aggregateMs: 3000,
  retryDelaysMs: [15_000, 300_000, 3_600_000, 21_600_000],
  answerTimeoutMs: 3000,
};

interface Pending {
  app_id: string;
  type: 'event' | 'calendar';
  calendar_id?: string;
  event_id?: string;
  change?: Change;
  open_ids: Set<string>;
  timer?: NodeJS.Timeout;
}

/** Merge two changes of one event within a window, per seed 001; null = send nothing. */
export function mergeChange(prev: Change, next: Change): Change | null {
  if (prev === 'create' && next === 'delete') return null;
  if (prev === 'create') return 'create';
  if (prev === 'delete' || next === 'delete') return 'delete';
  return next;
}

export interface WsSink {
  /** Send to one live connection of the app; false when it has none. */
  send(app_id: string, d: Delivery): boolean;
}

export class Push {
  deliveries: Delivery[] = [];
  private pending = new Map<string, Pending>();
  private timers = new Set<NodeJS.Timeout>();
  private closed = false;
  ws?: WsSink;

  constructor(
    private store: Store,
    private clock: Clock,
    public options: PushOptions = { ...DEFAULT_PUSH },
  ) {}

  eventChanged(calendar_id: string, event_id: string, change: Change) {
    for (const [app_id, byCal] of this.store.eventSubs) {
      const users = byCal.get(calendar_id);
      if (!users?.size) continue;
      const key = `ev ${app_id} ${calendar_id} ${event_id}`;
      const p = this.pending.get(key);
      if (p) {
        const merged = mergeChange(p.change!, change);
        if (merged === null) {
          this.dropPending(key);
          continue;
        }
        p.change = merged;
        for (const u of users) p.open_ids.add(u);
      } else {
        this.addPending(key, {
          app_id,
          type: 'event',
          calendar_id,
          event_id,
          change,
          open_ids: new Set(users),
        });
      }
    }
  }

  calendarListChanged(open_id: string) {
    for (const [app_id, users] of this.store.calendarSubs) {
      if (!users.has(open_id)) continue;
      const key = `cal ${app_id} ${open_id}`;
      if (!this.pending.has(key))
        this.addPending(key, { app_id, type: 'calendar', open_ids: new Set([open_id]) });
    }
  }

  /** A v1 `third_party_meeting_room_event_*` callback (seed 004), sent at once to every app. */
  roomEvent(event: Record<string, any>, apps?: string[]) {
    for (const app of this.store.apps.values()) {
      if (apps && !apps.includes(app.app_id)) continue;
      const uuid = newId(16);
      this.enqueue(app.app_id, uuid, event.type, {
        uuid,
        token: app.verification_token ?? '',
        ts: (this.clock.now() / 1000).toFixed(7),
        type: 'event_callback',
        event: { app_id: app.app_id, tenant_key: app.tenant_key, ...event },
      });
    }
  }

  /** Flush every aggregation window and re-attempt every delivery that waits for a retry. */
  async deliverNow(): Promise<Delivery[]> {
    for (const key of [...this.pending.keys()]) this.flush(key);
    const due = this.deliveries.filter((d) => !d.done && !d.gaveUp);
    await Promise.all(due.map((d) => this.attempt(d)));
    return due;
  }

  close() {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.pending.clear();
  }

  reset() {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.pending.clear();
    this.deliveries = [];
  }

  private later(ms: number, fn: () => void) {
    if (this.closed) return undefined;
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    t.unref?.();
    this.timers.add(t);
    return t;
  }

  private addPending(key: string, p: Pending) {
    this.pending.set(key, p);
    p.timer = this.later(this.options.aggregateMs, () => this.flush(key));
  }

  private dropPending(key: string) {
    const p = this.pending.get(key);
    if (p?.timer) {
      clearTimeout(p.timer);
      this.timers.delete(p.timer);
    }
    this.pending.delete(key);
  }

  private flush(key: string) {
    const p = this.pending.get(key);
    if (!p) return;
    this.dropPending(key);
    const app = this.store.apps.get(p.app_id);
    if (!app) return;
    const ids = [...p.open_ids].map((o) => {
      const u = this.store.users.get(o);
      return { union_id: u?.union_id ?? '', user_id: u?.user_id ?? '', open_id: o };
    });
    const event_type =
      p.type === 'event' ? 'calendar.calendar.event.changed_v4' : 'calendar.calendar.changed_v4';
    const event_id = newId(16);
    const event =
      p.type === 'event'
        ? {
            calendar_id: p.calendar_id,
            user_id_list: ids,
            calendar_event_id: p.event_id,
            change_type: p.change,
          }
        : { user_id_list: ids };
    this.enqueue(app.app_id, event_id, event_type, {
      schema: '2.0',
      header: {
        event_id,
        event_type,
        create_time: String(this.clock.now()),
        token: app.verification_token ?? '',
        app_id: app.app_id,
        tenant_key: app.tenant_key,
      },
      event,
    });
  }

  private enqueue(app_id: string, event_id: string, event_type: string, body: Record<string, any>) {
    const app = this.store.apps.get(app_id)!;
    const d: Delivery = {
      seq: this.deliveries.length + 1,
      app_id,
      event_id,
      event_type,
      mode: app.event_mode === 'websocket' ? 'websocket' : 'webhook',
      body,
      attempts: [],
      done: false,
    };
    if (d.mode === 'webhook' && !app.event_url) return;
    this.deliveries.push(d);
    void this.attempt(d);
  }

  /** Called by the websocket side when a client acks a frame. */
  acked(event_id: string, code: number) {
    const d = this.deliveries.find((x) => x.event_id === event_id && x.mode === 'websocket');
    if (!d) return;
    d.ackCode = code;
    d.done = code === 200;
  }

  /** A long connection of this app opened: send what waited for it. */
  connected(app_id: string) {
    for (const d of this.deliveries) {
      if (d.app_id === app_id && d.mode === 'websocket' && !d.done && !d.gaveUp && d.attempts.length === 0) {
        void this.attempt(d);
      }
    }
  }

  private async attempt(d: Delivery) {
    if (this.closed || d.done) return;
    if (d.mode === 'websocket') {
      if (!this.ws?.send(d.app_id, d)) return; // no connection: waits for one
      d.attempts.push({ at: this.clock.now() });
      this.later(this.options.answerTimeoutMs, () => {
        if (!d.done) this.retry(d, d.attempts.length);
      });
      return;
    }
    const app = this.store.apps.get(d.app_id)!;
    const n = d.attempts.length + 1;
    const plain = JSON.stringify(d.body);
    const body = app.encrypt_key
      ? JSON.stringify({ encrypt: encryptPayload(app.encrypt_key, plain) })
      : plain;
    const timestamp = String(this.clock.nowSeconds());
    const nonce = randomUUID();
    const headers: Record<string, string> = {
      'content-type': 'application/json; charset=utf-8',
      'x-lark-request-timestamp': timestamp,
      'x-lark-request-nonce': nonce,
    };
    if (app.encrypt_key) headers['x-lark-signature'] = signDelivery(timestamp, nonce, app.encrypt_key, body);
    const entry: Delivery['attempts'][number] = { at: this.clock.now() };
    d.attempts.push(entry);
    try {
      const res = await fetch(app.event_url!, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(this.options.answerTimeoutMs),
      });
      entry.status = res.status;
      await res.arrayBuffer().catch(() => undefined);
      if (res.status === 200) {
        d.done = true;
        return;
      }
    } catch (e) {
      entry.error = (e as Error).message;
    }
    this.retry(d, n);
  }

  private retry(d: Delivery, attemptsMade: number) {
    const delay = this.options.retryDelaysMs[attemptsMade - 1];
    if (delay === undefined) {
      d.gaveUp = true;
      return;
    }
    this.later(delay, () => void this.attempt(d));
  }
}
