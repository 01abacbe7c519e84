/** The SyncRun journal: one row per sync, pull or reconcile, opened at start and closed with counts. */
import type { Prisma } from '../generated/prisma/client.ts';
import type { PrismaClient } from './db.ts';
import { epochMs, limit as limitTo, type SqlReader, toDate } from './sql.ts';

export type RunKind = 'sync' | 'pull' | 'reconcile' | 'attendees';
export type RunOutcome = 'ok' | 'partial' | 'failed';

export interface RunFinish<C> {
  status: RunOutcome;
  /** Numbers by name, e.g. created/updated/deleted/unchanged/skipped/failed. */
  counts: C;
  /** Any JSON-serialisable detail (problems, held pairs...). */
  report?: unknown;
  error?: string;
}

export interface RunRecord {
  id: number;
  kind: string;
  startedAt: Date;
  finishedAt: Date | null;
  /** running | ok | partial | failed (other writers may append a note, e.g. "ok (dry run)"). */
  status: string;
  counts: Record<string, number> | null;
  report: unknown;
  error: string | null;
}

const KINDS: readonly string[] = ['sync', 'pull', 'reconcile', 'attendees'];
const OUTCOMES: readonly string[] = ['ok', 'partial', 'failed'];

/**
 * Opens a run (status `running`) and answers its id; `report` says from the start what it is about
 * (a pull's calendar), so a run whose process died still tells which calendar it held.
 */
export async function startRun(prisma: PrismaClient, kind: RunKind, report?: unknown): Promise<number> {
  if (!KINDS.includes(kind)) throw new Error(`unknown run kind: ${kind}`);
  const row = await prisma.syncRun.create({
    data: { kind, ...(report !== undefined ? { report: JSON.parse(JSON.stringify(report)) } : {}) },
    select: { id: true },
  });
  return row.id;
}

/** Closes a run with its outcome; throws when the id is unknown. */
export async function finishRun<C extends { [K in keyof C]: number }>(
  prisma: PrismaClient,
  id: number,
  finish: RunFinish<C>,
): Promise<void> {
  if (!OUTCOMES.includes(finish.status)) throw new Error(`unknown run status: ${finish.status}`);
  const counts: Record<string, number> = {};
  for (const [k, v] of Object.entries(finish.counts as Record<string, number>)) {
    if (typeof v === 'number' && Number.isFinite(v)) counts[k] = v;
  }
  const data: Prisma.SyncRunUpdateInput = {
    finishedAt: new Date(),
    status: finish.status,
    counts,
    error: finish.error ?? null,
  };
  // a JSON round trip drops undefined members and turns Dates into strings, as the column stores them
  if (finish.report !== undefined) data.report = JSON.parse(JSON.stringify(finish.report));
  await prisma.syncRun.update({ where: { id }, data });
}

/** The newest runs first (optionally of one kind); raw SQL (see sql.ts). */
export async function lastRuns(db: SqlReader, limit = 10, kind?: RunKind): Promise<RunRecord[]> {
  if (kind && !KINDS.includes(kind)) throw new Error(`unknown run kind: ${kind}`);
  const rows = await db.$queryRawUnsafe<any[]>(
    `SELECT id, kind, ${epochMs('"startedAt"')}, ${epochMs('"finishedAt"')}, status, counts, report, error
     FROM "SyncRun" ${kind ? `WHERE kind = '${kind}'` : ''} ORDER BY "startedAt" DESC, id DESC ${limitTo(limit)}`,
  );
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    startedAt: toDate(r.startedAt)!,
    finishedAt: toDate(r.finishedAt),
    status: r.status,
    counts: isCounts(r.counts) ? r.counts : null,
    report: r.report ?? null,
    error: r.error,
  }));
}

function isCounts(v: unknown): v is Record<string, number> {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    Object.values(v).every((n) => typeof n === 'number')
  );
}
