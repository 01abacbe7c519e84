/**
 * Meeting rooms end to end: Feishu's emulator pushes `third_party_meeting_room_event_*` webhooks
 * through the real intake (decrypt, verify, de-duplicate), `handleRoomEvent` books the rooms, and
 * the rooms' calendars are read back through Google's and Graph's own APIs on their emulators.
 *
 * Alice is mapped to both spokes: her rooms ride on her mirrored meetings. Carol is mapped to Google
 * only: on Exchange her rooms get booking events. Dave is no config user: booking events everywhere.
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { calendar_v3 } from 'googleapis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calendarFor } from '../../connectors/google/emulator/testkit.ts';
import { GraphClient } from '../../connectors/graph/client.ts';
import { type App, compose } from '../../src/app/compose.ts';
import { control, type Emulators, startEmulators } from '../../src/app/emulators.ts';
import { roomSummary } from '../../src/app/rooms-report.ts';
import {
  handleRoomEvent,
  type RoomEventResult,
  type RoomHint,
  recheckRoomBookings,
} from '../../src/app/rooms-run.ts';
import { startWebhookServer, type WebhookServer } from '../../src/app/webhook.ts';
import { loadConfig } from '../../src/config/index.ts';

const APP = {
  app_id: 'cli_0a1b2c3d4e5f6a7b',
  app_secret: 'room-secret',
  encrypt_key: 'room-key',
  verification_token: 'room-token',
};
const R1 = {
  feishu: 'omm_r1',
  name: 'Room 1',
  google: 'c_r1@resource.calendar.google.com',
  exchange: 'room1@contoso.com',
};
const R2 = {
  feishu: 'omm_r2',
  name: 'Room 2',
  google: 'c_r2@resource.calendar.google.com',
  exchange: 'room2@contoso.com',
};
const R3 = {
  feishu: 'omm_r3',
  name: 'Room 3',
  google: 'c_r3@resource.calendar.google.com',
  exchange: 'room3@contoso.com',
};
const CAL = {
  alice: 'feishu.cn_alice@group',
  carol: 'feishu.cn_carol@group',
  dave: 'feishu.cn_dave@group',
  frank: 'feishu.cn_frank@group',
};
const ZONE = 'Asia/Shanghai';
// tomorrow 09:00 in Shanghai (01:00 UTC), so everything is inside the sync window
const DAY0 = (Math.floor(Date.now() / 86_400_000) + 1) * 86_400 + 3600;
const H = 3600;

const dir = mkdtempSync(join(tmpdir(), 'feisync-rooms-'));
let em: Emulators;
let hook: WebhookServer;
let app: App;
let graph: GraphClient;
let googleAs: (who: string) => calendar_v3.Calendar;
const handled: Promise<RoomEventResult>[] = [];
let closed = false;
const blockers: { google: string; graph: string; room: typeof R1 }[] = [];

beforeAll(async () => {
  em = await startEmulators({ unlimited: true });
  hook = await startWebhookServer({
    encryptKey: APP.encrypt_key,
    verificationToken: APP.verification_token,
    onHint: (hint) => {
      if (hint.type === 'room') handled.push(handleRoomEvent(app, hint as RoomHint));
    },
  });
  const user = (name: string) => ({
    open_id: `ou_${name}`,
    user_id: `u_${name}`,
    union_id: `on_${name}`,
    email: `${name}@example.cn`,
    name: name[0].toUpperCase() + name.slice(1),
  });
  await control(em.feishu, 'seed', {
    apps: [{ ...APP, event_url: hook.url, event_mode: 'webhook' }],
    users: ['alice', 'carol', 'dave', 'frank'].map(user),
    rooms: [R1, R2, R3, { feishu: 'omm_r9' }].map((r) => ({
      room_id: r.feishu,
      name: r.feishu,
      third_party: true,
    })),
    calendars: Object.entries(CAL).map(([who, id]) => ({
      calendar_id: id,
      owner_open_id: `ou_${who}`,
      type: 'primary',
      summary: who,
    })),
  });
  await control(em.google, 'seed', {
    users: ['alice', 'carol', 'eve', 'admin'].map((u) => ({ email: `${u}@example.com` })),
    resources: [R1, R2].map((r, i) => ({
      resourceId: `r${i + 1}`,
      resourceEmail: r.google,
      resourceName: r.name,
    })),
  });
  await control(em.graph, 'seed', {
    tenants: [{ tenant_id: 'rooms-tenant', client_id: 'rooms-app', client_secret: 'rooms-secret' }],
    users: ['alice', 'erin', 'frank'].map((u) => ({
      id: `id-${u}`,
      userPrincipalName: `${u}@contoso.com`,
      mail: `${u}@contoso.com`,
    })),
    rooms: [R1, R2].map((r) => ({ emailAddress: r.exchange, displayName: r.name })),
  });
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = {
    type: 'service_account',
    client_email: 'feisync@rooms.iam.gserviceaccount.com',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    private_key_id: 'k',
  };
  writeFileSync(join(dir, 'sa.json'), JSON.stringify(key));
  writeFileSync(
    join(dir, 'feisync.yaml'),
    JSON.stringify({
      feishu: {
        app_id: APP.app_id,
        app_secret: APP.app_secret,
        domain: em.feishu,
        events: { mode: 'webhook', encrypt_key: APP.encrypt_key, verification_token: APP.verification_token },
      },
      google: {
        credentials_file: './sa.json',
        root_url: `${em.google}/`,
        token_url: `${em.google}/token`,
        admin: 'admin@example.com',
      },
      exchange: {
        tenant_id: 'rooms-tenant',
        client_id: 'rooms-app',
        client_secret: 'rooms-secret',
        base_url: em.graph,
        authority_url: em.graph,
      },
      users: [
        { feishu: 'alice@example.cn', google: 'alice@example.com', exchange: 'alice@contoso.com' },
        { feishu: 'carol@example.cn', google: 'carol@example.com' },
        { feishu: 'frank@example.cn', exchange: 'frank@contoso.com' },
      ],
      rooms: [R1, R2, R3],
      server: { public_url: hook.url },
      database: { data_dir: './db' },
      secret_key: randomBytes(32).toString('base64'),
    }),
  );
  const file = join(dir, 'feisync.yaml');
  app = await compose(loadConfig(file), file, { unthrottled: true });
  for (const who of ['alice', 'carol', 'frank']) {
    const grant = await control(em.feishu, 'user-token', { app_id: APP.app_id, open_id: `ou_${who}` });
    await app.userTokens.adopt(`ou_${who}`, grant);
  }
  graph = new GraphClient({
    tenantId: 'rooms-tenant',
    clientId: 'rooms-app',
    clientSecret: 'rooms-secret',
    baseUrl: em.graph,
    authorityUrl: em.graph,
  });
  googleAs = (who) => calendarFor(em.google, who);
});
afterAll(async () => {
  if (!closed) await app?.close();
  await hook?.close();
  await em?.close();
  rmSync(dir, { recursive: true, force: true });
});

const at = (s: number) => ({ timestamp: String(s), timezone: ZONE });
const room = (r: { feishu: string }) => ({
  type: 'resource',
  room_id: r.feishu,
  display_name: r.feishu,
  rsvp_status: 'accept',
});
let serial = 0;

/** A Feishu user creates a meeting with rooms; answers its event id. */
async function meeting(
  who: keyof typeof CAL,
  start: number,
  rooms: { feishu: string }[],
  extra: object = {},
) {
  const event_id = `room-e2e-${++serial}_0`;
  await control(em.feishu, 'events', {
    op: 'create',
    calendar_id: CAL[who],
    event: {
      event_id,
      summary: `Meeting ${serial}`,
      start_time: at(start),
      end_time: at(start + H),
      ...extra,
    },
    attendees: rooms.map(room),
  });
  return event_id;
}

/** Feishu pushes the room event; the webhook hands it to handleRoomEvent; wait for that to finish. */
async function roomEvent(who: keyof typeof CAL, event_id: string, action: 'created' | 'updated' | 'deleted') {
  const before = handled.length;
  await control(em.feishu, 'room-event', { calendar_id: CAL[who], event_id, action });
  for (let i = 0; i < 200 && handled.length === before; i++) await new Promise((r) => setTimeout(r, 25));
  expect(handled.length).toBe(before + 1);
  return handled[before];
}

function feisync(args: string[]) {
  return new Promise<{ code: number; stdout: string }>((resolve) =>
    execFile(
      process.execPath,
      [join(import.meta.dirname, '../../bin/feisync.mjs'), ...args],
      { cwd: dir, timeout: 120_000 },
      (err, stdout) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout }),
    ),
  );
}

const statuses = (r: RoomEventResult) =>
  r.bookings.map((b) => `${b.roomId} ${b.spoke} ${b.mode} ${b.status}`);
const iso = (s: number) => new Date(s * 1000).toISOString().slice(0, 16);
/** What a room's Google calendar shows: start (UTC) and summary, in order. */
async function googleRoom(r: typeof R1, from = DAY0 - 2 * H, to = DAY0 + 10 * 86_400) {
  const res = await googleAs('admin@example.com').events.list({
    calendarId: r.google,
    singleEvents: true,
    orderBy: 'startTime',
    timeMin: new Date(from * 1000).toISOString(),
    timeMax: new Date(to * 1000).toISOString(),
  });
  return (res.data.items ?? []).map(
    (e) => `${iso(Date.parse(e.start!.dateTime!) / 1000)} ${e.summary} ${answerOf(e, r.google)}`,
  );
}
const answerOf = (e: any, address: string) =>
  e.organizer?.email === address ? 'own' : e.attendees?.find((a: any) => a.email === address)?.responseStatus;
/** What a room mailbox's calendar shows on Exchange: start (UTC) and subject. */
async function graphRoom(r: typeof R1, from = DAY0 - 2 * H, to = DAY0 + 10 * 86_400) {
  const res = await graph.api
    .api(`/users/${r.exchange}/calendarView`)
    .query({
      startDateTime: new Date(from * 1000).toISOString(),
      endDateTime: new Date(to * 1000).toISOString(),
    })
    .top(100)
    .get();
  return res.value.map((e: any) => `${e.start.dateTime.slice(0, 16)} ${e.subject}`);
}
const patch = (who: keyof typeof CAL, event_id: string, event: object) =>
  control(em.feishu, 'events', { op: 'patch', calendar_id: CAL[who], event_id, event });

describe('rooms booked through the organizer’s mirrored meeting (Alice, both spokes)', () => {
  it('create, move and delete: the room calendars follow', async () => {
    const id = await meeting('alice', DAY0, [R1]);
    const created = await roomEvent('alice', id, 'created');
    expect(statuses(created)).toEqual(['omm_r1 google attend booked', 'omm_r1 graph attend booked']);
    expect(await googleRoom(R1)).toEqual([`${iso(DAY0)} Meeting ${serial} accepted`]);
    expect(await graphRoom(R1)).toEqual([`${iso(DAY0)} Meeting ${serial}`]);

    await patch('alice', id, { start_time: at(DAY0 + 3 * H), end_time: at(DAY0 + 4 * H) });
    const moved = await roomEvent('alice', id, 'updated');
    expect(statuses(moved)).toEqual(['omm_r1 google attend booked', 'omm_r1 graph attend booked']);
    expect(await googleRoom(R1)).toEqual([`${iso(DAY0 + 3 * H)} Meeting ${serial} accepted`]);
    expect(await graphRoom(R1)).toEqual([`${iso(DAY0 + 3 * H)} Meeting ${serial}`]);

    await control(em.feishu, 'events', { op: 'delete', calendar_id: CAL.alice, event_id: id });
    const deleted = await roomEvent('alice', id, 'deleted');
    expect(statuses(deleted)).toEqual(['omm_r1 google attend released', 'omm_r1 graph attend released']);
    expect(await googleRoom(R1)).toEqual([]);
    expect(await graphRoom(R1)).toEqual([]);
  });
});

describe('rooms booked by booking events on the room calendars (Dave, no config user)', () => {
  it('create, move and delete: the booking event names the organizer and follows the meeting', async () => {
    const id = await meeting('dave', DAY0 + 24 * H, [R2]);
    const created = await roomEvent('dave', id, 'created');
    expect(statuses(created)).toEqual(['omm_r2 google book booked', 'omm_r2 graph book booked']);
    expect(created.organizer).toBe('ou_dave');
    expect(await googleRoom(R2)).toEqual([`${iso(DAY0 + 24 * H)} Booked by ou_dave own`]);
    expect(await graphRoom(R2)).toEqual([`${iso(DAY0 + 24 * H)} Booked by ou_dave`]);

    await patch('dave', id, { start_time: at(DAY0 + 26 * H), end_time: at(DAY0 + 27 * H) });
    await roomEvent('dave', id, 'updated');
    expect(await googleRoom(R2)).toEqual([`${iso(DAY0 + 26 * H)} Booked by ou_dave own`]);
    expect(await graphRoom(R2)).toEqual([`${iso(DAY0 + 26 * H)} Booked by ou_dave`]);

    await control(em.feishu, 'events', { op: 'delete', calendar_id: CAL.dave, event_id: id });
    const deleted = await roomEvent('dave', id, 'deleted');
    expect(statuses(deleted)).toEqual(['omm_r2 google book released', 'omm_r2 graph book released']);
    expect(await googleRoom(R2)).toEqual([]);
    expect(await graphRoom(R2)).toEqual([]);
  });
});

describe('a recurring booking follows a moved occurrence (Carol: mirrored on Google, booking events on Exchange)', () => {
  it('books the series on both spokes and moves the one occurrence', async () => {
    const start = DAY0 + 5 * 86_400;
    const id = await meeting('carol', start, [R2], { recurrence: 'FREQ=DAILY;INTERVAL=1;COUNT=4' });
    const created = await roomEvent('carol', id, 'created');
    expect(statuses(created)).toEqual(['omm_r2 google attend booked', 'omm_r2 graph book booked']);
    const uid = id.slice(0, -2);
    const third = start + 2 * 86_400;
    await patch('carol', `${uid}_${third}`, { start_time: at(third + 5 * H), end_time: at(third + 6 * H) });
    const moved = await roomEvent('carol', `${uid}_${third}`, 'updated');
    expect(statuses(moved)).toEqual(['omm_r2 google attend booked', 'omm_r2 graph book booked']);
    const days = [start, start + 86_400, third + 5 * H, start + 3 * 86_400].map(iso);
    const window = [start - H, start + 5 * 86_400] as const;
    expect((await googleRoom(R2, ...window)).map((l) => l.slice(0, 16))).toEqual(days);
    expect(await graphRoom(R2, ...window)).toEqual(
      days.map((d) => `${d} Booked by Carol <carol@example.cn>`),
    );
    // the last occurrence is cancelled in Feishu: both rooms free it, the rest stays
    const fourth = start + 3 * 86_400;
    await control(em.feishu, 'events', {
      op: 'delete',
      calendar_id: CAL.carol,
      event_id: `${uid}_${fourth}`,
    });
    const cancelled = await roomEvent('carol', `${uid}_${fourth}`, 'deleted');
    expect(statuses(cancelled)).toEqual(['omm_r2 graph book released']);
    expect((await googleRoom(R2, ...window)).map((l) => l.slice(0, 16))).toEqual(days.slice(0, 3));
    expect(await graphRoom(R2, ...window)).toEqual(
      days.slice(0, 3).map((d) => `${d} Booked by Carol <carol@example.cn>`),
    );
  });
  it('the other way round (Frank: booking events on Google, mirrored on Exchange)', async () => {
    const start = DAY0 + 5 * 86_400 + 2 * H;
    const id = await meeting('frank', start, [R1], { recurrence: 'FREQ=DAILY;INTERVAL=1;COUNT=4' });
    const created = await roomEvent('frank', id, 'created');
    expect(statuses(created)).toEqual(['omm_r1 google book booked', 'omm_r1 graph attend booked']);
    const uid = id.slice(0, -2);
    const second = start + 86_400;
    await patch('frank', `${uid}_${second}`, { start_time: at(second - 2 * H), end_time: at(second - H) });
    const moved = await roomEvent('frank', `${uid}_${second}`, 'updated');
    expect(statuses(moved)).toEqual(['omm_r1 google book booked', 'omm_r1 graph attend booked']);
    const days = [start, second - 2 * H, start + 2 * 86_400, start + 3 * 86_400].map(iso);
    const window = [start - H, start + 5 * 86_400] as const;
    expect(await googleRoom(R1, ...window)).toEqual(
      days.map((d) => `${d} Booked by Frank <frank@example.cn> own`),
    );
    expect(await graphRoom(R1, ...window)).toEqual(days.map((d) => `${d} Meeting ${serial}`));
  });
});

describe('Feishu sends `_created` for every change (seed 004)', () => {
  it('reads the meeting to tell a deletion apart, and releases its rooms', async () => {
    const start = DAY0 + 4 * 86_400;
    const id = await meeting('carol', start, [R1]);
    expect(statuses(await roomEvent('carol', id, 'created'))).toEqual([
      'omm_r1 google attend booked',
      'omm_r1 graph book booked',
    ]);
    await control(em.feishu, 'events', { op: 'delete', calendar_id: CAL.carol, event_id: id });
    const gone = await roomEvent('carol', id, 'created');
    expect(gone.action).toBe('deleted');
    expect(statuses(gone)).toEqual(['omm_r1 google attend released', 'omm_r1 graph book released']);
    expect(await googleRoom(R1, start - H, start + 2 * H)).toEqual([]);
    expect(await graphRoom(R1, start - H, start + 2 * H)).toEqual([]);
  });
});

describe('rooms that cannot be booked are reported', () => {
  it('reports a room the rooms table does not map, per spoke', async () => {
    const id = await meeting('alice', DAY0 + 2 * 86_400, [{ feishu: 'omm_r9' }]);
    const r = await roomEvent('alice', id, 'created');
    expect(r.bookings.map((b) => [b.spoke, b.status, b.detail])).toEqual([
      ['google', 'unmapped', 'room omm_r9 is not in the rooms table'],
      ['graph', 'unmapped', 'room omm_r9 is not in the rooms table'],
    ]);
  });

  it('reports a busy room as a conflict on each spoke and books nothing over it', async () => {
    const busy = DAY0 + 3 * 86_400;
    // Eve (Google) and Erin (Exchange) hold Room 1 and Room 2 at that time, outside Feishu
    for (const r of [R1, R2]) {
      const eve = await googleAs('eve@example.com').events.insert({
        calendarId: 'primary',
        requestBody: {
          summary: 'Eve holds it',
          start: { dateTime: new Date(busy * 1000).toISOString() },
          end: { dateTime: new Date((busy + H) * 1000).toISOString() },
          attendees: [{ email: r.google, resource: true }],
        },
      });
      const erin = await graph.api.api('/users/erin@contoso.com/calendar/events').post({
        subject: 'Erin holds it',
        start: { dateTime: new Date(busy * 1000).toISOString().slice(0, 19), timeZone: 'UTC' },
        end: { dateTime: new Date((busy + H) * 1000).toISOString().slice(0, 19), timeZone: 'UTC' },
        attendees: [{ emailAddress: { address: r.exchange }, type: 'resource' }],
      });
      blockers.push({ google: eve.data.id!, graph: erin.id, room: r });
    }
    const mirrored = await roomEvent('alice', await meeting('alice', busy + H / 2, [R1]), 'created');
    expect(statuses(mirrored)).toEqual(['omm_r1 google attend conflict', 'omm_r1 graph attend conflict']);
    expect(mirrored.bookings[0].detail).toMatch(/declined: held by "Eve holds it"/);
    const booked = await roomEvent('dave', await meeting('dave', busy, [R2]), 'created');
    expect(statuses(booked)).toEqual(['omm_r2 google book conflict', 'omm_r2 graph book conflict']);
    expect(booked.bookings[1].detail).toMatch(/busy: held by "Erin holds it"/);
    expect(await googleRoom(R2, busy - H, busy + 2 * H)).toEqual([`${iso(busy)} Eve holds it accepted`]);
    expect(await graphRoom(R2, busy - H, busy + 2 * H)).toEqual([`${iso(busy)} Erin holds it`]);
    expect(booked.counts.conflict).toBe(2);
  });

  it('checks refused bookings again: a booking event is made once its room is free', async () => {
    const busy = DAY0 + 3 * 86_400;
    const r2 = blockers.find((b) => b.room === R2)!;
    await googleAs('eve@example.com').events.delete({ calendarId: 'primary', eventId: r2.google });
    await graph.api.api(`/users/erin@contoso.com/events/${r2.graph}`).delete();
    const again = await recheckRoomBookings(app);
    expect(again.flatMap(statuses).sort()).toEqual([
      // a room that declined a mirrored meeting keeps its answer while the meeting keeps its time
      'omm_r1 google attend conflict',
      'omm_r1 graph attend conflict',
      'omm_r2 google book booked',
      'omm_r2 graph book booked',
    ]);
    expect(await googleRoom(R2, busy - H, busy + 2 * H)).toEqual([`${iso(busy)} Booked by ou_dave own`]);
    expect(await graphRoom(R2, busy - H, busy + 2 * H)).toEqual([`${iso(busy)} Booked by ou_dave`]);
  });

  it('status shows the conflicts, unmapped rooms, counts per room, and config rooms missing from a directory', async () => {
    const summary = await roomSummary(app);
    const line = (roomId: string, spoke: string) =>
      summary.rooms.find((r) => r.roomId === roomId && r.spoke === spoke)?.counts;
    expect(line('omm_r1', 'google')).toMatchObject({ booked: 2, conflict: 1, released: 2 });
    expect(line('omm_r9', 'graph')).toMatchObject({ unmapped: 1 });
    expect(summary.totals.conflict).toBe(2);
    // the embedded database is one process's: hand it to the CLI
    await app.close();
    closed = true;
    const started = performance.now();
    const out = await feisync(['status', '--json', '--config', join(dir, 'feisync.yaml')]);
    console.log(`feisync status --json: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    expect(out.code).toBe(0);
    const status = JSON.parse(out.stdout);
    expect(status.rooms.map((r: any) => `${r.roomId} ${r.spoke} ${r.status}`).sort()).toEqual(
      [
        'omm_r1 google conflict',
        'omm_r1 graph conflict',
        'omm_r9 google unmapped',
        'omm_r9 graph unmapped',
      ].sort(),
    );
    expect(status.roomDirectory.missing.map((m: any) => `${m.roomId} ${m.spoke}`)).toEqual([
      'omm_r3 google',
      'omm_r3 graph',
    ]);

    const check = await feisync([
      'config',
      'check',
      '--online',
      '--json',
      '--config',
      join(dir, 'feisync.yaml'),
    ]);
    expect(check.code).toBe(1);
    expect(JSON.parse(check.stdout).roomDirectory.missing.map((m: any) => m.room)).toEqual([
      R3.google,
      R3.exchange,
    ]);
  });
});
