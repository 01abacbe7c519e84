#!/usr/bin/env -S MALLOC_ARENA_MAX=2 MALLOC_TRIM_THRESHOLD_=65536 node --max-semi-space-size=4
// (The young generation capped at 4 MB a semi-space, against V8's 16: about 45 MB less peak memory
// for `feisync serve` at the same CPU. glibc's allocator held to two arenas, and giving back free
// memory above 64 KB: 20 MB less peak and 30 MB less after an initial sync (10,000 events, quotas
// off: 376 MB against 392 to 398), CPU the same. Both measured by `npm run bench -- serve`. The
// shebang applies when the command is run as `feisync` or `npx feisync`; `node bin/feisync.mjs`
// runs without it.)
// Runs the compiled JavaScript in .build/ (scripts/build.mjs, run by npm install) while every source
// file is as it was compiled; else the TypeScript sources through tsx's loader, which costs about half
// a second and 35 MB more at every start. FEISYNC_FROM_SOURCE=1 always runs the sources.
import { readFileSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);

function compiledIsFresh() {
  if (process.env.FEISYNC_FROM_SOURCE) return false;
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(new URL('.build/manifest.json', root), 'utf8'));
  } catch {
    return false; // never built
  }
  for (const [file, [mtimeMs, size]] of Object.entries(manifest.files)) {
    let s;
    try {
      s = statSync(new URL(file, root));
    } catch {
      return false; // deleted
    }
    if (s.mtimeMs !== mtimeMs || s.size !== size) return false;
  }
  // a source added since is only run once an existing file imports it, which changes that file
  return true;
}

if (compiledIsFresh()) await import('../.build/cli.js');
else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/app/cli.ts');
}
