import { type Command, Option } from 'commander';
import { loadConfig, resolveConfigPath } from '../config/index.ts';
import {
  configIfAny,
  configOption,
  databaseTarget,
  jsonOption,
  lazy,
  positive,
  print,
} from './cli-common.ts';
import type { Keep } from './conflicts.ts';
import { EXIT } from './exit.ts';

export function addTwoWayCommands(program: Command): void {
  const conflicts = program
    .command('conflicts')
    .description(
      'two-way conflicts held by sync.conflicts: report (the same field changed in Feishu and on a spoke)',
    )
    .addOption(configOption())
    .addOption(jsonOption())
    .action(async (opts: { config?: string; json?: boolean }) => {
      const target = databaseTarget(opts);
      const [{ openDatabase }, { formatConflicts, listConflicts }] = await Promise.all([
        lazy.db(),
        lazy.conflicts(),
      ]);
      const database = await openDatabase({ ...target, migrate: true });
      try {
        const list = await listConflicts(database.prisma);
        print(opts.json ? JSON.stringify(list) : formatConflicts(list));
      } finally {
        await database.close();
      }
    });
  conflicts
    .command('resolve <id>')
    .description(
      'settle one conflict: the kept side wins the fields changed on both sides; both sides are written',
    )
    .addOption(configOption())
    .addOption(
      new Option('--keep <side>', 'the side whose values win')
        .choices(['feishu', 'google', 'exchange'])
        .makeOptionMandatory(),
    )
    .addOption(jsonOption())
    .action(async (id: string, own: { config?: string; keep: Keep; json?: boolean }, cmd: Command) => {
      // --config and --json may land on `conflicts` itself when written after the id
      const opts = cmd.optsWithGlobals() as typeof own;
      const path = resolveConfigPath(opts.config);
      const [{ compose }, { resolveConflict }] = await Promise.all([lazy.compose(), lazy.conflicts()]);
      const app = await compose(loadConfig(path), path);
      try {
        const r = await resolveConflict(app, positive(id, 'ID'), opts.keep);
        print(
          opts.json
            ? JSON.stringify(r)
            : r.ok
              ? `conflict #${r.id} resolved: kept ${r.keep}${r.error ? ` (${r.error})` : ''}`
              : `conflict #${r.id} not resolved: ${r.error}`,
        );
        if (!r.ok) process.exitCode = EXIT.failed;
      } finally {
        await app.close();
      }
    });

  const migrate = program
    .command('migrate')
    .description('migration waves (config migration.waves): plan, cut over, roll back, progress');
  /** The app for a wave command: the wave is checked against the config before anything is opened. */
  async function waveApp(wave: string, cmd: Command) {
    const opts = cmd.optsWithGlobals() as { config?: string; json?: boolean; force?: boolean };
    const path = resolveConfigPath(opts.config);
    const cfg = loadConfig(path);
    const [{ compose }, waves, run] = await Promise.all([lazy.compose(), lazy.waves(), lazy.wavesRun()]);
    waves.waveOf(cfg, wave);
    return { opts, app: await compose(cfg, path), waves, run };
  }
  migrate
    .command('plan <wave>')
    .description(
      'what cutover will do for each user of the wave: events and series to re-home, meetings they organize, rooms, blockers (no consent, drift, held conflicts); writes nothing to a calendar',
    )
    .addOption(configOption())
    .addOption(jsonOption())
    .action(async (wave: string, _own: unknown, cmd: Command) => {
      const { opts, app, waves } = await waveApp(wave, cmd);
      try {
        const plan = await waves.planWave(app, wave);
        print(opts.json ? JSON.stringify(plan) : waves.formatPlan(plan));
      } finally {
        await app.close();
      }
    });
  for (const action of ['cutover', 'rollback'] as const) {
    const command = migrate
      .command(`${action} <wave>`)
      .description(
        action === 'cutover'
          ? 'per user of the wave, the target spoke becomes the source of truth and Feishu keeps a mirror; refuses on blockers unless --force; a stopped run resumes where it stopped'
          : 'Feishu becomes the source again for the users of the wave; the last edits made in the target are brought in first',
      )
      .addOption(configOption())
      .addOption(jsonOption());
    if (action === 'cutover') command.option('--force', 'cut over despite blockers (drift, held conflicts)');
    command.action(async (wave: string, _own: unknown, cmd: Command) => {
      const { opts, app, waves, run } = await waveApp(wave, cmd);
      let ok = false;
      try {
        const r =
          action === 'cutover'
            ? await run.cutoverWave(app, wave, { force: opts.force })
            : await run.rollbackWave(app, wave);
        ok = r.ok;
        if (opts.json) print(JSON.stringify(r));
        else if (r.busy) print(`wave ${wave}: another process is running it; try again later`);
        else if (r.refused)
          print(`${waves.formatPlan(r.refused)}\ncutover refused (use --force to override)`);
        else
          print(waves.formatMigration(await waves.readMigration(app.db.prisma, app.config.migration.waves)));
      } finally {
        await app.close();
      }
      if (!ok) process.exitCode = EXIT.failed;
    });
  }
  migrate
    .command('status')
    .description(
      'where every wave stands: users done, in cutover, pending, failed, rolled back; the steps recorded',
    )
    .addOption(configOption())
    .addOption(jsonOption())
    .action(async (_own: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals() as { config?: string; json?: boolean };
      const found = configIfAny(opts);
      const target = databaseTarget(opts);
      const [{ openDatabase }, { formatMigration, readMigration }] = await Promise.all([
        lazy.db(),
        lazy.wavesStatus(),
      ]);
      const database = await openDatabase({ ...target, migrate: true });
      try {
        const list = await readMigration(database.prisma, found?.config.migration.waves);
        print(opts.json ? JSON.stringify(list) : formatMigration(list));
      } finally {
        await database.close();
      }
    });
}
