import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type FeishuHint, handleWebhook, MemoryDeduplicator, readDelivery } from './events.ts';

// An independent encoder of the documented algorithm (not the module's own crypto helpers).
const KEY = 'test-encrypt-key';
const TOKEN = 'test-verification-token';
function seal(plain: object, key = KEY) {
  const iv = randomBytes(16);
  const c = createCipheriv('aes-256-cbc', createHash('sha256').update(key).digest(), iv);
  return JSON.stringify({
    encrypt: Buffer.concat([iv, c.update(JSON.stringify(plain)), c.final()]).toString('base64'),
  });
}
function signed(body: string, tsSeconds: number, key = KEY) {
  const nonce = 'n-123';
  const ts = String(tsSeconds);
  return {
    headers: {
      'x-lark-request-timestamp': ts,
      'x-lark-request-nonce': nonce,
      'x-lark-signature': createHash('sha256')
        .update(ts + nonce + key + body)
        .digest('hex'),
    },
    body,
  };
}
const NOW = 1_767_225_600_000;
const changed = (id = 'ev-1', token = TOKEN) => ({
  schema: '2.0',
  header: {
    event_id: id,
    event_type: 'calendar.calendar.event.changed_v4',
    create_time: String(NOW),
    token,
    app_id: 'cli_x',
    tenant_key: 't',
  },
  event: { calendar_id: 'cal-1', user_id_list: [{ open_id: 'ou_a', user_id: 'u', union_id: 'on' }] },
});
const opts = { encryptKey: KEY, verificationToken: TOKEN };

describe('feishu intake: readDelivery', () => {
  it('accepts a correct delivery and types it', () => {
    const r = readDelivery(signed(seal(changed()), NOW / 1000), opts, NOW);
    expect(r).toEqual({
      ok: true,
      event: expect.objectContaining({
        type: 'calendar.calendar.event.changed_v4',
        eventId: 'ev-1',
        calendarId: 'cal-1',
        userOpenIds: ['ou_a'],
      }),
    });
  });

  it('rejects each bad delivery with its own reason', () => {
    const good = signed(seal(changed()), NOW / 1000);
    const forged = { ...good, headers: { ...good.headers, 'x-lark-signature': 'ab'.repeat(32) } };
    expect(readDelivery(forged, opts, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
    const unsigned = { headers: {}, body: good.body };
    expect(readDelivery(unsigned, opts, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(readDelivery(signed(seal(changed()), NOW / 1000 - 3600), opts, NOW)).toEqual({
      ok: false,
      reason: 'stale_timestamp',
    });
    expect(readDelivery(signed(seal(changed()), NOW / 1000 + 3600), opts, NOW)).toEqual({
      ok: false,
      reason: 'stale_timestamp',
    });
    expect(readDelivery(signed(seal(changed('ev-1', 'other')), NOW / 1000), opts, NOW)).toEqual({
      ok: false,
      reason: 'wrong_token',
    });
    const corrupt = JSON.stringify({ encrypt: Buffer.from(randomBytes(48)).toString('base64') });
    expect(readDelivery(signed(corrupt, NOW / 1000), opts, NOW)).toEqual({
      ok: false,
      reason: 'undecryptable',
    });
    expect(readDelivery(signed(seal(changed(), 'wrong-key'), NOW / 1000), opts, NOW)).toEqual({
      ok: false,
      reason: 'undecryptable',
    });
    expect(readDelivery(signed('{nope', NOW / 1000), opts, NOW)).toEqual({ ok: false, reason: 'malformed' });
    const other = { ...changed(), header: { ...changed().header, event_type: 'im.message.receive_v1' } };
    expect(readDelivery(signed(seal(other), NOW / 1000), opts, NOW)).toEqual({
      ok: false,
      reason: 'unknown_type',
    });
    const noCalendar = { ...changed(), event: { user_id_list: [] } };
    expect(readDelivery(signed(seal(noCalendar), NOW / 1000), opts, NOW)).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });

  it('reads plaintext deliveries when no encrypt key is configured, still checking the token', () => {
    const body = JSON.stringify(changed());
    expect(readDelivery({ headers: {}, body }, { verificationToken: TOKEN }).ok).toBe(true);
    expect(readDelivery({ headers: {}, body }, { verificationToken: 'x' })).toEqual({
      ok: false,
      reason: 'wrong_token',
    });
  });

  it('types the v1 meeting-room event of seed 004 (milliseconds in time_stamp)', () => {
    const v1 = {
      ts: '1502199207.7171419',
      uuid: 'bc447199585340d1f3728d26b1c0297a',
      token: TOKEN,
      type: 'event_callback',
      event: {
        app_id: 'cli_x',
        tenant_key: 't',
        type: 'third_party_meeting_room_event_created',
        event_id: 'bff6b51f_0',
        event_time: '1594979647635',
        uid: 'bff6b51f',
        original_time: 0,
        start: { time_stamp: '1553853600000' },
        end: { time_stamp: '1553860800000' },
        meeting_rooms: [{ open_id: 'omm_1' }, { open_id: 'omm_2' }],
        organizer: { open_id: 'ou_o', user_id: 'u_o', union_id: 'on_o' },
      },
    };
    const r = readDelivery(signed(seal(v1), NOW / 1000), opts, NOW);
    expect(r).toMatchObject({
      ok: true,
      event: {
        eventId: v1.uuid,
        uid: 'bff6b51f',
        start: 1553853600,
        end: 1553860800,
        roomIds: ['omm_1', 'omm_2'],
      },
    });
  });
});

describe('feishu intake: handleWebhook', () => {
  it('answers the url_verification challenge, handles an event once, and never hands rejects to the handler', async () => {
    const hints: FeishuHint[] = [];
    const dedup = new MemoryDeduplicator();
    const on = (h: FeishuHint) => {
      hints.push(h);
    };
    const o = { ...opts, dedup, nowMs: NOW };
    const challenge = await handleWebhook(
      { headers: {}, body: seal({ challenge: 'abc', token: TOKEN, type: 'url_verification' }) },
      o,
      on,
    );
    expect(challenge).toEqual({ status: 200, body: { challenge: 'abc' } });
    const d = signed(seal(changed('dup-1')), NOW / 1000);
    expect((await handleWebhook(d, o, on)).status).toBe(200);
    expect((await handleWebhook(d, o, on)).body).toMatchObject({ duplicate: true });
    expect(hints).toEqual([{ type: 'pull-calendar', calendarId: 'cal-1', userOpenIds: ['ou_a'] }]);
    const forged = { ...d, headers: { ...d.headers, 'x-lark-signature': '00'.repeat(32) } };
    const stale = signed(seal(changed('x2')), NOW / 1000 - 600);
    const wrong = signed(seal(changed('x3', 'bad')), NOW / 1000);
    const corrupt = signed(JSON.stringify({ encrypt: randomBytes(48).toString('base64') }), NOW / 1000);
    const reasons = [];
    for (const bad of [forged, stale, wrong, corrupt]) reasons.push((await handleWebhook(bad, o, on)).reason);
    expect(reasons).toEqual(['bad_signature', 'stale_timestamp', 'wrong_token', 'undecryptable']);
    expect(hints).toHaveLength(1);
  });

  it('answers 500 when the handler fails, and handles the redelivery', async () => {
    const dedup = new MemoryDeduplicator();
    let calls = 0;
    const d = signed(seal(changed('retry-1')), NOW / 1000);
    const o = { ...opts, dedup, nowMs: NOW };
    const failing = await handleWebhook(d, o, () => {
      calls++;
      throw new Error('queue down');
    });
    expect(failing.status).toBe(500);
    const ok = await handleWebhook(d, o, () => {
      calls++;
    });
    expect(ok.status).toBe(200);
    expect(calls).toBe(2);
  });
});
