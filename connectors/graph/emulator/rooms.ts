/**
 * Room mailboxes. Exchange's behaviour, as far as Feisync relies on it (reference notes §2.13):
 * - A seeded room (`/places/microsoft.graph.room`) is also a mailbox: `/users/{room}/events`,
 *   `/calendarView` and `/calendar/events` work on it with application permissions.
 * - An attendee `{type: "resource"}` whose address is a room mailbox books it: the room's calendar
 *   gets its own copy of the meeting (its own id, the same iCalUId) and the room answers in the
 *   organizer's `attendees[].status.response`: `accepted` when free, `declined` when something on
 *   its calendar overlaps (the resource booking assistant's default, conflicts not allowed).
 *   Exchange answers asynchronously; the emulator at once.
 * - A declined meeting is not kept on the room's calendar (the assistant removes what it declines:
 *   the stricter reading, the room's calendar shows only what it holds).
 * - A series is declined whole when any of its occurrences collides; a moved occurrence is answered
 *   on its own, and a declined one is missing from the room's copy of the series.
 * - The room keeps its answer while the item's time stays; a new time is answered again.
 * - Items created straight in the room mailbox (the room is their organizer) hold it, unchecked.
 * - Extended properties of the organizer's item are not on the room's copy (they are not sent).
 */
import type { EventsContext } from './events.ts';
import { exceptionsOf, occurrenceId, seriesInstances, viewInstances } from './instances.ts';
import { type Calendar, newChangeKey, newId, type Store, type StoredEvent, type User } from './model.ts';

const HORIZON_MS = 2 * 365 * 86_400_000;
const lower = (s: unknown) => String(s ?? '').toLowerCase();

export const isRoomMailbox = (store: Store, user: User) =>
  store.rooms.some((r) => lower(r.emailAddress) === lower(user.mail));

/** Seeded rooms are mailboxes too (addressable as users, unless a user was seeded with that address). */
export function addRoomMailboxes(store: Store) {
  for (const r of store.rooms) {
    if (store.user(r.emailAddress)) continue;
    store.roomUsers.push({
      id: `room-${lower(r.emailAddress).replace(/[^a-z0-9]/g, '')}`,
      userPrincipalName: r.emailAddress,
      mail: r.emailAddress,
      displayName: r.displayName,
    });
  }
}

function roomsOf(store: Store, ev: StoredEvent): User[] {
  return (ev.data.attendees ?? [])
    .filter((a: any) => a.type === 'resource')
    .map((a: any) => store.user(a.emailAddress?.address ?? ''))
    .filter((u: User | undefined): u is User => !!u && isRoomMailbox(store, u));
}

const attends = (ev: StoredEvent, room: User) =>
  (ev.data.attendees ?? []).some(
    (a: any) => a.type === 'resource' && lower(a.emailAddress?.address) === lower(room.mail),
  );

const signature = (ev: StoredEvent) =>
  JSON.stringify([ev.startMs, ev.endMs, ev.allDay, ev.data.recurrence ?? null]);

/** The intervals an item takes: a master its plain occurrences, anything else itself. */
function spans(store: Store, ev: StoredEvent, nowMs: number): { start: number; end: number }[] {
  if (ev.data.type !== 'seriesMaster') return [{ start: ev.startMs, end: ev.endMs }];
  const to = Math.max(nowMs, ev.startMs) + HORIZON_MS;
  return seriesInstances(store, ev, ev.startMs, to)
    .filter((o) => o.data.type === 'occurrence')
    .map((o) => ({ start: o.startMs, end: o.endMs }));
}

function busy(store: Store, item: StoredEvent, room: User, cal: Calendar, own: Set<string>, now: number) {
  const mine = spans(store, item, now);
  if (mine.length === 0) return false;
  const from = Math.min(...mine.map((m) => m.start));
  const to = Math.max(...mine.map((m) => m.end));
  return viewInstances(store, room.id, cal.id, from, to).some(
    (o) =>
      !own.has(o.id) &&
      !own.has(o.seriesMasterId ?? '') &&
      o.data.showAs !== 'free' &&
      !o.data.isCancelled &&
      mine.some((m) => m.start < o.endMs && o.startMs < m.end),
  );
}

function setAnswer(ev: StoredEvent, room: User, response: string, nowMs: number) {
  ev.data.attendees = ev.data.attendees.map((a: any) =>
    a.type === 'resource' && lower(a.emailAddress?.address) === lower(room.mail)
      ? { ...a, status: { response, time: new Date(nowMs).toISOString() } }
      : a,
  );
}

/** The room's copy of an organizer's item. */
function copyOf(src: StoredEvent, room: User, cal: Calendar, id: string, nowMs: number): StoredEvent {
  const data = structuredClone(src.data);
  Object.assign(data, {
    id,
    changeKey: newChangeKey(),
    lastModifiedDateTime: new Date(nowMs).toISOString(),
    isOrganizer: false,
    responseStatus: { response: 'accepted', time: new Date(nowMs).toISOString() },
  });
  delete data.transactionId;
  return {
    ...src,
    userId: room.id,
    calendarId: cal.id,
    id,
    data,
    props: new Map(),
    cancelled: new Set(src.cancelled),
    seq: 0,
  };
}

/**
 * After an organizer's item changed (created, updated, deleted; `rootId` is the single event or the
 * series master): the rooms among its attendees answer, and their calendars are brought in line.
 */
export function reflectRooms(ctx: EventsContext, userId: string, rootId: string) {
  const { store } = ctx;
  const owner = store.user(userId);
  if (!owner || isRoomMailbox(store, owner)) return;
  const now = ctx.clock.now();
  const root = store.events.get(rootId);
  const live = root && root.userId === userId && !root.seriesMasterId ? root : undefined;
  const items = live ? [live, ...exceptionsOf(store, live.id)] : [];
  const ours = (key: string) => key.startsWith(`${rootId}|`) || key.startsWith(`${rootId}_`);
  const rooms = new Map<string, User>();
  for (const item of items) for (const r of roomsOf(store, item)) rooms.set(r.id, r);
  for (const key of store.roomCopies.keys()) {
    const u = ours(key) ? store.user(key.split('|')[1]) : undefined;
    if (u) rooms.set(u.id, u);
  }
  for (const room of rooms.values()) {
    const cal = store.defaultCalendar(room.id);
    const keys = [...store.roomCopies.keys()].filter((k) => ours(k) && k.endsWith(`|${room.id}`));
    const before = new Map(keys.map((k) => [k.split('|')[0], store.roomCopies.get(k)!]));
    const own = new Set(before.values());
    const answers = new Map<string, string>();
    for (const item of items.filter((i) => attends(i, room))) {
      const key = `${item.id}|${room.id}`;
      const kept = store.roomAnswers.get(key);
      const answer =
        kept && kept.signature === signature(item)
          ? kept.answer
          : busy(store, item, room, cal, own, now)
            ? 'declined'
            : 'accepted';
      store.roomAnswers.set(key, { signature: signature(item), answer });
      setAnswer(item, room, answer, now);
      answers.set(item.id, answer);
    }
    const after = new Map<string, string>();
    const put = (src: StoredEvent, id: string, extra: Partial<StoredEvent> = {}) => {
      const copy = Object.assign(copyOf(src, room, cal, id, now), extra);
      const existed = store.events.has(id);
      store.events.set(id, copy);
      copy.seq = store.change(copy);
      ctx.notify(room.id, cal.id, id, existed ? 'updated' : 'created', copy.data.changeKey);
    };
    const master = live && answers.get(live.id) === 'accepted' ? live : undefined;
    if (master) {
      const id = before.get(master.id) ?? newId();
      after.set(master.id, id);
      const declined = items.filter((x) => x !== master && answers.get(x.id) !== 'accepted');
      put(master, id, {
        cancelled: new Set([...master.cancelled, ...declined.map((x) => x.originalStartMs!)]),
      });
    }
    for (const x of items.filter((i) => i !== live && answers.get(i.id) === 'accepted')) {
      if (master) {
        const id = occurrenceId(after.get(master.id)!, x.originalStartMs!);
        after.set(x.id, id);
        put(x, id, { seriesMasterId: after.get(master.id) });
      } else {
        // The series is not on the room's calendar: the occurrence it holds stands alone.
        const id = before.get(x.id) ?? newId();
        after.set(x.id, id);
        put(x, id, { seriesMasterId: undefined, originalStartMs: undefined });
        store.events.get(id)!.data.type = 'singleInstance';
      }
    }
    for (const [item, id] of before) {
      if (after.get(item) === id || !store.events.has(id)) continue;
      const gone = store.events.get(id)!;
      store.events.delete(id);
      store.change(gone, undefined, [id]);
      ctx.notify(room.id, cal.id, id, 'deleted');
    }
    for (const k of keys) store.roomCopies.delete(k);
    for (const [item, id] of after) store.roomCopies.set(`${item}|${room.id}`, id);
    for (const k of [...store.roomAnswers.keys()]) {
      if (ours(k) && k.endsWith(`|${room.id}`) && !answers.has(k.split('|')[0])) store.roomAnswers.delete(k);
    }
  }
}
