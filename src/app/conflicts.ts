/**
 * Conflicts held by `sync.conflicts: report`: listing them (`feisync conflicts`, `feisync status`,
 * `/status`, the reconcile report, the web console) and settling one (`feisync conflicts resolve ID
 * --keep feishu|google|exchange`): the kept side wins the fields changed on both sides, the other
 * fields still merge, and Feishu, the copy and the other spokes are written as a reverse pull would.
 */
import { formatKey } from '../core/index.ts';
import { type ConflictRow, PrismaConflictStore } from '../store/conflicts.ts';
import { epochMs, type SqlReader, toDate } from '../store/sql.ts';
import type { ConflictsProvider } from '../web/index.ts';
import type { App } from './compose.ts';
import { UsageError } from './exit.ts';
import { resolvePairs } from './pairs.ts';
import { formatTable } from './table.ts';

export type Keep = 'feishu' | 'google' | 'exchange';

export interface ConflictView {
  id: number;
  pair: string;
  user: string;
  spoke: 'google' | 'exchange';
  /** The Feishu instance key `uid_originalTime`. */
  key: string;
  summary: string;
  fields: { field: string; base?: string; feishu: string; spoke: string }[];
  since: string;
}

const spokeName = (s: string): 'google' | 'exchange' => (s === 'graph' ? 'exchange' : 'google');

/** Open conflicts, oldest first (database only: no provider is called). */
export async function listConflicts(db: SqlReader): Promise<ConflictView[]> {
  // raw SQL (see sql.ts): `feisync status` lists them without Prisma
  const rows = await db.$queryRawUnsafe<any[]>(
    `SELECT c.id, c."pairId", c.uid, c."originalTime"::float8 AS "originalTime", c.fields, c.feishu, c.spoke,
       c."spokeId", c.keep, ${epochMs('c."createdAt"')}, p."userKey" AS "pairUser", p.spoke AS "pairSpoke"
     FROM "Conflict" c LEFT JOIN "SyncPair" p ON p.id = c."pairId" WHERE c."resolvedAt" IS NULL ORDER BY c.id`,
  );
  return rows.map((r) =>
    view(
      { ...r, createdAt: toDate(r.createdAt), resolvedAt: null },
      r.pairSpoke === null ? undefined : { userKey: r.pairUser, spoke: r.pairSpoke },
    ),
  );
}

function view(r: ConflictRow, pair: { userKey: string; spoke: string } | undefined): ConflictView {
  return {
    id: r.id,
    pair: r.pairId,
    user: pair?.userKey ?? '?',
    spoke: spokeName(pair?.spoke ?? 'google'),
    key: formatKey({ uid: r.uid, originalTime: r.originalTime }),
    summary: r.feishu?.summary ?? r.spoke?.summary ?? '',
    fields: r.fields.map((f) => ({
      field: f.field,
      ...(f.base !== undefined ? { base: f.base } : {}),
      feishu: f.feishu,
      spoke: f.spoke,
    })),
    since: r.createdAt.toISOString(),
  };
}

export interface ResolveResult {
  id: number;
  keep: Keep;
  ok: boolean;
  /** What went wrong, when not ok (the conflict stays open). */
  error?: string;
}

/** Settles one conflict: the kept side's values win the conflicting fields; both sides are written. */
export async function resolveConflict(app: App, id: number, keep: Keep): Promise<ResolveResult> {
  const store = new PrismaConflictStore(app.db.prisma);
  const row = await store.get(id);
  if (!row) throw new UsageError(`no conflict #${id}`);
  if (row.resolvedAt) throw new UsageError(`conflict #${id} was already resolved (kept ${row.keep})`);
  const stored = await app.db.prisma.syncPair.findUnique({ where: { id: row.pairId } });
  if (!stored) throw new UsageError(`conflict #${id}: its pair is gone`);
  if (keep !== 'feishu' && keep !== spokeName(stored.spoke))
    throw new UsageError(
      `conflict #${id} is between Feishu and ${spokeName(stored.spoke)}: --keep feishu or ${spokeName(stored.spoke)}`,
    );
  const resolution = await resolvePairs(app);
  const pair = resolution.pairs.find((p) => p.id === row.pairId);
  if (!pair) throw new UsageError(`conflict #${id}: its pair is no longer in the configuration`);
  if (!row.spoke || !row.spokeId) throw new UsageError(`conflict #${id} has no spoke copy to compare`);
  // loaded here, not at the top: listing conflicts (`feisync status`) needs no sync engine or connector
  const [{ reverseDeps }, { newRun }, { applyChange }] = await Promise.all([
    import('./reverse-run.ts'),
    import('../sync/reverse.ts'),
    import('../sync/reverse-apply.ts'),
  ]);
  const deps = {
    ...reverseDeps(app, resolution),
    conflicts: keep === 'feishu' ? ('feishu-wins' as const) : ('spoke-wins' as const),
  };
  const run = newRun(pair, deps);
  const key = { uid: row.uid, originalTime: row.originalTime };
  const link = (await app.links.byUids(pair.id, [row.uid])).get(formatKey(key));
  // the copy as it was held: written back without a version precondition (the user decided)
  await applyChange(run, { ref: { id: row.spokeId }, event: { ...row.spoke, key } }, key, link);
  const problems = [...run.failures, ...run.refusals];
  if (run.counts.failed > 0 || run.fanout.failed > 0)
    return { id, keep, ok: false, error: problems[0]?.error ?? 'write failed' };
  await store.settle(id, keep);
  return { id, keep, ok: true, ...(problems.length ? { error: problems[0].error } : {}) };
}

export function formatConflicts(list: ConflictView[]): string {
  if (list.length === 0) return 'no open conflicts';
  const rows = [
    ['id', 'user', 'spoke', 'event', 'fields', 'since'],
    ...list.map((c) => [
      String(c.id),
      c.user,
      c.spoke,
      `${c.key} ${c.summary}`.trim(),
      c.fields.map((f) => f.field).join(','),
      c.since.slice(0, 16),
    ]),
  ];
  const detail = list.flatMap((c) =>
    c.fields.map(
      (f) =>
        `#${c.id} ${f.field}: feishu ${f.feishu} | ${c.spoke} ${f.spoke}${f.base ? ` | was ${f.base}` : ''}`,
    ),
  );
  return [
    ...formatTable(rows, 6),
    '',
    ...detail,
    '',
    'settle one: feisync conflicts resolve ID --keep feishu|google|exchange',
  ].join('\n');
}

/** The console's Conflicts page over this store (src/web/console/types.ts ConflictsProvider). */
export function conflictsProvider(app: App): ConflictsProvider {
  return {
    async list() {
      return (await listConflicts(app.db.prisma)).map((c) => ({
        id: String(c.id),
        user: c.user,
        key: c.key,
        summary: c.summary,
        detectedAt: new Date(c.since),
        versions: [
          { side: 'feishu', fields: Object.fromEntries(c.fields.map((f) => [f.field, f.feishu])) },
          { side: c.spoke, fields: Object.fromEntries(c.fields.map((f) => [f.field, f.spoke])) },
        ],
      }));
    },
    async resolve(id, keep) {
      if (!['feishu', 'google', 'exchange'].includes(keep))
        throw new UsageError(`--keep: feishu, google or exchange, not ${keep}`);
      const r = await resolveConflict(app, Number(id), keep as Keep);
      if (!r.ok) throw new Error(`conflict #${id} not resolved: ${r.error}`);
    },
  };
}
