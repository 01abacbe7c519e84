/**
 * The Graph CalendarConnector. CalendarRef.owner is the mailbox (UPN, e-mail or id); id is the
 * calendar id, `primary` for the default calendar.
 *
 * Idempotent creates: every create carries a `transactionId` derived from the origin tag (Graph
 * de-duplicates retried POSTs within its window) and the origin extended property. During a full
 * pull (`WriteOptions.fullPull`), with `verifyCreates` (default on), the calendar's tagged copies are
 * listed once (tagged.ts) and a create whose copy is there is taken as done, so a create retried
 * after the transactionId window (a crash between the write and the link save, then a restart hours
 * later, which pulls in full again) does not duplicate either; no lookup per create.
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
import type { ChangeFeed } from '../../src/ports/feed.ts';
import type { SeriesReader } from '../../src/ports/series.ts';
import { BATCH_LIMIT, type BatchRequest, type BatchResult, runBatched, succeeded } from './batch.ts';
import { listChanges } from './changes.ts';
import { calendarBase, GraphClient, type GraphClientOptions } from './client.ts';
import { fromResponse } from './errors.ts';
import { graphFeed } from './feed.ts';
import { tagValue, toGraph, transactionIdOf } from './mapper.ts';
import { graphReply } from './reply.ts';
import { graphRooms, roomAnswers } from './rooms.ts';
import { graphSeries, heldRecurrence } from './series.ts';
import { TaggedCopies } from './tagged.ts';
import { localToUtc } from './time.ts';

export interface GraphConnectorOptions extends GraphClientOptions {
  /** The window read by listChanges (calendarView delta needs one). Default 30 days back, 365 ahead. */
  window?: { pastDays: number; futureDays: number };
  /** During full pulls, look creates up among the calendar's tagged copies (one listing per pull). Default true. */
  verifyCreates?: boolean;
  /** Zone written for all-day events (they carry dates only). Default UTC. */
  allDayTimeZone?: string;
  /** Lifetime of change-notification subscriptions, minutes (at most 4,230). Default 4,200. */
  subscriptionMinutes?: number;
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
  readonly feed: ChangeFeed;
  readonly series: SeriesReader;
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
const cancels = (op: WriteOp) => op.op !== 'remove' && op.event.status === 'cancelled';
const okRef = (b: any): { id: string; version?: string } => ({ id: b.id, version: b.changeKey });

const SERIES_SHAPE = ['start', 'end', 'isAllDay', 'recurrence'] as const;

/** Whether the series start, end, all-day flag and pattern we would write equal what Graph holds (read
 * back in the zone we write). */
export function sameSeriesShape(ours: Record<string, any>, theirs: Record<string, any>): boolean {
  const instant = (t: any) => `${String(t?.dateTime).slice(0, 19)}|${t?.timeZone}`;
  if (instant(ours.start) !== instant(theirs.start) || instant(ours.end) !== instant(theirs.end))
    return false;
  if (Boolean(ours.isAllDay) !== Boolean(theirs.isAllDay)) return false;
  // every field we write must read back the same (Graph adds defaults of its own)
  const covers = (a: any, b: any): boolean =>
    a === null || typeof a !== 'object'
      ? String(a ?? '').toLowerCase() === String(b ?? '').toLowerCase()
      : Object.entries(a).every(([k, v]) => covers(v, b?.[k]));
  return covers(ours.recurrence ?? null, theirs.recurrence ?? null);
}

export function createGraphConnector(options: GraphConnectorOptions): GraphConnector {
  const client = new GraphClient(options);
  const window = options.window ?? { pastDays: 30, futureDays: 365 };
  const stats = { batches: 0 };
  const horizon = () => Date.now() + window.futureDays * DAY;
  const tagged = new TaggedCopies(client);

  /**
   * Occurrence ids by original start (ms) of several series at once: one batched `instances` read per
   * series, over the span of the starts asked for (plus two days each side); further pages, rare in so
   * short a span, are followed one by one. A series whose read failed maps to its error.
   */
  async function occurrences(
    mailbox: string,
    wanted: Map<string, number[]>,
    background = false,
  ): Promise<Map<string, Map<number, string> | BridgeError>> {
    const out = new Map<string, Map<number, string> | BridgeError>();
    const ids = [...wanted.keys()].filter((id) => wanted.get(id)!.length > 0);
    const first = ids.map((masterId): BatchRequest => {
      const starts = wanted.get(masterId)!;
      const from = new Date(Math.min(...starts) - 2 * DAY).toISOString();
      const to = new Date(Math.max(...starts) + 2 * DAY).toISOString();
      return {
        method: 'GET',
        url: `/users/${enc(mailbox)}/events/${enc(masterId)}/instances?startDateTime=${from}&endDateTime=${to}&$select=id,originalStart&$top=1000`,
      };
    });
    const pages = await runBatched(client, mailbox, first, stats, background);
    for (const [k, masterId] of ids.entries()) {
      const page = pages[k];
      if (!succeeded(page)) {
        out.set(masterId, (failure(page, 'instances') as { error: BridgeError }).error);
        continue;
      }
      const found = new Map<number, string>();
      let body = page.body;
      try {
        for (;;) {
          for (const i of body?.value ?? []) found.set(Date.parse(i.originalStart), i.id);
          const next = body?.['@odata.nextLink'];
          if (!next) break;
          body = await client.run(mailbox, 'instances', (api) => api.api(GraphClient.relative(next)).get());
        }
        out.set(masterId, found);
      } catch (e) {
        out.set(masterId, e as BridgeError);
      }
    }
    return out;
  }

  async function write(cal: CalendarRef, ops: WriteOp[], wo: WriteOptions = {}): Promise<WriteResult[]> {
    const mailbox = cal.owner;
    const base = calendarBase(cal);
    const user = `/users/${enc(mailbox)}`;
    const results: WriteResult[] = new Array(ops.length);
    const mapOpts = { notify: wo.notify, allDayTimeZone: options.allDayTimeZone, horizonMs: horizon() };
    const batched = (reqs: BatchRequest[]) => runBatched(client, mailbox, reqs, stats, wo.background);

    // 1. Creates already written earlier (found by origin tag), looked for during full pulls only.
    const creates = ops.flatMap((op, i) => (op.op === 'create' && !op.parent ? [{ op, i }] : []));
    if (!wo.fullPull) tagged.forget(cal);
    else if ((options.verifyCreates ?? true) && creates.length > 0) {
      const known = await tagged.index(cal, wo.fullPull);
      for (const { op, i } of creates) {
        const hit = known.get(tagValue(op.tag));
        if (hit) results[i] = { ok: true, ref: hit, note: 'already written (found by origin tag)' };
      }
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
    const series = await occurrences(
      mailbox,
      new Map([...byParent].map(([id, list]) => [id, list.map((x) => x.ms)])),
      wo.background,
    );
    for (const [masterId, list] of byParent) {
      const occ = series.get(masterId);
      for (const { i, ms } of list) {
        const id = occ instanceof Map ? occ.get(ms) : undefined;
        if (id) occIds.set(i, id);
        // cancelling an occurrence the series no longer shows: already as wanted (as a remove of
        // something gone is)
        else if (occ instanceof Map && cancels(ops[i])) {
          results[i] = { ok: true, note: 'occurrence already cancelled' };
        } else {
          results[i] = {
            ok: false,
            error:
              occ instanceof Map || !occ
                ? new BridgeError('not_found', `no occurrence of ${masterId} at ${ms / 1000}`, {
                    provider: 'graph',
                  })
                : occ,
          };
        }
      }
    }

    // 3. Series masters being updated: Exchange drops every exception of a series whose start, end or
    // pattern is written, even unchanged, so send those only when they differ from what is there.
    // An update whose times the sync says are as last written leaves them out unread. Sent with its
    // version (two-way pairs), a copy changed since fails its If-Match; without one (one-way pairs,
    // where Feishu wins) an edit of the series' times on the spoke stays until a full write repairs it.
    const sameShape = new Set<number>();
    const masters = ops.flatMap((op, i) => {
      if (
        op.op !== 'update' ||
        results[i] ||
        op.parent ||
        op.event.key.originalTime !== 0 ||
        op.event.recurrence.length === 0
      )
        return [];
      if (op.timesKept) {
        sameShape.add(i);
        return [];
      }
      return [{ op, i, body: toGraph(op.event, op.tag, mapOpts).body }];
    });
    if (masters.length > 0) {
      const current = await batched(
        masters.map(({ op, body }) => ({
          method: 'GET',
          url: `${user}/events/${enc(op.ref.id)}?$select=start,end,isAllDay,recurrence`,
          // read the times back in the zone we write them in
          headers: { Prefer: `outlook.timezone="${body.start?.timeZone ?? 'UTC'}"` },
        })),
      );
      masters.forEach(({ i, body }, k) => {
        const now = current[k]?.status === 200 ? current[k].body : undefined;
        if (now && sameSeriesShape(body, now)) sameShape.add(i);
      });
    }

    // 4. The writes, batched.
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
        const body = { ...g.body };
        if (sameShape.has(i)) for (const k of SERIES_SHAPE) delete body[k];
        reqs.push({ method: 'PATCH', url: `${user}/events/${enc(op.ref.id)}`, body, headers });
      }
      const cancel = !isException && g.cancel.length > 0 ? { zone: g.zone, starts: g.cancel } : undefined;
      plan.push({ i, notes: g.note, cancel });
    });
    const out = await batched(reqs);
    const followUps: { i: number; id: string; cancel: { zone: string; starts: string[] } }[] = [];
    plan.forEach(({ i, notes, cancel }, k) => {
      const r = out[k];
      const op = ops[i];
      if (succeeded(r)) {
        const ref = op.op === 'remove' ? undefined : r.body?.id ? okRef(r.body) : undefined;
        const rooms = op.op === 'remove' ? undefined : roomAnswers(r.body);
        results[i] = { ok: true, ...(ref ? { ref } : {}), ...(notes ? { note: notes } : {}), ...rooms };
        if (cancel && ref) followUps.push({ i, id: ref.id, cancel });
      } else if (
        r &&
        r.status === 404 &&
        (op.op === 'remove' || (op.op !== 'create' && op.event.status === 'cancelled'))
      ) {
        results[i] = { ok: true };
      } else results[i] = failure(r, `${op.op} event`);
    });

    // 5. Widened series: cancel the occurrences the source rule does not have (all series at once).
    if (followUps.length > 0) {
      const startsOf = new Map(
        followUps.map((f) => [f.id, f.cancel.starts.map((x) => localToUtc(x, f.cancel.zone))]),
      );
      const series = await occurrences(mailbox, startsOf, wo.background);
      const dels: { i: number; id: string }[] = [];
      for (const f of followUps) {
        const occ = series.get(f.id);
        if (!(occ instanceof Map)) {
          results[f.i] = { ok: false, error: occ ?? new BridgeError('transient', 'instances: no answer') };
          continue;
        }
        for (const ms of startsOf.get(f.id)!) if (occ.has(ms)) dels.push({ i: f.i, id: occ.get(ms)! });
      }
      // the deletions change each master's version: read it back after them, in the same $batch
      const changed = followUps.filter((f) => dels.some((d) => d.i === f.i));
      const res = await batched([
        ...dels.map(({ id }): BatchRequest => ({ method: 'DELETE', url: `${user}/events/${enc(id)}` })),
        ...changed.map(
          (f): BatchRequest => ({
            method: 'GET',
            url: `${user}/events/${enc(f.id)}?$select=id,changeKey`,
          }),
        ),
      ]);
      changed.forEach((f, k) => {
        const r = res[dels.length + k];
        const prev = results[f.i];
        if (r?.status === 200 && r.body?.id && prev.ok) prev.ref = okRef(r.body);
      });
      const failed = new Map<number, number>();
      res.slice(0, dels.length).forEach((r, k) => {
        if (!succeeded(r) && r.status !== 404) failed.set(dels[k].i, (failed.get(dels[k].i) ?? 0) + 1);
      });
      for (const [i, n] of failed) {
        const prev = results[i] as { ok: true; note?: string };
        prev.note = `${prev.note ?? ''}; ${n} cancellations failed`;
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
      heldRecurrence: (ev) => heldRecurrence(ev, options.allDayTimeZone),
      writesPerRequest: BATCH_LIMIT,
    },
    client,
    stats,
    listChanges: (cal: CalendarRef, cursor: string | null): AsyncIterable<ChangePage> =>
      listChanges(client, cal, cursor, window),
    write,
    listCalendars,
    listRooms,
    rooms: graphRooms(client),
    feed: graphFeed(client, { lifetimeMinutes: options.subscriptionMinutes }),
    series: graphSeries(client, stats),
    reply: graphReply(client),
  };
}
