/**
 * SeriesReader for Graph: occurrences deleted from series one by one. Graph v1.0 names such a
 * deletion in `calendarView/delta` by the instance id alone, and its `cancelledOccurrences` is beta
 * only; but a deleted occurrence no longer appears in the series' `instances` (documented). So, per
 * master, one `$batch` (20 requests each) carries two reads: the master (its pattern and start) and
 * its instances over the window, a day wider on each side; further instance pages, rare, are followed
 * one by one. The starts the master's pattern gives in the window (Graph's own start rule:
 * `expandGraphRecurrence`) that `instances` does not list by `originalStart` are the deleted ones.
 *
 * Where the expansion and Graph disagree (an instance listed at a start the pattern does not give),
 * the series is left alone ([]): a wrong reading here would cancel occurrences in Feishu.
 */
import { BridgeError, type CanonicalEvent } from '../../src/core/index.ts';
import { expandGraphRecurrence, fromGraphRecurrence } from '../../src/core/recurrence/index.ts';
import type { CalendarRef, SeriesReader } from '../../src/ports/index.ts';
import { type BatchRequest, type BatchResult, runBatched, succeeded } from './batch.ts';
import { GraphClient } from './client.ts';
import { fromResponse } from './errors.ts';
import { toGraph } from './mapper.ts';
import { ianaOf, localToUtc, utcToLocal } from './time.ts';

const enc = encodeURIComponent;
const DAY_MS = 86_400_000;
/** At most this many occurrences of one series are compared (a daily series over a year is 366). */
const MAX_OCCURRENCES = 5000;

const errorOf = (r: BatchResult | undefined, what: string): BridgeError =>
  r
    ? fromResponse(r.status, r.headers, r.body, what)
    : new BridgeError('transient', `${what}: no response`, { provider: 'graph' });

/**
 * Original starts (ms) of a master's pattern within [fromMs, toMs); undefined when the master is not a
 * series or its zone cannot be told.
 */
export function patternStarts(master: any, fromMs: number, toMs: number): number[] | undefined {
  if (master?.type !== 'seriesMaster' || !master.recurrence || !master.start?.dateTime) return undefined;
  const allDay = master.isAllDay === true;
  let zone: string | undefined;
  let local: string;
  if (allDay) {
    // all-day events come back in the zone they were created in, whatever was asked
    zone = ianaOf(master.originalStartTimeZone) ?? ianaOf(master.start.timeZone) ?? 'UTC';
    local = String(master.start.dateTime).slice(0, 10);
  } else {
    const at = ianaOf(master.start.timeZone);
    zone = ianaOf(master.recurrence.range?.recurrenceTimeZone) ?? ianaOf(master.originalStartTimeZone) ?? at;
    if (!zone || !at) return undefined;
    local = utcToLocal(localToUtc(String(master.start.dateTime).slice(0, 19), at), zone);
  }
  const until = utcToLocal(toMs, zone);
  const out: number[] = [];
  for (const l of expandGraphRecurrence(master.recurrence, local, zone, {
    until: allDay ? until.slice(0, 10) : until,
  })) {
    const ms = localToUtc(l, zone);
    if (ms >= toMs) break;
    if (ms >= fromMs) out.push(ms);
    if (out.length >= MAX_OCCURRENCES) break;
  }
  return out;
}

/**
 * The recurrence a series written as `ev` reads back with (Capabilities.heldRecurrence): the pattern
 * the mapper writes, read as an RRULE; none when the rule cannot be written (a single stands in).
 */
export function heldRecurrence(ev: CanonicalEvent, allDayTimeZone?: string): string[] {
  if (!ev.recurrence.some((l) => /^RRULE:/i.test(l))) return ev.recurrence;
  const { body } = toGraph(ev, { pair: '', key: '' }, { allDayTimeZone });
  return body.recurrence ? [`RRULE:${fromGraphRecurrence(body.recurrence)}`] : [];
}

export function graphSeries(client: GraphClient, stats?: { batches: number }): SeriesReader {
  return {
    async deletedOccurrences(cal: CalendarRef, masters: string[], window: { from: number; to: number }) {
      const out = new Map<string, number[] | BridgeError>();
      const ids = [...new Set(masters)];
      if (ids.length === 0) return out;
      const mailbox = cal.owner;
      const user = `/users/${enc(mailbox)}`;
      const fromMs = window.from * 1000;
      const toMs = window.to * 1000;
      const from = new Date(fromMs - DAY_MS).toISOString();
      const to = new Date(toMs + DAY_MS).toISOString();
      const requests = ids.flatMap((id): BatchRequest[] => [
        {
          method: 'GET',
          url: `${user}/events/${enc(id)}?$select=type,start,end,isAllDay,recurrence,originalStartTimeZone`,
        },
        {
          method: 'GET',
          url: `${user}/events/${enc(id)}/instances?startDateTime=${from}&endDateTime=${to}&$select=id,originalStart&$top=1000`,
        },
      ]);
      const got = await runBatched(client, mailbox, requests, stats);
      for (const [k, id] of ids.entries()) {
        const master = got[2 * k];
        const first = got[2 * k + 1];
        if (master?.status === 404 || (master?.status === 200 && master.body?.type !== 'seriesMaster')) {
          out.set(id, []);
          continue;
        }
        if (!succeeded(master)) {
          out.set(id, errorOf(master, 'series master'));
          continue;
        }
        // a master deleted between the two reads, or no longer a series: nothing to say
        if (first?.status === 404 || first?.status === 400) {
          out.set(id, []);
          continue;
        }
        if (!succeeded(first)) {
          out.set(id, errorOf(first, 'instances'));
          continue;
        }
        const listed = new Set<number>();
        try {
          let body = first.body;
          for (;;) {
            for (const i of body?.value ?? []) {
              const at = String(i.originalStart ?? '');
              listed.add(Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(at) ? at : `${at}Z`));
            }
            const next = body?.['@odata.nextLink'];
            if (!next) break;
            body = await client.run(mailbox, 'instances', (api) => api.api(GraphClient.relative(next)).get());
          }
        } catch (e) {
          out.set(id, e instanceof BridgeError ? e : new BridgeError('transient', String(e)));
          continue;
        }
        const expected = patternStarts(master.body, fromMs, toMs);
        const known = new Set(expected ?? []);
        const agrees =
          expected !== undefined && [...listed].every((ms) => ms < fromMs || ms >= toMs || known.has(ms));
        out.set(
          id,
          agrees ? expected.filter((ms) => !listed.has(ms)).map((ms) => Math.floor(ms / 1000)) : [],
        );
      }
      return out;
    },
  };
}
