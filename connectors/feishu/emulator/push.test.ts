import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as lark from '@larksuiteoapi/node-sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TokenCache } from '../cache.ts';
import { decryptPayload, signDelivery } from '../crypto.ts';
import { type FeishuHint, handleWebhook, MemoryDeduplicator, startLongConnection } from '../events.ts';
import { APP_ID, APP_SECRET, CAL, ENCRYPT_KEY, sampleSeed, VERIFICATION_TOKEN } from './fixture.ts';
import { type FeishuEmulator, startFeishuEmulator } from './index.ts';
import { mergeChange } from './push.ts';

const quiet = { error() {}, warn() {}, info() {}, debug() {}, trace() {} };
let em: FeishuEmulator;
let receiver: Server;
let receiverUrl: string;
let raw: { headers: Record<string, any>; body: string }[] = [];
let answers: number[] = [];
let hints: FeishuHint[] = [];
let dedup = new MemoryDeduplicator();
const post = async (path: string, body: unknown = {}): Promise<any> =>
  (await fetch(em.url + path, { method: 'POST', body: JSON.stringify(body) })).json();
const waitFor = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

async function subscribe(open_id = 'ou_alice', calendar_id = CAL.alice) {
  const t = await post('/_emulator/user-token', { app_id: APP_ID, open_id });
  const client = new lark.Client({
    appId: APP_ID,
    appSecret: APP_SECRET,
    domain: em.url,
    cache: new TokenCache(),
    logger: quiet,
  });
  const as = lark.withUserAccessToken(t.access_token);
  await client.calendar.v4.calendar.subscription({}, as);
  await client.calendar.v4.calendarEvent.subscription({ path: { calendar_id } }, as);
}
const event = (summary: string) => ({
  summary,
  start_time: { timestamp: '1767240000' },
  end_time: { timestamp: '1767243600' },
});

beforeAll(async () => {
  receiver = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    raw.push({ headers: req.headers, body });
    const forced = answers.shift();
    if (forced) {
      res.writeHead(forced).end();
      return;
    }
    const answer = await handleWebhook(
      { headers: req.headers, body },
      { encryptKey: ENCRYPT_KEY, verificationToken: VERIFICATION_TOKEN, dedup },
      (h) => {
        hints.push(h);
      },
    );
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhook`;
  em = await startFeishuEmulator({
    push: { aggregateMs: 100, retryDelaysMs: [50, 50, 50], answerTimeoutMs: 1000 },
  });
});
afterAll(async () => {
  await em.close();
  await new Promise((r) => receiver.close(r));
});
beforeEach(async () => {
  await post('/_emulator/reset');
  await post('/_emulator/seed', sampleSeed({ event_url: receiverUrl }));
  raw = [];
  answers = [];
  hints = [];
  dedup = new MemoryDeduplicator();
});

describe('feishu emulator: webhook push', () => {
  it('delivers event.changed_v4 encrypted and signed, after the aggregation window', async () => {
    await subscribe();
    const made = await post('/_emulator/events', { op: 'create', calendar_id: CAL.alice, event: event('a') });
    expect(raw).toHaveLength(0);
    await waitFor(() => hints.length === 1);
    const d = raw[0];
    const body = JSON.parse(d.body);
    expect(Object.keys(body)).toEqual(['encrypt']);
    expect(d.headers['x-lark-signature']).toBe(
      signDelivery(
        d.headers['x-lark-request-timestamp'],
        d.headers['x-lark-request-nonce'],
        ENCRYPT_KEY,
        d.body,
      ),
    );
    const plain = JSON.parse(decryptPayload(ENCRYPT_KEY, body.encrypt));
    expect(plain).toMatchObject({
      schema: '2.0',
      header: { event_type: 'calendar.calendar.event.changed_v4', token: VERIFICATION_TOKEN, app_id: APP_ID },
      event: {
        calendar_id: CAL.alice,
        user_id_list: [{ open_id: 'ou_alice', user_id: 'u_alice', union_id: 'on_alice' }],
        calendar_event_id: made.event.event_id,
        change_type: 'create',
      },
    });
    expect(hints[0]).toEqual({
      type: 'pull-calendar',
      calendarId: CAL.alice,
      userOpenIds: ['ou_alice'],
      eventId: made.event.event_id,
      changeType: 'create',
    });
  });

  it('aggregates per seed 001: create+delete sends nothing, create+update sends create', async () => {
    expect(mergeChange('create', 'delete')).toBeNull();
    expect(mergeChange('create', 'update')).toBe('create');
    expect(mergeChange('delete', 'update')).toBe('delete');
    expect(mergeChange('update', 'update')).toBe('update');
    expect(mergeChange('rsvp', 'rsvp')).toBe('rsvp');
    await post('/_emulator/push', { aggregateMs: 60_000 });
    await subscribe();
    const a = await post('/_emulator/events', { op: 'create', calendar_id: CAL.alice, event: event('a') });
    await post('/_emulator/events', { op: 'delete', calendar_id: CAL.alice, event_id: a.event.event_id });
    const b = await post('/_emulator/events', { op: 'create', calendar_id: CAL.alice, event: event('b') });
    await post('/_emulator/events', {
      op: 'patch',
      calendar_id: CAL.alice,
      event_id: b.event.event_id,
      event: { summary: 'b2' },
    });
    await post('/_emulator/deliver');
    await waitFor(() => hints.length === 1);
    expect(hints).toEqual([expect.objectContaining({ eventId: b.event.event_id, changeType: 'create' })]);
    await post('/_emulator/push', { aggregateMs: 100 });
  });

  it('retries with the same event id until HTTP 200, and the duplicate is handled once', async () => {
    await subscribe();
    answers = [500, 503];
    await post('/_emulator/events', { op: 'create', calendar_id: CAL.alice, event: event('a') });
    await waitFor(() => hints.length === 1);
    expect(raw).toHaveLength(3);
    const ids = raw.map(
      (r) => JSON.parse(decryptPayload(ENCRYPT_KEY, JSON.parse(r.body).encrypt)).header.event_id,
    );
    expect(new Set(ids).size).toBe(1);
    const { deliveries } = await post('/_emulator/deliveries');
    expect(deliveries[0]).toMatchObject({
      done: true,
      attempts: [{ status: 500 }, { status: 503 }, { status: 200 }],
    });
    // Replaying the same delivery is acknowledged but not handled again.
    const again = await fetch(receiverUrl, {
      method: 'POST',
      headers: raw[2].headers as any,
      body: raw[2].body,
    });
    expect(again.status).toBe(200);
    expect(hints).toHaveLength(1);
  });

  it('gives up after the bounded retries', async () => {
    await subscribe();
    answers = [500, 500, 500, 500, 500];
    await post('/_emulator/events', { op: 'create', calendar_id: CAL.alice, event: event('a') });
    await waitFor(() => em.deliveries()[0]?.gaveUp === true);
    const later = await post('/_emulator/deliveries');
    expect(raw).toHaveLength(4);
    expect(hints).toHaveLength(0);
    expect(later.deliveries[0].attempts).toHaveLength(4);
  });

  it('delivers calendar.calendar.changed_v4 and the v1 meeting-room event', async () => {
    await subscribe();
    await post('/_emulator/calendars', {
      op: 'create',
      calendar: { calendar_id: 'c_new', owner_open_id: 'ou_alice', type: 'shared', summary: 'New' },
    });
    await waitFor(() => hints.length === 1);
    expect(hints[0]).toEqual({ type: 'relist-calendars', userOpenIds: ['ou_alice'] });
    await post('/_emulator/room-event', { calendar_id: CAL.alice, event_id: 'single-1_0' });
    await waitFor(() => hints.length === 2);
    const plain = JSON.parse(decryptPayload(ENCRYPT_KEY, JSON.parse(raw[1].body).encrypt));
    expect(plain).toMatchObject({
      type: 'event_callback',
      token: VERIFICATION_TOKEN,
      event: {
        type: 'third_party_meeting_room_event_created',
        uid: 'single-1',
        original_time: 0,
        start: { time_stamp: '1767240000000' },
      },
    });
    expect(hints[1]).toEqual({
      type: 'room',
      action: 'created',
      uid: 'single-1',
      originalTime: 0,
      eventId: 'single-1_0',
      roomIds: ['omm_room1'],
      start: 1767240000,
      end: 1767243600,
      organizer: { openId: 'ou_alice', userId: 'u_alice', unionId: 'on_alice' },
    });
  });

  it('sends the url_verification challenge, which the webhook handler answers', async () => {
    const r = await post('/_emulator/verify-url', { app_id: APP_ID });
    expect(r.ok).toBe(true);
    expect(JSON.parse(decryptPayload(ENCRYPT_KEY, JSON.parse(raw[0].body).encrypt)).type).toBe(
      'url_verification',
    );
  });
});

describe('feishu emulator: long connection', () => {
  it('the real WSClient receives an event and the emulator sees the ack', async () => {
    await post('/_emulator/seed', { apps: [{ ...sampleSeed().apps[0], event_mode: 'websocket' }] });
    await subscribe();
    const got: FeishuHint[] = [];
    const conn = await startLongConnection({
      appId: APP_ID,
      appSecret: APP_SECRET,
      domain: em.url,
      onHint: (h) => {
        got.push(h);
      },
    });
    try {
      await waitFor(() => em.wsFrames().some((f) => f.type === 'ping'));
      await post('/_emulator/events', { op: 'create', calendar_id: CAL.alice, event: event('ws') });
      await waitFor(() => got.length === 1);
      expect(got[0]).toMatchObject({
        type: 'pull-calendar',
        calendarId: CAL.alice,
        userOpenIds: ['ou_alice'],
      });
      await waitFor(() => em.deliveries().some((d) => d.mode === 'websocket' && d.done));
      const d = em.deliveries().find((x) => x.mode === 'websocket')!;
      expect(d.ackCode).toBe(200);
      const ack = em.wsFrames().find((f) => f.type === 'event');
      expect(ack?.message_id).toBe(d.event_id);
      expect(raw).toHaveLength(0);
    } finally {
      conn.close();
    }
  });
});
