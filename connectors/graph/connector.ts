/**
 * The Graph CalendarConnector. CalendarRef.owner is the mailbox (UPN, e-mail or id); id is the
 * calendar id, `primary` for the default calendar.
 *
 * Idempotent creates: every create carries a `transactionId` derived from the origin tag (Graph
 * de-duplicates retried POSTs within its window) and the origin extended property. With
 * `verifyCreates` (default on) the connector first looks the tag up with `$filter` (batched, 20 per
 * request) and reuses an event it finds, so a create retried after the transactionId window (e.g. a
 * crash between the write and the link save, then a restart hours later) does not duplicate either.
 */
import { BridgeError } from '../../src/core/index.ts';
import type {
  CalendarConnector,
  CalendarInfo,
  CalendarRef,
  ChangePage,
  RoomAccess,
  WriteOp,
  WriteOptions,
  WriteResult,
} from '../../src/ports/connector.ts';
import { type BatchRequest, type BatchResult, runBatched } from './batch.ts';
import { listChanges } from './changes.ts';
import { calendarBase, GraphClient, type GraphClientOptions } from './client.ts';
import { fromResponse } from './errors.ts';
import { ORIGIN_PROPERTY, tagValue, toGraph, transactionIdOf } from './mapper.ts';
import { graphRooms } from './rooms.ts';
import { localToUtc } from './time.ts';

export interface GraphConnectorOptions extends GraphClientOptions {
  /** The window read by listChanges (calendarView delta needs one). Default 30 days back, 365 ahead. */
  window?: { pastDays: number; futureDays: number };
  /** Look creates up by origin tag before posting (one batched GET per 20 creates). Default true. */
  verifyCreates?: boolean;
  /** Zone written for all-day events (they carry dates only). Default UTC. */
  allDayTimeZone?: string;
}

export interface RoomInfo {
  email: string;
  name: string;
  capacity?: number;
}

export interface GraphConnector extends CalendarConnector {
  readonly kind: 'graph';
  readonly client: GraphClient;
  listRooms(): Promise<RoomInfo[]>;
  readonly rooms: RoomAccess;
  /** Requests sent as `$batch` by the last write() calls, for figures. */
  readonly stats: { batches: number };
}

const enc = encodeURIComponent;
const DAY = 86_400_000;

const failure = (r: BatchResult | undefined, what: string): WriteResult => ({
  ok: false,
  error: r
    ? fromResponse(r.status, r.headers, r.body, what)
    : new BridgeError('transient', `${what}: no response`, { provider: 'graph' }),
});
const okRef = (b: any): { id: string; version?: string } => ({ id: b.id, version: b.changeKey });

export function createGraphConnector(options: GraphConnectorOptions): GraphConnector {
  const client = new GraphClient(options);
  const window = options.window ?? { pastDays: 30, futureDays: 365 };
  const stats = { batches: 0 };
  const horizon = () => Date.now() + window.futureDays * DAY;

  /** Occurrence ids of a series by original start (ms), in [fromMs, toMs]. */
  async function occurrences(
    mailbox: string,
    masterId: string,
    starts: number[],
  ): Promise<Map<number, string>> {
    const found = new Map<number, string>();
    if (starts.length === 0) return found;
    const from = new Date(Math.min(...starts) - 2 * DAY).toISOString();
    const to = new Date(Math.max(...starts) + 2 * DAY).toISOString();
    let url: string | undefined =
      `/users/${enc(mailbox)}/events/${enc(masterId)}/instances?startDateTime=${from}&endDateTime=${to}&$select=id,originalStart&$top=1000`;
    while (url) {
      const page: any = await client.run(mailbox, 'instances', (api) => api.api(url!).get());
      for (const i of page.value ?? []) found.set(Date.parse(i.originalStart), i.id);
      url = page['@odata.nextLink'] ? GraphClient.relative(page['@odata.nextLink']) : undefined;
    }
    return found;
  }

  async function write(cal: CalendarRef, ops: WriteOp[], wo: WriteOptions = {}): Promise<WriteResult[]> {
    const mailbox = cal.owner;
    const base = calendarBase(cal);
    const user = `/users/${enc(mailbox)}`;
    const results: WriteResult[] = new Array(ops.length);
    const mapOpts = { notify: wo.notify, allDayTimeZone: options.allDayTimeZone, horizonMs: horizon() };

    // 1. Creates already written earlier (found by origin tag).
    const creates = ops.flatMap((op, i) => (op.op === 'create' && !op.parent ? [{ op, i }] : []));
    if ((options.verifyCreates ?? true) && creates.length > 0) {
      const found = await runBatched(
        client,
        mailbox,
        creates.map(({ op }) => {
          const filter = `singleValueExtendedProperties/Any(ep: ep/id eq '${ORIGIN_PROPERTY}' and ep/value eq '${tagValue(op.tag).replace(/'/g, "''")}')`;
          return { method: 'GET', url: `${base}/events?$filter=${enc(filter)}&$select=id,changeKey&$top=1` };
        }),
        stats,
      );
      creates.forEach(({ i }, k) => {
        const hit = found[k]?.status === 200 ? found[k].body?.value?.[0] : undefined;
        if (hit) results[i] = { ok: true, ref: okRef(hit), note: 'already written (found by origin tag)' };
      });
    }

    // 2. Exceptions: the occurrence of the series each one replaces.
    const occIds = new Map<number, string>();
    const byParent = new Map<string, { i: number; ms: number }[]>();
    ops.forEach((op, i) => {
      if (op.op === 'create' && op.parent && !results[i]) {
        const list = byParent.get(op.parent.id) ?? [];
        list.push({ i, ms: op.event.key.originalTime * 1000 });
        byParent.set(op.parent.id, list);
      }
    });
    for (const [masterId, list] of byParent) {
      try {
        const occ = await occurrences(
          mailbox,
          masterId,
          list.map((x) => x.ms),
        );
        for (const { i, ms } of list) {
          const id = occ.get(ms);
          if (id) occIds.set(i, id);
          else {
            results[i] = {
              ok: false,
              error: new BridgeError('not_found', `no occurrence of ${masterId} at ${ms / 1000}`, {
                provider: 'graph',
              }),
            };
          }
        }
      } catch (e) {
        for (const { i } of list) results[i] = { ok: false, error: e as BridgeError };
      }
    }

    // 3. The writes, batched.
    const reqs: BatchRequest[] = [];
    const plan: { i: number; notes?: string; cancel?: { zone: string; starts: string[] } }[] = [];
    ops.forEach((op, i) => {
      if (results[i]) return;
      if (op.op === 'remove') {
        reqs.push({ method: 'DELETE', url: `${user}/events/${enc(op.ref.id)}` });
        plan.push({ i });
        return;
      }
      const g = toGraph(op.event, op.tag, mapOpts);
      const isException = op.parent !== undefined || op.event.key.originalTime !== 0;
      const target = op.op === 'create' ? occIds.get(i) : op.ref.id;
      if (isException) {
        delete g.body.recurrence;
        if (op.event.status === 'cancelled')
          reqs.push({ method: 'DELETE', url: `${user}/events/${enc(target!)}` });
        else reqs.push({ method: 'PATCH', url: `${user}/events/${enc(target!)}`, body: g.body });
      } else if (op.op === 'create') {
        reqs.push({
          method: 'POST',
          url: `${base}/events`,
          body: { ...g.body, transactionId: transactionIdOf(op.tag) },
        });
      } else {
        const headers = op.ref.version ? { 'If-Match': `W/"${op.ref.version}"` } : undefined;
        reqs.push({ method: 'PATCH', url: `${user}/events/${enc(op.ref.id)}`, body: g.body, headers });
      }
      const cancel = !isException && g.cancel.length > 0 ? { zone: g.zone, starts: g.cancel } : undefined;
      plan.push({ i, notes: g.note, cancel });
    });
    const out = await runBatched(client, mailbox, reqs, stats);
    const followUps: { i: number; id: string; cancel: { zone: string; starts: string[] } }[] = [];
    plan.forEach(({ i, notes, cancel }, k) => {
      const r = out[k];
      const op = ops[i];
      if (r && r.status < 300) {
        const ref = op.op === 'remove' ? undefined : r.body?.id ? okRef(r.body) : undefined;
        results[i] = { ok: true, ...(ref ? { ref } : {}), ...(notes ? { note: notes } : {}) };
        if (cancel && ref) followUps.push({ i, id: ref.id, cancel });
      } else if (
        r &&
        r.status === 404 &&
        (op.op === 'remove' || (op.op !== 'create' && op.event.status === 'cancelled'))
      ) {
        results[i] = { ok: true };
      } else results[i] = failure(r, `${op.op} event`);
    });

    // 4. Widened series: cancel the occurrences the source rule does not have.
    for (const f of followUps) {
      const starts = f.cancel.starts.map((s) => localToUtc(s, f.cancel.zone));
      try {
        const occ = await occurrences(mailbox, f.id, starts);
        const dels = starts.flatMap((ms) => (occ.has(ms) ? [occ.get(ms)!] : []));
        const res = await runBatched(
          client,
          mailbox,
          dels.map((id) => ({ method: 'DELETE', url: `${user}/events/${enc(id)}` })),
          stats,
        );
        const failed = res.filter((r) => r.status >= 300 && r.status !== 404).length;
        if (failed > 0) {
          const prev = results[f.i] as { ok: true; note?: string };
          prev.note = `${prev.note ?? ''}; ${failed} cancellations failed`;
        }
      } catch (e) {
        results[f.i] = { ok: false, error: e as BridgeError };
      }
    }
    return results;
  }

  async function listCalendars(owner: string): Promise<CalendarInfo[]> {
    const out: CalendarInfo[] = [];
    let url: string | undefined = `/users/${enc(owner)}/calendars?$top=100`;
    while (url) {
      const page: any = await client.run(owner, 'list calendars', (api) => api.api(url!).get());
      for (const c of page.value ?? []) {
        out.push({
          id: c.id,
          summary: c.name,
          primary: c.isDefaultCalendar === true,
          writable: c.canEdit !== false,
        });
      }
      url = page['@odata.nextLink'] ? GraphClient.relative(page['@odata.nextLink']) : undefined;
    }
    return out;
  }

  async function listRooms(): Promise<RoomInfo[]> {
    const out: RoomInfo[] = [];
    let url: string | undefined = '/places/microsoft.graph.room?$top=100';
    while (url) {
      const page: any = await client.run('(places)', 'list rooms', (api) => api.api(url!).get());
      for (const r of page.value ?? []) {
        out.push({
          email: r.emailAddress,
          name: r.displayName,
          ...(r.capacity != null ? { capacity: r.capacity } : {}),
        });
      }
      url = page['@odata.nextLink'] ? GraphClient.relative(page['@odata.nextLink']) : undefined;
    }
    return out;
  }

  return {
    kind: 'graph',
    // one reminder (reminderMinutesBeforeStart); sensitivity has no "public"
    capabilities: {
      maxReminders: 1,
      visibilities: ['default', 'private'],
      untilAsDate: true,
      tentativeIsBusy: true,
    },
    client,
    stats,
    listChanges: (cal: CalendarRef, cursor: string | null): AsyncIterable<ChangePage> =>
      listChanges(client, cal, cursor, window),
    write,
    listCalendars,
    listRooms,
    rooms: graphRooms(client),
  };
}
