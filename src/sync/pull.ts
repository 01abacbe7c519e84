/**
 * One pull of one Feishu calendar, fanned out to every pair of that calendar: page through the
 * changes (all events when there is no cursor), diff each page against each pair's links, write,
 * and save the new cursor once everything it covers is written. Pages are processed as they arrive,
 * so memory stays flat in calendar size.
 */
import { type Attendee, type CanonicalEvent, formatKey, type InstanceKey } from '../core/index.ts';
import type { CalendarConnector, Link, LinkStore, RemoteEvent } from '../ports/index.ts';
import { type ApplyContext, applyContext, applyDeletes, type Counts, type Failure } from './apply.ts';
import { awaitAttendees } from './attendees.ts';
import { type Action, diff, missing } from './diff.ts';
import type { Pair, Spoke, SyncPolicy } from './pair.ts';
import { type DeleteAction, describe, guardDeletes, waves } from './plan.ts';
import type { RoomLedger } from './room-copies.ts';
import { nameHolders } from './room-records.ts';
import { WritePipe } from './write-pipe.ts';

export interface PullDeps {
  feishu: CalendarConnector;
  spokes: Partial<Record<Spoke, CalendarConnector>>;
  store: LinkStore;
  policy: SyncPolicy;
  /** Shared by every pull of one run: how many deletes the run may still make. */
  deleteBudget?: { remaining: number };
  /** How Feishu attendees are known on a pair's spoke (mapped users, rooms). */
  attendeeFor?: (pair: Pair) => ((a: Attendee, event: CanonicalEvent) => Attendee | undefined) | undefined;
  /** Where the rooms of mirrored meetings are recorded as their copies are written (room-copies.ts). */
  rooms?: RoomLedger;
  /** Called after each page with the events seen so far on this calendar. */
  onProgress?: (p: { calendar: string; events: number }) => void;
  /**
   * Called once the calendar's listing is complete (its last page in hand, maybe before that page
   * is written): `deferred` when events came without their attendees. An attendees stage may list
   * the calendar from here on and never see older data than this pull writes.
   */
  onListed?: (info: { deferred: boolean }) => void;
}

export interface PairResult {
  pair: Pair;
  counts: Counts;
  failures: Failure[];
  /** Why deletes were held back, if they were. */
  held?: string;
  /** --dry-run: what would be done. */
  plan?: ReturnType<typeof describe>;
  full: boolean;
  cursorSaved: boolean;
  /**
   * Busy time first: events this pull left waiting for their attendees (created without them, or
   * already on the spoke and left whole for the attendees stage).
   */
  awaitingAttendees: number;
}

export interface PullOptions {
  /** Ignore saved cursors: list everything and diff against all links. */
  full?: boolean;
  dryRun?: boolean;
}

/** A pull's listing: complete (the last page listed), that page's events if not written yet, the pull over. */
interface Listing {
  done: boolean;
  ahead: number;
  ended: boolean;
}

interface PairRun {
  ctx: ApplyContext;
  awaiting: number;
  deletes: DeleteAction[];
  /** Its writes, sent in full requests (the rest at the end of the pull). */
  pipe: WritePipe;
  plan: Action[];
}

/** Pulls one Feishu calendar for its pairs (all with the same `feishu` calendar). */
/** Tells each spoke which of its calendars a run is about to write (CalendarConnector.expectWrites). */
export function expectWrites(spokes: PullDeps['spokes'], pairs: Pair[]) {
  for (const [spoke, connector] of Object.entries(spokes))
    connector?.expectWrites?.(pairs.filter((p) => p.spoke === spoke).map((p) => p.target));
}

export async function pullCalendar(
  pairs: Pair[],
  deps: PullDeps,
  options: PullOptions = {},
): Promise<PairResult[]> {
  const groups = new Map<string, Pair[]>();
  for (const pair of pairs) {
    const cursor = options.full ? null : await deps.store.cursor(pair.id, 'feishu');
    const k = cursor ?? '';
    groups.set(k, [...(groups.get(k) ?? []), pair]);
  }
  const results: PairResult[] = [];
  let left = groups.size;
  // the calendar is listed once every group's listing is; its events came without their attendees
  // if any group's did (a pair new to the sync beside one already synced: only the new is full)
  let deferred = false;
  for (const [cursor, group] of groups) {
    const last = --left === 0;
    const onListed = (info: { deferred: boolean }) => {
      deferred ||= info.deferred;
      if (last) deps.onListed?.({ deferred });
    };
    results.push(...(await pullGroup(group, cursor || null, { ...deps, onListed }, options)));
  }
  return results;
}

async function pullGroup(
  pairs: Pair[],
  cursor: string | null,
  deps: PullDeps,
  options: PullOptions,
): Promise<PairResult[]> {
  const feishuCal = pairs[0].feishu;
  // how many writes are still to come is known once the last page is listed (it carries the
  // cursor): those the pipes hold and those of that page if it waits to be written
  const listing: Listing = { done: false, ahead: 0, ended: false };
  const runs = pairs.map((pair) => newRun(pair, deps, listing));
  const seen = new Set<string>();
  let full = cursor === null;
  // one id per full pull: connectors look up unlinked copies once per pull (WriteOptions.fullPull)
  const fullPull = () => `${feishuCal.id}@${Date.now()}.${Math.random().toString(36).slice(2, 8)}`;
  if (full) for (const run of runs) run.ctx.fullPull = fullPull();
  let complete = false;
  let nextCursor: string | undefined;
  let events = 0;
  let readError: string | undefined;
  // Busy time first (issue 11): a full pull lists without attendees where the connector defers
  // them, writes every new event now, and leaves the attendees to the attendees stage (attendees.ts)
  const defer = () => full && !options.dryRun && !!deps.feishu.readAttendees;
  const list = (from: string | null) =>
    deps.feishu
      .listChanges(feishuCal, from, defer() ? { attendees: 'defer' } : undefined)
      [Symbol.asyncIterator]();
  let pages = list(cursor);
  const listNext = () => {
    const p = pages.next();
    p.then(
      (r) => {
        if (!r.done && r.value.cursor !== undefined) {
          listing.done = true;
          listing.ahead = r.value.upserts.length + r.value.removals.length;
        }
      },
      () => {},
    );
    return p;
  };
  let deferred = false;
  try {
    let next = listNext();
    for (;;) {
      const { value: page, done } = await next;
      if (done) break;
      listing.ahead = 0;
      if (page.expired) {
        if (full) throw new Error('Feishu refused a full listing as expired');
        // the sync token expired: drop it, list everything and diff against the links
        full = true;
        listing.done = false;
        for (const run of runs) run.ctx.fullPull = fullPull();
        pages = list(null);
        next = listNext();
        continue;
      }
      // the next page is listed while this one is written; the listing is complete when it says done
      next = listNext();
      next.then(
        (r) => r.done && deps.onListed?.({ deferred }),
        () => {},
      );
      // a page's writes begin once the next page is listed (one request, far shorter than the
      // writes): if that is the last, the spokes know from the first write how many are to come
      if (page.cursor === undefined) await next.catch(() => {});
      deferred ||= page.upserts.some((u) => u.attendeesPending);
      const removals = page.removals.map((r) => r.key).filter((k): k is InstanceKey => !!k);
      if (full) for (const u of page.upserts) seen.add(formatKey(u.event.key));
      events += page.upserts.length + removals.length;
      await Promise.all(runs.map((run) => applyPage(run, page.upserts, removals, deps, options)));
      deps.onProgress?.({ calendar: feishuCal.id, events });
      if (page.cursor) nextCursor = page.cursor;
    }
    complete = true;
  } catch (e) {
    readError = e instanceof Error ? e.message : String(e);
  }
  listing.done = true;

  // once the pull has ended, nothing more is to come from it, whatever a failed write left held
  return Promise.all(
    runs.map(async (run) => {
      const { ctx } = run;
      // what the pages left short of a full request, and exceptions whose master came later
      if (!options.dryRun) await run.pipe.flush(true);
      const links = new Map<string, Link>();
      if (full && complete) {
        for await (const chunk of deps.store.liveKeys(ctx.pair.id)) {
          const unseen = chunk.filter((k) => !seen.has(formatKey(k)));
          if (unseen.length === 0) continue;
          const found = await deps.store.byUids(ctx.pair.id, [...new Set(unseen.map((k) => k.uid))]);
          for (const [k, l] of found) if (!seen.has(k)) links.set(k, l);
        }
        run.deletes.push(...(missing(links, seen) as DeleteAction[]));
      }
      const deletes = dedupe(run.deletes);
      const budget = deps.deleteBudget ?? { remaining: deps.policy.maxDeletesPerRun };
      const verdict = guardDeletes(
        deletes.length,
        { complete, sawAny: seen.size > 0, full },
        budget,
        deps.policy.maxDeletesPerRun,
      );
      let held: string | undefined = readError ? `Feishu read failed: ${readError}` : undefined;
      if (!verdict.ok) held = verdict.reason;
      else if (!options.dryRun && deletes.length) {
        budget.remaining -= deletes.length;
        for (const d of deletes) links.set(formatKey(d.key), d.link);
        await applyDeletes(ctx, deletes, links);
      }
      await nameHolders(ctx);
      if (options.dryRun) {
        run.plan.push(...deletes);
        for (const a of run.plan)
          if (a.kind === 'create' || a.kind === 'update') ctx.counts[`${a.kind}d`] += 1;
        ctx.counts.deleted += deletes.length;
      }
      // the cursor moves only when everything it covers is on the spoke: a failure is retried next pull
      const advance =
        complete && !options.dryRun && verdict.ok && ctx.counts.failed === 0 && nextCursor !== undefined;
      if (advance) await deps.store.save([], [{ pairId: ctx.pair.id, side: 'feishu', value: nextCursor! }]);
      return {
        pair: ctx.pair,
        counts: ctx.counts,
        failures: ctx.failures,
        held,
        plan: options.dryRun ? describe(full && staging(deps) ? staged(run.plan) : run.plan) : undefined,
        full,
        cursorSaved: advance,
        awaitingAttendees: run.awaiting,
      };
    }),
  ).finally(() => {
    listing.ended = true;
  });
}

function newRun(pair: Pair, deps: PullDeps, listing: Listing): PairRun {
  const ctx: ApplyContext = { ...applyContext(pair, deps), holders: [] };
  const pipe = new WritePipe(ctx);
  ctx.queued = () => (listing.ended ? 0 : listing.done ? pipe.held + listing.ahead : Infinity);
  return { ctx, awaiting: 0, deletes: [], pipe, plan: [] };
}

async function applyPage(
  run: PairRun,
  listed: RemoteEvent[],
  removals: InstanceKey[],
  deps: PullDeps,
  options: PullOptions,
) {
  const { ctx } = run;
  const upserts = listed.map((u) => u.event);
  const uids = [...new Set([...upserts.map((e) => e.key.uid), ...removals.map((k) => k.uid)])];
  const links = await deps.store.byUids(ctx.pair.id, uids);
  const { actions, marks, awaiting } = awaitAttendees(
    diff({ upserts, removals }, links, ctx.policy),
    new Set(listed.filter((u) => u.attendeesPending).map((u) => formatKey(u.event.key))),
    links,
  );
  run.awaiting += awaiting;
  if (marks.length && !options.dryRun) {
    for (const l of marks) links.set(formatKey(l), l);
    await deps.store.save(marks);
  }
  for (const a of actions) if (a.kind === 'unchanged') ctx.counts.unchanged += 1;
  for (const a of actions) if (a.kind === 'skip') ctx.counts.skipped += 1;
  const { masters, exceptions, deletes } = waves(actions);
  run.deletes.push(...deletes);
  if (options.dryRun) {
    run.plan.push(...masters, ...exceptions);
    return;
  }
  run.pipe.add([...masters, ...exceptions], links);
  await run.pipe.flush(false);
}

/** A full pull that a real run would stage: busy time first, then the attendees stage. */
const staging = (deps: PullDeps) => !!deps.feishu.readAttendees && deps.policy.fields.includes('attendees');

/** --dry-run of a full pull that a real run stages (the dry run reads attendees inline): when each write goes. */
function staged(plan: Action[]): Action[] {
  return plan.map((a) =>
    a.kind === 'create' && a.event.attendees.length
      ? { ...a, reason: `${a.reason}; written without its attendees first, then with them` }
      : a.kind === 'update'
        ? { ...a, reason: `${a.reason}; written in the attendees stage` }
        : a,
  );
}

function dedupe(deletes: DeleteAction[]): DeleteAction[] {
  const byKey = new Map<string, DeleteAction>();
  for (const d of deletes) byKey.set(formatKey(d.key), d);
  return [...byKey.values()];
}
