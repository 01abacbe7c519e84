import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { blankEvent, type CanonicalEvent, fingerprint } from '../../src/core/index.ts';
import { toBridgeError } from './errors.ts';
import { base32hex, eventIdFor, instanceIdFor } from './ids.ts';
import { fromGoogle, toGoogle } from './mapper.ts';

const T = Date.UTC(2025, 2, 3, 1) / 1000;

function full(): CanonicalEvent {
  return {
    ...blankEvent(
      { uid: 'u1', originalTime: 0 },
      { timestamp: T, timeZone: 'America/New_York' },
      { timestamp: T + 3600, timeZone: 'America/New_York' },
      'feishu',
    ),
    summary: 'Review',
    description: 'line 1\nline 2',
    location: 'HQ',
    recurrence: ['RRULE:FREQ=WEEKLY;BYDAY=MO', 'EXDATE;TZID=America/New_York:20250310T200000'],
    visibility: 'private',
    freeBusy: 'free',
    status: 'tentative',
    attendees: [
      { kind: 'person', email: 'ann@example.com', rsvp: 'accepted', name: 'Ann' },
      { kind: 'external', email: 'x@other.org', rsvp: 'declined', optional: true },
      { kind: 'room', email: 'r1@resource.calendar.google.com', rsvp: 'needs-action' },
    ],
    reminders: [5, 30],
    conferenceUrl: 'https://vc.feishu.cn/j/1',
  };
}

describe('google mapper', () => {
  it('writes zones as RFC 3339 with the offset of the zone, rooms as resources, reminders as overrides, the tag privately', () => {
    const g = toGoogle(full(), { pair: 'p', key: 'u1_0' });
    expect(g.start).toEqual({ dateTime: '2025-03-02T20:00:00-05:00', timeZone: 'America/New_York' });
    expect(g.transparency).toBe('transparent');
    expect(g.attendees?.[2]).toEqual({
      email: 'r1@resource.calendar.google.com',
      responseStatus: 'needsAction',
      resource: true,
    });
    expect(g.reminders).toEqual({
      useDefault: false,
      overrides: [
        { method: 'popup', minutes: 5 },
        { method: 'popup', minutes: 30 },
      ],
    });
    expect(g.extendedProperties?.private).toMatchObject({
      feisyncPair: 'p',
      feisyncKey: 'u1_0',
      feisyncConferenceUrl: 'https://vc.feishu.cn/j/1',
    });
    expect(g.description).toBe('line 1\nline 2\n\nJoin: https://vc.feishu.cn/j/1');
  });

  it('round-trips every synced field, timed and all-day (exclusive end dates unchanged)', () => {
    const timed = full();
    const back = fromGoogle({
      ...toGoogle(timed, { pair: 'p', key: 'u1_0' }),
      organizer: { email: 'ann@example.com' },
    });
    expect(back.tag).toEqual({ pair: 'p', key: 'u1_0' });
    expect(back.event.key).toEqual(timed.key);
    expect(back.event.description).toBe(timed.description);
    expect(fingerprint(back.event)).toBe(fingerprint(timed));
    const allDay = {
      ...blankEvent({ uid: 'd', originalTime: 0 }, { date: '2025-05-01' }, { date: '2025-05-03' }, 'feishu'),
    };
    const g = toGoogle(allDay);
    expect([g.start, g.end]).toEqual([{ date: '2025-05-01' }, { date: '2025-05-03' }]);
    expect(fingerprint(fromGoogle(g).event)).toBe(fingerprint(allDay));
  });

  it('reads native Google events: Meet links, confidential, default reminders, instance keys', () => {
    const { event, tag } = fromGoogle({
      id: 'abc_20250303T010000Z',
      iCalUID: 'abc@google.com',
      recurringEventId: 'abc',
      originalStartTime: { dateTime: '2025-03-03T09:00:00+08:00', timeZone: 'Asia/Shanghai' },
      start: { dateTime: '2025-03-03T10:00:00+08:00', timeZone: 'Asia/Shanghai' },
      end: { dateTime: '2025-03-03T11:00:00+08:00', timeZone: 'Asia/Shanghai' },
      visibility: 'confidential',
      hangoutLink: 'https://meet.google.com/abc-defg-hij',
      reminders: { useDefault: true },
      updated: '2025-03-01T00:00:00.000Z',
    });
    expect(tag).toBeUndefined();
    expect(event).toMatchObject({
      key: { uid: 'abc@google.com', originalTime: T },
      start: { timestamp: T + 3600, timeZone: 'Asia/Shanghai' },
      visibility: 'private',
      conferenceUrl: 'https://meet.google.com/abc-defg-hij',
      reminders: [],
      origin: 'google',
      updatedAt: Date.UTC(2025, 2, 1) / 1000,
    });
  });

  it('keeps an id in about its own length of memory (a sync holds thousands)', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const before = process.memoryUsage().heapUsed;
    const ids = Array.from({ length: 20_000 }, (_, i) => eventIdFor({ pair: 'p', key: `u${i}_0` }));
    gc();
    const perId = (process.memoryUsage().heapUsed - before) / ids.length;
    // a 52-character string is 72 bytes, its array slot 8; appended a character at a time it was
    // 52 linked pieces, about 1.7 KB
    expect(perId).toBeLessThan(200);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('derives ids: base32hex sha-256 per tag and generation; instance ids in UTC basic or date form', () => {
    expect(base32hex(Buffer.from('foobar'))).toBe('cpnmuoj1e8');
    const id = eventIdFor({ pair: 'p', key: 'u_0' });
    expect(id).toMatch(/^[a-v0-9]{52}$/);
    expect(eventIdFor({ pair: 'p', key: 'u_0' })).toBe(id);
    expect(eventIdFor({ pair: 'p', key: 'u_0' }, 1)).not.toBe(id);
    const timed = blankEvent(
      { uid: 'u', originalTime: T },
      { timestamp: T, timeZone: 'UTC' },
      { timestamp: T + 1, timeZone: 'UTC' },
      'feishu',
    );
    expect(instanceIdFor('m', timed)).toBe('m_20250303T010000Z');
    const day = Date.UTC(2025, 2, 2, 16) / 1000; // local midnight of 2025-03-03 in UTC+8
    expect(
      instanceIdFor(
        'm',
        blankEvent({ uid: 'u', originalTime: day }, { date: '2025-03-03' }, { date: '2025-03-04' }, 'feishu'),
      ),
    ).toBe('m_20250303');
  });

  it('maps Google errors to BridgeError kinds', () => {
    const body = (reason: string) => ({ error: { errors: [{ reason }], code: 0, message: reason } });
    expect(toBridgeError(403, body('userRateLimitExceeded')).kind).toBe('rate_limited');
    expect(toBridgeError(403, body('forbiddenForNonOrganizer')).kind).toBe('auth');
    expect(toBridgeError(429, body('rateLimitExceeded'), { 'retry-after': '2' }).retryAfterMs).toBe(2000);
    expect([404, 410, 409, 412, 401, 400, 503].map((s) => toBridgeError(s, body('x')).kind)).toEqual([
      'not_found',
      'not_found',
      'conflict',
      'precondition',
      'auth',
      'invalid',
      'transient',
    ]);
    expect(toBridgeError(400, { error: 'invalid_grant' }).kind).toBe('auth');
  });
});
