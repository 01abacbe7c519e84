import { describe, expect, it } from 'vitest';
import { blankEvent, type CanonicalEvent, fingerprint, SYNC_FIELDS } from '../core/index.ts';
import type { Link } from '../ports/index.ts';
import { emptyLink } from './apply.ts';
import { diff, missing } from './diff.ts';
import type { SyncPolicy } from './pair.ts';
import { parity } from './parity.ts';
import { guardDeletes, waves } from './plan.ts';
import { project } from './project.ts';

const NOW = 1_795_000_000;
const policy: SyncPolicy = {
  fields: SYNC_FIELDS,
  privateEvents: 'busy-only',
  invitations: 'none',
  maxDeletesPerRun: 10,
  window: { from: NOW - 30 * 86_400, to: NOW + 365 * 86_400 },
};

const ev = (uid: string, over: Partial<CanonicalEvent> = {}, originalTime = 0): CanonicalEvent => ({
  ...blankEvent(
    { uid, originalTime },
    { timestamp: NOW + 3600, timeZone: 'Asia/Shanghai' },
    { timestamp: NOW + 7200, timeZone: 'Asia/Shanghai' },
    'feishu',
  ),
  summary: `event ${uid}`,
  ...over,
});
const linked = (e: CanonicalEvent, over: Partial<Link> = {}): [string, Link] => [
  `${e.key.uid}_${e.key.originalTime}`,
  { ...emptyLink('p', e.key), spokeId: `s-${e.key.uid}`, feishuFingerprint: fingerprint(e), ...over },
];

describe('diff', () => {
  it('creates what is new, keeps what is equal, updates what changed, with reasons', () => {
    const a = ev('a');
    const b = ev('b');
    const links = new Map([linked(a), linked(b)]);
    const actions = diff(
      { upserts: [a, { ...b, summary: 'renamed' }, ev('c')], removals: [] },
      links,
      policy,
    );
    expect(actions.map((x) => [x.kind, x.key.uid, x.reason])).toEqual([
      ['unchanged', 'a', 'same fingerprint'],
      ['update', 'b', 'changed in Feishu'],
      ['create', 'c', 'new in Feishu'],
    ]);
  });

  it('deletes on a removal or a cancellation, and only what is linked', () => {
    const a = ev('a');
    const links = new Map([linked(a), linked(ev('b'))]);
    const actions = diff(
      {
        upserts: [{ ...ev('b'), status: 'cancelled' }],
        removals: [a.key, { uid: 'never', originalTime: 0 }],
      },
      links,
      policy,
    );
    expect(actions.map((x) => [x.kind, x.key.uid, x.reason])).toEqual([
      ['delete', 'b', 'cancelled in Feishu'],
      ['delete', 'a', 'deleted in Feishu'],
    ]);
  });

  it('re-creates a tombstoned or never-written link', () => {
    const a = ev('a');
    const b = ev('b');
    const links = new Map([linked(a, { tombstone: true }), linked(b, { spokeId: null })]);
    expect(diff({ upserts: [a, b], removals: [] }, links, policy).map((x) => [x.kind, x.reason])).toEqual([
      ['create', 'back in Feishu'],
      ['create', 'not yet on the spoke'],
    ]);
  });

  it('a cancelled occurrence is an exception to write, not a delete', () => {
    const x = ev('s', { status: 'cancelled' }, NOW + 86_400);
    expect(diff({ upserts: [x], removals: [] }, new Map(), policy)[0]).toMatchObject({ kind: 'create' });
    // once written it is unchanged, even where the spoke keeps no id for a cancelled occurrence
    const done = new Map([linked(x, { spokeId: null, feishuFingerprint: fingerprint(x) })]);
    expect(diff({ upserts: [x], removals: [] }, done, policy)[0]).toMatchObject({ kind: 'unchanged' });
  });

  it('finds links whose instance a full listing no longer has', () => {
    const links = new Map([linked(ev('a')), linked(ev('b')), linked(ev('c'), { tombstone: true })]);
    expect(missing(links, new Set(['a_0'])).map((x) => x.key.uid)).toEqual(['b']);
  });
});

describe('project', () => {
  it('private events: busy-only hides the details, skip leaves them out, copy keeps them', () => {
    const p = ev('p', { visibility: 'private', description: 'secret', location: 'home' });
    const busy = project(p, policy);
    expect('event' in busy && busy.event).toMatchObject({ summary: 'Busy', description: '', location: '' });
    expect(project(p, { ...policy, privateEvents: 'skip' })).toEqual({
      skip: expect.stringMatching(/private/),
    });
    const copy = project(p, { ...policy, privateEvents: 'copy' });
    expect('event' in copy && copy.event.description).toBe('secret');
  });

  it('leaves out fields the pair does not sync, and events outside the window', () => {
    const p = project(ev('a', { description: 'd' }), { ...policy, fields: ['summary'] });
    expect('event' in p && p.event.description).toBe('');
    const old = ev('old', {
      start: { timestamp: NOW - 90 * 86_400, timeZone: 'UTC' },
      end: { timestamp: NOW - 90 * 86_400 + 3600, timeZone: 'UTC' },
    });
    expect(project(old, policy)).toEqual({ skip: 'outside the sync window' });
    const series = { ...old, recurrence: ['RRULE:FREQ=WEEKLY'] };
    expect('event' in project(series, policy)).toBe(true);
    const ended = { ...old, recurrence: ['RRULE:FREQ=WEEKLY;UNTIL=20200101T000000Z'] };
    expect(project(ended, policy)).toEqual({ skip: 'outside the sync window' });
  });
});

describe('plan', () => {
  it('writes masters and single events before exceptions', () => {
    const actions = diff(
      { upserts: [ev('s', {}, NOW + 60), ev('s'), ev('t')], removals: [] },
      new Map(),
      policy,
    );
    const w = waves(actions);
    expect(w.masters.map((a) => a.key.uid)).toEqual(['s', 't']);
    expect(w.exceptions.map((a) => a.key.originalTime)).toEqual([NOW + 60]);
  });

  it('holds deletes after an empty or incomplete read and above the cap', () => {
    const read = { complete: true, sawAny: true, full: true };
    expect(guardDeletes(3, read, { remaining: 10 }, 10)).toEqual({ ok: true });
    expect(guardDeletes(3, { ...read, sawAny: false }, { remaining: 10 }, 10)).toMatchObject({ ok: false });
    expect(guardDeletes(3, { ...read, complete: false }, { remaining: 10 }, 10)).toMatchObject({ ok: false });
    expect(guardDeletes(11, read, { remaining: 11 }, 10)).toEqual({ ok: true });
    expect(guardDeletes(3, read, { remaining: 2 }, 10)).toMatchObject({
      ok: false,
      reason: /max_deletes_per_run/,
    });
    expect(guardDeletes(0, { ...read, complete: false }, { remaining: 0 }, 10)).toEqual({ ok: true });
  });
});

describe('project for a spoke', () => {
  it('shapes the event to what the spoke can hold, so that reading it back compares equal', () => {
    const e = ev('s', {
      reminders: [60, 15, 15],
      visibility: 'public',
      status: 'tentative',
      freeBusy: 'free',
      recurrence: ['RRULE:FREQ=DAILY;UNTIL=20261107T155959Z'],
      start: { timestamp: Date.parse('2026-11-01T09:00:00+08:00') / 1000, timeZone: 'Asia/Shanghai' },
      end: { timestamp: Date.parse('2026-11-01T10:00:00+08:00') / 1000, timeZone: 'Asia/Shanghai' },
    });
    const p = project(e, {
      ...policy,
      window: { from: 0, to: 4_000_000_000 },
      target: {
        maxReminders: 1,
        visibilities: ['default', 'private'],
        untilAsDate: true,
        tentativeIsBusy: true,
      },
    });
    expect('event' in p && p.event).toMatchObject({
      reminders: [15],
      visibility: 'default',
      freeBusy: 'busy',
      recurrence: ['RRULE:FREQ=DAILY;UNTIL=20261107'],
    });
  });

  it('maps Feishu attendees to the spoke, leaving out those it cannot name', () => {
    const e = ev('a', {
      attendees: [
        { kind: 'person', id: 'ou_1', rsvp: 'accepted' },
        { kind: 'person', id: 'ou_unmapped', rsvp: 'accepted' },
        { kind: 'room', id: 'omm_1', rsvp: 'accepted' },
      ],
    });
    const attendee = (a: CanonicalEvent['attendees'][number]) =>
      a.id === 'ou_1'
        ? { ...a, email: 'one@example.com' }
        : a.id === 'omm_1'
          ? { ...a, email: 'r@res' }
          : undefined;
    const p = project(e, { ...policy, target: { attendee } });
    expect('event' in p && p.event.attendees.map((a) => a.email)).toEqual(['one@example.com', 'r@res']);
  });
});

describe('parity', () => {
  it('counts a second spoke copy of one instance as an extra (a duplicate)', () => {
    const a = ev('a');
    const copy = { ref: { id: 'x' }, event: a, tag: { pair: 'p', key: 'a_0' } };
    const once = parity([a], [copy], 'p', policy);
    expect(once).toMatchObject({ expected: 1, found: 1, missing: 0, extra: 0, differing: 0 });
    const twice = parity([a], [copy, { ...copy, ref: { id: 'y' } }], 'p', policy);
    expect(twice).toMatchObject({ extra: 1, examples: { extra: ['a_0 (duplicate)'] } });
  });
});
