/**
 * listChanges through `calendarView/delta` over a window (default calendar; Graph v1.0 has no
 * per-calendar delta, so another calendar gets a full calendarView listing on every call, with a
 * `view:` cursor). Delta returns instances, not masters: singles come as they are, occurrences and
 * exceptions make the connector read their series master (batched GETs, 20 per request, with the
 * origin property expanded); an exception is an upsert keyed by the master's uid and its original
 * start. `@removed` ids become removals (Graph names only the instance id). A refused token (410)
 * yields `{expired: true}`. Each upsert carries the iCalUId (an exception its series') and, on an
 * event the mailbox owner did not organize, the owner's answer (`selfRsvp`).
 */
import { BridgeError, type InstanceKey, type Rsvp } from '../../src/core/index.ts';
import type { CalendarRef, ChangePage, RemoteEvent } from '../../src/ports/connector.ts';
import { runBatched } from './batch.ts';
import { calendarBase, GraphClient } from './client.ts';
import { fromGraph, ORIGIN_PROPERTY } from './mapper.ts';

const enc = encodeURIComponent;
/** The owner's answer on an event they did not organize (`responseStatus.response`). */
const SELF_RSVP: Record<string, Rsvp> = {
  accepted: 'accepted',
  declined: 'declined',
  tentativelyAccepted: 'tentative',
  notResponded: 'needs-action',
  none: 'needs-action',
};
const DAY = 86_400_000;
const PAGE_SIZE = 100;
const expand = `$expand=${enc(`singleValueExtendedProperties($filter=id eq '${ORIGIN_PROPERTY}')`)}`;

export async function* listChanges(
  client: GraphClient,
  cal: CalendarRef,
  cursor: string | null,
  window: { pastDays: number; futureDays: number },
): AsyncIterable<ChangePage> {
  const mailbox = cal.owner;
  const user = `/users/${enc(mailbox)}`;
  const now = Date.now();
  const start = new Date(now - window.pastDays * DAY).toISOString();
  const end = new Date(now + window.futureDays * DAY).toISOString();
  const useDelta = cal.id === 'primary';
  let url: string | undefined;
  if (cursor && !cursor.startsWith('view:')) url = GraphClient.relative(cursor);
  else if (useDelta) url = `${user}/calendarView/delta?startDateTime=${start}&endDateTime=${end}`;
  else url = `${calendarBase(cal)}/calendarView?startDateTime=${start}&endDateTime=${end}&$top=${PAGE_SIZE}`;
  const masters = new Map<string, any>();
  const emitted = new Set<string>();

  while (url) {
    let page: any;
    try {
      const u = url;
      page = await client.run(mailbox, 'delta', (api) =>
        api.api(u).header('Prefer', `odata.maxpagesize=${PAGE_SIZE}`).get(),
      );
    } catch (e) {
      if (
        e instanceof BridgeError &&
        (e.status === 410 || e.code === 'SyncStateNotFound' || e.code === 'resyncRequired')
      ) {
        yield { upserts: [], removals: [], expired: true };
        return;
      }
      throw e;
    }
    const items: any[] = page.value ?? [];
    const removals = items.filter((x) => x['@removed']).map((x) => ({ ref: { id: x.id } }));
    const live = items.filter((x) => !x['@removed']);
    // Read what delta leaves out: series masters, and the origin property of singles and exceptions.
    const need = new Set<string>();
    for (const x of live) {
      if (x.seriesMasterId && !masters.has(x.seriesMasterId)) need.add(x.seriesMasterId);
      if (x.type !== 'occurrence') need.add(x.id);
    }
    const ids = [...need];
    const got = await runBatched(
      client,
      mailbox,
      ids.map((id) => ({ method: 'GET', url: `${user}/events/${enc(id)}?${expand}` })),
    );
    const full = new Map<string, any>();
    ids.forEach((id, k) => {
      if (got[k]?.status === 200) full.set(id, got[k].body);
    });
    for (const [id, body] of full) if (body.type === 'seriesMaster') masters.set(id, body);

    const upserts: RemoteEvent[] = [];
    const push = (g: any, key?: InstanceKey, parent?: string, icalUid = g.iCalUId) => {
      if (emitted.has(g.id)) return;
      emitted.add(g.id);
      const { event, tag } = fromGraph(g, key);
      const self = g.isOrganizer === false ? SELF_RSVP[g.responseStatus?.response] : undefined;
      upserts.push({
        ref: { id: g.id, version: g.changeKey },
        event,
        ...(tag ? { tag } : {}),
        ...(parent ? { parent } : {}),
        ...(icalUid ? { icalUid } : {}),
        ...(g.isOrganizer === false ? { selfRsvp: self ?? 'needs-action' } : {}),
      });
    };
    for (const x of live) {
      if (!x.seriesMasterId) {
        push(full.get(x.id) ?? x);
        continue;
      }
      const master = masters.get(x.seriesMasterId);
      if (!master) continue; // the series went away between the two reads
      push(master);
      if (x.type === 'exception') {
        const uid = fromGraph(master).event.key.uid;
        // an occurrence's own iCalUId differs from its series'; the series' one names the event
        push(
          full.get(x.id) ?? x,
          { uid, originalTime: Math.floor(Date.parse(x.originalStart) / 1000) },
          x.seriesMasterId,
          master.iCalUId,
        );
      }
    }
    const next = page['@odata.nextLink'];
    const last: ChangePage = { upserts, removals };
    if (next) url = GraphClient.relative(next);
    else {
      url = undefined;
      last.cursor = useDelta ? page['@odata.deltaLink'] : `view:${now}`;
    }
    yield last;
  }
}
