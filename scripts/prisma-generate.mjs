// `prisma generate` without internet: generation never runs the native schema engine, but the CLI
// insists on finding one, so point it at any existing file (ARCHITECTURE section 5).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let cli;
try {
  cli = require.resolve('prisma/build/index.js');
} catch {
  console.error('prisma is not installed; run npm install');
  process.exit(1);
}
const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY || !existsSync(env.PRISMA_SCHEMA_ENGINE_BINARY)) {
  env.PRISMA_SCHEMA_ENGINE_BINARY = process.execPath;
}
env.PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING = '1';
const run = spawnSync(process.execPath, [cli, 'generate', '--schema', 'prisma/schema.prisma'], {
  env,
  stdio: 'inherit',
});
process.exit(run.status ?? 1);
