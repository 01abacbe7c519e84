/** Seeding in Graph's own JSON shape (EMULATORS.md). */
import { applyBody, newEventData, resolveTimes, WRITABLE } from './eventio.ts';
import { newChangeKey, newId, type Store, type StoredEvent } from './model.ts';
import { addRoomMailboxes } from './rooms.ts';

/** What a seeded event may carry as is: the writable properties, less start/end (converted below). */
const WRITABLE_SEED = [...WRITABLE].filter((k) => k !== 'start' && k !== 'end');

/** Seeds the store; answers the events seeded (their rooms answer them afterwards). */
export function seedStore(store: Store, body: any, nowMs: number): StoredEvent[] {
  for (const t of body?.tenants ?? []) store.tenants.set(t.tenant_id, { ...t });
  for (const u of body?.users ?? []) {
    store.users = store.users.filter((x) => x.id !== u.id);
    store.users.push({ ...u, mail: u.mail ?? u.userPrincipalName });
  }
  for (const c of body?.calendars ?? []) {
    store.calendars = store.calendars.filter((x) => !(x.userId === c.userId && x.id === c.id));
    if (c.isDefaultCalendar) {
      // A seeded default replaces an implicit one.
      store.calendars = store.calendars.filter((x) => !(x.userId === c.userId && x.isDefaultCalendar));
    }
    store.calendars.push({ ...c, changeKey: c.changeKey ?? newChangeKey() });
  }
  for (const r of body?.rooms ?? []) store.rooms.push({ ...r });
  addRoomMailboxes(store);
  return (body?.events ?? []).map((e: any) => seedEvent(store, e, nowMs));
}

function seedEvent(store: Store, e: any, nowMs: number): StoredEvent {
  const user = store.user(e.userId);
  if (!user) throw new Error(`seed event for unknown user ${e.userId}`);
  const cal = e.calendarId ? store.calendar(user.id, e.calendarId) : store.defaultCalendar(user.id);
  if (!cal) throw new Error(`seed event for unknown calendar ${e.calendarId}`);
  const id = e.id ?? newId();
  const ev: StoredEvent = {
    userId: user.id,
    calendarId: cal.id,
    id,
    data: newEventData(user, id, nowMs),
    ...resolveTimes(e),
    props: new Map(),
    seq: 0,
    createdMs: nowMs,
    cancelled: new Set(),
  };
  const body = Object.fromEntries(Object.entries(e).filter(([k]) => WRITABLE_SEED.includes(k)));
  applyBody(ev, body, nowMs);
  if (e.changeKey) ev.data.changeKey = e.changeKey;
  if (e.iCalUId) ev.data.iCalUId = e.iCalUId;
  // An invitation in the mailbox: someone else organizes it, and the mailbox answered (or not).
  if (e.isOrganizer === false) {
    ev.data.isOrganizer = false;
    ev.data.responseStatus = e.responseStatus ?? { response: 'notResponded', time: '0001-01-01T00:00:00Z' };
    if (e.organizer) ev.data.organizer = e.organizer;
  }
  ev.data.type = e.recurrence ? 'seriesMaster' : 'singleInstance';
  store.events.set(id, ev);
  ev.seq = store.change(ev);
  return ev;
}
