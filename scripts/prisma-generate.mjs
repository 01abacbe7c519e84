// `prisma generate` without internet: generation never runs the native schema engine, but the CLI
// insists on finding one, so point it at any existing file (ARCHITECTURE section 5).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
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
if (run.status !== 0) process.exit(run.status ?? 1);

// The generated client imports the query compiler as a module that holds it in base64. A module is
// never unloaded, so its 4.4 MB of source text and the 4.4 MB string stay in the heap for as long as
// the process runs (a heap snapshot of `feisync serve` showed both). The client reads that module's
// text instead, and lets it go once the compiler is compiled.
const CLASS = 'src/generated/prisma/internal/class.ts';
const IMPORT = /await import\(("@prisma\/client\/runtime\/[^"]+\.wasm-base64\.mjs")\)/;
const generated = readFileSync(CLASS, 'utf8');
if (IMPORT.test(generated)) {
  const reader = `
async function readWasmBase64(specifier: string): Promise<{ wasm: string }> {
  const [{ readFileSync }, { createRequire }] = await Promise.all([import('node:fs'), import('node:module')])
  const text = readFileSync(createRequire(import.meta.url).resolve(specifier), 'utf8')
  return { wasm: text.slice(text.indexOf('"') + 1, text.lastIndexOf('"')) }
}
`;
  writeFileSync(
    CLASS,
    generated
      .replace(IMPORT, (_, specifier) => `await readWasmBase64(${specifier})`)
      .replace(/\nconfig\.compilerWasm = /, (m) => `${reader}${m}`),
  );
} else {
  console.warn(
    `prisma-generate: ${CLASS} no longer imports the query compiler in base64 as expected; left as generated`,
  );
}
