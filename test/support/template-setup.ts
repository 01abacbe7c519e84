// Vitest global setup: builds the embedded database template (src/store/template.ts) once, before the
// test files start, instead of every file that opens a new database building its own at once. The
// child process that creates a new database folder builds it, so this process stays small.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): void {
  const dataDir = mkdtempSync(join(tmpdir(), 'feisync-template-'));
  try {
    const child = spawnSync(process.execPath, ['--import', 'tsx', 'src/store/prepare.ts', dataDir], {
      encoding: 'utf8',
    });
    if (child.status !== 0) throw new Error(`building the database template failed: ${child.stderr}`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
