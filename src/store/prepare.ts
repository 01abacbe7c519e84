/**
 * The child process that creates (from the template, building it first if need be: template.ts) or
 * migrates an embedded database for `openDatabase` (db.ts), so that the process that then works on it
 * never holds what those one-off steps take. PGlite's `initdb` runs a second Postgres instance beside
 * the first and copies its whole WebAssembly heap (about 830 MB resident at its peak), and Prisma's
 * schema engine is another WebAssembly module; a process keeps much of that afterwards (and those
 * large copies raise glibc's mmap threshold, so later large buffers fragment the malloc heap instead
 * of going back to the system). Opens (creating) the folder's database, applies pending migrations,
 * prints the names applied as one JSON line.
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
// Exit now: the schema engine, once it has run, keeps the event loop alive for about ten seconds
// after it is freed (a timer of its own), and the parent waits for this process to end.
await Promise.all([process.stdout, process.stderr].map((s) => new Promise((r) => s.write('', r))));
process.exit();
