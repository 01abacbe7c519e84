/** FeishuConnector.getEvent through the Lark SDK: masters, exceptions, and events that are gone. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFeishuConnector } from './client.ts';
import { APP_ID, APP_SECRET, CAL, sampleSeed } from './emulator/fixture.ts';
import { type FeishuEmulator, startFeishuEmulator } from './emulator/index.ts';

let em: FeishuEmulator;
const post = async (path: string, body: unknown = {}): Promise<any> =>
  (await fetch(em.url + path, { method: 'POST', body: JSON.stringify(body) })).json();

beforeAll(async () => {
  em = await startFeishuEmulator();
});
afterAll(() => em.close());
beforeEach(async () => {
  await post('/_emulator/reset');
  await post('/_emulator/seed', sampleSeed());
});

describe('feishu connector: getEvent', () => {
  it('reads a series master with its rule, a single event with its room, an exception; tells deleted from missing', async () => {
    const c = createFeishuConnector({ appId: APP_ID, appSecret: APP_SECRET, domain: em.url });
    const ref = { owner: 'ou_alice', id: CAL.alice };
    const series = await c.getEvent(ref, 'series-1_0');
    expect(series !== 'deleted' && series?.recurrence).toEqual(['RRULE:FREQ=DAILY;INTERVAL=1;COUNT=5']);
    expect(series !== 'deleted' && series?.start).toEqual({
      timestamp: 1767229200,
      timeZone: 'Asia/Shanghai',
    });
    const single = await c.getEvent(ref, 'single-1_0');
    expect(single !== 'deleted' && single?.attendees.find((a) => a.kind === 'room')).toMatchObject({
      id: 'omm_room1',
    });
    expect(await c.getEvent(ref, 'nope_0')).toBeUndefined();
    await post('/_emulator/events', {
      op: 'patch',
      calendar_id: CAL.alice,
      event_id: 'series-1_1767315600',
      event: { summary: 'Moved one' },
    });
    const exception = await c.getEvent(ref, 'series-1_1767315600');
    expect(exception !== 'deleted' && exception?.key).toEqual({ uid: 'series-1', originalTime: 1767315600 });
    expect(exception !== 'deleted' && exception?.summary).toBe('Moved one');
    await post('/_emulator/events', { op: 'delete', calendar_id: CAL.alice, event_id: 'single-1_0' });
    expect(await c.getEvent(ref, 'single-1_0')).toBe('deleted');
  });
});
