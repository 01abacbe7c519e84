/**
 * Raw SQL reads for the read-only views (`status`, conflicts, runs, waves). A PrismaClient is a
 * `SqlReader`, and so is `Database.reader`, which runs the SQL on the driver itself: `feisync status`
 * reads through it without loading Prisma's query compiler (a tenth of a second and 40 MB).
 *
 * The drivers return some types differently (int8: BigInt through Prisma, a string through pg;
 * timestamptz off UTC: shifted through Prisma on PGlite), so queries ask for forms every driver
 * returns alike: counts `::int`, bigint columns `::float8`, times as epoch milliseconds (`epochMs`).
 */
export interface SqlReader {
  $queryRawUnsafe<T = unknown>(query: string, ...values: any[]): PromiseLike<T>;
}

/** A timestamp column as milliseconds since the epoch (a timestamp without zone is UTC, as Prisma writes it). */
export const epochMs = (column: string, as: string = column.replace(/^.*\./, '')) =>
  `(extract(epoch FROM ${column}) * 1000)::float8 AS ${as}`;

/** Back from `epochMs`. */
export function toDate(ms: unknown): Date | null {
  return ms === null || ms === undefined ? null : new Date(Number(ms));
}

/** A SQL LIMIT from a count given by a caller. */
export const limit = (n: number) => `LIMIT ${Math.max(0, Math.floor(Number(n) || 0))}`;
