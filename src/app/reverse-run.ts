/**
 * Two-way pairs, spoke side: the reverse pulls that `feisync sync` runs before the Feishu pulls, and
 * that `serve` runs per spoke calendar when a spoke notifies a change (or on its polling safety net).
 */
import { PrismaConflictStore } from '../store/conflicts.ts';
import type { Counts } from '../sync/apply.ts';
import type { Pair } from '../sync/pair.ts';
import { pullSpoke, type ReverseOptions, type ReverseResult } from '../sync/reverse.ts';
import type { ReverseDeps } from '../sync/reverse-types.ts';
import { type App, policyOf } from './compose.ts';
import type { Resolution } from './pairs.ts';

/** The spoke calendar a pair mirrors into, as a string: pairs with the same one share a read. */
export const spokeCalendarKey = (p: Pair) => `${p.spoke}|${p.target.owner}|${p.target.id}`;

/** Two-way pairs grouped by spoke calendar. */
export function spokeGroups(pairs: Pair[]): Map<string, Pair[]> {
  const out = new Map<string, Pair[]>();
  for (const p of pairs) {
    if (p.direction !== 'two-way') continue;
    const k = spokeCalendarKey(p);
    out.set(k, [...(out.get(k) ?? []), p]);
  }
  return out;
}

export function reverseDeps(app: App, resolution: Resolution): ReverseDeps {
  const byCalendar = new Map<string, Pair[]>();
  for (const p of resolution.pairs) byCalendar.set(p.feishu.id, [...(byCalendar.get(p.feishu.id) ?? []), p]);
  const conflicts = new PrismaConflictStore(app.db.prisma);
  const feishu = app.feishu;
  return {
    feishu,
    spokes: app.spokes,
    store: app.links,
    policy: policyOf(app.config),
    conflicts: app.config.sync.conflicts,
    pairsOf: (calendar) => byCalendar.get(calendar) ?? [],
    attendeeFor: resolution.attendeeFor as ReverseDeps['attendeeFor'],
    reverseAttendee: resolution.reverseAttendee,
    hold: (c) => conflicts.hold(c),
    ...(feishu.reply
      ? {
          reply: async (calendar, eventId, rsvp) => {
            if (rsvp === 'needs-action') return;
            const r = await feishu.reply!(calendar, { id: eventId }, rsvp);
            if (!r.ok) throw r.error;
          },
        }
      : {}),
  };
}

/** Reverse pulls of every spoke calendar of these pairs (two-way ones only), one after another. */
export async function pullSpokes(
  app: App,
  resolution: Resolution,
  pairs: Pair[],
  options: ReverseOptions = {},
): Promise<ReverseResult[]> {
  const deps = reverseDeps(app, resolution);
  const out: ReverseResult[] = [];
  for (const group of spokeGroups(pairs).values()) out.push(...(await pullSpoke(group, deps, options)));
  return out;
}

/** One two-way pair's spoke side, as the sync and reconcile reports show it. */
export interface ReverseReport {
  pair: string;
  user: string;
  spoke: string;
  counts: ReverseResult['counts'];
  fanout: Counts;
  failures: ReverseResult['failures'];
  refusals: ReverseResult['refusals'];
  plan?: ReverseResult['plan'];
  error?: string;
}

export const reverseReport = (r: ReverseResult): ReverseReport => ({
  pair: r.pair.id,
  user: r.pair.userKey,
  spoke: r.pair.spoke,
  counts: r.counts,
  fanout: r.fanout,
  failures: r.failures,
  refusals: r.refusals,
  ...(r.plan ? { plan: r.plan } : {}),
  ...(r.error ? { error: r.error } : {}),
});

export const reverseOk = (list: ReverseReport[]) =>
  list.every((r) => !r.error && r.counts.failed === 0 && r.fanout.failed === 0);
