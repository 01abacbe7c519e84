import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { failure, fresh, type Kit, startKit, timed } from './testkit.ts';

let kit: Kit;
beforeAll(async () => {
  kit = await startKit();
});
afterAll(() => kit.close());
beforeEach(() => fresh(kit));

const ann = '/users/ann@contoso.com';
const single = (extra: Record<string, unknown> = {}): Record<string, any> => ({
  subject: 'Standup',
  start: timed('2025-06-02T09:00:00', 'China Standard Time'),
  end: timed('2025-06-02T09:30:00', 'China Standard Time'),
  ...extra,
});

describe('graph emulator: auth', () => {
  it('issues client-credentials tokens and refuses bad secrets, unknown tenants and missing tokens', async () => {
    const token = (tenant: string, secret: string) =>
      fetch(`${kit.url}/${tenant}/oauth2/v2.0/token`, {
        method: 'POST',
        body: new URLSearchParams({
          client_id: 'app-1',
          client_secret: secret,
          scope: 'https://graph.microsoft.com/.default',
          grant_type: 'client_credentials',
        }),
      });
    const ok = await token('tenant-1', 'secret-1');
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ token_type: 'Bearer', expires_in: 3599 });
    const bad = await token('tenant-1', 'wrong');
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as any).error).toBe('invalid_client');
    expect((await token('nope', 'secret-1')).status).toBe(400);
    const none = await fetch(`${kit.url}/v1.0/users/u-ann/calendars`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as any).error.code).toBe('InvalidAuthenticationToken');
  });

  it('expires tokens with the emulator clock; the client refreshes them', async () => {
    await kit.api.api(`${ann}/calendars`).get();
    const before = kit.client.tokens.requests;
    await kit.control('clock', { advanceSeconds: 3600 });
    const cals = await kit.api.api(`${ann}/calendars`).get();
    expect(cals.value.length).toBe(2);
    expect(kit.client.tokens.requests).toBe(before + 1);
  });
});

describe('graph emulator: events', () => {
  it('creates, reads, updates with If-Match and deletes; a stale changeKey gets 412', async () => {
    const ev = await kit.api.api(`${ann}/calendar/events`).post(single());
    expect(ev.type).toBe('singleInstance');
    expect(ev['@odata.etag']).toBe(`W/"${ev.changeKey}"`);
    expect(ev.start).toEqual({ dateTime: '2025-06-02T01:00:00.0000000', timeZone: 'UTC' });
    const upd = await kit.api
      .api(`${ann}/events/${ev.id}`)
      .header('If-Match', ev['@odata.etag'])
      .patch({ subject: 'Daily' });
    expect(upd.subject).toBe('Daily');
    expect(upd.changeKey).not.toBe(ev.changeKey);
    const stale = await failure(
      kit.api.api(`${ann}/events/${ev.id}`).header('If-Match', ev['@odata.etag']).patch({ subject: 'x' }),
    );
    expect(stale).toMatchObject({ status: 412, code: 'ErrorIrresolvableConflict' });
    expect(stale.requestId).toMatch(/-/);
    await kit.api.api(`${ann}/events/${ev.id}`).header('If-Match', upd['@odata.etag']).delete();
    expect(await failure(kit.api.api(`${ann}/events/${ev.id}`).get())).toMatchObject({ status: 404 });
  });

  it('de-duplicates POSTs with the same transactionId inside the window only', async () => {
    const body = single({ transactionId: '11111111-2222-3333-4444-555555555555' });
    const a = await kit.api.api(`${ann}/calendar/events`).post(body);
    const b = await kit.api.api(`${ann}/calendar/events`).post(body);
    expect(b.id).toBe(a.id);
    expect(b.transactionId).toBe(body.transactionId);
    await kit.control('clock', { advanceSeconds: 2 * 3600 });
    const c = await kit.api.api(`${ann}/calendar/events`).post(body);
    expect(c.id).not.toBe(a.id);
  });

  it('accepts IANA and Windows zones and answers in the Prefer: outlook.timezone zone', async () => {
    const ev = await kit.api.api(`${ann}/calendar/events`).post({
      ...single(),
      start: timed('2025-03-09T09:00:00', 'America/Los_Angeles'),
      end: timed('2025-03-09T10:00:00', 'Pacific Standard Time'),
    });
    expect(ev.start.dateTime).toBe('2025-03-09T16:00:00.0000000');
    expect(ev.originalStartTimeZone).toBe('America/Los_Angeles');
    const got = await kit.api
      .api(`${ann}/events/${ev.id}`)
      .header('Prefer', 'outlook.timezone="Tokyo Standard Time"')
      .get();
    expect(got.start).toEqual({ dateTime: '2025-03-10T01:00:00.0000000', timeZone: 'Tokyo Standard Time' });
    const bad = await failure(
      kit.api
        .api(`${ann}/calendar/events`)
        .post({ ...single(), start: timed('2025-01-01T09:00:00', 'Mars/Base') }),
    );
    expect(bad.status).toBe(400);
  });

  it('enforces the isAllDay rules and keeps all-day events at midnight whatever the Prefer zone', async () => {
    const bad = await failure(
      kit.api.api(`${ann}/calendar/events`).post({
        subject: 'x',
        isAllDay: true,
        start: timed('2025-06-02T09:00:00', 'UTC'),
        end: timed('2025-06-03T00:00:00', 'UTC'),
      }),
    );
    expect(bad).toMatchObject({ status: 400 });
    const zones = await failure(
      kit.api.api(`${ann}/calendar/events`).post({
        subject: 'x',
        isAllDay: true,
        start: timed('2025-06-02T00:00:00', 'UTC'),
        end: timed('2025-06-03T00:00:00', 'Tokyo Standard Time'),
      }),
    );
    expect(zones.status).toBe(400);
    const ok = await kit.api
      .api(`${ann}/calendar/events`)
      .header('Prefer', 'outlook.timezone="Pacific Standard Time"')
      .post({
        subject: 'Holiday',
        isAllDay: true,
        start: timed('2025-06-02T00:00:00', 'Tokyo Standard Time'),
        end: timed('2025-06-03T00:00:00', 'Tokyo Standard Time'),
      });
    expect(ok.isAllDay).toBe(true);
    expect(ok.start.dateTime).toBe('2025-06-02T00:00:00.0000000');
    expect(ok.end.dateTime).toBe('2025-06-03T00:00:00.0000000');
  });

  it('rejects unknown properties and bad enum values with 400', async () => {
    expect(
      (await failure(kit.api.api(`${ann}/calendar/events`).post(single({ colour: 'red' })))).status,
    ).toBe(400);
    expect(
      (await failure(kit.api.api(`${ann}/calendar/events`).post(single({ showAs: 'maybe' })))).status,
    ).toBe(400);
    expect((await failure(kit.api.api('/users/nobody@contoso.com/calendar/events').get())).status).toBe(404);
  });

  it('stores single-value extended properties, expands them by id and filters on them', async () => {
    const prop = 'String {66f5a359-4659-4830-9070-00047ec6ac6e} Name feisyncOrigin';
    const a = await kit.api
      .api(`${ann}/calendar/events`)
      .post(single({ singleValueExtendedProperties: [{ id: prop, value: 'pair1|abc_0' }] }));
    await kit.api.api(`${ann}/calendar/events`).post(single({ subject: 'untagged' }));
    expect(a.singleValueExtendedProperties).toBeUndefined();
    const expanded = await kit.api
      .api(`${ann}/events/${a.id}`)
      .expand(`singleValueExtendedProperties($filter=id eq '${prop}')`)
      .get();
    expect(expanded.singleValueExtendedProperties).toEqual([{ id: prop, value: 'pair1|abc_0' }]);
    const filter = `singleValueExtendedProperties/Any(ep: ep/id eq '${prop}' and ep/value eq 'PAIR1|ABC_0')`;
    const hits = await kit.api.api(`${ann}/calendar/events`).filter(encodeURIComponent(filter)).get();
    expect(hits.value.map((e: any) => e.id)).toEqual([a.id]);
  });

  it('pages event lists with $top and nextLink', async () => {
    for (let i = 0; i < 3; i++)
      await kit.api.api(`${ann}/calendar/events`).post(single({ subject: `e${i}` }));
    const first = await kit.api.api(`${ann}/calendar/events`).top(2).get();
    expect(first.value.length).toBe(2);
    const next = new URL(first['@odata.nextLink']);
    const second = await kit.api.api(`${next.pathname.slice(5)}${next.search}`).get();
    expect(second.value.map((e: any) => e.subject)).toEqual(['e2']);
  });

  it('lists calendars, the default calendar and rooms', async () => {
    const cals = await kit.api.api(`${ann}/calendars`).get();
    expect(cals.value.map((c: any) => [c.id, c.isDefaultCalendar])).toEqual([
      ['cal-ann', true],
      ['cal-ann-2', false],
    ]);
    expect((await kit.api.api(`${ann}/calendar`).get()).id).toBe('cal-ann');
    const ev = await kit.api.api(`${ann}/calendars/cal-ann-2/events`).post(single());
    expect((await kit.api.api(`${ann}/calendars/cal-ann-2/events`).get()).value[0].id).toBe(ev.id);
    const rooms = await kit.api.api('/places/microsoft.graph.room').get();
    expect(rooms.value.map((r: any) => [r.emailAddress, r.capacity])).toEqual([
      ['room1@contoso.com', 8],
      ['room2@contoso.com', null],
    ]);
  });
});
