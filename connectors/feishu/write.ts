/**
 * `write`: create (idempotent by tag), update (patch + attendee diff), remove (already gone = ok), as
 * the calendar owner (user token when there is one). `need_notification` is false unless `notify`: it
 * governs only Feishu's bot messages to attendees (change events fire either way). Attendees go by a
 * separate call: Feishu users (`ou_` ids), chats (`oc_`), rooms (`resource` with the room id) and
 * anyone else as a `third_party` e-mail. `replyAs`: the owner's RSVP.
 */
import { createHash } from 'node:crypto';
import { BridgeError, formatKey, type Rsvp } from '../../src/core/index.ts';
import type { CalendarRef, RemoteRef, WriteOp, WriteOptions, WriteResult } from '../../src/ports/index.ts';
import type { Api } from './client.ts';
import { toBridgeError } from './errors.ts';
import { type FeishuAttendee, fromCanonical } from './mapper.ts';

/** A UUID-shaped idempotency key from the origin tag, so a retried create finds the earlier event. */
const idempotencyKey = (pair: string, key: string) => {
  const h = createHash('sha256').update(`${pair}\n${key}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};
const attendeeKey = (a: FeishuAttendee) =>
  a.user_id ?? a.room_id ?? a.chat_id ?? a.third_party_email?.toLowerCase();

export async function writeOps(
  api: Api,
  calendar: CalendarRef,
  ops: WriteOp[],
  options: WriteOptions = {},
): Promise<WriteResult[]> {
  const calendar_id = await api.resolve(calendar);
  const opt = (await api.as(calendar.owner)) as any;
  const notify = options.notify === true;
  const events = api.sdk.calendar.v4.calendarEvent;
  const results: WriteResult[] = [];

  /**
   * Diffs the attendees without the organizer on either side: Feishu lists the organizer (when added
   * as an attendee) with `is_organizer`, a spoke copy may or may not list them, and the organizer is
   * not ours to add again or remove.
   */
  async function syncAttendees(event_id: string, wanted: FeishuAttendee[], replace: boolean) {
    const have: { attendee_id?: string; key?: string }[] = [];
    const organizers = new Set<string>();
    if (replace) {
      let page_token: string | undefined;
      do {
        const r = await api.call('calendar_event_attendee.list', () =>
          api.sdk.calendar.v4.calendarEventAttendee.list(
            {
              path: { calendar_id, event_id },
              params: { page_size: 100, ...(page_token ? { page_token } : {}) },
            },
            opt,
          ),
        );
        for (const a of r.data?.items ?? []) {
          const key = attendeeKey(a as FeishuAttendee);
          if (a.is_organizer) {
            if (key) organizers.add(key);
          } else have.push({ attendee_id: a.attendee_id, key });
        }
        page_token = r.data?.has_more ? r.data.page_token : undefined;
      } while (page_token);
    }
    const want = wanted.filter((a) => !organizers.has(attendeeKey(a) ?? ''));
    const add = want.filter((a) => !have.some((h) => h.key === attendeeKey(a)));
    const drop = have.filter((h) => !want.some((a) => attendeeKey(a) === h.key)).map((h) => h.attendee_id!);
    if (add.length) {
      await api.call('calendar_event_attendee.create', () =>
        api.sdk.calendar.v4.calendarEventAttendee.create(
          { path: { calendar_id, event_id }, data: { attendees: add as any, need_notification: notify } },
          opt,
        ),
      );
    }
    if (drop.length) {
      await api.call('calendar_event_attendee.batch_delete', () =>
        api.sdk.calendar.v4.calendarEventAttendee.batchDelete(
          { path: { calendar_id, event_id }, data: { attendee_ids: drop, need_notification: notify } },
          opt,
        ),
      );
    }
  }

  async function remove(event_id: string) {
    try {
      await api.call('calendar_event.delete', () =>
        events.delete(
          { path: { calendar_id, event_id }, params: { need_notification: notify ? 'true' : 'false' } },
          opt,
        ),
      );
    } catch (e) {
      if ((e as BridgeError).kind !== 'not_found') throw e;
    }
  }

  async function patch(event_id: string, fields: Record<string, unknown>) {
    await api.call('calendar_event.patch', () =>
      events.patch(
        { path: { calendar_id, event_id }, data: { ...fields, need_notification: notify } as any },
        opt,
      ),
    );
  }

  for (const op of ops) {
    try {
      if (op.op === 'remove') {
        await remove(op.ref.id);
        results.push({ ok: true });
        continue;
      }
      const { event, attendees, notes } = fromCanonical(op.event);
      const note = notes.length ? notes.join('; ') : undefined;
      const parent = op.parent?.id;
      // An exception is written on the series' instance id: {master uid}_{originalTime}.
      const exceptionId =
        op.event.key.originalTime !== 0 && parent
          ? `${parent.slice(0, parent.lastIndexOf('_'))}_${op.event.key.originalTime}`
          : undefined;
      const target = op.op === 'update' ? op.ref.id : exceptionId;
      if (target && op.event.status === 'cancelled') {
        await remove(target);
        results.push({ ok: true, ref: { id: target }, ...(note ? { note } : {}) });
        continue;
      }
      if (target) {
        await patch(target, event);
        await syncAttendees(target, attendees, true);
        results.push({ ok: true, ref: { id: target }, ...(note ? { note } : {}) });
        continue;
      }
      const r = await api.call('calendar_event.create', () =>
        events.create(
          {
            path: { calendar_id },
            params: { idempotency_key: idempotencyKey(op.tag.pair, op.tag.key || formatKey(op.event.key)) },
            data: { ...(event as any), need_notification: notify },
          },
          opt,
        ),
      );
      const id = r.data?.event?.event_id as string;
      if (attendees.length) await syncAttendees(id, attendees, false);
      results.push({ ok: true, ref: { id }, ...(note ? { note } : {}) });
    } catch (e) {
      results.push({ ok: false, error: toBridgeError(e, `write ${op.op}`) });
    }
  }
  return results;
}

const RSVP_REPLY: Record<Exclude<Rsvp, 'needs-action'>, 'accept' | 'decline' | 'tentative'> = {
  accepted: 'accept',
  declined: 'decline',
  tentative: 'tentative',
};

/** The owner's answer to an invitation: needs the owner's user token (the app would answer as itself). */
export async function replyAs(
  api: Api,
  calendar: CalendarRef,
  ref: RemoteRef,
  rsvp: Exclude<Rsvp, 'needs-action'>,
): Promise<WriteResult> {
  try {
    const opt = await api.as(calendar.owner);
    if (!opt) {
      throw new BridgeError('auth', `feishu: no user token for ${calendar.owner} to reply as`, {
        provider: 'feishu',
      });
    }
    const calendar_id = await api.resolve(calendar);
    await api.call('calendar_event.reply', () =>
      api.sdk.calendar.v4.calendarEvent.reply(
        { path: { calendar_id, event_id: ref.id }, data: { rsvp_status: RSVP_REPLY[rsvp] } },
        opt,
      ),
    );
    return { ok: true };
  } catch (e) {
    return { ok: false, error: toBridgeError(e, 'reply') };
  }
}
