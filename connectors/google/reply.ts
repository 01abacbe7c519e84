/** reply: the owner's answer to an invitation, as a patch of the owner's attendee entry. */
import type { calendar_v3 } from 'googleapis';
import { BridgeError, type Rsvp } from '../../src/core/index.ts';
import type { CalendarRef, RemoteRef, WriteOptions, WriteResult } from '../../src/ports/index.ts';

const STATUS: Record<Exclude<Rsvp, 'needs-action'>, string> = {
  accepted: 'accepted',
  declined: 'declined',
  tentative: 'tentative',
};

export interface ReplyEnv {
  calendar(owner: string): calendar_v3.Calendar;
  call<T>(owner: string, fn: () => Promise<T>): Promise<T>;
  sendUpdates: 'none' | 'all';
}

export async function replyGoogle(
  env: ReplyEnv,
  cal: CalendarRef,
  ref: RemoteRef,
  rsvp: Exclude<Rsvp, 'needs-action'>,
  options: WriteOptions = {},
): Promise<WriteResult> {
  const api = env.calendar(cal.owner);
  try {
    const got = await env.call(cal.owner, () => api.events.get({ calendarId: cal.id, eventId: ref.id }));
    const g = got.data;
    const mine = (a: calendar_v3.Schema$EventAttendee) =>
      a.self === true || a.email?.toLowerCase() === cal.owner.toLowerCase();
    const invalid = (why: string) =>
      new BridgeError('invalid', `google reply: ${why}`, { provider: 'google' });
    if (g.organizer?.self) throw invalid('the owner organizes this event');
    if (!(g.attendees ?? []).some(mine)) throw invalid('the owner is not an attendee');
    const attendees = (g.attendees ?? []).map((a) => (mine(a) ? { ...a, responseStatus: STATUS[rsvp] } : a));
    await env.call(cal.owner, () =>
      api.events.patch({
        calendarId: cal.id,
        eventId: ref.id,
        sendUpdates: options.notify ? 'all' : env.sendUpdates,
        requestBody: { attendees },
      }),
    );
    return { ok: true };
  } catch (e) {
    return { ok: false, error: e as BridgeError };
  }
}
