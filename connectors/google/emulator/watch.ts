/** events.watch, channels.stop, and the push notifications they cause. */
import type { EmRequest, EmResponse } from '../../emulator/index.ts';
import type { Principal } from './auth.ts';
import { type Ctx, calendarFor, resourceIdOf } from './calendar.ts';
import { badRequest, gfail, notFound } from './errors.ts';
import type { Calendar, Channel, GoogleState } from './state.ts';

/** Default channel lifetime when the request gives no ttl (watch reference). */
const DEFAULT_TTL_S = 604_800;

export interface Delivery {
  channelId: string;
  state: 'sync' | 'exists' | 'not_exists';
  messageNumber: number;
  status: number;
}

const isLoopback = (host: string) => ['127.0.0.1', 'localhost', '[::1]'].includes(host);

export function watch(ctx: Ctx, who: Principal, req: EmRequest, deliver: Deliver): EmResponse {
  const cal = calendarFor(ctx, who, req.params.calendarId);
  const body = req.json();
  if (typeof body.id !== 'string' || !/^[A-Za-z0-9\-_+/=]{1,64}$/.test(body.id)) {
    return badRequest('Invalid channel id.', 'invalid', 'id');
  }
  if (body.type !== 'web_hook' && body.type !== 'webhook')
    return badRequest('Invalid channel type.', 'invalid', 'type');
  let address: URL;
  try {
    address = new URL(String(body.address));
  } catch {
    return badRequest('Invalid channel address.', 'invalid', 'address');
  }
  // Google requires HTTPS; plain HTTP is accepted only for loopback receivers (tests, demo).
  if (address.protocol !== 'https:' && !(address.protocol === 'http:' && isLoopback(address.hostname))) {
    return gfail(400, 'push.webhookUrlNotHttps', 'WebHook callback must be HTTPS: ' + body.address);
  }
  if (body.token !== undefined && String(body.token).length > 256)
    return badRequest('Channel token too long.');
  if (ctx.state.channels.has(body.id))
    return badRequest(`Channel id ${body.id} not unique`, 'channelIdNotUnique');
  const now = ctx.state.clock.now();
  const ttl = Number(body.params?.ttl ?? DEFAULT_TTL_S);
  let expiration = now + ttl * 1000;
  if (body.expiration !== undefined) expiration = Math.min(expiration, Number(body.expiration));
  const channel: Channel = {
    id: body.id,
    resourceId: resourceIdOf(cal.id),
    calendarId: cal.id,
    address: address.toString(),
    token: body.token,
    expiration,
    messageNumber: 0,
    owner: who.sub,
  };
  ctx.state.channels.set(channel.id, channel);
  deliver(channel, 'sync');
  return {
    status: 200,
    body: {
      kind: 'api#channel',
      id: channel.id,
      resourceId: channel.resourceId,
      resourceUri: resourceUri(ctx, cal.id),
      token: channel.token,
      expiration: String(expiration),
    },
  };
}

export function stop(ctx: Ctx, who: Principal, req: EmRequest): EmResponse {
  const body = req.json();
  const channel = ctx.state.channels.get(String(body.id));
  if (!channel || channel.resourceId !== body.resourceId || channel.owner !== who.sub) return notFound();
  ctx.state.channels.delete(channel.id);
  return { status: 204 };
}

const resourceUri = (ctx: Ctx, calId: string) =>
  `${ctx.selfUrl()}/calendar/v3/calendars/${encodeURIComponent(calId)}/events?alt=json`;

export type Deliver = (channel: Channel, state: Delivery['state']) => void;

/** Posts notifications (no body) to channel addresses; keeps a log of what was delivered. */
export function deliverer(state: GoogleState, selfUrl: () => string, log: Delivery[]): Deliver {
  return (channel, resourceState) => {
    if (channel.expiration <= state.clock.now()) {
      state.channels.delete(channel.id);
      return;
    }
    channel.messageNumber += 1;
    const number = channel.messageNumber;
    const headers: Record<string, string> = {
      'X-Goog-Channel-ID': channel.id,
      'X-Goog-Channel-Expiration': new Date(channel.expiration).toUTCString(),
      'X-Goog-Message-Number': String(number),
      'X-Goog-Resource-ID': channel.resourceId,
      'X-Goog-Resource-State': resourceState,
      'X-Goog-Resource-URI': `${selfUrl()}/calendar/v3/calendars/${encodeURIComponent(channel.calendarId)}/events?alt=json`,
    };
    if (channel.token !== undefined) headers['X-Goog-Channel-Token'] = channel.token;
    // Fire and forget, one attempt (retries to receivers are not documented).
    fetch(channel.address, { method: 'POST', headers, signal: AbortSignal.timeout(5000) })
      .then((r) => {
        log.push({ channelId: channel.id, state: resourceState, messageNumber: number, status: r.status });
        return r.body?.cancel();
      })
      .catch(() =>
        log.push({ channelId: channel.id, state: resourceState, messageNumber: number, status: 0 }),
      );
  };
}

export function notifyChanged(state: GoogleState, cal: Calendar, deliver: Deliver, gone = false) {
  for (const ch of state.channels.values()) {
    if (ch.calendarId === cal.id) deliver(ch, gone ? 'not_exists' : 'exists');
  }
}
