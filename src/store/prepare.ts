/**
 * The child process that creates and migrates an embedded database for `openDatabase` (db.ts), so that
 * the process that then works on it never holds what those one-off steps take. PGlite's `initdb` runs
 * a second Postgres instance beside the first and copies its whole WebAssembly heap (about 830 MB
 * resident at its peak), and Prisma's schema engine is another WebAssembly module; a process keeps
 * much of that afterwards (and those large copies raise glibc's mmap threshold, so later large
 * buffers fragment the malloc heap instead of going back to the system). Opens (creating) the
 * folder's database, applies pending migrations, prints the names applied as one JSON line.
 */
import { openDatabase } from './db.ts';

try {
  const db = await openDatabase({ dataDir: process.argv[2], inProcess: true });
  await db.close();
  process.stdout.write(`${JSON.stringify({ applied: db.applied })}\n`);
} catch (e) {
  process.stderr.write(`${(e as Error).message.replaceAll('\n', ' ')}\n`);
  process.exitCode = 1;
}
