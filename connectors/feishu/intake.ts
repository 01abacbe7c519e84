/** Webhook handling, de-duplication by event id, and the long connection (SDK WSClient). */
import {
  type DeliveryOptions,
  type FeishuHint,
  type RejectReason,
  readDelivery,
  toHint,
  typeEvent,
} from './delivery.ts';
import { lark } from './sdk.ts';

/** Remembers event ids, so an at-least-once delivery is handled once. A store-backed one comes later. */
export interface Deduplicator {
  /** True when the id was seen before; otherwise records it and answers false. */
  seen(id: string): Promise<boolean>;
  /** Drop an id whose handling failed, so the redelivery is handled. */
  forget(id: string): Promise<void>;
}

/** In memory, ids kept 8 hours (Feishu retries for about 7.1 h) and at most `max` of them. */
export class MemoryDeduplicator implements Deduplicator {
  private ids = new Map<string, number>();
  constructor(
    private ttlMs = 8 * 3600_000,
    private max = 100_000,
  ) {}
  async seen(id: string, now = Date.now()) {
    const at = this.ids.get(id);
    if (at !== undefined && now - at < this.ttlMs) return true;
    this.ids.set(id, now);
    if (this.ids.size > this.max) this.ids.delete(this.ids.keys().next().value!);
    return false;
  }
  async forget(id: string) {
    this.ids.delete(id);
  }
}

export type HintHandler = (
  hint: FeishuHint,
  meta: { eventId: string; transport: 'webhook' | 'websocket' },
) => unknown;

export interface WebhookOptions extends DeliveryOptions {
  dedup?: Deduplicator;
  nowMs?: number;
  /** Answer 200 after this long even if the handler still runs; Feishu allows 3 s. Default 2500. */
  ackWithinMs?: number;
}

export interface WebhookAnswer {
  status: number;
  body: Record<string, unknown>;
  /** Why the delivery was refused, for logs. */
  reason?: RejectReason | 'handler_failed';
}

const defaultDedup = new MemoryDeduplicator();

/**
 * One webhook delivery in, the HTTP answer out: the url_verification challenge echoed; a verified,
 * first-seen event turned into a hint and handed to `onHint` (answered 200 once it returns or after
 * `ackWithinMs`); a refused delivery answered 400 with its reason; a failing handler answered 500 so
 * Feishu delivers again.
 */
export async function handleWebhook(
  delivery: { headers: Record<string, string | string[] | undefined>; body: string },
  options: WebhookOptions,
  onHint: HintHandler,
): Promise<WebhookAnswer> {
  const read = readDelivery(delivery, options, options.nowMs);
  if (!read.ok) return { status: 400, body: { error: read.reason }, reason: read.reason };
  const event = read.event;
  if (event.type === 'url_verification') return { status: 200, body: { challenge: event.challenge } };
  const dedup = options.dedup ?? defaultDedup;
  if (await dedup.seen(event.eventId)) return { status: 200, body: { ok: true, duplicate: true } };
  const hint = toHint(event);
  if (!hint) return { status: 200, body: { ok: true } };
  const work = Promise.resolve().then(() => onHint(hint, { eventId: event.eventId, transport: 'webhook' }));
  let timer: NodeJS.Timeout | undefined;
  const budget = new Promise<'late'>((r) => {
    timer = setTimeout(() => r('late'), options.ackWithinMs ?? 2500);
  });
  try {
    await Promise.race([work, budget]);
    return { status: 200, body: { ok: true } };
  } catch {
    await dedup.forget(event.eventId);
    return { status: 500, body: { error: 'handler_failed' }, reason: 'handler_failed' };
  } finally {
    clearTimeout(timer);
    work.catch(() => undefined);
  }
}

const quiet = { error() {}, warn() {}, info() {}, debug() {}, trace() {} };
const HEADER_KEYS = ['event_id', 'event_type', 'create_time', 'token', 'app_id', 'tenant_key'];

/** Rebuild the delivered body from the SDK dispatcher's flattened object, to type it like a webhook. */
function unflatten(type: string, data: Record<string, any>): any {
  if ('schema' in data) {
    const header: Record<string, unknown> = {};
    const event: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(data)) (HEADER_KEYS.includes(k) ? header : event)[k] = v;
    header.event_type = type;
    delete event.schema;
    return { schema: '2.0', header, event };
  }
  const { uuid, token, ts, type: _cb, ...event } = data;
  return { uuid, token, ts, type: 'event_callback', event: { ...event, type } };
}

export interface LongConnection {
  close(): void;
  state(): string;
}

/**
 * Connect the SDK's WSClient (events come plaintext over the long connection; the client acks each
 * frame after the handler returns, code 500 if it throws, which makes Feishu push again).
 */
export async function startLongConnection(options: {
  appId: string;
  appSecret: string;
  /** Base URL, e.g. https://open.feishu.cn or an emulator's URL. */
  domain: string;
  onHint: HintHandler;
  dedup?: Deduplicator;
  logger?: typeof quiet;
}): Promise<LongConnection> {
  const dedup = options.dedup ?? new MemoryDeduplicator();
  const handle = async (type: string, data: Record<string, any>) => {
    const read = typeEvent(unflatten(type, data));
    if (!read.ok || read.event.type === 'url_verification') return;
    const event = read.event;
    if (await dedup.seen(event.eventId)) return;
    const hint = toHint(event);
    try {
      if (hint) await options.onHint(hint, { eventId: event.eventId, transport: 'websocket' });
    } catch (e) {
      await dedup.forget(event.eventId);
      throw e;
    }
  };
  const types = [
    'calendar.calendar.event.changed_v4',
    'calendar.calendar.changed_v4',
    'third_party_meeting_room_event_created',
    'third_party_meeting_room_event_updated',
    'third_party_meeting_room_event_deleted',
  ];
  const logger = options.logger ?? quiet;
  const dispatcher = new lark.EventDispatcher({ logger }).register(
    Object.fromEntries(types.map((t) => [t, (data: any) => handle(t, data)])) as any,
  );
  const client = new lark.WSClient({
    appId: options.appId,
    appSecret: options.appSecret,
    domain: options.domain,
    logger,
  });
  await client.start({ eventDispatcher: dispatcher });
  return {
    close: () => client.close({ force: true }),
    state: () => client.getConnectionStatus().state,
  };
}
