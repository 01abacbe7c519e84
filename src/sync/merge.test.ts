import { describe, expect, it } from 'vitest';
import { blankEvent, type CanonicalEvent } from '../core/index.ts';
import { fieldValue, MERGE_FIELDS, merge, mergeFields } from './merge.ts';

const base = (): CanonicalEvent => ({
  ...blankEvent(
    { uid: 'u1', originalTime: 0 },
    { timestamp: 1_800_000_000, timeZone: 'Asia/Shanghai' },
    { timestamp: 1_800_003_600, timeZone: 'Asia/Shanghai' },
    'feishu',
  ),
  summary: 'Weekly',
  location: 'Room A',
  reminders: [10],
  attendees: [{ kind: 'person', email: 'bob@example.com', rsvp: 'needs-action' }],
});

describe('merge', () => {
  it('changes to different fields on the two sides both survive', () => {
    const feishu = { ...base(), summary: 'Weekly sync' };
    const spoke = { ...base(), location: 'Room B' };
    const r = merge(base(), feishu, spoke, 'feishu-wins');
    expect(r.held).toBe(false);
    expect(r.conflicts).toEqual([]);
    expect(r.event.summary).toBe('Weekly sync');
    expect(r.event.location).toBe('Room B');
    expect(r.toFeishu).toEqual(['location']);
    expect(r.toSpoke).toEqual(['summary']);
  });

  it('a change on one side only is taken whatever the policy', () => {
    const spoke = {
      ...base(),
      start: { timestamp: 1_800_007_200, timeZone: 'Asia/Shanghai' },
      end: { timestamp: 1_800_010_800, timeZone: 'Asia/Shanghai' },
    };
    for (const policy of ['feishu-wins', 'spoke-wins', 'newest-wins', 'report'] as const) {
      const r = merge(base(), base(), spoke, policy);
      expect(r.held).toBe(false);
      expect(r.event.start).toEqual(spoke.start);
      expect(r.toFeishu).toEqual(['time']);
      expect(r.toSpoke).toEqual([]);
    }
  });

  it('the same field changed on both sides follows the policy', () => {
    const feishu = { ...base(), summary: 'From Feishu', updatedAt: 100 };
    const spoke = { ...base(), summary: 'From Google', updatedAt: 200 };
    expect(merge(base(), feishu, spoke, 'feishu-wins').event.summary).toBe('From Feishu');
    expect(merge(base(), feishu, spoke, 'spoke-wins').event.summary).toBe('From Google');
    expect(merge(base(), feishu, spoke, 'newest-wins').event.summary).toBe('From Google');
    expect(merge(base(), { ...feishu, updatedAt: 300 }, spoke, 'newest-wins').event.summary).toBe(
      'From Feishu',
    );
    const won = merge(base(), feishu, spoke, 'spoke-wins');
    expect(won.conflicts).toEqual([
      {
        field: 'summary',
        base: '"Weekly"',
        feishu: '"From Feishu"',
        spoke: '"From Google"',
        winner: 'spoke',
      },
    ]);
    expect(won.toFeishu).toEqual(['summary']);
  });

  it('report holds: nothing to write on either side, even for fields that would merge', () => {
    const feishu = { ...base(), summary: 'From Feishu', reminders: [30] };
    const spoke = { ...base(), summary: 'From Google', location: 'Room C' };
    const r = merge(base(), feishu, spoke, 'report');
    expect(r.held).toBe(true);
    expect(r.toFeishu).toEqual([]);
    expect(r.toSpoke).toEqual([]);
    expect(r.conflicts.map((c) => c.field)).toEqual(['summary']);
    expect(r.conflicts[0].winner).toBeUndefined();
    expect(r.event).toBe(feishu);
  });

  it('both sides making the same change is no conflict', () => {
    const r = merge(base(), { ...base(), summary: 'Same' }, { ...base(), summary: 'Same' }, 'report');
    expect(r.held).toBe(false);
    expect(r.toFeishu).toEqual([]);
    expect(r.toSpoke).toEqual([]);
  });

  it('formatting a provider adds is no change (normalized values compare)', () => {
    const spoke = { ...base(), summary: '  Weekly ', description: 'x\r\n', attendees: [] as never[] };
    spoke.attendees = [{ kind: 'external', email: 'BOB@example.com', rsvp: 'needs-action' }] as never[];
    const r = merge(base(), { ...base(), description: 'x' }, spoke, 'report');
    expect(r.conflicts).toEqual([]);
    expect(r.toFeishu).toEqual([]);
  });

  it('without a base every disagreement is a conflict', () => {
    const r = merge(undefined, { ...base(), summary: 'A' }, { ...base(), summary: 'B' }, 'feishu-wins');
    expect(r.conflicts.map((c) => c.field)).toEqual(['summary']);
    expect(r.conflicts[0].base).toBeUndefined();
    expect(r.event.summary).toBe('A');
    expect(r.toSpoke).toEqual(['summary']);
  });

  it('a cancelled occurrence on the spoke is a status change, its content still compared', () => {
    const occ = { ...base(), key: { uid: 'u1', originalTime: 1_800_000_000 } };
    const r = merge(occ, occ, { ...occ, status: 'cancelled' }, 'feishu-wins');
    expect(r.toFeishu).toEqual(['status']);
    expect(r.event.status).toBe('cancelled');
    expect(fieldValue({ ...occ, status: 'cancelled' }, 'summary')).toBe('"Weekly"');
  });

  it('only the pair’s synced fields take part (time, recurrence, status, free/busy always)', () => {
    expect(mergeFields(['summary'])).toEqual(['summary', 'time', 'recurrence', 'status', 'freeBusy']);
    expect(
      mergeFields([
        'summary',
        'description',
        'location',
        'attendees',
        'reminders',
        'visibility',
        'conference',
      ]),
    ).toEqual([...MERGE_FIELDS]);
    const r = merge(base(), base(), { ...base(), location: 'Elsewhere' }, 'report', mergeFields(['summary']));
    expect(r.toFeishu).toEqual([]);
  });
});
