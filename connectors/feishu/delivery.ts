/**
 * Event intake: one transport-neutral reader for webhook deliveries (verify, decrypt, type), a webhook
 * handler (url_verification, de-duplication, quick ack) and a long-connection starter around the SDK's
 * WSClient. Both transports turn the three seed event types into the same hints.
 */
import { decryptPayload, sameHex, signDelivery } from './crypto.ts';

/** Deliveries whose timestamp is further than this from now (either direction) are refused as replays. */
export const TIMESTAMP_TOLERANCE_MS = 5 * 60 * 1000;

export type RejectReason =
  | 'bad_signature'
  | 'stale_timestamp'
  | 'wrong_token'
  | 'undecryptable'
  | 'malformed'
  | 'unknown_type';

interface Common {
  /** header.event_id (schema 2.0) or uuid (v1): the de-duplication key. */
  eventId: string;
  appId?: string;
  tenantKey?: string;
  /** ms */
  createTime?: number;
}

export type RoomEventType =
  | 'third_party_meeting_room_event_created'
  | 'third_party_meeting_room_event_updated'
  | 'third_party_meeting_room_event_deleted';

export type FeishuEvent =
  | { type: 'url_verification'; challenge: string }
  | (Common & {
      type: 'calendar.calendar.event.changed_v4';
      calendarId: string;
      userOpenIds: string[];
      calendarEventId?: string;
      changeType?: 'create' | 'update' | 'delete' | 'rsvp';
    })
  | (Common & { type: 'calendar.calendar.changed_v4'; userOpenIds: string[] })
  | (Common & {
      type: RoomEventType;
      /** `{uid}_{original_time}` */
      calendarEventId: string;
      uid: string;
      originalTime: number;
      roomIds: string[];
      /** Unix seconds */
      start: number;
      end: number;
      organizer: { openId?: string; userId?: string; unionId?: string };
    });

export type FeishuHint =
  | {
      type: 'pull-calendar';
      calendarId: string;
      userOpenIds: string[];
      eventId?: string;
      changeType?: string;
    }
  | { type: 'relist-calendars'; userOpenIds: string[] }
  | {
      type: 'room';
      /** From the event type; Feishu documents `_created` for creation, time changes and deletion alike, so
       * `created` may mean any of them: read the event to be sure. */
      action: 'created' | 'updated' | 'deleted';
      uid: string;
      originalTime: number;
      eventId: string;
      roomIds: string[];
      start: number;
      end: number;
      organizer: { openId?: string; userId?: string; unionId?: string };
    };

export interface DeliveryOptions {
  encryptKey?: string;
  verificationToken?: string;
}

export type ReadResult = { ok: true; event: FeishuEvent } | { ok: false; reason: RejectReason };

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/**
 * Verify, decrypt and type one delivery. `headers` have lower-case names; `body` is the raw text.
 * With an encrypt key, the body must be `{"encrypt": ...}` and carry a valid signature and a timestamp
 * within 5 minutes of `nowMs`; only a url_verification challenge may come unsigned (Feishu signs
 * events, not the challenge). The verification token is checked whenever one is configured.
 */
export function readDelivery(
  delivery: { headers: Record<string, string | string[] | undefined>; body: string },
  options: DeliveryOptions,
  nowMs = Date.now(),
): ReadResult {
  let outer: any;
  try {
    outer = JSON.parse(delivery.body);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (!outer || typeof outer !== 'object') return { ok: false, reason: 'malformed' };
  let payload: any = outer;
  let signed = false;
  if (options.encryptKey) {
    if (typeof outer.encrypt !== 'string') return { ok: false, reason: 'undecryptable' };
    const timestamp = first(delivery.headers['x-lark-request-timestamp']);
    const nonce = first(delivery.headers['x-lark-request-nonce']);
    const signature = first(delivery.headers['x-lark-signature']);
    if (timestamp !== undefined || nonce !== undefined || signature !== undefined) {
      if (!timestamp || nonce === undefined || !signature) return { ok: false, reason: 'bad_signature' };
      const expected = signDelivery(timestamp, nonce, options.encryptKey, delivery.body);
      if (!sameHex(expected, signature)) return { ok: false, reason: 'bad_signature' };
      const ts = Number(timestamp) * 1000;
      if (!Number.isFinite(ts) || Math.abs(nowMs - ts) > TIMESTAMP_TOLERANCE_MS) {
        return { ok: false, reason: 'stale_timestamp' };
      }
      signed = true;
    }
    try {
      payload = JSON.parse(decryptPayload(options.encryptKey, outer.encrypt));
    } catch {
      return { ok: false, reason: 'undecryptable' };
    }
    if (!payload || typeof payload !== 'object') return { ok: false, reason: 'malformed' };
    if (!signed && payload.type !== 'url_verification') return { ok: false, reason: 'bad_signature' };
  } else if ('encrypt' in outer) {
    return { ok: false, reason: 'undecryptable' };
  }
  const token = payload.schema === '2.0' ? payload.header?.token : payload.token;
  if (options.verificationToken && token !== options.verificationToken)
    return { ok: false, reason: 'wrong_token' };
  return typeEvent(payload);
}

/** Type a decrypted, verified body (schema 2.0, v1 event_callback, or url_verification). */
export function typeEvent(p: any): ReadResult {
  const bad = { ok: false, reason: 'malformed' } as const;
  if (p.type === 'url_verification') {
    return typeof p.challenge === 'string'
      ? { ok: true, event: { type: 'url_verification', challenge: p.challenge } }
      : bad;
  }
  const ids = (list: any) => (Array.isArray(list) ? list.map((u: any) => u?.open_id).filter(Boolean) : null);
  if (p.schema === '2.0') {
    const h = p.header;
    const e = p.event;
    if (!h || typeof h.event_id !== 'string' || !e || typeof e !== 'object') return bad;
    const common = {
      eventId: h.event_id,
      appId: h.app_id,
      tenantKey: h.tenant_key,
      createTime: Number(h.create_time) || undefined,
    };
    if (h.event_type === 'calendar.calendar.event.changed_v4') {
      const users = ids(e.user_id_list);
      if (typeof e.calendar_id !== 'string' || !users) return bad;
      return {
        ok: true,
        event: {
          ...common,
          type: h.event_type,
          calendarId: e.calendar_id,
          userOpenIds: users,
          calendarEventId: e.calendar_event_id || undefined,
          changeType: e.change_type || undefined,
        },
      };
    }
    if (h.event_type === 'calendar.calendar.changed_v4') {
      const users = ids(e.user_id_list);
      return users ? { ok: true, event: { ...common, type: h.event_type, userOpenIds: users } } : bad;
    }
    return { ok: false, reason: 'unknown_type' };
  }
  if (p.type === 'event_callback') {
    const e = p.event;
    if (!e || typeof e.type !== 'string' || typeof p.uuid !== 'string') return bad;
    if (!/^third_party_meeting_room_event_(created|updated|deleted)$/.test(e.type))
      return { ok: false, reason: 'unknown_type' };
    const originalTime = Number(e.original_time ?? 0);
    if (typeof e.uid !== 'string' || !Number.isInteger(originalTime)) return bad;
    return {
      ok: true,
      event: {
        type: e.type,
        eventId: p.uuid,
        appId: e.app_id,
        tenantKey: e.tenant_key,
        createTime: Number(e.event_time) || undefined,
        calendarEventId:
          typeof e.event_id === 'string' && e.event_id.startsWith(e.uid)
            ? e.event_id
            : `${e.uid}_${originalTime}`,
        uid: e.uid,
        originalTime,
        roomIds: (e.meeting_rooms ?? []).map((r: any) => r?.open_id).filter(Boolean),
        start: toSeconds(e.start?.time_stamp),
        end: toSeconds(e.end?.time_stamp),
        organizer: {
          openId: e.organizer?.open_id,
          userId: e.organizer?.user_id,
          unionId: e.organizer?.union_id,
        },
      },
    };
  }
  return { ok: false, reason: 'unknown_type' };
}

/** The seed's example carries milliseconds ("1553853600000"); accept seconds too. */
function toSeconds(v: unknown): number {
  const n = Number(v ?? 0);
  return n > 1e11 ? Math.floor(n / 1000) : n;
}

export function toHint(e: FeishuEvent): FeishuHint | undefined {
  switch (e.type) {
    case 'calendar.calendar.event.changed_v4':
      return {
        type: 'pull-calendar',
        calendarId: e.calendarId,
        userOpenIds: e.userOpenIds,
        ...(e.calendarEventId ? { eventId: e.calendarEventId } : {}),
        ...(e.changeType ? { changeType: e.changeType } : {}),
      };
    case 'calendar.calendar.changed_v4':
      return { type: 'relist-calendars', userOpenIds: e.userOpenIds };
    case 'url_verification':
      return undefined;
    default:
      return {
        type: 'room',
        action: e.type.slice('third_party_meeting_room_event_'.length) as 'created' | 'updated' | 'deleted',
        uid: e.uid,
        originalTime: e.originalTime,
        eventId: e.calendarEventId,
        roomIds: e.roomIds,
        start: e.start,
        end: e.end,
        organizer: e.organizer,
      };
  }
}
