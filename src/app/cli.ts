/**
 * The `feisync` command line. Commands that are not built yet are not listed: `--help` tells the
 * truth. Exit codes: 0 ok, 1 a run failed, 2 bad input or config.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, formatSummary, loadConfig, resolveConfigPath, summarize } from '../config/index.ts';
import {
  configIfAny,
  configOption,
  type DbOpts,
  databaseTarget,
  jsonOption,
  lazy,
  positive,
  print,
} from './cli-common.ts';
import { addTwoWayCommands } from './cli-two-way.ts';
import { EXIT, UsageError } from './exit.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const program = new Command('feisync')
  .description('Keeps Feishu (Lark) calendars in sync with Google Workspace and Microsoft Exchange.')
  .version(pkg.version, '-V, --version')
  .showHelpAfterError('(run feisync --help for usage)')
  .configureOutput({ outputError: (text, write) => write(text) })
  .exitOverride();

const config = program.command('config').description('work with the configuration file');
config
  .command('check')
  .description(
    'validate a configuration file and print a summary (users, rooms, pairs); errors exit 2; with --online, rooms missing from a spoke directory exit 1',
  )
  .argument('[file]', 'the file to check (same as --config)')
  .addOption(configOption())
  .option('--online', "also read each spoke's room directory and list config rooms it does not have")
  .addOption(jsonOption())
  .action(async (file: string | undefined, opts: { config?: string; json?: boolean; online?: boolean }) => {
    const path = resolveConfigPath(file ?? opts.config);
    const cfg = loadConfig(path);
    const summary = summarize(cfg);
    const { checkRoomDirectories, formatConfigRooms } = await lazy.rooms();
    let directory: Awaited<ReturnType<typeof checkRoomDirectories>> | undefined;
    if (opts.online) {
      const { composeSpokes } = await lazy.compose();
      directory = await checkRoomDirectories(cfg, () => composeSpokes(cfg, path));
    }
    print(
      opts.json
        ? JSON.stringify({
            ok: true,
            file: path,
            ...summary,
            roomsTable: cfg.rooms,
            roomDirectory: directory,
          })
        : `${path}: OK\n${formatSummary(summary)}\n${formatConfigRooms(cfg, directory)}`,
    );
    if (directory && (directory.missing.length || directory.errors.length)) process.exitCode = EXIT.failed;
  });

const db = program.command('db').description('the database (embedded PGlite by default, or Postgres)');
const dbOptions = (cmd: Command) =>
  cmd
    .addOption(configOption())
    .addOption(new Option('--data-dir <dir>', 'embedded database folder (overrides database.data_dir)'))
    .addOption(jsonOption());

dbOptions(db.command('migrate').description('apply pending migrations')).action(async (opts: DbOpts) => {
  const { openDatabase } = await lazy.db();
  const database = await openDatabase({ ...databaseTarget(opts), migrate: true, brief: true, prisma: false });
  try {
    const applied = database.applied;
    if (opts.json) print(JSON.stringify({ database: database.location, applied }));
    else
      print(
        applied.length
          ? `${database.location}: applied ${applied.length} migration(s):\n${applied.map((n) => `  ${n}`).join('\n')}`
          : `${database.location}: up to date, nothing to apply`,
      );
  } finally {
    await database.close();
  }
});

dbOptions(db.command('status').description('show applied and pending migrations')).action(
  async (opts: DbOpts) => {
    const [{ openDatabase }, { migrationStatus }] = await Promise.all([lazy.db(), lazy.migrate()]);
    const database = await openDatabase({ ...databaseTarget(opts), migrate: false, brief: true });
    try {
      const status = await migrationStatus(database.adapter);
      if (opts.json) print(JSON.stringify({ database: database.location, ...status }));
      else {
        const lines = status.all.map((n) => `  ${status.pending.includes(n) ? 'pending' : 'applied'}  ${n}`);
        print(
          `${database.location}: ${status.pending.length} pending of ${status.all.length}\n${lines.join('\n')}`,
        );
        for (const n of status.failed) print(`  FAILED   ${n}`);
      }
      if (status.failed.length) process.exitCode = EXIT.failed;
    } finally {
      await database.close();
    }
  },
);

program
  .command('sync')
  .description("initial or catch-up sync of all (or one user's) pairs; exit 1 when anything failed")
  .addOption(configOption())
  .option('--user <user>', 'only this user (their Feishu, Google or Exchange address as in the config)')
  .option('--dry-run', 'print the plan (creates, updates, deletes with reasons) and write nothing')
  .option('--full', 'ignore saved sync tokens: list everything and compare with the mapping table')
  .addOption(jsonOption())
  .action(
    async (opts: { config?: string; user?: string; dryRun?: boolean; full?: boolean; json?: boolean }) => {
      const path = resolveConfigPath(opts.config);
      const [{ compose }, { syncProgress }, { formatSyncReport, runSync }] = await Promise.all([
        lazy.compose(),
        lazy.progress(),
        lazy.sync(),
      ]);
      const app = await compose(loadConfig(path), path);
      let ok = false;
      try {
        const progress = syncProgress(opts.json || !process.stderr.isTTY);
        const report = await runSync(app, {
          user: opts.user,
          dryRun: opts.dryRun,
          full: opts.full,
          ...progress.hooks,
        });
        progress.stop();
        // the embedded database has no autovacuum: a sync run from cron tidies what it changed
        if (!opts.dryRun) await (await import('../store/vacuum.ts')).vacuumIfDue(app.db);
        if (opts.json) print(JSON.stringify({ type: 'result', ...report }));
        else {
          if (opts.dryRun)
            for (const p of report.pairs)
              for (const a of p.plan ?? [])
                print(`${p.user} -> ${p.spoke}: ${a.kind} ${a.key} (${a.reason})`);
          print(formatSyncReport(report));
        }
        ok = report.ok;
      } finally {
        await app.close();
      }
      // after the close: PGlite's runtime resets process.exitCode to 0 when it shuts down
      if (!ok) process.exitCode = EXIT.failed;
    },
  );

program
  .command('serve')
  .description(
    'long-running: Feishu event intake (long connection, webhook or polling), Google and Graph change notifications for two-way pairs, job workers, consent pages, the operator console at / (admins sign in with Feishu), reconciliation and migration waves on their schedules, /healthz, /readyz, /metrics; stops cleanly on SIGINT/SIGTERM',
  )
  .addOption(configOption())
  .option('--port <n>', 'port to listen on (overrides server.port)')
  .option('--host <host>', 'address to listen on (overrides server.host)')
  .action(async (opts: { config?: string; port?: string; host?: string }) => {
    const path = resolveConfigPath(opts.config);
    const { startService } = await lazy.serve();
    const service = await startService(loadConfig(path), path, {
      host: opts.host,
      port: opts.port === undefined ? undefined : positive(opts.port, '--port', true),
    });
    print(JSON.stringify({ serving: service.url }));
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await service.close();
  });

program
  .command('reconcile')
  .description(
    'compare both sides in full, repair drift on the spokes (unless --dry-run or reconcile.repair: false), print the parity report; exit 1 when anything failed or was held',
  )
  .addOption(configOption())
  .option('--user <user>', 'only this user (their Feishu, Google or Exchange address as in the config)')
  .option('--dry-run', 'judge and report only: write nothing (the plan lists the repairs)')
  .addOption(jsonOption())
  .action(async (opts: { config?: string; user?: string; dryRun?: boolean; json?: boolean }) => {
    const path = resolveConfigPath(opts.config);
    const [{ compose }, { syncProgress }, { formatReconcileReport, runReconcile }, { roomsOfPair }] =
      await Promise.all([lazy.compose(), lazy.progress(), lazy.reconcile(), lazy.rooms()]);
    const app = await compose(loadConfig(path), path);
    let ok = false;
    try {
      const progress = syncProgress(opts.json || !process.stderr.isTTY);
      const report = await runReconcile(app, {
        user: opts.user,
        dryRun: opts.dryRun,
        rooms: roomsOfPair(app.db.prisma),
        ...progress.hooks,
      });
      progress.stop();
      if (opts.json) print(JSON.stringify({ type: 'result', ...report }));
      else {
        for (const row of report.rows)
          for (const a of row.plan ?? [])
            print(`${row.user} -> ${row.spoke}: ${a.kind} ${a.key} (${a.reason})`);
        print(formatReconcileReport(report));
      }
      ok = report.ok;
    } finally {
      await app.close();
    }
    // after the close: PGlite's runtime resets process.exitCode to 0 when it shuts down
    if (!ok) process.exitCode = EXIT.failed;
  });

addTwoWayCommands(program);

program
  .command('demo')
  .description(
    'start the three emulators with a sample tenant and `serve` on them, run a full sync and a round of change events through its webhook, and check parity; exit 0 only on exact parity (--keep: stay up with the console)',
  )
  .option('--users <n>', 'users in the sample tenant', '20')
  .option('--events <n>', 'Feishu events in the sample tenant', '2000')
  .option('--keep', 'stay up after the demo (console, emulators) until Ctrl-C')
  .option('--port <n>', 'port of the demo service (default: any free port)')
  .addOption(jsonOption())
  .action(async (opts: { users: string; events: string; json?: boolean; keep?: boolean; port?: string }) => {
    const { runDemo } = await lazy.demo();
    const result = await runDemo({
      users: positive(opts.users, '--users'),
      events: positive(opts.events, '--events'),
      port: opts.port === undefined ? undefined : positive(opts.port, '--port', true),
      log: opts.json ? undefined : (line) => print(line),
      keep: opts.keep
        ? async (r) => {
            print(
              opts.json
                ? JSON.stringify({ console: r.console })
                : `console: ${r.console.signIn} (signs you in as the demo admin ${r.console.admin}); Ctrl-C to stop`,
            );
            await new Promise<void>((resolve) => {
              process.once('SIGINT', resolve);
              process.once('SIGTERM', resolve);
            });
          }
        : undefined,
    });
    if (opts.json) print(JSON.stringify(result));
    else {
      for (const [spoke, p] of Object.entries(result.parity)) {
        print(
          `parity ${spoke}: expected ${p.expected}, found ${p.found}, missing ${p.missing}, extra ${p.extra}, differing ${p.differing}`,
        );
        if (p.examples) print(`  e.g. ${JSON.stringify(p.examples)}`);
      }
      print(result.ok ? 'exact parity on every spoke' : 'NOT in parity');
    }
    if (!result.ok) process.exitCode = EXIT.failed;
  });

program
  .command('emulators')
  .description(
    'start the Feishu, Google and Graph emulators, print their URLs as one JSON line, serve until SIGINT/SIGTERM',
  )
  .option(
    '--seed <file>',
    'JSON {"feishu":{...},"google":{...},"graph":{...}} in each provider\'s seed shape',
  )
  .option('--feishu-port <n>', 'port for the Feishu emulator (default: any free)')
  .option('--google-port <n>', 'port for the Google emulator (default: any free)')
  .option('--graph-port <n>', 'port for the Graph emulator (default: any free)')
  .addOption(jsonOption())
  .action(
    async (opts: {
      seed?: string;
      feishuPort?: string;
      googlePort?: string;
      graphPort?: string;
      json?: boolean;
    }) => {
      let seed: any;
      if (opts.seed) {
        try {
          seed = JSON.parse(readFileSync(opts.seed, 'utf8'));
        } catch (e) {
          throw new UsageError(`--seed: cannot read JSON from ${opts.seed} (${(e as Error).message})`);
        }
      }
      const port = (v: string | undefined, name: string) => (v === undefined ? 0 : positive(v, name, true));
      const { startEmulators } = await lazy.emulators();
      const em = await startEmulators({
        seed,
        ports: {
          feishu: port(opts.feishuPort, '--feishu-port'),
          google: port(opts.googlePort, '--google-port'),
          graph: port(opts.graphPort, '--graph-port'),
        },
      });
      print(JSON.stringify({ feishu: em.feishu, google: em.google, graph: em.graph }));
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await em.close();
    },
  );

program
  .command('status')
  .description(
    "pairs, cursors, last runs, users without consent, failures, dead letters and room bookings; with a config, config rooms missing from a spoke's room directory",
  )
  .addOption(configOption())
  .addOption(new Option('--data-dir <dir>', 'embedded database folder (overrides database.data_dir)'))
  .option('--offline', "do not read the spokes' room directories")
  .addOption(jsonOption())
  .action(async (opts: DbOpts & { offline?: boolean }) => {
    const [{ openDatabase }, { formatStatus, readStatus }] = await Promise.all([lazy.db(), lazy.status()]);
    const database = await openDatabase({
      ...databaseTarget(opts),
      migrate: true,
      brief: true,
      prisma: false,
    });
    try {
      const found = configIfAny(opts);
      const status = await readStatus(database.reader, {
        rooms: found?.config.rooms,
        waves: found?.config.migration.waves,
        bossSchema: database.bossSchema,
      });
      if (found && !opts.offline) {
        const { config, path } = found;
        const [{ checkRoomDirectories }, { composeSpokes }] = await Promise.all([
          lazy.rooms(),
          lazy.compose(),
        ]);
        status.roomDirectory = await checkRoomDirectories(config, () => composeSpokes(config, path));
      }
      print(opts.json ? JSON.stringify(status) : formatStatus(status));
    } finally {
      await database.close();
    }
  });

async function main(argv: string[]) {
  try {
    await program.parseAsync(argv);
  } catch (e) {
    process.exitCode = exitCodeFor(e);
  }
}

function exitCodeFor(e: unknown): number {
  if (e instanceof CommanderError) {
    // --help and --version end through here too, with exit code 0
    return e.exitCode === 0 ? EXIT.ok : EXIT.badInput;
  }
  if (e instanceof ConfigError) {
    process.stderr.write(`${e.format()}\n`);
    return EXIT.badInput;
  }
  if (e instanceof UsageError) {
    process.stderr.write(`feisync: ${e.message}\n`);
    return EXIT.badInput;
  }
  process.stderr.write(`feisync: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  return EXIT.failed;
}

await main(process.argv);
// A finished command exits now: the WebAssembly schema engine that migrated the database at open keeps
// the event loop alive for about ten seconds after it is freed. Flush what was written first.
await Promise.all([process.stdout, process.stderr].map((s) => new Promise((r) => s.write('', r))));
process.exit();
