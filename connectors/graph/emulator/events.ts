/** Event CRUD: create (with transactionId de-duplication), read, update and delete with If-Match. */
import type { Clock, EmRequest, EmResponse } from '../../emulator/index.ts';
import { utcToLocal } from '../time.ts';
import { gfail, invalid, notFound } from './errors.ts';
import { applyBody, checkBody, newEventData, render, resolveTimes } from './eventio.ts';
import { exceptionsOf, findEvent, parseOccurrenceId } from './instances.ts';
import {
  type Calendar,
  cloneEvent,
  newChangeKey,
  newId,
  type Store,
  type StoredEvent,
  type User,
} from './model.ts';
import { renderOptions } from './query.ts';
import { reflectRooms } from './rooms.ts';

export type ChangeType = 'created' | 'updated' | 'deleted';

export interface EventsContext {
  store: Store;
  clock: Clock;
  /** How long a transactionId de-duplicates creates (ms of emulator time). */
  transactionWindowMs: () => number;
  notify(userId: string, calendarId: string, id: string, changeType: ChangeType, changeKey?: string): void;
}

const etagOf = (ev: StoredEvent) => `W/"${ev.data.changeKey}"`;

/** If-Match against the current changeKey: `*`, `W/"key"`, `"key"` or the bare key. 412 when stale. */
function checkIfMatch(req: EmRequest, ev: StoredEvent) {
  const h = req.headers['if-match'];
  if (h === undefined) return;
  const wanted = String(h).trim();
  if (wanted === '*') return;
  const bare = wanted.replace(/^W\//, '').replace(/^"|"$/g, '');
  if (bare !== ev.data.changeKey) {
    gfail(
      412,
      'ErrorIrresolvableConflict',
      'The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.',
    );
  }
}

export function createEvent(ctx: EventsContext, req: EmRequest, user: User, cal: Calendar): EmResponse {
  const { store, clock } = ctx;
  const body = req.json();
  checkBody(body, true);
  const now = clock.now();
  if (typeof body.transactionId === 'string' && body.transactionId) {
    const seen = store.transactions.get(`${user.id}|${body.transactionId}`);
    const existing = seen && store.events.get(seen.id);
    // A retried POST inside the window returns the event it already created (201, same id), no duplicate.
    // The reply to a duplicate is unconfirmed in the docs; this is the reading that "avoids redundant POSTs".
    if (seen && existing && now - seen.atMs <= ctx.transactionWindowMs()) {
      return { status: 201, body: render(existing, renderOptions(req)) };
    }
  }
  if (body.start === undefined || body.end === undefined) invalid('An event needs start and end.');
  const id = newId();
  const ev: StoredEvent = {
    userId: user.id,
    calendarId: cal.id,
    id,
    data: newEventData(user, id, now),
    ...resolveTimes(body),
    props: new Map(),
    seq: 0,
    createdMs: now,
    cancelled: new Set(),
  };
  applyBody(ev, body, now);
  ev.data.type = body.recurrence ? 'seriesMaster' : 'singleInstance';
  if (!body.recurrence) ev.data.recurrence = null;
  store.events.set(id, ev);
  if (body.transactionId) store.transactions.set(`${user.id}|${body.transactionId}`, { id, atMs: now });
  ev.seq = store.change(ev);
  ctx.notify(user.id, cal.id, id, 'created', ev.data.changeKey);
  reflectRooms(ctx, user.id, id);
  return { status: 201, body: render(ev, renderOptions(req)), headers: { ETag: etagOf(ev) } };
}

export function getEvent(ctx: EventsContext, req: EmRequest, user: User, id: string): EmResponse {
  const ev = findEvent(ctx.store, user.id, id) ?? notFound();
  return { status: 200, body: render(ev, renderOptions(req)) };
}

const ownTime = (ms: number, zone: string, name: string) => ({
  dateTime: utcToLocal(ms, zone),
  timeZone: name,
});

export function updateEvent(ctx: EventsContext, req: EmRequest, user: User, id: string): EmResponse {
  const { store, clock } = ctx;
  let ev = findEvent(store, user.id, id) ?? notFound();
  checkIfMatch(req, ev);
  const body = req.json();
  checkBody(body, false);
  const type = ev.data.type;
  if (body.recurrence && (type === 'occurrence' || type === 'exception')) {
    invalid('The recurrence of an occurrence or exception cannot be set.');
  }
  if (body.recurrence && type === 'singleInstance') ev.data.type = 'seriesMaster';
  const before = store.events.has(ev.id) ? cloneEvent(ev) : undefined;
  const timesChanged = body.start !== undefined || body.end !== undefined || body.isAllDay !== undefined;
  if (timesChanged) {
    const merged = {
      isAllDay: body.isAllDay ?? ev.allDay,
      start: body.start ?? ownTime(ev.startMs, ev.startZone, ev.startName),
      end: body.end ?? ownTime(ev.endMs, ev.endZone, ev.endName),
    };
    Object.assign(ev, resolveTimes(merged));
  }
  if (type === 'occurrence') {
    // Editing an occurrence stores it as an exception with the same id.
    ev = { ...ev, data: { ...ev.data, type: 'exception' } };
    store.events.set(ev.id, ev);
  }
  applyBody(ev, body, clock.now());
  if (body.recurrence === null && type === 'seriesMaster') ev.data.type = 'singleInstance';
  if (type === 'seriesMaster' && (timesChanged || body.recurrence !== undefined)) {
    // What happens to exceptions when the series changes is unconfirmed; the stricter reading: they go.
    for (const x of exceptionsOf(store, ev.id)) store.events.delete(x.id);
    ev.cancelled.clear();
  }
  ev.seq = store.change(ev, before);
  ctx.notify(user.id, ev.calendarId, ev.id, 'updated', ev.data.changeKey);
  reflectRooms(ctx, user.id, ev.seriesMasterId ?? ev.id);
  return { status: 200, body: render(ev, renderOptions(req)), headers: { ETag: etagOf(ev) } };
}

export function deleteEvent(
  ctx: EventsContext,
  req: EmRequest,
  user: User,
  id: string,
  status = 204,
): EmResponse {
  const { store } = ctx;
  const ev = findEvent(store, user.id, id) ?? notFound();
  checkIfMatch(req, ev);
  const type = ev.data.type;
  if (type === 'occurrence' || type === 'exception') {
    const master = store.events.get(ev.seriesMasterId!) ?? notFound();
    master.cancelled.add(ev.originalStartMs ?? parseOccurrenceId(ev.id)!.originalStartMs);
    master.data.changeKey = newChangeKey();
    store.events.delete(ev.id);
    store.change(ev, undefined, [ev.id]);
  } else {
    const removed = exceptionsOf(store, ev.id).map((x) => x.id);
    for (const x of removed) store.events.delete(x);
    store.events.delete(ev.id);
    store.change(ev, cloneEvent(ev), [ev.id, ...removed]);
  }
  ctx.notify(user.id, ev.calendarId, ev.id, 'deleted');
  reflectRooms(ctx, user.id, ev.seriesMasterId ?? ev.id);
  return { status, body: undefined };
}

const RESPONSES: Record<string, string> = {
  accept: 'accepted',
  decline: 'declined',
  tentativelyAccept: 'tentativelyAccepted',
};

/**
 * `POST .../events/{id}/accept|decline|tentativelyAccept` `{comment?, sendResponse?}`: the mailbox
 * answers an invitation; 202 with no body. The organizer's own event cannot be answered (400). An
 * occurrence answered becomes an exception. A declined meeting stays on the calendar, answered
 * `declined` (whether Exchange moves it to Deleted Items is a mailbox setting the docs leave out).
 */
export function respondEvent(
  ctx: EventsContext,
  req: EmRequest,
  user: User,
  id: string,
  action: string,
): EmResponse {
  const { store, clock } = ctx;
  let ev = findEvent(store, user.id, id) ?? notFound();
  const body = req.json();
  if (body.sendResponse !== undefined && typeof body.sendResponse !== 'boolean') {
    invalid('sendResponse must be a boolean.');
  }
  const organizer = (store.events.get(ev.seriesMasterId ?? '') ?? ev).data.isOrganizer !== false;
  if (organizer) {
    gfail(
      400,
      'ErrorInvalidRequest',
      "You can't respond to this meeting because you're the meeting organizer.",
    );
  }
  const before = store.events.has(ev.id) ? cloneEvent(ev) : undefined;
  if (ev.data.type === 'occurrence') {
    ev = { ...ev, data: { ...ev.data, type: 'exception' } };
    store.events.set(ev.id, ev);
  }
  ev.data.responseStatus = { response: RESPONSES[action], time: new Date(clock.now()).toISOString() };
  ev.data.changeKey = newChangeKey();
  ev.data.lastModifiedDateTime = new Date(clock.now()).toISOString();
  ev.seq = store.change(ev, before);
  ctx.notify(user.id, ev.calendarId, ev.id, 'updated', ev.data.changeKey);
  return { status: 202, body: undefined };
}
