/**
 * Microsoft Graph emulator (calendar subset), per ../../../shared/design/EMULATORS.md.
 *
 * Serves `/{tenant}/oauth2/v2.0/token` (client credentials) and `/v1.0/...`: users' calendars,
 * events CRUD (transactionId, If-Match/changeKey, time zones, isAllDay, series, exceptions,
 * extended properties), answers to invitations (accept, decline, tentativelyAccept), calendarView,
 * instances, calendarView/delta, `$batch`, subscriptions with change notifications (lifecycle ones
 * included), and `/places/microsoft.graph.room`. Seeded rooms are mailboxes too, which
 * book, answer and show the meetings that name them as resource attendees (rooms.ts).
 *
 * Control calls besides the shared ones (reset, seed, state, requests, faults, clock):
 * - `POST /_emulator/limits` `{enabled?, perTenMinutes?, concurrency?, latencyMs?, transactionWindowSeconds?}`
 *   changes the mailbox limits and answers `{limits, peakConcurrency: {mailbox: n}, throttled}`
 *   (`{}` just reads them). Defaults: enabled, 10,000 requests per 10 minutes and 4 concurrent
 *   requests per mailbox, latencyMs 0 (how long a request holds its mailbox slot; raise it to make
 *   concurrency observable), transactionId de-duplication window 3,600 s. `{enabled: false}` turns
 *   throttling off for benchmarks and demos. `reset` restores the defaults. The seed may carry
 *   `limits` too.
 * - `POST /_emulator/lifecycle` `{subscriptionId, lifecycleEvent}` sends a lifecycle notification
 *   (`reauthorizationRequired`, `subscriptionRemoved`, which also deletes the subscription, or
 *   `missed`) to the subscription's `lifecycleNotificationUrl` (subscriptions.ts). Subscriptions
 *   expire on the emulator clock (`/_emulator/clock`): an expired one gets no more deliveries and
 *   reads as not found. `POST /v1.0/subscriptions/{id}/reauthorize` answers 204.
 * - `GET /_emulator/state` also lists `subscriptions` and `notifications` (delivery attempts).
 */
import { type Clock, type EmRequest, type EmResponse, HttpError, startServer } from '../../emulator/index.ts';
import { authenticate, DEFAULT_LIMITS, type Limits, Throttle, tokenEndpoint } from './auth.ts';
import { runBatch } from './batch.ts';
import { DeltaRounds } from './delta.ts';
import { gfail, notFound } from './errors.ts';
import { render } from './eventio.ts';
import {
  createEvent,
  deleteEvent,
  type EventsContext,
  getEvent,
  respondEvent,
  updateEvent,
} from './events.ts';
import { Store } from './model.ts';
import { reflectRooms } from './rooms.ts';
import { seedStore } from './seed.ts';
import { Subscriptions } from './subscriptions.ts';
import { calendarView, instances, listCalendars, listEvents, listRooms, renderCalendar } from './views.ts';

export interface GraphEmulatorOptions {
  port?: number;
  host?: string;
  seed?: object;
}

class GraphEmulator {
  store = new Store();
  throttle: Throttle;
  delta: DeltaRounds;
  subs: Subscriptions;
  transactionWindowS = 3600;
  events: EventsContext;

  constructor(readonly clock: Clock) {
    this.throttle = new Throttle(clock);
    this.delta = new DeltaRounds(this.store, clock);
    this.subs = new Subscriptions(this.store, clock);
    this.events = {
      store: this.store,
      clock,
      transactionWindowMs: () => this.transactionWindowS * 1000,
      notify: (u, c, id, t, k) => this.subs.notify(u, c, id, t, k),
    };
  }

  reset() {
    this.store.reset();
    this.throttle.reset();
    this.delta.reset();
    this.subs.reset();
    this.transactionWindowS = 3600;
  }

  seed(body: any) {
    for (const ev of seedStore(this.store, body, this.clock.now()))
      reflectRooms(this.events, ev.userId, ev.id);
    if (body?.limits) this.setLimits(body.limits);
  }

  setLimits(b: Partial<Limits> & { transactionWindowSeconds?: number }) {
    for (const k of Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]) {
      if (b[k] !== undefined) (this.throttle.limits as any)[k] = b[k];
    }
    if (b.transactionWindowSeconds !== undefined) this.transactionWindowS = b.transactionWindowSeconds;
    return { ...this.throttle.stats(), transactionWindowSeconds: this.transactionWindowS };
  }

  state() {
    const s = this.store;
    return {
      tenants: [...s.tenants.values()],
      users: s.users,
      calendars: s.calendars.map((c) => ({ userId: c.userId, ...renderCalendar(s, c) })),
      events: [...s.events.values()].map((e) => ({
        userId: e.userId,
        calendarId: e.calendarId,
        ...render(e, { expandProps: [...e.props.keys()] }),
        ...(e.cancelled.size > 0
          ? { cancelledOccurrences: [...e.cancelled].map((ms) => new Date(ms).toISOString()) }
          : {}),
      })),
      rooms: s.rooms,
      subscriptions: [...s.subscriptions.values()],
      notifications: this.subs.deliveries,
    };
  }

  async handle(req: EmRequest): Promise<EmResponse | undefined> {
    const token = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(req.path);
    if (token && req.method === 'POST') return tokenEndpoint(this.store, this.clock, token[1], req);
    if (!req.path.startsWith('/v1.0/')) return undefined;
    const auth = authenticate(this.store, this.clock, req);
    const rest = req.path.slice('/v1.0'.length);
    if (rest === '/$batch' && req.method === 'POST') {
      return runBatch(req, (reqs) => this.wave(reqs, auth));
    }
    return (await this.wave([req], auth))[0];
  }

  /** Requests that run at the same time: each takes its mailbox slot first, then all run. */
  private async wave(reqs: EmRequest[], auth: { tenantId: string; clientId: string }): Promise<EmResponse[]> {
    const releases: (() => void)[] = [];
    const slots = reqs.map((r) => {
      const u = /^\/v1\.0\/users\/([^/]+)/.exec(r.path)?.[1];
      const user = u ? this.store.user(u) : undefined;
      if (!user) return undefined;
      const got = this.throttle.acquire(user.id);
      if (typeof got === 'function') releases.push(got);
      return got;
    });
    try {
      if (this.throttle.limits.latencyMs > 0 && releases.length > 0) {
        await new Promise((r) => setTimeout(r, this.throttle.limits.latencyMs));
      }
      const out: EmResponse[] = [];
      for (const [i, r] of reqs.entries()) {
        const slot = slots[i];
        if (slot && typeof slot !== 'function') {
          out.push(slot);
          continue;
        }
        try {
          out.push(
            (await this.route(r, auth)) ??
              gfail(400, 'BadRequest', `Resource not found for the segment '${r.path}'.`),
          );
        } catch (e) {
          if (e instanceof HttpError) out.push(e.response);
          else throw e;
        }
      }
      return out;
    } finally {
      for (const release of releases) release();
    }
  }

  private async route(req: EmRequest, auth: { tenantId: string; clientId: string }) {
    const p = req.path.slice('/v1.0'.length);
    const m = req.method;
    if (p === '/places/microsoft.graph.room' && m === 'GET') return listRooms(this.store, req);
    const reauth = /^\/subscriptions\/([^/]+)\/reauthorize$/.exec(p);
    if (reauth && m === 'POST') return this.subs.reauthorize(decodeURIComponent(reauth[1]));
    const sub = /^\/subscriptions(?:\/([^/]+))?$/.exec(p);
    if (sub) {
      if (!sub[1] && m === 'POST') return this.subs.create(req, auth.tenantId, auth.clientId);
      if (!sub[1] && m === 'GET') return this.subs.list(req);
      if (sub[1] && m === 'GET') return this.subs.get(req, sub[1]);
      if (sub[1] && m === 'PATCH') return this.subs.renew(req, sub[1]);
      if (sub[1] && m === 'DELETE') return this.subs.remove(sub[1]);
      return undefined;
    }
    const um = /^\/users\/([^/]+)(\/.*)?$/.exec(p);
    if (!um) return undefined;
    const user =
      this.store.user(um[1]) ??
      gfail(404, 'ErrorInvalidUser', `The requested user '${decodeURIComponent(um[1])}' is invalid.`);
    const tail = um[2] ?? '';
    if (tail === '' && m === 'GET') return { status: 200, body: { ...user } };
    if (tail === '/calendars' && m === 'GET') return listCalendars(this.store, req, user);
    if (tail === '/calendarView/delta' && m === 'GET') return this.delta.handle(req, user);
    const cm = /^(?:\/calendar|\/calendars\/([^/]+))?(\/.*)?$/.exec(tail)!;
    const calId = cm[1] ? decodeURIComponent(cm[1]) : undefined;
    const cal = calId
      ? (this.store.calendar(user.id, calId) ?? notFound('The specified calendar was not found.'))
      : this.store.defaultCalendar(user.id);
    const rest = cm[2] ?? '';
    if (rest === '' && m === 'GET' && tail !== '')
      return { status: 200, body: renderCalendar(this.store, cal) };
    if (rest === '/events' && m === 'GET') return listEvents(this.store, req, user, cal);
    if (rest === '/events' && m === 'POST') return createEvent(this.events, req, user, cal);
    if (rest === '/calendarView' && m === 'GET') return calendarView(this.store, req, user, cal);
    const em = /^\/events\/([^/]+)(?:\/(instances|cancel|accept|decline|tentativelyAccept))?$/.exec(rest);
    if (!em) return undefined;
    const id = decodeURIComponent(em[1]);
    if (em[2] === 'instances' && m === 'GET') return instances(this.store, req, user, id);
    if (em[2] === 'cancel' && m === 'POST') return deleteEvent(this.events, req, user, id, 202);
    if (em[2] && em[2] !== 'instances' && em[2] !== 'cancel' && m === 'POST') {
      return respondEvent(this.events, req, user, id, em[2]);
    }
    if (em[2]) return undefined;
    if (m === 'GET') return getEvent(this.events, req, user, id);
    if (m === 'PATCH') return updateEvent(this.events, req, user, id);
    if (m === 'DELETE') return deleteEvent(this.events, req, user, id);
    return undefined;
  }
}

export async function startGraphEmulator(
  options: GraphEmulatorOptions = {},
): Promise<{ url: string; close(): Promise<void> }> {
  let em: GraphEmulator | undefined;
  const running = await startServer(
    {
      reset: () => em!.reset(),
      seed: (b) => em!.seed(b),
      state: () => em!.state(),
      control: {
        limits: (req) => ({ status: 200, body: em!.setLimits(req.json()) }),
        lifecycle: (req) => em!.subs.lifecycle(req.json()),
      },
      handle: (req) => em!.handle(req),
    },
    { port: options.port, host: options.host },
  );
  em = new GraphEmulator(running.clock);
  if (options.seed) em.seed(options.seed);
  return {
    url: running.url,
    close: async () => {
      em!.subs.closed = true;
      em!.subs.reset();
      await running.close();
    },
  };
}
