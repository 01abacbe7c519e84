import { createSign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { delegatedClient } from '../auth.ts';
import { calendarFor, directoryFor, emulator, failure, serviceAccount } from './testkit.ts';

let em: Awaited<ReturnType<typeof emulator>>;
beforeAll(async () => {
  em = await emulator({
    resources: [
      {
        resourceId: 'r1',
        resourceEmail: 'room1@resource.calendar.google.com',
        resourceName: 'Room 1',
        capacity: 8,
      },
    ],
  });
});
afterAll(() => em.close());

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
function assertion(
  claims: Record<string, unknown>,
  header: Record<string, unknown> = { alg: 'RS256', typ: 'JWT' },
) {
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64(header)}.${b64({
    iss: serviceAccount().client_email,
    scope: 'https://www.googleapis.com/auth/calendar',
    aud: 'https://oauth2.googleapis.com/token',
    iat: now,
    exp: now + 3600,
    sub: 'ann@example.com',
    ...claims,
  })}`;
  const sig = createSign('RSA-SHA256').update(body).sign(serviceAccount().private_key, 'base64url');
  return `${body}.${sig}`;
}
const token = (form: Record<string, string>) =>
  fetch(`${em.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
const GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

describe('google emulator: OAuth for delegated service accounts', () => {
  it('issues a token to the real JWT client (token URL swapped) and records the subject', async () => {
    await em.reset();
    const cal = calendarFor(em.url, 'bob@example.com');
    const res = await cal.calendarList.list();
    expect(res.data.items?.map((c) => c.id)).toEqual(['bob@example.com']);
    const st = await em.state();
    expect(st.subjects).toEqual(['bob@example.com']);
    const log = await em.requests();
    expect(log.map((l: any) => l.path)).toEqual(['/token', '/calendar/v3/users/me/calendarList']);
  });

  it('answers invalid_grant for a subject that is not a user of the domain', async () => {
    const cal = calendarFor(em.url, 'mallory@example.com');
    const f = await failure(cal.events.list({ calendarId: 'primary' }));
    expect(f.status).toBe(400);
    expect(f.body).toMatchObject({ error: 'invalid_grant' });
  });

  it('checks the assertion shape: grant type, three parts, RS256, claims, audience, lifetime', async () => {
    expect((await token({ grant_type: GRANT, assertion: assertion({}) })).status).toBe(200);
    const cases: [Record<string, string>, string][] = [
      [{ grant_type: 'password', assertion: assertion({}) }, 'unsupported_grant_type'],
      [{ grant_type: GRANT, assertion: 'a.b' }, 'invalid_request'],
      [{ grant_type: GRANT, assertion: assertion({}, { alg: 'HS256' }) }, 'invalid_grant'],
      [{ grant_type: GRANT, assertion: assertion({ scope: undefined }) }, 'invalid_request'],
      [{ grant_type: GRANT, assertion: assertion({ aud: 'https://evil.example/token' }) }, 'invalid_grant'],
      [
        { grant_type: GRANT, assertion: assertion({ exp: Math.floor(Date.now() / 1000) + 7200 }) },
        'invalid_grant',
      ],
      [{ grant_type: GRANT, assertion: assertion({ sub: undefined }) }, 'invalid_grant'],
    ];
    for (const [form, error] of cases) {
      const res = await token(form);
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error).toBe(error);
    }
  });

  it('binds tokens to their subject and expires them on the emulator clock', async () => {
    await em.reset();
    const ann = calendarFor(em.url, 'ann@example.com');
    await ann.events.list({ calendarId: 'primary' });
    // ann's token does not open bob's calendar.
    expect((await failure(ann.events.list({ calendarId: 'bob@example.com' }))).status).toBe(404);
    await em.control('clock', { advanceSeconds: 3601 });
    const expired = await failure(ann.events.list({ calendarId: 'primary' }));
    expect(expired).toMatchObject({ status: 401, reason: 'authError' });
    // A new assertion (signed on the wall clock) still gets a fresh token.
    await calendarFor(em.url, 'ann@example.com').events.list({ calendarId: 'primary' });
    const log = await em.requests();
    const statuses = log.map((l: any) => `${l.path === '/token' ? 'token' : 'api'}:${l.status}`);
    expect(statuses).toEqual(['token:200', 'api:200', 'api:404', 'api:401', 'token:200', 'api:200']);
  });

  it('rejects a missing or unknown bearer token with 401 authError', async () => {
    const res = await fetch(`${em.url}/calendar/v3/calendars/primary/events`, {
      headers: { authorization: 'Bearer nope' },
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error.errors[0]).toMatchObject({
      reason: 'authError',
      location: 'Authorization',
    });
  });

  it('lists rooms through Admin Directory with paging, for a token with the directory scope', async () => {
    await em.reset();
    await em.control('seed', {
      resources: [2, 3].map((n) => ({
        resourceId: `r${n}`,
        resourceEmail: `room${n}@resource.calendar.google.com`,
        resourceName: `Room ${n}`,
      })),
    });
    const admin = directoryFor(em.url, 'ann@example.com');
    const first = await admin.resources.calendars.list({ customer: 'my_customer', maxResults: 2 });
    expect(first.data.items?.map((r) => r.resourceEmail)).toEqual([
      'room1@resource.calendar.google.com',
      'room2@resource.calendar.google.com',
    ]);
    expect(first.data.items?.[0]).toMatchObject({
      resourceName: 'Room 1',
      capacity: 8,
      resourceCategory: 'CONFERENCE_ROOM',
    });
    const second = await admin.resources.calendars.list({
      customer: 'my_customer',
      pageToken: first.data.nextPageToken!,
    });
    expect(second.data.items?.map((r) => r.resourceId)).toEqual(['r3']);
    expect(second.data.nextPageToken).toBeFalsy();
    // A calendar-scoped token may not read the directory.
    const calOnly = delegatedClient(
      serviceAccount(),
      'ann@example.com',
      ['https://www.googleapis.com/auth/calendar'],
      `${em.url}/token`,
    );
    const res = await calOnly
      .request({ url: `${em.url}/admin/directory/v1/customer/my_customer/resources/calendars`, retry: false })
      .catch((e) => e.response);
    expect(res.status).toBe(403);
  });
});
