/** Room mailboxes through the Graph SDK: rooms answer, hold their meetings and show them. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fresh, type Kit, startKit, timed } from './testkit.ts';

let kit: Kit;
beforeAll(async () => {
  kit = await startKit();
});
afterAll(() => kit.close());
beforeEach(() => fresh(kit));

const ROOM = 'room1@contoso.com';
const ann = '/users/ann@contoso.com';
const bob = '/users/bob@contoso.com';
const room = { emailAddress: { address: ROOM, name: 'Room 1' }, type: 'resource' };
const meeting = (from: string, to: string, extra: Record<string, unknown> = {}) => ({
  subject: 'Review',
  start: timed(from),
  end: timed(to),
  attendees: [room],
  singleValueExtendedProperties: [
    { id: 'String {6f3b6e51-9a0c-4c1e-8a57-3d2f0b7c9e11} Name feisyncOrigin', value: 'p|k_0' },
  ],
  ...extra,
});
const answer = (ev: any) => ev.attendees?.find((a: any) => a.emailAddress.address === ROOM)?.status?.response;
const roomView = async () =>
  (
    await kit.api
      .api(`/users/${ROOM}/calendarView`)
      .query({ startDateTime: '2025-06-01T00:00:00Z', endDateTime: '2025-07-01T00:00:00Z' })
      .top(100)
      .get()
  ).value as any[];
const post = async (who: string, body: object) => kit.api.api(`${who}/calendar/events`).post(body);

describe('graph emulator: room mailboxes', () => {
  it('accepts a free room: its calendar holds a copy with the same iCalUId, without extended properties', async () => {
    const ev = await post(ann, meeting('2025-06-02T09:00:00', '2025-06-02T10:00:00'));
    expect(answer(ev)).toBe('accepted');
    const view = await roomView();
    expect(view).toHaveLength(1);
    expect(view[0]).toMatchObject({
      subject: 'Review',
      iCalUId: ev.iCalUId,
      isOrganizer: false,
      organizer: { emailAddress: { address: 'ann@contoso.com' } },
      responseStatus: { response: 'accepted' },
    });
    expect(view[0].id).not.toBe(ev.id);
    const expanded = await kit.api
      .api(`/users/${ROOM}/events/${view[0].id}`)
      .expand(
        "singleValueExtendedProperties($filter=id eq 'String {6f3b6e51-9a0c-4c1e-8a57-3d2f0b7c9e11} Name feisyncOrigin')",
      )
      .get();
    expect(expanded.singleValueExtendedProperties).toBeUndefined();
    // the organizer reads the answer back
    expect(answer(await kit.api.api(`${ann}/events/${ev.id}`).get())).toBe('accepted');
  });

  it('declines an overlapping meeting and does not keep it on its calendar', async () => {
    await post(ann, meeting('2025-06-02T09:00:00', '2025-06-02T10:00:00'));
    const clash = await post(bob, meeting('2025-06-02T09:30:00', '2025-06-02T10:30:00'));
    expect(answer(clash)).toBe('declined');
    const next = await post(bob, meeting('2025-06-02T10:00:00', '2025-06-02T11:00:00'));
    expect(answer(next)).toBe('accepted');
    expect((await roomView()).map((e) => e.start.dateTime.slice(11, 16))).toEqual(['09:00', '10:00']);
  });

  it('answers again when the meeting moves, keeps its answer otherwise, and frees itself on delete', async () => {
    const first = await post(ann, meeting('2025-06-02T09:00:00', '2025-06-02T10:00:00'));
    const second = await post(bob, meeting('2025-06-02T14:00:00', '2025-06-02T15:00:00'));
    const moved = await kit.api
      .api(`${bob}/events/${second.id}`)
      .patch({ start: timed('2025-06-02T09:30:00'), end: timed('2025-06-02T10:30:00') });
    expect(answer(moved)).toBe('declined');
    expect((await roomView()).map((e) => e.iCalUId)).toEqual([first.iCalUId]);
    const renamed = await kit.api.api(`${ann}/events/${first.id}`).patch({ subject: 'Renamed' });
    expect(answer(renamed)).toBe('accepted');
    expect((await roomView())[0].subject).toBe('Renamed');
    await kit.api.api(`${ann}/events/${first.id}`).delete();
    expect(await roomView()).toEqual([]);
    const back = await kit.api
      .api(`${bob}/events/${second.id}`)
      .patch({ start: timed('2025-06-02T09:00:00'), end: timed('2025-06-02T10:00:00') });
    expect(answer(back)).toBe('accepted');
    expect((await roomView()).map((e) => e.iCalUId)).toEqual([second.iCalUId]);
  });

  it('books a series and follows a moved and a cancelled occurrence', async () => {
    const series = await post(
      ann,
      meeting('2025-06-02T09:00:00', '2025-06-02T09:30:00', {
        recurrence: {
          pattern: { type: 'daily', interval: 1 },
          range: { type: 'numbered', startDate: '2025-06-02', numberOfOccurrences: 4 },
        },
      }),
    );
    expect(answer(series)).toBe('accepted');
    const occ = (
      await kit.api
        .api(`${ann}/events/${series.id}/instances`)
        .query({ startDateTime: '2025-06-01T00:00:00Z', endDateTime: '2025-06-10T00:00:00Z' })
        .get()
    ).value;
    const moved = await kit.api
      .api(`${ann}/events/${occ[2].id}`)
      .patch({ start: timed('2025-06-04T15:00:00'), end: timed('2025-06-04T15:30:00') });
    expect(answer(moved)).toBe('accepted');
    await kit.api.api(`${ann}/events/${occ[3].id}`).delete();
    const view = await roomView();
    expect(view.map((e) => e.start.dateTime.slice(0, 16))).toEqual([
      '2025-06-02T09:00',
      '2025-06-03T09:00',
      '2025-06-04T15:00',
    ]);
    expect(view.map((e) => e.type)).toEqual(['occurrence', 'occurrence', 'exception']);
    // held at the moved time, free at the old one
    expect(answer(await post(bob, meeting('2025-06-04T15:00:00', '2025-06-04T16:00:00')))).toBe('declined');
    expect(answer(await post(bob, meeting('2025-06-04T09:00:00', '2025-06-04T09:30:00')))).toBe('accepted');
  });

  it('declines a whole series when one occurrence collides; a moved occurrence is answered on its own', async () => {
    await post(bob, meeting('2025-06-04T09:00:00', '2025-06-04T10:00:00'));
    const series = await post(
      ann,
      meeting('2025-06-02T09:00:00', '2025-06-02T09:30:00', {
        recurrence: {
          pattern: { type: 'daily', interval: 1 },
          range: { type: 'numbered', startDate: '2025-06-02', numberOfOccurrences: 4 },
        },
      }),
    );
    expect(answer(series)).toBe('declined');
    expect((await roomView()).length).toBe(1);
  });

  it('takes meetings created in the room mailbox itself as held, unchecked', async () => {
    const direct = await post(`/users/${ROOM}`, {
      subject: 'Held for Carol',
      start: timed('2025-06-02T09:00:00'),
      end: timed('2025-06-02T10:00:00'),
    });
    expect(direct.isOrganizer).toBe(true);
    expect(answer(await post(ann, meeting('2025-06-02T09:30:00', '2025-06-02T10:00:00')))).toBe('declined');
    await post(`/users/${ROOM}`, {
      subject: 'Also',
      start: timed('2025-06-02T09:00:00'),
      end: timed('2025-06-02T10:00:00'),
    });
    expect((await roomView()).length).toBe(2);
  });
});
