/** Resource calendars through googleapis: rooms answer, hold their bookings and show them. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { calendarFor, emulator, timed } from './testkit.ts';

const ROOM = 'c_room1@resource.calendar.google.com';
const seed = {
  resources: [{ resourceId: 'r1', resourceEmail: ROOM, resourceName: 'Room 1', capacity: 6 }],
};

let em: Awaited<ReturnType<typeof emulator>>;
let ann: ReturnType<typeof calendarFor>;
let bob: ReturnType<typeof calendarFor>;
beforeAll(async () => {
  em = await emulator(seed);
});
beforeEach(async () => {
  await em.reset();
  ann = calendarFor(em.url, 'ann@example.com');
  bob = calendarFor(em.url, 'bob@example.com');
});
afterAll(() => em.close());

const room = { email: ROOM, resource: true, responseStatus: 'needsAction' };
const meeting = (from: string, to: string, extra: object = {}) => ({
  summary: 'Review',
  start: timed(from),
  end: timed(to),
  attendees: [{ email: 'bob@example.com' }, room],
  extendedProperties: { private: { secret: 'organizer only' } },
  ...extra,
});
const answer = (ev: any) => ev.attendees?.find((a: any) => a.email === ROOM)?.responseStatus;
const roomView = async (showDeleted = false) =>
  (
    await bob.events.list({
      calendarId: ROOM,
      singleEvents: true,
      orderBy: 'startTime',
      timeMin: '2025-03-01T00:00:00Z',
      timeMax: '2025-04-01T00:00:00Z',
      showDeleted,
    })
  ).data.items ?? [];

describe('google emulator: rooms', () => {
  it('accepts a free room and shows the event on its calendar, without private properties', async () => {
    const ev = (
      await ann.events.insert({
        calendarId: 'primary',
        requestBody: meeting('2025-03-03T10:00:00', '2025-03-03T11:00:00'),
      })
    ).data;
    expect(answer(ev)).toBe('accepted');
    const items = await roomView();
    expect(items.map((i) => i.id)).toEqual([ev.id]);
    expect(items[0]).toMatchObject({ summary: 'Review', organizer: { email: 'ann@example.com' } });
    expect(items[0].extendedProperties?.private).toBeUndefined();
    expect(answer(items[0])).toBe('accepted');
  });

  it('declines an overlapping booking and keeps it on its calendar marked declined', async () => {
    await ann.events.insert({
      calendarId: 'primary',
      requestBody: meeting('2025-03-03T10:00:00', '2025-03-03T11:00:00'),
    });
    const clash = (
      await bob.events.insert({
        calendarId: 'primary',
        // the client's own idea of the room's answer does not count
        requestBody: meeting('2025-03-03T10:30:00', '2025-03-03T11:30:00', {
          attendees: [{ ...room, responseStatus: 'accepted' }],
        }),
      })
    ).data;
    expect(answer(clash)).toBe('declined');
    const after = (
      await bob.events.insert({
        calendarId: 'primary',
        requestBody: meeting('2025-03-03T11:00:00', '2025-03-03T12:00:00', { attendees: [room] }),
      })
    ).data;
    expect(answer(after)).toBe('accepted');
    expect((await roomView()).map(answer)).toEqual(['accepted', 'declined', 'accepted']);
  });

  it('answers again when the event moves, and frees the room when it is deleted', async () => {
    const first = (
      await ann.events.insert({
        calendarId: 'primary',
        requestBody: meeting('2025-03-03T10:00:00', '2025-03-03T11:00:00'),
      })
    ).data;
    const second = (
      await bob.events.insert({
        calendarId: 'primary',
        requestBody: meeting('2025-03-03T14:00:00', '2025-03-03T15:00:00', { attendees: [room] }),
      })
    ).data;
    const moved = await bob.events.patch({
      calendarId: 'primary',
      eventId: second.id!,
      requestBody: { start: timed('2025-03-03T10:30:00'), end: timed('2025-03-03T11:30:00') },
    });
    expect(answer(moved.data)).toBe('declined');
    // an edit that keeps the time keeps the answer
    const renamed = await ann.events.patch({
      calendarId: 'primary',
      eventId: first.id!,
      requestBody: { summary: 'Renamed' },
    });
    expect(answer(renamed.data)).toBe('accepted');
    await ann.events.delete({ calendarId: 'primary', eventId: first.id! });
    expect((await roomView()).map((i) => i.id)).toEqual([second.id]);
    expect((await roomView(true)).find((i) => i.id === first.id)?.status).toBe('cancelled');
    const back = await bob.events.patch({
      calendarId: 'primary',
      eventId: second.id!,
      requestBody: { start: timed('2025-03-03T10:00:00'), end: timed('2025-03-03T11:00:00') },
    });
    expect(answer(back.data)).toBe('accepted');
  });

  it('books a series on the room calendar and follows a moved instance', async () => {
    const series = (
      await ann.events.insert({
        calendarId: 'primary',
        requestBody: meeting('2025-03-03T09:00:00', '2025-03-03T09:30:00', {
          recurrence: ['RRULE:FREQ=DAILY;COUNT=4'],
        }),
      })
    ).data;
    expect(answer(series)).toBe('accepted');
    const instances = (await ann.events.instances({ calendarId: 'primary', eventId: series.id! })).data
      .items!;
    await ann.events.patch({
      calendarId: 'primary',
      eventId: instances[2].id!,
      requestBody: { start: timed('2025-03-05T15:00:00'), end: timed('2025-03-05T15:30:00') },
    });
    const view = await roomView();
    expect(view.map((i) => i.start?.dateTime)).toEqual([
      '2025-03-03T09:00:00+08:00',
      '2025-03-04T09:00:00+08:00',
      '2025-03-05T15:00:00+08:00',
      '2025-03-06T09:00:00+08:00',
    ]);
    expect(view[2].id).toBe(instances[2].id);
    // the room is held at the moved time, and free at the instance's old one
    const at = async (from: string, to: string) =>
      answer(
        (
          await bob.events.insert({
            calendarId: 'primary',
            requestBody: meeting(from, to, { attendees: [room] }),
          })
        ).data,
      );
    expect(await at('2025-03-05T15:00:00', '2025-03-05T16:00:00')).toBe('declined');
    expect(await at('2025-03-05T09:00:00', '2025-03-05T09:30:00')).toBe('accepted');
    // an instance cancelled before it was ever edited leaves the room's copy of the series too
    await ann.events.delete({ calendarId: 'primary', eventId: instances[3].id! });
    expect((await roomView()).filter((i) => i.recurringEventId === series.id).map((i) => i.id)).toEqual(
      instances.slice(0, 3).map((i) => i.id),
    );
  });

  it('declines a whole series when one occurrence collides', async () => {
    await bob.events.insert({
      calendarId: 'primary',
      requestBody: meeting('2025-03-05T09:15:00', '2025-03-05T09:45:00', { attendees: [room] }),
    });
    const series = (
      await ann.events.insert({
        calendarId: 'primary',
        requestBody: meeting('2025-03-03T09:00:00', '2025-03-03T09:30:00', {
          recurrence: ['RRULE:FREQ=DAILY;COUNT=4'],
        }),
      })
    ).data;
    expect(answer(series)).toBe('declined');
  });

  it('takes events written straight onto the room calendar as held, unchecked', async () => {
    const direct = (
      await ann.events.insert({
        calendarId: ROOM,
        requestBody: {
          summary: 'Held for Carol',
          start: timed('2025-03-03T10:00:00'),
          end: timed('2025-03-03T11:00:00'),
        },
      })
    ).data;
    expect(direct.organizer).toMatchObject({ email: ROOM });
    const ev = (
      await bob.events.insert({
        calendarId: 'primary',
        requestBody: meeting('2025-03-03T10:00:00', '2025-03-03T10:30:00', { attendees: [room] }),
      })
    ).data;
    expect(answer(ev)).toBe('declined');
    // a second direct booking is not refused: the writer of a room calendar is trusted
    await ann.events.insert({
      calendarId: ROOM,
      requestBody: {
        summary: 'Also',
        start: timed('2025-03-03T10:00:00'),
        end: timed('2025-03-03T11:00:00'),
      },
    });
    expect((await roomView()).length).toBe(3);
  });

  it('releases the room when it is taken off the attendees', async () => {
    const ev = (
      await ann.events.insert({
        calendarId: 'primary',
        requestBody: meeting('2025-03-03T10:00:00', '2025-03-03T11:00:00'),
      })
    ).data;
    await ann.events.patch({
      calendarId: 'primary',
      eventId: ev.id!,
      requestBody: { attendees: [{ email: 'bob@example.com' }] },
    });
    expect(await roomView()).toEqual([]);
  });
});
