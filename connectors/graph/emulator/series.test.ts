import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { failure, fresh, type Kit, startKit, timed } from './testkit.ts';

let kit: Kit;
beforeAll(async () => {
  kit = await startKit();
});
afterAll(() => kit.close());
beforeEach(() => fresh(kit));

const ann = '/users/ann@contoso.com';
const weekly = (extra: object = {}) => ({
  subject: 'Weekly',
  start: timed('2025-03-03T09:00:00', 'W. Europe Standard Time'),
  end: timed('2025-03-03T10:00:00', 'W. Europe Standard Time'),
  recurrence: {
    pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday'], firstDayOfWeek: 'sunday' },
    range: { type: 'numbered', startDate: '2025-03-03', numberOfOccurrences: 6 },
  },
  ...extra,
});
const window = { startDateTime: '2025-03-01T00:00:00Z', endDateTime: '2025-05-01T00:00:00Z' };

describe('graph emulator: series', () => {
  it('expands a master into occurrences across DST and validates the range start', async () => {
    const m = await kit.api.api(`${ann}/calendar/events`).post(weekly());
    expect(m.type).toBe('seriesMaster');
    const inst = await kit.api.api(`${ann}/events/${m.id}/instances`).query(window).get();
    expect(inst.value.map((i: any) => i.start.dateTime.slice(0, 16))).toEqual([
      '2025-03-03T08:00',
      '2025-03-10T08:00',
      '2025-03-17T08:00',
      '2025-03-24T08:00',
      '2025-03-31T07:00',
      '2025-04-07T07:00',
    ]);
    expect(inst.value.every((i: any) => i.type === 'occurrence' && i.seriesMasterId === m.id)).toBe(true);
    const bad = weekly();
    bad.recurrence.range.startDate = '2025-03-04';
    expect((await failure(kit.api.api(`${ann}/calendar/events`).post(bad))).status).toBe(400);
    const badIndex = weekly();
    (badIndex.recurrence.pattern as any).index = 'fifth';
    expect((await failure(kit.api.api(`${ann}/calendar/events`).post(badIndex))).status).toBe(400);
    expect((await failure(kit.api.api(`${ann}/events/${m.id}/instances`).get())).status).toBe(400);
  });

  it('turns an edited occurrence into an exception and hides a deleted one', async () => {
    const m = await kit.api.api(`${ann}/calendar/events`).post(weekly());
    const inst = (await kit.api.api(`${ann}/events/${m.id}/instances`).query(window).get()).value;
    const moved = await kit.api.api(`${ann}/events/${inst[1].id}`).patch({
      subject: 'Moved',
      start: timed('2025-03-11T09:00:00', 'UTC'),
      end: timed('2025-03-11T10:00:00', 'UTC'),
    });
    expect(moved).toMatchObject({
      type: 'exception',
      id: inst[1].id,
      seriesMasterId: m.id,
      subject: 'Moved',
    });
    expect(moved.originalStart).toBe('2025-03-10T08:00:00Z');
    await kit.api.api(`${ann}/events/${inst[2].id}`).delete();
    const after = (await kit.api.api(`${ann}/events/${m.id}/instances`).query(window).get()).value;
    expect(after.length).toBe(5);
    expect(after.map((i: any) => i.type)).toContain('exception');
    expect(after.find((i: any) => i.id === inst[2].id)).toBeUndefined();
    const view = await kit.api.api(`${ann}/calendar/calendarView`).query(window).top(50).get();
    expect(view.value.length).toBe(5);
    const state = await kit.control('state', undefined, 'GET');
    expect(state.events.find((e: any) => e.id === m.id).cancelledOccurrences).toEqual([
      '2025-03-17T08:00:00.000Z',
    ]);
    expect((await failure(kit.api.api(`${ann}/calendar/calendarView`).get())).status).toBe(400);
  });
});

describe('graph emulator: delta', () => {
  it('pages a round with maxpagesize, then reports changes and @removed; expired tokens get 410', async () => {
    const m = await kit.api.api(`${ann}/calendar/events`).post(weekly());
    const s = await kit.api.api(`${ann}/calendar/events`).post({
      subject: 'One',
      start: timed('2025-03-05T09:00:00', 'UTC'),
      end: timed('2025-03-05T10:00:00', 'UTC'),
    });
    const get = (url: string) => kit.api.api(url).header('Prefer', 'odata.maxpagesize=4').get();
    const rel = (link: string) => {
      const u = new URL(link);
      return `${u.pathname.slice(5)}${u.search}`;
    };
    const p1 = await get(
      `${ann}/calendarView/delta?startDateTime=${window.startDateTime}&endDateTime=${window.endDateTime}`,
    );
    expect(p1.value.length).toBe(4);
    const p2 = await get(rel(p1['@odata.nextLink']));
    expect(p2.value.length).toBe(3);
    const deltaLink = p2['@odata.deltaLink'];
    expect(deltaLink).toContain('$deltatoken=');
    await kit.api.api(`${ann}/events/${s.id}`).delete();
    const occ = (await kit.api.api(`${ann}/events/${m.id}/instances`).query(window).get()).value;
    await kit.api.api(`${ann}/events/${occ[0].id}`).patch({ subject: 'Edited' });
    const d = await get(rel(deltaLink));
    expect(d.value.filter((x: any) => x['@removed']).map((x: any) => x.id)).toEqual([s.id]);
    expect(d.value.filter((x: any) => !x['@removed']).map((x: any) => x.subject)).toEqual(['Edited']);
    expect(d['@odata.deltaLink']).toBeDefined();
    await kit.control('clock', { advanceSeconds: 8 * 24 * 3600 });
    const expired = await failure(kit.api.api(rel(d['@odata.deltaLink'])).get());
    expect(expired).toMatchObject({ status: 410, code: 'SyncStateNotFound' });
  });
});

describe('graph emulator: an occurrence deleted on its own', () => {
  it('delta names it @removed by its instance id only; instances and calendarView drop it; v1.0 has no cancelledOccurrences', async () => {
    const m = await kit.api.api(`${ann}/calendar/events`).post(weekly());
    const rel = (link: string) => {
      const u = new URL(link);
      return `${u.pathname.slice(5)}${u.search}`;
    };
    let page = await kit.api
      .api(
        `${ann}/calendarView/delta?startDateTime=${window.startDateTime}&endDateTime=${window.endDateTime}`,
      )
      .get();
    while (page['@odata.nextLink']) page = await kit.api.api(rel(page['@odata.nextLink'])).get();
    const occ = (await kit.api.api(`${ann}/events/${m.id}/instances`).query(window).get()).value;
    await kit.api.api(`${ann}/events/${occ[3].id}`).delete();
    const d = await kit.api.api(rel(page['@odata.deltaLink'])).get();
    expect(d.value).toEqual([
      { '@odata.type': '#microsoft.graph.event', id: occ[3].id, '@removed': { reason: 'deleted' } },
    ]);
    const after = (await kit.api.api(`${ann}/events/${m.id}/instances`).query(window).get()).value;
    expect(after.map((i: any) => i.id)).toEqual(
      occ.filter((_: any, k: number) => k !== 3).map((i: any) => i.id),
    );
    const master = await kit.api.api(`${ann}/events/${m.id}`).get();
    expect(master.cancelledOccurrences).toBeUndefined();
    expect((await failure(kit.api.api(`${ann}/events/${occ[3].id}`).get())).status).toBe(404);
  });
});

describe('graph emulator: $batch', () => {
  it('runs up to 20 requests, honours dependsOn with 424 and rejects more than 20', async () => {
    const body = (subject: string) => ({
      subject,
      start: timed('2025-03-05T09:00:00', 'UTC'),
      end: timed('2025-03-05T10:00:00', 'UTC'),
    });
    const res = await kit.api.api('/$batch').post({
      requests: [
        {
          id: '1',
          method: 'POST',
          url: `${ann}/calendar/events`,
          body: body('a'),
          headers: { 'Content-Type': 'application/json' },
        },
        { id: '2', method: 'GET', url: `${ann}/events/missing`, dependsOn: ['1'] },
        { id: '3', method: 'GET', url: `${ann}/calendars`, dependsOn: ['2'] },
      ],
    });
    const byId = Object.fromEntries(res.responses.map((r: any) => [r.id, r.status]));
    expect(byId).toEqual({ '1': 201, '2': 404, '3': 424 });
    const tooMany = Array.from({ length: 21 }, (_, i) => ({
      id: String(i),
      method: 'GET',
      url: `${ann}/calendars`,
    }));
    expect((await failure(kit.api.api('/$batch').post({ requests: tooMany }))).status).toBe(400);
    const dup = [
      { id: 'x', method: 'GET', url: `${ann}/calendars` },
      { id: 'x', method: 'GET', url: `${ann}/calendars` },
    ];
    expect((await failure(kit.api.api('/$batch').post({ requests: dup }))).status).toBe(400);
    const parallel = Array.from({ length: 6 }, (_, i) => ({
      id: String(i),
      method: 'GET',
      url: `${ann}/calendars`,
    }));
    const statuses = (await kit.api.api('/$batch').post({ requests: parallel })).responses.map(
      (r: any) => r.status,
    );
    expect(statuses.filter((s: number) => s === 429).length).toBe(2);
  });
});

describe('graph emulator: throttling', () => {
  it('answers 429 with Retry-After past 4 concurrent requests and past the 10-minute budget', async () => {
    await kit.control('limits', { latencyMs: 60 });
    const calls = Array.from({ length: 6 }, () =>
      failure(kit.api.api(`${ann}/calendars`).get()).catch(() => null),
    );
    const out = await Promise.all(calls);
    const throttled = out.filter((o) => o?.status === 429);
    expect(throttled.length).toBe(2);
    expect(throttled[0]?.code).toBe('ApplicationThrottled');
    await fresh(kit);
    await kit.control('limits', { perTenMinutes: 1 });
    await kit.api.api(`${ann}/calendars`).get();
    const res = await fetch(`${kit.url}/v1.0/users/u-ann/calendars`, {
      headers: { authorization: `Bearer ${await kit.client.tokens.get()}` },
    });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await res.json()) as any).error.innerError['request-id']).toBeTruthy();
    const relaxed = await kit.control('limits', { enabled: false });
    expect(relaxed.limits.enabled).toBe(false);
    expect((await kit.api.api(`${ann}/calendars`).get()).value.length).toBe(2);
  });
});

describe('graph emulator: subscriptions', () => {
  let receiver: Server;
  const received: any[] = [];
  let respondToValidation = true;
  beforeAll(async () => {
    receiver = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const token = new URL(req.url ?? '/', 'http://x').searchParams.get('validationToken');
      if (token !== null) {
        res.writeHead(respondToValidation ? 200 : 500, { 'content-type': 'text/plain' });
        res.end(respondToValidation ? token : 'no');
        return;
      }
      received.push(JSON.parse(Buffer.concat(chunks).toString()));
      res.writeHead(202).end();
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  });
  afterAll(() => new Promise<void>((r) => receiver.close(() => r())));

  it('validates the endpoint, delivers notifications with clientState, renews and deletes', async () => {
    const notificationUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const expirationDateTime = new Date(Date.now() + 3600_000).toISOString();
    const base = {
      changeType: 'created,updated,deleted',
      notificationUrl,
      resource: `${ann.slice(1)}/events`,
    };
    respondToValidation = false;
    expect((await failure(kit.api.api('/subscriptions').post({ ...base, expirationDateTime }))).status).toBe(
      400,
    );
    respondToValidation = true;
    const tooLong = new Date(Date.now() + 5000 * 60_000).toISOString();
    expect(
      (await failure(kit.api.api('/subscriptions').post({ ...base, expirationDateTime: tooLong }))).status,
    ).toBe(400);
    const sub = await kit.api
      .api('/subscriptions')
      .post({ ...base, expirationDateTime, clientState: 'secret-state' });
    expect(sub.id).toBeTruthy();
    const ev = await kit.api.api(`${ann}/calendar/events`).post({
      subject: 'n',
      start: timed('2025-03-05T09:00:00', 'UTC'),
      end: timed('2025-03-05T10:00:00', 'UTC'),
    });
    for (let i = 0; i < 50 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(received[0].value[0]).toMatchObject({
      subscriptionId: sub.id,
      changeType: 'created',
      clientState: 'secret-state',
      resourceData: { id: ev.id },
    });
    const later = new Date(Date.now() + 7200_000).toISOString();
    const renewed = await kit.api.api(`/subscriptions/${sub.id}`).patch({ expirationDateTime: later });
    expect(renewed.expirationDateTime).toBe(later);
    await kit.api.api(`/subscriptions/${sub.id}`).delete();
    expect((await failure(kit.api.api(`/subscriptions/${sub.id}`).get())).status).toBe(404);
  });
});
