/** What the reverse direction reads from Graph: iCalUId, the owner's answer, exceptions, expiry. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChangePage, RemoteEvent } from '../../src/ports/index.ts';
import { createGraphConnector, type GraphConnector } from './connector.ts';
import { fresh, type Kit, startKit } from './emulator/testkit.ts';

let kit: Kit;
let conn: GraphConnector;
const CAL = { owner: 'ann@contoso.com', id: 'primary' };
beforeAll(async () => {
  kit = await startKit();
});
afterAll(() => kit.close());
beforeEach(async () => {
  await fresh(kit);
  conn = createGraphConnector({
    tenantId: 'tenant-1',
    clientId: 'app-1',
    clientSecret: 'secret-1',
    baseUrl: kit.url,
    authorityUrl: kit.url,
  });
});

async function read(cursor: string | null) {
  const pages: ChangePage[] = [];
  for await (const p of conn.listChanges(CAL, cursor)) pages.push(p);
  return {
    upserts: pages.flatMap((p) => p.upserts),
    removals: pages.flatMap((p) => p.removals),
    cursor: pages.at(-1)?.cursor ?? null,
    expired: pages.some((p) => p.expired),
  };
}
const byId = (ups: RemoteEvent[], id: string) => ups.find((u) => u.ref.id === id);
const day = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString().slice(0, 10);

describe('graph reads for the reverse direction', () => {
  it("an invitation carries the owner's answer; an Outlook-born series and its exception carry the series iCalUId and key", async () => {
    await kit.control('seed', {
      events: [
        {
          userId: 'u-ann',
          id: 'inv-1',
          subject: 'From a partner',
          iCalUId: 'partner-uid-1',
          start: { dateTime: `${day(2)}T09:00:00`, timeZone: 'UTC' },
          end: { dateTime: `${day(2)}T10:00:00`, timeZone: 'UTC' },
          isOrganizer: false,
          responseStatus: { response: 'tentativelyAccepted', time: new Date().toISOString() },
          organizer: { emailAddress: { name: 'Boss', address: 'boss@partner.example' } },
        },
      ],
    });
    const series = await kit.api.api('/users/ann@contoso.com/events').post({
      subject: 'Weekly',
      start: { dateTime: `${day(3)}T08:00:00`, timeZone: 'UTC' },
      end: { dateTime: `${day(3)}T08:30:00`, timeZone: 'UTC' },
      recurrence: {
        pattern: { type: 'daily', interval: 1 },
        range: { type: 'numbered', startDate: day(3), numberOfOccurrences: 4 },
      },
    });
    const occ = await kit.api
      .api(`/users/ann@contoso.com/events/${series.id}/instances`)
      .query({ startDateTime: `${day(0)}T00:00:00Z`, endDateTime: `${day(10)}T00:00:00Z` })
      .get();
    const second = occ.value[1];
    await kit.api.api(`/users/ann@contoso.com/events/${second.id}`).patch({ subject: 'Moved one' });
    const full = await read(null);
    expect(byId(full.upserts, 'inv-1')).toMatchObject({
      icalUid: 'partner-uid-1',
      selfRsvp: 'tentative',
      event: { key: { uid: 'partner-uid-1', originalTime: 0 } },
    });
    const master = byId(full.upserts, series.id)!;
    expect(master.icalUid).toBe(series.iCalUId);
    expect(master.selfRsvp).toBeUndefined();
    expect(master.event.recurrence[0]).toMatch(/^RRULE:FREQ=DAILY/);
    const exception = byId(full.upserts, second.id)!;
    expect(exception).toMatchObject({
      parent: series.id,
      icalUid: series.iCalUId,
      event: {
        summary: 'Moved one',
        key: { uid: series.iCalUId, originalTime: Date.parse(second.originalStart) / 1000 },
      },
    });
  });

  it("answers an invitation through the connector (accept/decline/tentativelyAccept), read back as the owner's answer", async () => {
    await kit.control('seed', {
      events: [
        {
          userId: 'u-ann',
          id: 'inv-2',
          subject: 'Invite',
          start: { dateTime: `${day(2)}T09:00:00`, timeZone: 'UTC' },
          end: { dateTime: `${day(2)}T10:00:00`, timeZone: 'UTC' },
          isOrganizer: false,
          organizer: { emailAddress: { name: 'Boss', address: 'boss@partner.example' } },
        },
      ],
    });
    const first = await read(null);
    expect(byId(first.upserts, 'inv-2')?.selfRsvp).toBe('needs-action');
    expect(await conn.reply!(CAL, { id: 'inv-2' }, 'declined')).toEqual({ ok: true });
    const next = await read(first.cursor);
    expect(next.upserts.map((u) => [u.ref.id, u.selfRsvp])).toEqual([['inv-2', 'declined']]);
    const own = await kit.api.api('/users/ann@contoso.com/events').post({
      subject: 'mine',
      start: { dateTime: `${day(1)}T08:00:00`, timeZone: 'UTC' },
      end: { dateTime: `${day(1)}T09:00:00`, timeZone: 'UTC' },
    });
    expect(await conn.reply!(CAL, { id: own.id }, 'accepted')).toMatchObject({
      ok: false,
      error: { kind: 'invalid', status: 400 },
    });
  });

  it('an expired delta link says expired; the full read after it lists each event once', async () => {
    await kit.api.api('/users/ann@contoso.com/events').post({
      subject: 'one',
      start: { dateTime: `${day(1)}T08:00:00`, timeZone: 'UTC' },
      end: { dateTime: `${day(1)}T09:00:00`, timeZone: 'UTC' },
    });
    const first = await read(null);
    await kit.control('clock', { advanceSeconds: 8 * 86_400 });
    expect(await read(first.cursor)).toMatchObject({ expired: true, upserts: [], removals: [] });
    const again = await read(null);
    expect(again.upserts.map((u) => u.ref.id)).toEqual(first.upserts.map((u) => u.ref.id));
  });
});
