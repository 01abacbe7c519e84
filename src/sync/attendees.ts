/**
 * Busy time first (issue 11). Feishu lists events without attendees and reading them costs a
 * request per event, on budgets far below the spokes' write rates. So a full pull (initial sync,
 * expired sync token, `--full`) lists with the attendees deferred and writes every new event at once,
 * without them (pull.ts, `awaitAttendees`); the attendees stage (`fillAttendees`) then reads them as
 * Feishu allows, nearest events first, and updates the copies. A link marked `attendeesPending` is
 * what is still to do: a restart goes on from there, and a copy that has its attendees is never
 * written without them again (a full pull leaves linked events whole for this stage).
 */
import { BridgeError, type CanonicalEvent, formatKey, sameKey } from '../core/index.ts';
import type { Link, RemoteEvent } from '../ports/index.ts';
import { type ApplyContext, applyContext, applyWrites, type Counts, type Failure } from './apply.ts';
import { type Action, diff } from './diff.ts';
import { nearestFirst } from './nearest.ts';
import type { Pair } from './pair.ts';
import { waves } from './plan.ts';
import { project } from './project.ts';
import type { PullDeps } from './pull.ts';
import { nameHolders, recordRooms, type WrittenCopy } from './room-records.ts';

/**
 * The actions of one page of a pull, busy time first: an event listed without its attendees is
 * created now and its link marked to get them later; one already on the spoke is left whole for the
 * attendees stage (its copy may hold attendees that a write without them would strip), its link
 * marked. Deletes and skips do not depend on attendees and go as they are. An event read in full
 * and found unchanged settles a mark left earlier (the mark is cleared).
 */
export function awaitAttendees(
  actions: Action[],
  pending: Set<string>,
  links: Map<string, Link>,
): { actions: Action[]; marks: Link[]; awaiting: number } {
  const out: Action[] = [];
  const marks: Link[] = [];
  let awaiting = 0;
  for (const a of actions) {
    const k = formatKey(a.key);
    const link = links.get(k);
    if (!pending.has(k)) {
      if (a.kind === 'unchanged' && link?.attendeesPending) marks.push({ ...link, attendeesPending: false });
      out.push(a);
    } else if (a.kind === 'create') {
      out.push({ ...a, attendeesPending: true });
      awaiting += 1;
    } else if ((a.kind === 'update' || a.kind === 'unchanged') && link) {
      if (!link.attendeesPending) marks.push({ ...link, attendeesPending: true });
      awaiting += 1;
    } else out.push(a);
  }
  return { actions: out, marks, awaiting };
}

export interface AttendeeDeps extends Omit<PullDeps, 'onProgress' | 'onListed' | 'deleteBudget'> {
  /**
   * Held around each chunk's sorting out and each write of gathered events (serve: the calendar's
   * pull lock), so no pull writes between a read of the links and the writes that follow it.
   */
  lock?: () => Promise<() => Promise<void>>;
  /** Writes begin once it settles (feisync sync: every pair's events on the spokes); reads go on. */
  gate?: Promise<unknown>;
  /** After the listing (0 of all) and after each chunk: events done of those to read. */
  onProgress?: (p: { calendar: string; done: number; of: number }) => void;
  /** Unix seconds, for nearest first; default the clock. */
  now?: number;
}

export interface AttendeeOptions {
  /**
   * Also read events that some pair has not on its spoke yet: for a stage started as soon as a full
   * pull has listed, while that pull is still writing them (`gate` or `lock` waits for its writes; an
   * event whose link is not marked by then is left alone). Its listing must come after the pull's,
   * so that it never holds older data than the pull wrote. Default: only events whose link waits.
   */
  includeNew?: boolean;
  /** Only the events of these series (a room event names its meeting, which cannot wait its turn). */
  uids?: string[];
}

export interface AttendeeResult {
  pair: Pair;
  counts: Counts;
  failures: Failure[];
  /** Links still waiting at the end (gone from Feishu meanwhile, failed, or not reached). */
  left: number;
  /** Why the stage stopped early on this calendar. */
  error?: string;
}

/** Events handled per step: small at first, so the nearest ones get their attendees soonest. */
const CHUNKS = [25, 50];
const CHUNK = 100;

/** The attendees stage of one Feishu calendar, for its pairs (all with the same `feishu`). */
export async function fillAttendees(
  pairs: Pair[],
  deps: AttendeeDeps,
  options: AttendeeOptions = {},
): Promise<AttendeeResult[]> {
  const calendar = pairs[0].feishu;
  const ids = pairs.map((p) => p.id);
  const runs = pairs.map((pair) => contextOf(pair, deps));
  const finish = async (error?: { kind: string; error: string }): Promise<AttendeeResult[]> => {
    await Promise.all(runs.map(nameHolders));
    const left = await deps.store.pendingAttendees(ids);
    return runs.map((ctx) => {
      if (error) {
        ctx.counts.failed += 1;
        ctx.failures.push({ key: calendar.id, ...error });
      }
      const out = { pair: ctx.pair, counts: ctx.counts, failures: ctx.failures };
      return { ...out, left: left.get(ctx.pair.id) ?? 0, ...(error ? { error: error.error } : {}) };
    });
  };
  const read = deps.feishu.readAttendees?.bind(deps.feishu);
  if (!read) return finish();
  if (!options.includeNew && [...(await deps.store.pendingAttendees(ids)).values()].every((n) => !n))
    return finish();
  let todo: RemoteEvent[];
  try {
    todo = nearestFirst(
      await candidates(pairs, deps, !!options.includeNew, options.uids && new Set(options.uids)),
      (r) => r.event,
      deps.now ?? Date.now() / 1000,
    );
  } catch (e) {
    return finish(failure(e, 'Feishu listing failed'));
  }
  // the reads run ahead of the writes, in order (nearest first); each chunk read is sorted at once
  // (the marks of copies already right cleared), its writes gathered per pair until they fill a
  // write request (the Feishu reads are the bottleneck, so the spokes can wait for full batches).
  // A chunk whose every read failed stops the stage; whatever is gathered is written all the same.
  const results = read(calendar, todo)[Symbol.asyncIterator]();
  const upcoming = results.next();
  upcoming.catch(() => {});
  // per event read: the pairs that still have it to handle (an event is done when none has)
  const owed = new Array<number>(todo.length).fill(0);
  let done = 0;
  const handled = (i: number) => {
    owed[i] -= 1;
    if (owed[i] === 0) done += 1;
  };
  const progress = () => deps.onProgress?.({ calendar: calendar.id, done, of: todo.length });
  progress();
  // a room event's stage (`uids`) writes at once: it cannot wait, and has few events anyway
  const size = (ctx: PairRun) =>
    options.uids ? 1 : Math.max(1, ctx.connector.capabilities?.writesPerRequest ?? 1);
  // writes the pair's gathered events in full requests (`all`: every one), in the order read
  const flush = async (ctx: PairRun, all: boolean) => {
    const n = all ? ctx.held.length : ctx.held.length - (ctx.held.length % size(ctx));
    if (n === 0) return;
    const batch = ctx.held.splice(0, n);
    try {
      await writeHeld(ctx, batch, deps);
    } finally {
      for (const h of batch) handled(h.index);
    }
  };
  let error: { kind: string; error: string } | undefined;
  let taken = 0;
  let more: Promise<IteratorResult<(RemoteEvent | BridgeError)[]>> | undefined = upcoming;
  try {
    await deps.gate;
    const got: (RemoteEvent | BridgeError)[] = [];
    for (let k = 0; taken < todo.length; k += 1) {
      const want = Math.min(CHUNKS[k] ?? CHUNK, todo.length - taken);
      while (more && got.length < want) {
        let r: IteratorResult<(RemoteEvent | BridgeError)[]>;
        try {
          r = await more;
        } catch (e) {
          // the reads broke off: what came before is handled all the same
          error ??= failure(e, 'attendees not read');
          more = undefined;
          break;
        }
        if (r.done) more = undefined;
        else {
          got.push(...r.value);
          more = results.next();
        }
      }
      if (got.length === 0) break;
      const chunk = got.splice(0, want).map((r, j) => ({ r, index: taken + j }));
      taken += chunk.length;
      const failed = chunk.filter((c) => c.r instanceof BridgeError);
      if (failed.length === chunk.length) {
        // Feishu refuses the reads: no more are asked for; those come already are handled
        error ??= failure(failed[0].r, 'attendees not read');
        more?.catch(() => {});
        more = undefined;
        results.return?.(undefined).catch(() => {});
        continue;
      }
      // read in full (not deleted since listed): each pair has it to handle
      const ready = chunk.flatMap(({ r, index }) =>
        r instanceof BridgeError || r.attendeesPending ? [] : [{ index, event: r.event }],
      );
      for (const h of ready) owed[h.index] = runs.length;
      for (const { r, index } of chunk) {
        if (!(r instanceof BridgeError)) {
          if (r.attendeesPending) done += 1;
          continue;
        }
        done += 1;
        for (const ctx of runs) {
          ctx.counts.failed += 1;
          const key = formatKey(todo[index].event.key);
          ctx.failures.push({ key, kind: r.kind, error: `attendees not read: ${r.message}` });
        }
      }
      const release = await deps.lock?.();
      try {
        await each(runs, async (ctx) => {
          const { writes } = await sortOut(ctx, ready, deps);
          const wanted = new Set(writes.map((a) => formatKey(a.key)));
          for (const h of ready) {
            if (wanted.has(formatKey(h.event.key))) ctx.held.push(h);
            else handled(h.index);
          }
          await flush(ctx, false);
        });
      } finally {
        await release?.();
      }
      progress();
    }
  } catch (e) {
    error ??= failure(e, 'attendees not read');
  } finally {
    // stops the reads still to start (once the one awaited, if any, has come)
    more?.catch(() => {});
    results.return?.(undefined).catch(() => {});
  }
  // the rest gathered, whether the reads ended or the stage stopped: read data is never dropped
  if (runs.some((ctx) => ctx.held.length)) {
    try {
      const release = await deps.lock?.();
      try {
        await each(runs, (ctx) => flush(ctx, true));
      } finally {
        await release?.();
      }
    } catch (e) {
      // what was not written keeps its mark: a later stage reads it again
      error ??= failure(e, 'attendees not written');
    }
    progress();
  }
  return finish(error);
}

/** Runs `fn` for every pair; waits for all of them before throwing the first failure. */
async function each(runs: PairRun[], fn: (ctx: PairRun) => Promise<void>) {
  const out = await Promise.allSettled(runs.map(fn));
  const bad = out.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (bad) throw bad.reason;
}

/** The calendar's listed events that wait for their attendees on some pair (or may: `includeNew`). */
async function candidates(pairs: Pair[], deps: AttendeeDeps, includeNew: boolean, only?: Set<string>) {
  const out: RemoteEvent[] = [];
  for await (const page of deps.feishu.listChanges(pairs[0].feishu, null, { attendees: 'defer' })) {
    if (page.expired) throw new Error('Feishu refused a full listing as expired');
    const mirrored = page.upserts.filter(
      (u) =>
        u.attendeesPending &&
        (!only || only.has(u.event.key.uid)) &&
        !('skip' in project(u.event, deps.policy)),
    );
    const uids = [...new Set(mirrored.map((u) => u.event.key.uid))];
    const linked = await Promise.all(pairs.map((p) => deps.store.byUids(p.id, uids)));
    const waits = (l: Link | undefined) =>
      l && !l.tombstone && l.spokeId !== null ? !!l.attendeesPending : includeNew;
    out.push(...mirrored.filter((u) => linked.some((links) => waits(links.get(formatKey(u.event.key))))));
  }
  return out;
}

/** One pair of the stage: its context, and the events read whose writes wait for a full request. */
interface PairRun extends ApplyContext {
  held: Held[];
}

/** An event read in full, by its place in the stage's order. */
interface Held {
  index: number;
  event: CanonicalEvent;
}

/**
 * Some events on one pair: those whose link still waits (a pull may have settled some meanwhile)
 * are diffed as usual, so a copy is written only where the attendees make a difference, and the
 * marks of those found equal are cleared. Returns the writes the others need; anything else (a
 * delete, a skip) is left to the pulls.
 */
async function sortOut(ctx: ApplyContext, held: Held[], deps: AttendeeDeps) {
  const ready = held.map((h) => h.event);
  if (ready.length === 0) return { writes: [], links: new Map<string, Link>() };
  const links = await deps.store.byUids(ctx.pair.id, [...new Set(ready.map((e) => e.key.uid))]);
  const waiting = ready.filter((e) => {
    const l = links.get(formatKey(e.key));
    return !!l?.attendeesPending && !l.tombstone && l.spokeId !== null;
  });
  const actions = diff({ upserts: waiting, removals: [] }, links, ctx.policy);
  const settled: Link[] = [];
  // a copy already as it should be still names the event's rooms for the ledger (an unmapped one)
  const confirmed: WrittenCopy[] = [];
  for (const a of actions) {
    if (a.kind !== 'unchanged') continue;
    ctx.counts.unchanged += 1;
    const link = links.get(formatKey(a.key))!;
    settled.push({ ...link, attendeesPending: false });
    const source = waiting.find((e) => sameKey(e.key, a.key))!;
    const p = project(source, ctx.policy);
    if ('event' in p) confirmed.push({ source, copy: p.event, copyId: link.spokeId, answers: undefined });
  }
  if (settled.length) await deps.store.save(settled);
  await recordRooms(ctx, confirmed);
  const { masters, exceptions } = waves(actions);
  return { writes: [...masters, ...exceptions], links };
}

/**
 * Writes events gathered earlier, sorted out again first: a pull may have written some since.
 * Every master is on the spoke already (its link is live): one write, exceptions too.
 */
async function writeHeld(ctx: PairRun, held: Held[], deps: AttendeeDeps) {
  const { writes, links } = await sortOut(ctx, held, deps);
  await applyWrites(ctx, writes, links);
}

function contextOf(pair: Pair, deps: AttendeeDeps): PairRun {
  // the attendees yield the spokes' budgets to the events still being written (busy time first)
  return { ...applyContext(pair, deps), background: true, held: [], holders: [] };
}

function failure(e: unknown, what: string): { kind: string; error: string } {
  const kind = e instanceof BridgeError ? e.kind : 'transient';
  return { kind, error: `${what}: ${e instanceof Error ? e.message : String(e)}` };
}
