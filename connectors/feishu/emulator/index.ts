/**
 * Feishu (Lark) Open API emulator, per ../../../shared/design/EMULATORS.md. Point the Lark SDK's
 * `domain` at `url`. Serves `/open-apis/...` (auth v3 internal tokens, authen v1 OIDC refresh, contact
 * departments/users (contact.ts: the seed's `departments` and users' `department_ids`), calendar v4 calendars/events/instances/attendees/subscriptions) and the long connection
 * (`POST /callback/ws/endpoint` + a websocket speaking pbbp2 frames).
 *
 * Control calls (JSON, besides the shared reset/seed/state/requests/faults/clock):
 * - `POST /_emulator/user-token {app_id, open_id}` -> `{access_token, refresh_token, expires_in, ...}`
 *   as if the user had completed OAuth consent.
 * - `POST /_emulator/deliver` -> flush every 3-second aggregation window now and re-attempt every
 *   delivery waiting for a retry; answers `{deliveries}` (those attempted).
 * - `POST /_emulator/deliveries` -> `{deliveries}`: every push so far with its attempts and outcome.
 * - `POST /_emulator/limits {enabled?, perSecond?, perMinute?}` -> rate limits. On by default with the
 *   documented 50/s and 1000/min per app and API; `{enabled:false}` relaxes them for benchmarks/demo.
 * - `POST /_emulator/push {aggregateMs?, retryDelaysMs?, answerTimeoutMs?}` -> delivery timings
 *   (documented defaults: 3000, [15 s, 5 min, 1 h, 6 h], 3000), so tests need not wait.
 * - `POST /_emulator/events {op: 'create'|'patch'|'delete', calendar_id, event_id?, event?, attendees?}`
 *   -> change an event "in Feishu" as a user would (bumps sync state, queues change events).
 * - `POST /_emulator/calendars {op: 'create'|'patch'|'delete', calendar}` -> change a user's calendar
 *   list (queues `calendar.calendar.changed_v4`).
 * - `POST /_emulator/room-event {calendar_id, event_id, action?: 'created'|'updated'|'deleted',
 *   room_ids?, app_ids?}` -> push the v1 `third_party_meeting_room_event_*` callback (seed 004).
 * - `POST /_emulator/login {open_id}` -> the user the consent page (`GET /open-apis/authen/v1/authorize`)
 *   signs in as, like a browser session; `{open_id: null}` signs out.
 * - `POST /_emulator/verify-url {app_id}` -> send the url_verification challenge to the app's
 *   event_url; answers `{ok, status, body}`.
 * - `POST /_emulator/ws {PingInterval?, ReconnectCount?, ReconnectInterval?, ReconnectNonce?}` -> the
 *   ClientConfig handed to long-connection clients.
 */
import { randomUUID } from 'node:crypto';
import { type Clock, type EmRequest, RateWindows, Router, startServer } from '../../emulator/index.ts';
import { encryptPayload } from '../crypto.ts';
import { authRoutes, type Ctx, consentRoutes, issueUserToken, type Limits } from './auth.ts';
import { calendarRoutes } from './calendars.ts';
import { contactRoutes } from './contact.ts';
import { eventRoutes } from './event-routes.ts';
import { LongConnections } from './longconn.ts';
import { createEvent, deleteEvent, patchEvent } from './mutations.ts';
import { DEFAULT_PUSH, type Delivery, Push, type PushOptions } from './push.ts';
import { Store } from './store.ts';

export type { Delivery } from './push.ts';

export interface FeishuEmulator {
  url: string;
  close(): Promise<void>;
  clock: Clock;
  /** Every push so far (webhook and long connection), with attempts and outcome. */
  deliveries(): Delivery[];
  /** Frames long-connection clients sent (pings, acks). */
  wsFrames(): { app_id: string; type?: string; message_id?: string; payload?: string }[];
}

export async function startFeishuEmulator(
  options: { port?: number; host?: string; seed?: unknown; push?: Partial<PushOptions> } = {},
): Promise<FeishuEmulator> {
  const store = new Store();
  const limits: Limits = { enabled: true, perSecond: 50, perMinute: 1000 };
  const router = new Router();
  let push!: Push;
  const ctx = {
    store,
    limits,
    windows: new RateWindows(),
    eventChanged: (c, e, k) => push.eventChanged(c, e, k),
    calendarListChanged: (o) => push.calendarListChanged(o),
  } as Ctx;
  const control: Record<string, (req: EmRequest) => any> = {
    'user-token': (req) => {
      const { app_id, open_id } = req.json();
      if (!store.apps.has(app_id) || !store.users.has(open_id)) {
        return { status: 400, body: { error: 'unknown app_id or open_id' } };
      }
      return { status: 200, body: issueUserToken(ctx, app_id, open_id) };
    },
    login: (req) => {
      const { open_id } = req.json();
      if (open_id !== null && !store.users.has(open_id))
        return { status: 400, body: { error: 'unknown open_id' } };
      store.signedIn = open_id ?? undefined;
      return { status: 200, body: { signedIn: store.signedIn ?? null } };
    },
    deliver: async () => ({ status: 200, body: { deliveries: await push.deliverNow() } }),
    deliveries: () => ({ status: 200, body: { deliveries: push.deliveries } }),
    limits: (req) => {
      Object.assign(limits, req.json());
      ctx.windows.clear();
      return { status: 200, body: limits };
    },
    push: (req) => {
      Object.assign(push.options, req.json());
      return { status: 200, body: push.options };
    },
    ws: (req) => {
      Object.assign(ws.config, req.json());
      return { status: 200, body: ws.config };
    },
    events: (req) => {
      const b = req.json();
      if (!store.calendars.has(b.calendar_id)) return { status: 404, body: { error: 'unknown calendar' } };
      if (b.op === 'create') {
        const ev = createEvent(
          ctx,
          b.calendar_id,
          { ...b.event, event_id: b.event?.event_id },
          b.attendees ?? [],
        );
        return { status: 200, body: { event: ev.data } };
      }
      const id = b.event_id ?? b.event?.event_id;
      if (b.op === 'patch')
        return { status: 200, body: { event: patchEvent(ctx, b.calendar_id, id, b.event ?? {}).data } };
      if (b.op === 'delete') {
        deleteEvent(ctx, b.calendar_id, id);
        return { status: 200, body: { ok: true } };
      }
      return { status: 400, body: { error: 'op must be create, patch or delete' } };
    },
    calendars: (req) => {
      const { op, calendar } = req.json();
      const cal = store.putCalendar({ ...calendar, ...(op === 'delete' ? { is_deleted: true } : {}) });
      if (cal.owner_open_id) push.calendarListChanged(cal.owner_open_id);
      return { status: 200, body: { calendar: cal } };
    },
    'room-event': (req) => {
      const b = req.json();
      const ev = store.event(b.calendar_id, b.event_id);
      if (!ev) return { status: 404, body: { error: 'unknown event' } };
      const at = ev.data.event_id.lastIndexOf('_');
      const rooms: string[] =
        b.room_ids ??
        ev.attendees
          .filter((a) => a.room_id && store.rooms.get(a.room_id)?.third_party !== false)
          .map((a) => a.room_id!);
      const organizer = store.users.get(store.calendars.get(b.calendar_id)?.owner_open_id ?? '');
      const ms = (t: any) =>
        String((t.timestamp ? Number(t.timestamp) : Date.parse(`${t.date}T00:00:00Z`) / 1000) * 1000);
      push.roomEvent(
        {
          type: `third_party_meeting_room_event_${b.action ?? 'created'}`,
          event_id: ev.data.event_id,
          event_time: String(ctx.clock.now()),
          uid: ev.data.event_id.slice(0, at),
          original_time: Number(ev.data.event_id.slice(at + 1)),
          start: { time_stamp: ms(ev.data.start_time) },
          end: { time_stamp: ms(ev.data.end_time) },
          meeting_rooms: rooms.map((open_id) => ({ open_id })),
          organizer: {
            open_id: organizer?.open_id ?? '',
            user_id: organizer?.user_id ?? '',
            union_id: organizer?.union_id ?? '',
          },
        },
        b.app_ids,
      );
      return { status: 200, body: { ok: true } };
    },
    'verify-url': async (req) => {
      const app = store.apps.get(req.json().app_id);
      if (!app?.event_url) return { status: 400, body: { error: 'app has no event_url' } };
      const challenge = randomUUID();
      const plain = JSON.stringify({
        challenge,
        token: app.verification_token ?? '',
        type: 'url_verification',
      });
      const body = app.encrypt_key
        ? JSON.stringify({ encrypt: encryptPayload(app.encrypt_key, plain) })
        : plain;
      try {
        const res = await fetch(app.event_url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(1000),
        });
        const text = await res.text();
        let answer: any;
        try {
          answer = JSON.parse(text);
        } catch {
          answer = undefined;
        }
        return {
          status: 200,
          body: { ok: res.status === 200 && answer?.challenge === challenge, status: res.status, body: text },
        };
      } catch (e) {
        return { status: 200, body: { ok: false, error: (e as Error).message } };
      }
    },
  };
  let ws!: LongConnections;
  const running = await startServer(
    {
      reset: () => {
        store.reset();
        push.reset();
        ws.reset();
        Object.assign(limits, { enabled: true, perSecond: 50, perMinute: 1000 });
        ctx.windows.clear();
      },
      seed: (b) => store.seed(b),
      state: () => ({ ...store.state(), deliveries: push.deliveries }),
      control,
      handle: (req) => router.handle(req),
    },
    { port: options.port, host: options.host },
  );
  ctx.clock = running.clock;
  push = new Push(store, running.clock, { ...DEFAULT_PUSH, ...options.push });
  ws = new LongConnections(store, push);
  authRoutes(router, ctx);
  consentRoutes(router, ctx);
  calendarRoutes(router, ctx);
  contactRoutes(router, ctx);
  eventRoutes(router, ctx);
  ws.routes(router);
  ws.attach(running.server);
  if (options.seed) store.seed(options.seed);
  return {
    url: running.url,
    clock: running.clock,
    deliveries: () => push.deliveries,
    wsFrames: () => ws.received,
    close: async () => {
      push.close();
      ws.close();
      await running.close();
    },
  };
}
