/** Instances of the calendar in a window: singles, occurrences (computed) and exceptions (stored). */
import type { Store, StoredEvent } from './model.ts';
import { occurrenceStarts } from './recurrence.ts';

const compact = (ms: number) => new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, '');

export const occurrenceId = (masterId: string, originalStartMs: number) =>
  `${masterId}_${compact(originalStartMs)}`;

export function parseOccurrenceId(id: string): { masterId: string; originalStartMs: number } | undefined {
  const m = /^(.+)_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(id);
  if (!m) return undefined;
  return { masterId: m[1], originalStartMs: Date.UTC(+m[2], +m[3] - 1, +m[4], +m[5], +m[6], +m[7]) };
}

/** A plain occurrence of a master, as a (not stored) event. */
export function virtualOccurrence(master: StoredEvent, originalStartMs: number): StoredEvent {
  const id = occurrenceId(master.id, originalStartMs);
  const data = structuredClone(master.data);
  data.type = 'occurrence';
  data.recurrence = null;
  data.iCalUId = `${master.data.iCalUId}${compact(originalStartMs).slice(0, 8)}`;
  delete data.transactionId;
  return {
    ...master,
    id,
    data,
    startMs: originalStartMs,
    endMs: originalStartMs + (master.endMs - master.startMs),
    props: new Map(master.props),
    cancelled: new Set(),
    originalStartMs,
    seriesMasterId: master.id,
  };
}

export function exceptionsOf(store: Store, masterId: string): StoredEvent[] {
  const master = store.events.get(masterId);
  if (!master) return [];
  // exceptions live in their master's calendar
  return [...store.events.inCalendar(master.userId, master.calendarId)].filter(
    (e) => e.seriesMasterId === masterId,
  );
}

/** Occurrences and exceptions of one series overlapping [fromMs, toMs), cancelled ones left out. */
export function seriesInstances(
  store: Store,
  master: StoredEvent,
  fromMs: number,
  toMs: number,
): StoredEvent[] {
  const exceptions = new Map(exceptionsOf(store, master.id).map((e) => [e.originalStartMs!, e]));
  const out: StoredEvent[] = [];
  for (const ms of occurrenceStarts(master, fromMs, toMs)) {
    if (master.cancelled.has(ms) || exceptions.has(ms)) continue;
    out.push(virtualOccurrence(master, ms));
  }
  for (const e of exceptions.values()) if (overlaps(e, fromMs, toMs)) out.push(e);
  return out.sort((a, b) => a.startMs - b.startMs);
}

export const overlaps = (e: StoredEvent, fromMs: number, toMs: number) =>
  e.startMs < toMs && (e.endMs > fromMs || (e.endMs === e.startMs && e.startMs >= fromMs));

/** Everything a calendarView shows in a window: singles, occurrences and exceptions. */
export function viewInstances(
  store: Store,
  userId: string,
  calendarId: string,
  fromMs: number,
  toMs: number,
): StoredEvent[] {
  const out: StoredEvent[] = [];
  for (const e of store.events.inCalendar(userId, calendarId)) {
    if (e.data.type === 'singleInstance' && overlaps(e, fromMs, toMs)) out.push(e);
    else if (e.data.type === 'seriesMaster') out.push(...seriesInstances(store, e, fromMs, toMs));
  }
  return out.sort((a, b) => a.startMs - b.startMs || a.id.localeCompare(b.id));
}

/** The change sequence of an instance: a plain occurrence changes with its master. */
export function instanceSeq(store: Store, e: StoredEvent): number {
  const master = e.seriesMasterId ? store.events.get(e.seriesMasterId) : undefined;
  return Math.max(e.seq, master?.seq ?? 0);
}

/** Finds a stored event, or a plain occurrence by its id. */
export function findEvent(store: Store, userId: string, id: string): StoredEvent | undefined {
  const stored = store.events.get(id);
  if (stored) return stored.userId === userId ? stored : undefined;
  const occ = parseOccurrenceId(id);
  if (!occ) return undefined;
  const master = store.events.get(occ.masterId);
  if (!master || master.userId !== userId || master.data.type !== 'seriesMaster') return undefined;
  if (master.cancelled.has(occ.originalStartMs)) return undefined;
  const hit = occurrenceStarts(master, occ.originalStartMs, occ.originalStartMs + 1).includes(
    occ.originalStartMs,
  );
  return hit ? virtualOccurrence(master, occ.originalStartMs) : undefined;
}
