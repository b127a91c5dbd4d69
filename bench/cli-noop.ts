/**
 * The CLI with nothing to do: the wall time of a fresh `node bin/prisma-migration-orchestrator.mjs run` process
 * (what `npm start` runs, without npm) against an already running PostgreSQL (`DATABASE_URL`) whose database has
 * every migration of the sample app applied, from the spawn to the exit. Baselines, in the same run, interleaved:
 * a fresh `psql` reading `_prisma_migrations` (the least a process can do to see that nothing is pending) and a
 * bare `node -e ""` (Node's own start, the floor of any Node CLI). `prisma migrate deploy`'s figure is the issue's
 * (the native engine cannot be downloaded here), kept in the details as a reference, not as a baseline.
 *
 * Untimed preparation: the compiled CLI is brought up to date (`node bin/build-cli.mjs`, which builds into
 * .cache/cli/ when bin/, lib/ or lambdas/ changed), and one `run` creates the database as the sample application
 * at its previous release and deploys the release (which also keeps the synthesized workflow definition in
 * .cache/definitions/): the timed runs are a user's later runs. Others may edit the sources while this runs, and
 * an edited source is a new build and a new synthesis: a timed run is kept only when the build was the same
 * before and after it, otherwise the preparation is done again and the run repeated.
 *
 * What the runs write: the CLI's caches (.cache/), the run reports (`.reports/`, relative to the working
 * directory: the processes run in the benchmark's scratch directory under .bench/, removed at the end), temporary
 * files (TMPDIR is a folder of that scratch directory), and databases named `orchbench_cli` and
 * `orchbench-cli-...` (its snapshots), dropped at the end.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DirectoryMigrationSource } from '../lambdas/shared/adapters/prisma/directory-migration-source.js';
import { type BenchContext, DATABASE_PREFIX } from './lib/context.js';
import { databaseUrl, dropDatabase, dropDatabasesLike, libpqEnv, missingTools } from './lib/postgres.js';
import { type ProcessRun, runProcess, tail } from './lib/process.js';
import { type BenchRow, type RowInput, row } from './lib/report.js';
import { median } from './lib/stats.js';

const DATABASE = `${DATABASE_PREFIX}_cli`;
/** The CLI names the database's snapshots `<database with hyphens>-premigration-...` (and `-backup-`, ...). */
const SNAPSHOT_PREFIX = `${DATABASE.replaceAll('_', '-')}-`;
const HISTORY_SQL =
  'SELECT migration_name, checksum FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL';
/** The issue's figure for the `prisma migrate deploy` route with nothing to do. */
export const PRISMA_DEPLOY_REFERENCE =
  '1.2-1.8 s (from the issue, not measured here: the native engine cannot be downloaded on this machine)';
/** The issue's target for a "nothing to do" run. */
const TARGET_MS = 1000;
/** Timed runs thrown away (the sources changed around them) before the benchmark gives up. */
const MAX_DISCARDED = 3;

/** How a run of the CLI is launched, and where it may write. */
interface CliSetup {
  readonly launcher: string;
  readonly builder: string;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

function describeRun(what: string, run: ProcessRun): string {
  const how = run.signal ? `was killed by ${run.signal}` : `exited with ${run.code}`;
  return `${what} ${how}:\n${tail(run.stdout)}\n${tail(run.stderr)}`.trimEnd();
}

/**
 * The build of the CLI for the sources as they are now (built first when there is none): its entry's path, and the
 * time of the check when the build was already there (a fresh Node process hashing the sources, as the launcher
 * does at every start).
 */
async function currentBuild(setup: CliSetup): Promise<{ entry: string; upToDateMs?: number }> {
  const run = await runProcess(process.execPath, [setup.builder], { env: setup.env, cwd: setup.cwd });
  const [, status, entry] = /(Built|Up to date:) (\S+)/.exec(run.stdout) ?? [];
  if (run.code !== 0 || !entry) throw new Error(describeRun('node bin/build-cli.mjs', run));
  return status === 'Built' ? { entry } : { entry, upToDateMs: run.ms };
}

/** The run's own figure of its workflow (`runLocal`), from its summary's `total time`. */
function workflowMs(run: ProcessRun): number {
  const seconds = /total time: ([\d.]+)s/.exec(run.stdout)?.[1];
  if (seconds === undefined) throw new Error(describeRun('The CLI printed no total time and', run));
  return Number(seconds) * 1000;
}

/** One `run` of the CLI; throws unless it exited 0 with `outcome` and `pending` migrations pending. */
async function runCli(
  setup: CliSetup,
  outcome: string,
  migrations: number,
  pending: number,
): Promise<ProcessRun> {
  const run = await runProcess(process.execPath, [setup.launcher, 'run'], { env: setup.env, cwd: setup.cwd });
  const expected = [`outcome:    ${outcome} (exit 0)`, `plan:       ${pending} pending of ${migrations}`];
  if (run.code !== 0 || expected.some((line) => !run.stdout.includes(line))) {
    throw new Error(
      `${describeRun(`The CLI's run against ${DATABASE}`, run)}\nExpected exit 0 and "${expected.join('", "')}".`,
    );
  }
  return run;
}

/** Drops the benchmark's database and every snapshot the CLI took of it. */
async function dropCliDatabases(serverUrl: string): Promise<void> {
  await dropDatabase(serverUrl, DATABASE);
  await dropDatabasesLike(serverUrl, SNAPSHOT_PREFIX);
}

export async function cliNoop(context: BenchContext): Promise<BenchRow[]> {
  const { serverUrl, profile, tools, log, projectRoot } = context;
  const cwd = join(context.workDir, 'cli-noop');
  const tmp = join(cwd, 'tmp');
  await mkdir(tmp, { recursive: true });
  const setup: CliSetup = {
    launcher: join(projectRoot, 'bin', 'prisma-migration-orchestrator.mjs'),
    builder: join(projectRoot, 'bin', 'build-cli.mjs'),
    env: { ...process.env, DATABASE_URL: databaseUrl(serverUrl, DATABASE), TMPDIR: tmp, TMP: tmp, TEMP: tmp },
    cwd,
  };
  const migrations = (await new DirectoryMigrationSource(join(projectRoot, 'prisma', 'migrations')).load())
    .migrations.length;

  // Untimed: the compiled CLI of the sources as they are, the database created by the CLI (the sample at its
  // previous release) with the release deployed, and the workflow definition of this build cached.
  await dropCliDatabases(serverUrl);
  let build = (await currentBuild(setup)).entry;
  const warmUp = await runProcess(process.execPath, [setup.launcher, 'run'], { env: setup.env, cwd });
  if (warmUp.code !== 0 || !warmUp.stdout.includes('outcome:    succeeded (exit 0)')) {
    throw new Error(describeRun(`The CLI's first run (creating and deploying ${DATABASE})`, warmUp));
  }
  log(`  warm-up run (create the sample database, deploy the release): ${warmUp.ms.toFixed(0)} ms`);

  const psqlMissing = missingTools(tools, ['psql']);
  if (psqlMissing) context.note(`CLI with nothing to do: the psql baseline is unavailable (${psqlMissing}).`);
  const cli: number[] = [];
  const psql: number[] = [];
  const node: number[] = [];
  const buildChecks: number[] = [];
  const workflows: number[] = [];
  let discarded = 0;
  while (cli.length < profile.noopRepetitions) {
    // Interleaved, so a slow moment of the machine does not land on one of them only.
    const run = await runCli(setup, 'nothing-to-do', migrations, 0);
    const after = await currentBuild(setup);
    if (after.entry !== build) {
      // The sources changed: that run may have compiled the CLI or synthesized the workflow. Prepare again.
      discarded += 1;
      build = after.entry;
      if (discarded > MAX_DISCARDED) {
        throw new Error(
          `The CLI's sources (bin/, lib/, lambdas/) changed during ${discarded} timed runs: measure again once ` +
            'nobody is editing them.',
        );
      }
      log(`  the CLI's sources changed: run ${cli.length + 1} discarded, warming up the new build`);
      await runCli(setup, 'nothing-to-do', migrations, 0);
      continue;
    }
    cli.push(run.ms);
    workflows.push(workflowMs(run));
    if (after.upToDateMs !== undefined) buildChecks.push(after.upToDateMs);
    if (!psqlMissing) {
      const read = await runProcess(tools.psql as string, ['-X', '-q', '-A', '-t', '-c', HISTORY_SQL], {
        env: libpqEnv(serverUrl, DATABASE),
      });
      const rows = read.stdout.trim().split('\n').filter(Boolean).length;
      if (read.code !== 0 || rows !== migrations) {
        throw new Error(`${describeRun('psql', read)}\nExpected ${migrations} history rows, read ${rows}.`);
      }
      psql.push(read.ms);
    }
    const bare = await runProcess(process.execPath, ['-e', '']);
    if (bare.code !== 0) throw new Error(describeRun('node -e ""', bare));
    node.push(bare.ms);
    log(
      `  run ${cli.length}: CLI ${run.ms.toFixed(0)} ms, psql ${psql.at(-1)?.toFixed(0) ?? '-'} ms, node -e "" ${bare.ms.toFixed(0)} ms`,
    );
  }
  await dropCliDatabases(serverUrl);

  const details = {
    appliedMigrations: migrations,
    targetMs: TARGET_MS,
    prismaMigrateDeployReference: PRISMA_DEPLOY_REFERENCE,
    warmUpRunMs: Math.round(warmUp.ms),
    // Inside the run: `runLocal`, from its start to its summary (the workflow, its connections, the report).
    workflowMs: Math.round(median(workflows)),
    // `node bin/build-cli.mjs` finding the build up to date: Node's start and the hash of the sources.
    buildCheckMs: buildChecks.length > 0 ? Math.round(median(buildChecks)) : 'not measured',
    // Timed runs thrown away because the sources changed around them (a new build, a new synthesis).
    discardedRuns: discarded,
  };
  const cliRow = (against: Pick<RowInput, 'baseline' | 'baselineUnavailable'>) =>
    row('cli-noop', {
      case: `sample app, ${migrations} applied`,
      subject: 'CLI run, nothing to do (fresh process, DATABASE_URL)',
      unit: 'ms',
      samples: cli,
      ...against,
      details,
    });
  return [
    cliRow(
      psqlMissing
        ? { baselineUnavailable: psqlMissing }
        : { baseline: { name: 'psql reading _prisma_migrations', samples: psql } },
    ),
    cliRow({ baseline: { name: `node -e "" (Node's own start)`, samples: node } }),
  ];
}
