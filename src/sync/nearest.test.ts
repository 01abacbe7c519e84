import { describe, expect, it } from 'vitest';
import { blankEvent, type CanonicalEvent } from '../core/index.ts';
import { distance, nearestFirst } from './nearest.ts';

const NOW = 1_800_000_000;
const H = 3600;
const D = 86_400;
const ev = (uid: string, start: number, hours = 1, recurrence: string[] = []): CanonicalEvent => ({
  ...blankEvent(
    { uid, originalTime: 0 },
    { timestamp: start, timeZone: 'Asia/Shanghai' },
    { timestamp: start + hours * H, timeZone: 'Asia/Shanghai' },
    'feishu',
  ),
  recurrence,
});
const ymd = (t: number) => new Date(t * 1000).toISOString().slice(0, 10).replaceAll('-', '');

describe('nearest first', () => {
  it('measures a single event from its start ahead or its end behind, 0 while it runs', () => {
    expect(distance(ev('a', NOW + 2 * H), NOW)).toBe(2 * H);
    expect(distance(ev('b', NOW - 3 * H), NOW)).toBe(2 * H);
    expect(distance(ev('c', NOW - H / 2), NOW)).toBe(0);
    const allDay = {
      ...ev('d', 0),
      start: { date: '2027-01-15' },
      end: { date: '2027-01-16' },
    };
    expect(distance(allDay, Date.parse('2027-01-15T12:00:00Z') / 1000)).toBe(0);
  });

  it('counts a series that still runs as near, and an ended one by its last occurrence', () => {
    expect(distance(ev('s', NOW - 300 * D, 1, ['RRULE:FREQ=WEEKLY']), NOW)).toBe(0);
    expect(distance(ev('s', NOW - 300 * D, 1, [`RRULE:FREQ=DAILY;UNTIL=${ymd(NOW + D)}`]), NOW)).toBe(0);
    const ended = distance(ev('s', NOW - 300 * D, 1, [`RRULE:FREQ=DAILY;UNTIL=${ymd(NOW - 100 * D)}`]), NOW);
    expect(ended).toBeGreaterThan(97 * D);
    expect(ended).toBeLessThan(100 * D);
    // ten weekly occurrences from 200 days ago: over after some 70 days
    const counted = distance(ev('s', NOW - 200 * D, 1, ['RRULE:FREQ=WEEKLY;COUNT=10']), NOW);
    expect(counted).toBeGreaterThan(125 * D);
    expect(distance(ev('s', NOW + 5 * D, 1, ['RRULE:FREQ=DAILY']), NOW)).toBe(5 * D);
  });

  it('orders nearest first, past and future alike, keeping the order of equals', () => {
    const items = [
      ev('far-past', NOW - 90 * D),
      ev('next-month', NOW + 30 * D),
      ev('weekly', NOW - 60 * D, 1, ['RRULE:FREQ=WEEKLY']),
      ev('tomorrow', NOW + D),
      ev('yesterday', NOW - D - 2 * H),
      ev('now', NOW - 10),
    ];
    expect(nearestFirst(items, (e) => e, NOW).map((e) => e.key.uid)).toEqual([
      'weekly',
      'now',
      'tomorrow',
      'yesterday',
      'next-month',
      'far-past',
    ]);
  });
});
