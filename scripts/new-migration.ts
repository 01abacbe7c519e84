// npm run db:migration -- <name>: writes a new Prisma Migrate folder for the changes in
// prisma/schema.prisma, computed offline on an in-memory PGlite shadow database.
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { createMigration } from '../src/store/migrate.ts';

const name = process.argv[2];
if (!name) {
  console.error('usage: npm run db:migration -- <name>');
  process.exit(2);
}
const pg = new PGlite();
try {
  const folder = await createMigration(new PrismaPGlite(pg), name);
  console.log(folder ? `created ${folder}` : 'schema.prisma has no changes: no migration created');
} catch (e) {
  console.error(String(e instanceof Error ? e.message : e));
  process.exitCode = 2;
} finally {
  await pg.close();
}
