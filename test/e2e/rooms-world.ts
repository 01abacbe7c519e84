/**
 * The world of test/e2e/rooms.test.ts: three emulators seeded with a small tenant, the webhook intake
 * handing room events to handleRoomEvent, the composed app, and helpers that read the rooms back
 * through Google's and Graph's own APIs.
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { calendar_v3 } from 'googleapis';
import { expect } from 'vitest';
import { calendarFor } from '../../connectors/google/emulator/testkit.ts';
import { GraphClient } from '../../connectors/graph/client.ts';
import { type App, compose } from '../../src/app/compose.ts';
import { control, type Emulators, startEmulators } from '../../src/app/emulators.ts';
import { handleRoomEvent, type RoomEventResult, type RoomHint } from '../../src/app/rooms-run.ts';
import { loadConfig } from '../../src/config/index.ts';
import { openDatabase } from '../../src/store/db.ts';
import { startWebhookServer, type WebhookServer } from '../../src/web/feishu-hook.ts';

export const APP = {
  app_id: 'cli_0a1b2c3d4e5f6a7b',
  app_secret: 'room-secret',
  encrypt_key: 'room-key',
  verification_token: 'room-token',
};
export const R1 = {
  feishu: 'omm_r1',
  name: 'Room 1',
  google: 'c_r1@resource.calendar.google.com',
  exchange: 'room1@contoso.com',
};
export const R2 = {
  feishu: 'omm_r2',
  name: 'Room 2',
  google: 'c_r2@resource.calendar.google.com',
  exchange: 'room2@contoso.com',
};
export const R3 = {
  feishu: 'omm_r3',
  name: 'Room 3',
  google: 'c_r3@resource.calendar.google.com',
  exchange: 'room3@contoso.com',
};
export const CAL = {
  alice: 'feishu.cn_alice@group',
  carol: 'feishu.cn_carol@group',
  dave: 'feishu.cn_dave@group',
  frank: 'feishu.cn_frank@group',
};
export const ZONE = 'Asia/Shanghai';
// tomorrow 09:00 in Shanghai (01:00 UTC), so everything is inside the sync window
export const DAY0 = (Math.floor(Date.now() / 86_400_000) + 1) * 86_400 + 3600;
export const H = 3600;

export const dir = mkdtempSync(join(tmpdir(), 'feisync-rooms-'));
/** The running world of one test file: emulators, webhook, the composed app, API clients. */
export const world = {} as {
  em: Emulators;
  hook: WebhookServer;
  app: App;
  graph: GraphClient;
  googleAs: (who: string) => calendar_v3.Calendar;
  /** The app was closed (to hand the embedded database to the CLI). */
  closed: boolean;
};
const handled: Promise<RoomEventResult>[] = [];
export const blockers: { google: string; graph: string; room: typeof R1 }[] = [];

type Room = { feishu: string; name: string; google?: string; exchange?: string };

/** The Postgres schema of this world, when it runs on a Postgres server (TEST_DATABASE_URL). */
let pgSchema: string | undefined;

/** A fresh schema on the Postgres server of TEST_DATABASE_URL: its URL. */
async function postgresSchema(url: string): Promise<string> {
  pgSchema = `feisync_rooms_${process.pid}_${Date.now()}`;
  const admin = await openDatabase({ url, migrate: false });
  await admin.executeSql(`CREATE SCHEMA "${pgSchema}"`);
  await admin.close();
  const scoped = new URL(url);
  scoped.searchParams.set('schema', pgSchema);
  return scoped.toString();
}

/**
 * Starts the emulators, the webhook and the app, seeds the tenants, has the users consent. `extra`
 * rooms join the rooms table and the directories of the spokes they name. With `postgres`, the app
 * runs on the Postgres server of TEST_DATABASE_URL when it is set (else on embedded PGlite).
 */
export async function startWorld(extra: Room[] = [], options: { postgres?: boolean } = {}) {
  const pg = options.postgres ? process.env.TEST_DATABASE_URL : undefined;
  const database = pg ? { url: await postgresSchema(pg) } : { data_dir: './db' };
  world.em = await startEmulators({ unlimited: true });
  world.hook = await startWebhookServer({
    encryptKey: APP.encrypt_key,
    verificationToken: APP.verification_token,
    onHint: (hint) => {
      if (hint.type === 'room') handled.push(handleRoomEvent(world.app, hint as RoomHint));
    },
  });
  const user = (name: string) => ({
    open_id: `ou_${name}`,
    user_id: `u_${name}`,
    union_id: `on_${name}`,
    email: `${name}@example.cn`,
    name: name[0].toUpperCase() + name.slice(1),
  });
  await control(world.em.feishu, 'seed', {
    apps: [{ ...APP, event_url: world.hook.url, event_mode: 'webhook' }],
    users: ['alice', 'carol', 'dave', 'frank'].map(user),
    rooms: [R1, R2, R3, ...extra, { feishu: 'omm_r9' }].map((r) => ({
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
  await control(world.em.google, 'seed', {
    users: ['alice', 'carol', 'eve', 'admin'].map((u) => ({ email: `${u}@example.com` })),
    resources: [R1, R2, ...extra.filter((r) => r.google)].map((r, i) => ({
      resourceId: `r${i + 1}`,
      resourceEmail: r.google,
      resourceName: r.name,
    })),
  });
  await control(world.em.graph, 'seed', {
    tenants: [{ tenant_id: 'rooms-tenant', client_id: 'rooms-app', client_secret: 'rooms-secret' }],
    users: ['alice', 'erin', 'frank'].map((u) => ({
      id: `id-${u}`,
      userPrincipalName: `${u}@contoso.com`,
      mail: `${u}@contoso.com`,
    })),
    rooms: [R1, R2, ...extra.filter((r) => r.exchange)].map((r) => ({
      emailAddress: r.exchange,
      displayName: r.name,
    })),
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
        domain: world.em.feishu,
        events: { mode: 'webhook', encrypt_key: APP.encrypt_key, verification_token: APP.verification_token },
      },
      google: {
        credentials_file: './sa.json',
        root_url: `${world.em.google}/`,
        token_url: `${world.em.google}/token`,
        admin: 'admin@example.com',
      },
      exchange: {
        tenant_id: 'rooms-tenant',
        client_id: 'rooms-app',
        client_secret: 'rooms-secret',
        base_url: world.em.graph,
        authority_url: world.em.graph,
      },
      users: [
        { feishu: 'alice@example.cn', google: 'alice@example.com', exchange: 'alice@contoso.com' },
        { feishu: 'carol@example.cn', google: 'carol@example.com' },
        { feishu: 'frank@example.cn', exchange: 'frank@contoso.com' },
      ],
      rooms: [R1, R2, R3, ...extra],
      server: { public_url: world.hook.url },
      database,
      secret_key: randomBytes(32).toString('base64'),
    }),
  );
  const file = join(dir, 'feisync.yaml');
  world.app = await compose(loadConfig(file), file, { unthrottled: true });
  for (const who of ['alice', 'carol', 'frank']) {
    const grant = await control(world.em.feishu, 'user-token', { app_id: APP.app_id, open_id: `ou_${who}` });
    await world.app.userTokens.adopt(`ou_${who}`, grant);
  }
  world.graph = new GraphClient({
    tenantId: 'rooms-tenant',
    clientId: 'rooms-app',
    clientSecret: 'rooms-secret',
    baseUrl: world.em.graph,
    authorityUrl: world.em.graph,
  });
  world.googleAs = (who) => calendarFor(world.em.google, who);
}
export async function stopWorld() {
  if (!world.closed) await world.app?.close();
  await world.hook?.close();
  await world.em?.close();
  rmSync(dir, { recursive: true, force: true });
  if (pgSchema) {
    const admin = await openDatabase({ url: process.env.TEST_DATABASE_URL!, migrate: false });
    await admin.executeSql(`DROP SCHEMA "${pgSchema}" CASCADE`);
    await admin.close();
  }
}

export const at = (s: number) => ({ timestamp: String(s), timezone: ZONE });
export const room = (r: { feishu: string }) => ({
  type: 'resource',
  room_id: r.feishu,
  display_name: r.feishu,
  rsvp_status: 'accept',
});
/** How many meetings were made so far (the last one is `Meeting ${serial}`). */
export let serial = 0;

/** A Feishu user creates a meeting with rooms; answers its event id. */
export async function meeting(
  who: keyof typeof CAL,
  start: number,
  rooms: { feishu: string }[],
  extra: object = {},
) {
  const event_id = `room-e2e-${++serial}_0`;
  await control(world.em.feishu, 'events', {
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
export async function roomEvent(
  who: keyof typeof CAL,
  event_id: string,
  action: 'created' | 'updated' | 'deleted',
) {
  const before = handled.length;
  await control(world.em.feishu, 'room-event', { calendar_id: CAL[who], event_id, action });
  for (let i = 0; i < 200 && handled.length === before; i++) await new Promise((r) => setTimeout(r, 25));
  expect(handled.length).toBe(before + 1);
  return handled[before];
}

export function feisync(args: string[]) {
  return new Promise<{ code: number; stdout: string }>((resolve) =>
    execFile(
      process.execPath,
      [join(import.meta.dirname, '../../bin/feisync.mjs'), ...args],
      { cwd: dir, timeout: 120_000 },
      (err, stdout) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout }),
    ),
  );
}

export const statuses = (r: RoomEventResult) =>
  r.bookings.map((b) => `${b.roomId} ${b.spoke} ${b.mode} ${b.status}`);
export const iso = (s: number) => new Date(s * 1000).toISOString().slice(0, 16);
/** What a room's Google calendar shows: start (UTC) and summary, in order. */
export async function googleRoom(r: typeof R1, from = DAY0 - 2 * H, to = DAY0 + 10 * 86_400) {
  const res = await world.googleAs('admin@example.com').events.list({
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
export const answerOf = (e: any, address: string) =>
  e.organizer?.email === address ? 'own' : e.attendees?.find((a: any) => a.email === address)?.responseStatus;
/** What a room mailbox's calendar shows on Exchange: start (UTC) and subject. */
export async function graphRoom(r: typeof R1, from = DAY0 - 2 * H, to = DAY0 + 10 * 86_400) {
  const res = await world.graph.api
    .api(`/users/${r.exchange}/calendarView`)
    .query({
      startDateTime: new Date(from * 1000).toISOString(),
      endDateTime: new Date(to * 1000).toISOString(),
    })
    .top(100)
    .get();
  return res.value.map((e: any) => `${e.start.dateTime.slice(0, 16)} ${e.subject}`);
}
export const patch = (who: keyof typeof CAL, event_id: string, event: object) =>
  control(world.em.feishu, 'events', { op: 'patch', calendar_id: CAL[who], event_id, event });
