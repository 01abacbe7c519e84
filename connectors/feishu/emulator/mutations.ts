/** Event changes, shared by the API (create/patch/delete) and the control call `POST /_emulator/events`. */
import { randomUUID } from 'node:crypto';
import { badParam, type Ctx, ferr } from './auth.ts';
import type { Attendee, StoredEvent } from './store.ts';

const READ_ONLY = [
  'event_id',
  'organizer_calendar_id',
  'create_time',
  'app_link',
  'is_exception',
  'recurring_event_id',
];
const WRITABLE = [
  'summary',
  'description',
  'start_time',
  'end_time',
  'vchat',
  'visibility',
  'attendee_ability',
  'free_busy_status',
  'location',
  'color',
  'reminders',
  'recurrence',
  'schemas',
  'attachments',
  'status',
  'event_organizer',
  'source',
  'description_rich',
];

/** Unix seconds of a Feishu time; an all-day `date` counts from UTC midnight (+1 day when `end`). */
export function seconds(t: any, end = false): number {
  if (t?.timestamp !== undefined) return Number(t.timestamp);
  if (t?.date) return Date.parse(`${t.date}T00:00:00Z`) / 1000 + (end ? 86400 : 0);
  return 0;
}

function checkTimes(data: Record<string, any>) {
  for (const k of ['start_time', 'end_time']) {
    const t = data[k];
    if (!t || (t.date === undefined) === (t.timestamp === undefined)) {
      badParam(`${k} needs exactly one of date and timestamp`);
    }
    if (t.timestamp !== undefined && !/^\d+$/.test(String(t.timestamp))) badParam(`${k}.timestamp`);
    if (t.date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(t.date)) badParam(`${k}.date`);
  }
  if ((data.start_time.date === undefined) !== (data.end_time.date === undefined)) {
    badParam('start_time and end_time must both be dates or both timestamps');
  }
  // All-day end dates are taken as inclusive (a one-day event has end date = start date).
  if (seconds(data.end_time, true) <= seconds(data.start_time)) badParam('end_time before start_time');
  if (data.recurrence && /COUNT=/.test(data.recurrence) && /UNTIL=/.test(data.recurrence)) {
    badParam('recurrence cannot have both COUNT and UNTIL');
  }
  for (const k of ['start_time', 'end_time']) {
    const t = data[k];
    data[k] =
      t.date !== undefined
        ? { date: t.date, timezone: 'UTC' }
        : { timestamp: String(t.timestamp), timezone: t.timezone ?? 'Asia/Shanghai' };
  }
}

const pick = (src: Record<string, any>) =>
  Object.fromEntries(Object.entries(src).filter(([k, v]) => WRITABLE.includes(k) && v !== undefined));

export function createEvent(
  ctx: Ctx,
  calendar_id: string,
  body: Record<string, any>,
  attendees: Attendee[] = [],
  notify = true,
): StoredEvent {
  const data = { ...pick(body), event_id: body.event_id ?? `${randomUUID()}_0` };
  checkTimes(data);
  const ev = ctx.store.putEvent(calendar_id, ctx.store.completeEvent(calendar_id, data), attendees, false);
  if (notify) ctx.store.notifications.push({ calendar_id, event_id: data.event_id, op: 'create' });
  ctx.eventChanged(calendar_id, data.event_id, 'create');
  return ev;
}

/** The live event, or for `uid_<originalTime>` of a live series without an exception yet, a fresh exception. */
function target(ctx: Ctx, calendar_id: string, event_id: string): { ev: StoredEvent; created: boolean } {
  const found = ctx.store.event(calendar_id, event_id);
  // A cancelled occurrence cannot be edited back to life (unconfirmed; the stricter reading, which is
  // also all Exchange can mirror: a deleted occurrence there is gone for good).
  if (found && !found.deleted && found.data.status === 'cancelled' && !event_id.endsWith('_0')) {
    return ferr(403, 193003, 'event is deleted');
  }
  if (found && !found.deleted) return { ev: found, created: false };
  if (found?.deleted) return ferr(403, 193003, 'event is deleted');
  const at = event_id.lastIndexOf('_');
  const original = Number(event_id.slice(at + 1));
  const master = ctx.store.event(calendar_id, `${event_id.slice(0, at)}_0`);
  if (!original || !master || master.deleted || !master.data.recurrence) {
    return ferr(404, 193001, 'event not found');
  }
  const duration = seconds(master.data.end_time) - seconds(master.data.start_time);
  const tz = master.data.start_time.timezone;
  const { recurrence: _r, ...rest } = master.data;
  const data = ctx.store.completeEvent(calendar_id, {
    ...rest,
    event_id,
    start_time: { timestamp: String(original), timezone: tz },
    end_time: { timestamp: String(original + duration), timezone: tz },
  });
  return { ev: { calendar_id, data, attendees: master.attendees, seq: 0, deleted: false }, created: true };
}

export function patchEvent(
  ctx: Ctx,
  calendar_id: string,
  event_id: string,
  body: Record<string, any>,
  notify = true,
): StoredEvent {
  for (const k of READ_ONLY) if (k in body && k !== 'event_id') delete body[k];
  const { ev, created } = target(ctx, calendar_id, event_id);
  const data = { ...ev.data, ...pick(body) };
  checkTimes(data);
  if (data.is_exception) delete data.recurrence;
  const out = ctx.store.putEvent(calendar_id, data, ev.attendees, false);
  if (notify) ctx.store.notifications.push({ calendar_id, event_id, op: 'update' });
  ctx.eventChanged(calendar_id, event_id, created ? 'create' : 'update');
  return out;
}

export function deleteEvent(ctx: Ctx, calendar_id: string, event_id: string, notify = true) {
  const { ev, created } = target(ctx, calendar_id, event_id);
  if (created || ev.data.is_exception) {
    // A cancelled occurrence: the exception stays, with status cancelled.
    ctx.store.putEvent(calendar_id, { ...ev.data, status: 'cancelled' }, ev.attendees, false);
  } else {
    ctx.store.putEvent(calendar_id, ev.data, ev.attendees, true);
    // The series' exceptions go with it, without a separate change entry.
    const uid = event_id.slice(0, event_id.lastIndexOf('_'));
    for (const other of ctx.store.events.get(calendar_id)!.values()) {
      if (other.data.recurring_event_id === `${uid}_0`) other.deleted = true;
    }
  }
  if (notify) ctx.store.notifications.push({ calendar_id, event_id, op: 'delete' });
  ctx.eventChanged(calendar_id, event_id, 'delete');
}

export function addAttendees(ctx: Ctx, calendar_id: string, event_id: string, list: any[], notify: boolean) {
  const { ev } = target(ctx, calendar_id, event_id);
  const added: Attendee[] = list.map((a) => {
    if (!['user', 'chat', 'resource', 'third_party'].includes(a.type)) {
      return ferr(400, 194004, 'invalid attendee type');
    }
    const room = a.room_id ? ctx.store.rooms.get(a.room_id) : undefined;
    const user = a.user_id ? ctx.store.users.get(a.user_id) : undefined;
    return {
      type: a.type,
      attendee_id: `${a.type}_${randomUUID().slice(0, 8)}`,
      rsvp_status: a.type === 'resource' ? 'accept' : 'needs_action',
      is_optional: !!a.is_optional,
      // The attendee introduction: `is_organizer` says whether the attendee is the event's organizer, so
      // the organizer added as an attendee is listed with it (as the demo tenant seeds them).
      is_organizer: a.type === 'user' && !!a.user_id && a.user_id === ev.data.event_organizer?.user_id,
      is_external: false,
      display_name: room?.name ?? user?.name ?? a.third_party_email ?? a.chat_id ?? '',
      ...(a.user_id ? { user_id: a.user_id } : {}),
      ...(a.chat_id ? { chat_id: a.chat_id } : {}),
      ...(a.room_id ? { room_id: a.room_id } : {}),
      ...(a.third_party_email ? { third_party_email: a.third_party_email } : {}),
    };
  });
  const keyOf = (a: any) => a.user_id ?? a.room_id ?? a.chat_id ?? a.third_party_email;
  const fresh = added.filter((a) => !ev.attendees.some((b) => keyOf(b) === keyOf(a)));
  const out = ctx.store.putEvent(calendar_id, ev.data, [...ev.attendees, ...fresh], false);
  if (notify) ctx.store.notifications.push({ calendar_id, event_id, op: 'attendees' });
  ctx.eventChanged(calendar_id, event_id, 'update');
  return out;
}

export function removeAttendees(
  ctx: Ctx,
  calendar_id: string,
  event_id: string,
  ids: string[],
  notify = true,
) {
  const { ev } = target(ctx, calendar_id, event_id);
  const left = ev.attendees.filter((a) => !ids.includes(a.attendee_id));
  if (ids.length > 0 && left.length === ev.attendees.length) {
    return ferr(404, 194000, 'attendee not found');
  }
  ctx.store.putEvent(calendar_id, ev.data, left, false);
  // need_notification (default true) governs the message to the removed attendees only.
  if (notify) ctx.store.notifications.push({ calendar_id, event_id, op: 'attendees_removed' });
  ctx.eventChanged(calendar_id, event_id, 'update');
}

/**
 * `POST .../events/:event_id/reply`: the caller (a user token's user) answers as an attendee. Every
 * calendar holding the event (organizer's and invitees' copies) shows the new answer, and each sends an
 * `rsvp` change event. A caller who is not an attendee gets 193002 (no reply for them is documented;
 * the stricter reading). An occurrence id of a series becomes an exception, as for a patch.
 */
export function replyEvent(
  ctx: Ctx,
  calendar_id: string,
  event_id: string,
  open_id: string | undefined,
  rsvp: unknown,
) {
  if (!['accept', 'decline', 'tentative'].includes(String(rsvp))) badParam('rsvp_status');
  const { ev } = target(ctx, calendar_id, event_id);
  if (!open_id || !ev.attendees.some((a) => a.type === 'user' && a.user_id === open_id)) {
    return ferr(403, 193002, 'no permission to operate event');
  }
  const answer = (list: Attendee[]) =>
    list.map((a) => (a.type === 'user' && a.user_id === open_id ? { ...a, rsvp_status: String(rsvp) } : a));
  ctx.store.putEvent(calendar_id, ev.data, answer(ev.attendees), false);
  ctx.eventChanged(calendar_id, event_id, 'rsvp');
  for (const [other, events] of ctx.store.events) {
    const copy = other === calendar_id ? undefined : events.get(event_id);
    if (!copy || copy.deleted) continue;
    ctx.store.putEvent(other, copy.data, answer(copy.attendees), false);
    ctx.eventChanged(other, event_id, 'rsvp');
  }
}
