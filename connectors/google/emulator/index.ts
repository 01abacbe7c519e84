/**
 * Google Calendar v3 + Admin Directory emulator (EMULATORS.md). Serves on one port:
 * - `POST /token`: OAuth for service-account JWT assertions with domain-wide delegation (`sub` must
 *   be a seeded user, else `invalid_grant`); tokens last 3600 s of emulator clock, bound to `sub`.
 * - `/calendar/v3/...`: events insert/import/get/patch/update/delete/list/instances/watch,
 *   `channels/stop`, `users/me/calendarList`.
 * - `POST /batch/calendar/v3`: multipart/mixed, at most 1000 parts, each part counted against quota.
 * - `GET /admin/directory/v1/customer/{customer}/resources/calendars`: rooms (seeded `resources`).
 *   Each room has a calendar (id = `resourceEmail`) that books, answers and shows the events naming it
 *   as a `resource: true` attendee (rooms.ts).
 *
 * iCalUIDs are unique per calendar: `insert` with an iCalUID the calendar holds (even a deleted
 * event's) answers 409 `duplicate`; `import` of such an iCalUID updates that event (same id; a deleted
 * one comes back). Watch channels notify every change, the caller's own writes included, until they
 * expire on the emulator clock (`/_emulator/clock`) or are stopped.
 *
 * Quotas are enforced by default on a sliding window: 600 requests/min per user and 10,000/min per
 * project (the service account's e-mail domain). A user overrun answers 403 `userRateLimitExceeded`,
 * a project overrun 403 `rateLimitExceeded` (or 429 with Retry-After if `projectStatus: 429`).
 *
 * Provider-specific control calls (JSON, same port):
 * - `POST /_emulator/limits` `{enabled?, perUser?, perProject?, windowSeconds?, projectStatus?}`:
 *   relax or tighten the quotas (`{enabled:false}` turns them off, for benchmarks and the demo);
 *   answers the limits in force. The seed may carry the same object as `limits`. Reset restores them.
 * - `POST /_emulator/expire-sync-tokens`: every sync token answers 410 `fullSyncRequired` from now on
 *   (they also expire 24 h after issue on the emulator clock).
 * - `POST /_emulator/delete-calendar` `{id}`: removes a calendar; watchers get `not_exists`.
 * Seed: `{users: [{email, isAdmin?}], calendars: [{id, owner, summary?, timeZone?}],
 *   events: [{calendarId, ...Event}], resources: [{resourceId, resourceEmail, resourceName, capacity?}],
 *   limits?}`. Every user gets a primary calendar whose id is the user's e-mail.
 * State adds `subjects` (the `sub` claims tokens were issued for), `notifications` (deliveries) and
 * `quotaRejections` (requests and batch parts refused for quota).
 */
import { type EmRequest, type EmResponse, Router, startServer } from '../../emulator/index.ts';
import { authenticate, tokenEndpoint } from './auth.ts';
import { batch } from './batch.ts';
import { type Ctx, calendarFor, newId, save } from './calendar.ts';
import { directory } from './directory.ts';
import { notFound } from './errors.ts';
import { get, importEvent, insert, instances, modify, remove } from './events.ts';
import { list } from './list.ts';
import { SlidingWindows, takeQuota } from './quota.ts';
import { GoogleState, type Json } from './state.ts';
import { checkEvent } from './validate.ts';
import { type Delivery, deliverer, notifyChanged, stop, watch } from './watch.ts';

export interface GoogleEmulatorOptions {
  port?: number;
  host?: string;
  seed?: object;
}

export async function startGoogleEmulator(
  options: GoogleEmulatorOptions = {},
): Promise<{ url: string; close(): Promise<void> }> {
  let url = '';
  const selfUrl = () => url;
  const { Clock } = await import('../../emulator/index.ts');
  const clock = new Clock();
  const state = new GoogleState(clock);
  const windows = new SlidingWindows();
  const deliveries: Delivery[] = [];
  const deliver = deliverer(state, selfUrl, deliveries);
  const ctx: Ctx = { state, selfUrl, changed: (cal) => notifyChanged(state, cal, deliver) };

  type Op = (who: ReturnType<typeof authenticate>, req: EmRequest) => EmResponse | Promise<EmResponse>;
  const api = (scope: string, write: boolean, op: Op) => (req: EmRequest) => {
    const who = authenticate(state, req, scope, write);
    takeQuota(state, windows, who, req);
    return op(who, req);
  };
  const cal = (write: boolean, op: Op) => api('calendar', write, op);
  const E = '/calendar/v3/calendars/:calendarId/events';
  const calendarRoutes = new Router()
    .on(
      'GET',
      '/calendar/v3/users/me/calendarList',
      cal(false, (who) => calendarList(state, who.sub)),
    )
    .on(
      'GET',
      '/calendar/v3/calendars/:calendarId',
      cal(false, (who, req) => calendarGet(ctx, who, req)),
    )
    .on(
      'GET',
      E,
      cal(false, (who, req) => list(ctx, who, req)),
    )
    .on(
      'POST',
      E,
      cal(true, (who, req) => insert(ctx, who, req)),
    )
    .on(
      'POST',
      `${E}/import`,
      cal(true, (who, req) => importEvent(ctx, who, req)),
    )
    .on(
      'POST',
      `${E}/watch`,
      cal(false, (who, req) => watch(ctx, who, req, deliver)),
    )
    .on(
      'GET',
      `${E}/:eventId/instances`,
      cal(false, (who, req) => instances(ctx, who, req)),
    )
    .on(
      'GET',
      `${E}/:eventId`,
      cal(false, (who, req) => get(ctx, who, req)),
    )
    .on(
      'PATCH',
      `${E}/:eventId`,
      cal(true, (who, req) => modify(ctx, who, req, 'patch')),
    )
    .on(
      'PUT',
      `${E}/:eventId`,
      cal(true, (who, req) => modify(ctx, who, req, 'update')),
    )
    .on(
      'DELETE',
      `${E}/:eventId`,
      cal(true, (who, req) => remove(ctx, who, req)),
    )
    .on(
      'POST',
      '/calendar/v3/channels/stop',
      cal(false, (who, req) => stop(ctx, who, req)),
    );
  const dispatch = async (req: EmRequest) => (await calendarRoutes.handle(req)) ?? notFound();
  const router = new Router()
    .on('POST', '/token', tokenEndpoint(state, selfUrl))
    .on('POST', '/batch/calendar/v3', async (req) => ({
      ...(await batch(req, dispatch, clock.now())),
      // the parts name the calendar `primary`: the log says whose it is (for timelines per user)
      who: state.tokens.get(/^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''))?.[1] ?? '')
        ?.sub,
    }))
    .on(
      'GET',
      '/admin/directory/v1/customer/:customer/resources/calendars',
      api('admin.directory.resource.calendar', false, (who, req) => directory(state, who, req)),
    );

  const running = await startServer(
    {
      reset: () => {
        state.reset();
        windows.clear();
        deliveries.length = 0;
      },
      seed: (body) => seed(ctx, body),
      state: () => ({
        users: [...state.users.values()],
        calendars: [...state.calendars.values()].map(({ id, owner, summary, timeZone }) => ({
          id,
          owner,
          summary,
          timeZone,
        })),
        events: [...state.calendars.values()].flatMap((c) =>
          [...c.events.values()].map((s) => ({ calendarId: c.id, ...s.ev })),
        ),
        resources: state.resources,
        channels: [...state.channels.values()],
        subjects: state.subjects,
        notifications: deliveries,
        quotaRejections: state.quotaRejections,
        limits: { ...state.limits, windowSeconds: state.limits.windowMs / 1000 },
      }),
      control: {
        limits: (req) => {
          setLimits(state, req.json());
          windows.clear();
          return { status: 200, body: { ...state.limits, windowSeconds: state.limits.windowMs / 1000 } };
        },
        'expire-sync-tokens': () => {
          state.syncTokens.clear();
          return { status: 200, body: { ok: true } };
        },
        'delete-calendar': (req) => {
          const c = state.calendars.get(String(req.json().id));
          if (!c) return { status: 404, body: { error: 'no such calendar' } };
          state.calendars.delete(c.id);
          notifyChanged(state, c, deliver, true);
          return { status: 200, body: { ok: true } };
        },
      },
      handle: async (req) => {
        if (req.path.startsWith('/calendar/v3/')) return calendarRoutes.handle(req);
        return router.handle(req);
      },
    },
    { port: options.port, host: options.host, clock },
  );
  url = running.url;
  if (options.seed) seed(ctx, options.seed);
  return { url: running.url, close: running.close };
}

function setLimits(state: GoogleState, body: Json) {
  const l = state.limits;
  if (typeof body.enabled === 'boolean') l.enabled = body.enabled;
  if (Number(body.perUser) > 0) l.perUser = Number(body.perUser);
  if (Number(body.perProject) > 0) l.perProject = Number(body.perProject);
  if (Number(body.windowSeconds) > 0) l.windowMs = Number(body.windowSeconds) * 1000;
  if (body.projectStatus === 403 || body.projectStatus === 429) l.projectStatus = body.projectStatus;
}

function seed(ctx: Ctx, body: Json) {
  const { state } = ctx;
  for (const u of body.users ?? []) state.addUser(u.email, u.isAdmin);
  for (const c of body.calendars ?? []) state.addCalendar(c);
  for (const r of body.resources ?? []) {
    state.resources.push({
      kind: 'admin#directory#resources#calendars#CalendarResource',
      resourceCategory: 'CONFERENCE_ROOM',
      generatedResourceName: r.resourceName,
      ...r,
    });
    state.addCalendar({ id: r.resourceEmail, owner: r.resourceEmail, summary: r.resourceName });
  }
  for (const e of body.events ?? []) {
    const { calendarId, ...raw } = e;
    const c = state.calendars.get(calendarId) ?? state.addCalendar({ id: calendarId, owner: calendarId });
    let ev: Json = raw;
    try {
      ev = checkEvent(raw, c.timeZone);
    } catch {
      // Seeds are trusted to be in the API's shape; keep what does not validate as it is.
    }
    const id = ev.id ?? newId();
    save(ctx, c, {
      kind: 'calendar#event',
      status: 'confirmed',
      created: state.nowIso(),
      iCalUID: `${id}@google.com`,
      sequence: 0,
      organizer: { email: c.owner, self: true },
      reminders: { useDefault: true },
      eventType: 'default',
      ...ev,
      id,
    });
  }
  if (body.limits) setLimits(state, body.limits);
}

function calendarList(state: GoogleState, sub: string): EmResponse {
  const items = [...state.calendars.values()]
    .filter((c) => c.owner.toLowerCase() === sub.toLowerCase())
    .map((c) => ({
      kind: 'calendar#calendarListEntry',
      etag: `"${c.id.length}"`,
      id: c.id,
      summary: c.summary,
      timeZone: c.timeZone,
      accessRole: 'owner',
      primary: c.id === sub || undefined,
      defaultReminders: [],
    }));
  return { status: 200, body: { kind: 'calendar#calendarList', etag: '"p1"', items } };
}

function calendarGet(
  ctx: Ctx,
  who: { sub: string; scopes: string[]; project: string },
  req: EmRequest,
): EmResponse {
  const c = calendarFor(ctx, who, req.params.calendarId);
  return {
    status: 200,
    body: { kind: 'calendar#calendar', etag: '"c1"', id: c.id, summary: c.summary, timeZone: c.timeZone },
  };
}
