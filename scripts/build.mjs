// Compiles the `feisync` command (src/app/cli.ts and everything it imports) to plain JavaScript in
// .build/, so bin/feisync.mjs starts without tsx's loader. Run by `npm install` (postinstall),
// `npm run generate` and `npm test`; by hand: `node scripts/build.mjs`.
//
// One esbuild bundle split at every `import()`: a command still loads only what it uses, and the
// modules every command needs come in a few files instead of a hundred. Packages stay in
// node_modules, loaded by Node as before, except the pure-JavaScript ones every command loads
// (BUNDLED). In each source, `import.meta.url` (and dirname, filename) still name that source file,
// so paths a file computes from its own location (package.json, prisma/migrations) are unchanged.
// .build/manifest.json records the mtime and size of each source compiled in: bin/feisync.mjs runs
// .build only while every one is as it was compiled, else the sources through tsx.
import { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(root, '.build');
const ENTRY = 'src/app/cli.ts';
/** Bundled packages: pure JavaScript, loaded by every command (config, arguments). */
const BUNDLED = new Set(['zod', 'yaml', 'commander']);

/** esbuild as tsx resolves it (tsx depends on it; its binary needs no install script). */
async function loadEsbuild() {
  const fromTsx = createRequire(createRequire(import.meta.url).resolve('tsx/package.json'));
  return import(fromTsx.resolve('esbuild'));
}

/** mtime and size of every .ts file under src/ and connectors/, by path from the root. */
function stamps() {
  const out = new Map();
  const walk = (dir) => {
    for (const d of readdirSync(join(root, dir), { withFileTypes: true })) {
      const rel = `${dir}/${d.name}`;
      if (d.isDirectory()) walk(rel);
      else if (d.name.endsWith('.ts')) {
        const s = statSync(join(root, rel));
        out.set(rel, [s.mtimeMs, s.size]);
      }
    }
  };
  for (const dir of ['src', 'connectors']) walk(dir);
  return out;
}

const packageName = (spec) =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');

/** esbuild's options, writing to `outdir`. */
function options(outdir) {
  return {
    absWorkingDir: root,
    metafile: true,
    entryPoints: [ENTRY],
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    logLevel: 'warning',
    // bundled CommonJS packages (yaml, commander) call require()
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    plugins: [
      {
        name: 'feisync',
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, (args) =>
            BUNDLED.has(packageName(args.path)) ? undefined : { path: args.path, external: true },
          );
          // every chunk lands in OUT, so a source's own URL is the same relative path from any of them
          b.onLoad({ filter: /\.ts$/ }, (args) => {
            const url = `new URL(${JSON.stringify(relative(OUT, args.path).split('\\').join('/'))}, import.meta.url).href`;
            const path = `process.getBuiltinModule('node:url').fileURLToPath(${url})`;
            const contents = readFileSync(args.path, 'utf8')
              .replace(/\bimport\.meta\.url\b/g, url)
              .replace(/\bimport\.meta\.filename\b/g, path)
              .replace(
                /\bimport\.meta\.dirname\b/g,
                `process.getBuiltinModule('node:path').dirname(${path})`,
              );
            return { contents, loader: 'ts' };
          });
        },
      },
    ],
  };
}

export async function build() {
  const esbuild = await loadEsbuild();
  const before = stamps();
  const tmp = `${OUT}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const { metafile } = await esbuild.build(options(tmp)).catch((e) => {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  });
  const after = stamps();
  const files = {};
  for (const input of Object.keys(metafile.inputs)
    .filter((f) => !f.startsWith('node_modules/'))
    .sort()) {
    const [was, now] = [before.get(input), after.get(input)];
    // a file edited while compiling is recorded as stale, not as the version that was compiled
    files[input] = was && now && was[0] === now[0] && was[1] === now[1] ? now : [0, -1];
  }
  writeFileSync(join(tmp, 'manifest.json'), `${JSON.stringify({ files })}\n`);
  rmSync(OUT, { recursive: true, force: true });
  renameSync(tmp, OUT);
  return Object.keys(files).length;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const t0 = performance.now();
  const n = await build();
  console.log(`feisync compiled to .build (${n} sources) in ${Math.round(performance.now() - t0)} ms`);
}
