#!/usr/bin/env node
/**
 * The command line (the package's `bin`, prisma-migration-orchestrator; `npm start` runs `cli.ts run`): the
 * dispatcher, and the local commands. The AWS commands are in bin/operator/, the rendering both share in
 * bin/render.ts.
 *
 * Local (DATABASE_URL selects the target database; without it an embedded PostgreSQL is started, data in .data/):
 *   run [--migrations DIR] [--input JSON] [--transaction-mode release|per-migration] [--terminate-sessions]
 *       [--create-database] [--drift-policy fail|warn|off] [--drift-ignore TABLES] [--keep-snapshots N]
 *       [--lint-policy RULE=block|warn|off,...]
 *       [--lock-timeout-attempts N] [--end-idle-lock-holders-after SECONDS] [--http-checks JSON] [--bake-time S]
 *   backup [--terminate-sessions]          take a managed snapshot, apply the retention policy
 *   backups                                list the managed snapshots of the database
 *   restore <snapshot|latest> --confirm <database> [--terminate-sessions]
 *   demo rollback                          a failing release rolled back by snapshot restore (exit 2)
 *   demo failed-release                    the same release in one transaction: database unchanged (exit 5)
 *
 * On AWS (the state machine from --stack NAME, --state-machine ARN or ORCHESTRATOR_STATE_MACHINE_ARN):
 *   start [--input JSON] [--mode M] [--release L] [--dry-run] [--wait]   an execution, followed with --wait
 *   watch <execution> | status <execution> | executions [--limit N] | plan [--release L]
 */
import '../lib/local/polyfills.js';
import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type TransactionMode, TransactionModes } from '../lambdas/shared/contract/contract.js';
import { DriftPolicies, type DriftPolicy } from '../lambdas/shared/domain/drift.js';
import { httpCheckProblems, MAX_BAKE_SECONDS } from '../lambdas/shared/domain/http-checks.js';
import { sanitizeIdentifierPart } from '../lambdas/shared/domain/identifiers.js';
import {
  checkLintPolicy,
  type LintPolicyOverrides,
  LintSeverities,
} from '../lambdas/shared/domain/lint/policy.js';
import { DEFAULT_RETENTION_POLICY, retention } from '../lambdas/shared/domain/retention.js';
import type { HttpHealthCheckDefinition } from '../lambdas/shared/runtime/settings.js';
import type { RunningPostgres } from '../lib/local/embedded-postgres.js';
import {
  DEFAULT_CLEANUP_TIMEOUT_MS,
  DEFAULT_KEEP_SNAPSHOTS,
  LOCAL_MANAGED_BY,
  Outcomes,
} from '../lib/local/outcomes.js';
import type { LocalRunOptions } from '../lib/local/runner.js';
import { UsageError } from './errors.js';
import { PROGRAM } from './operator/errors.js';
import type { OperatorCommand } from './operator/usage.js';
import { print, printSummary, printUnfinished, stateReporter } from './render.js';
import type { DatabaseDigest } from './sample/database-digest.js';
import { SAMPLE_MIGRATIONS_DIR } from './sample/paths.js';

/**
 * What the local commands run on (the runner, PostgreSQL, the sample application), loaded by `loadLocal` when one
 * of them runs: `--help` and the AWS commands never load it (it takes seconds: the CDK synthesis, the engine).
 */
async function importLocal() {
  const [runner, embedded, interruption, client, connection, gateway, source, input, prune, digest, sample] =
    await Promise.all([
      import('../lib/local/runner.js'),
      import('../lib/local/embedded-postgres.js'),
      import('../lib/local/interruption.js'),
      import('../lambdas/shared/adapters/postgres/client.js'),
      import('../lambdas/shared/adapters/postgres/connection.js'),
      import('../lambdas/shared/adapters/postgres/snapshot-gateway.js'),
      import('../lambdas/shared/adapters/prisma/directory-migration-source.js'),
      import('../lambdas/shared/contract/input.js'),
      import('../lambdas/prune-snapshots/prune-snapshots.js'),
      import('./sample/database-digest.js'),
      import('./sample/sample-app.js'),
    ]);
  return {
    runLocal: runner.runLocal,
    startEmbeddedPostgres: embedded.startEmbeddedPostgres,
    leftByKill: interruption.leftByKill,
    watchSignals: interruption.watchSignals,
    connectionTarget: client.connectionTarget,
    databaseOfUrl: connection.databaseOfUrl,
    urlWithDatabase: connection.urlWithDatabase,
    PostgresSnapshotGateway: gateway.PostgresSnapshotGateway,
    DirectoryMigrationSource: source.DirectoryMigrationSource,
    parseWorkflowInput: input.parseWorkflowInput,
    retainedOf: prune.retainedOf,
    digestDatabase: digest.digestDatabase,
    applyFirstMigrations: sample.applyFirstMigrations,
    composeRelease: sample.composeRelease,
    createDatabaseIfMissing: sample.createDatabaseIfMissing,
    createSampleDatabase: sample.createSampleDatabase,
    createSampleDatabaseIfMissing: sample.createSampleDatabaseIfMissing,
    databaseExists: sample.databaseExists,
    dropDemoLeftovers: sample.dropDemoLeftovers,
    pendingSampleAcknowledgements: sample.pendingSampleAcknowledgements,
    withSampleAcknowledgements: sample.withSampleAcknowledgements,
  };
}

let local!: Awaited<ReturnType<typeof importLocal>>;

async function loadLocal(): Promise<void> {
  local ??= await importLocal();
}

const SAMPLE_DATABASE = 'taskapp';
const ROLLBACK_DEMO_DATABASE = 'taskapp_demo';
const SAMPLE_MIGRATIONS = SAMPLE_MIGRATIONS_DIR;

/** A request the CLI refuses before touching anything (the message names the fix). Exit 1. */
class RefusedError extends Error {
  override name = 'Refused';
}

/** What `--drift-policy` and `--drift-ignore` pass to `runLocal` as its `drift` option. */
interface DriftOption {
  policy?: DriftPolicy;
  ignore?: readonly string[];
}

const USAGE = `Usage:
  npm start [-- OPTIONS]
  npm start -- backup [--terminate-sessions]
  npm start -- backups
  npm start -- restore <snapshot|latest> --confirm <database> [--terminate-sessions]
  npm run demo:rollback
  npm run demo:failed-release

  ${PROGRAM} run|backup|backups|restore ...      the same, as the package's command
  ${PROGRAM} start [--input JSON] [--mode MODE] [--release LABEL] [--dry-run] [--wait] [--json]
  ${PROGRAM} watch <execution> [--json]
  ${PROGRAM} status <execution> [--json]
  ${PROGRAM} executions [--limit N] [--status STATUS] [--json]
  ${PROGRAM} plan [--release LABEL] [--json]
  ${PROGRAM} pack <migrations dir> [OPTIONS]     a release bundle of the migrations (pack --help)
  ${PROGRAM} report <execution | file | s3://...> [--json]  an execution's report (.reports/ of local runs)
  ${PROGRAM} <command> --help

The AWS commands (start, watch, status, executions, plan) act on the deployed state machine: --stack NAME
(its StateMachineArn output), --state-machine ARN, or ORCHESTRATOR_STATE_MACHINE_ARN; by default the stack
MigrationOrchestrator. An <execution> is an execution ARN or its name. They render an execution as a local run
is rendered and exit with the same codes (below); credentials and region are the AWS SDK's (AWS_PROFILE,
AWS_REGION, or --region).

backup takes a managed snapshot of the database (a template clone) and applies the retention policy
(${DEFAULT_RETENTION_POLICY.daily} daily, ${DEFAULT_RETENTION_POLICY.weekly} weekly, ${DEFAULT_RETENTION_POLICY.monthly} monthly backups; the newest ${DEFAULT_RETENTION_POLICY.preMigration} pre-migration snapshots). backups lists
them with kind, age, size and the rule that keeps each. restore brings one back (latest: the newest backup)
next to the database and swaps it in; --confirm must repeat the database's name, and the database it
replaces is kept aside. Cloning needs the database free of other sessions: stop the application, or pass
--terminate-sessions.

Options of npm start (bin/prisma-migration-orchestrator.mjs run):
  --migrations DIR              the Prisma migrations folder (default: the sample app's prisma/migrations)
  --input JSON                  the execution input, e.g. '{"release":"v1.2.0","dryRun":true}'
  --transaction-mode MODE       release (default) or per-migration
  --terminate-sessions          end the application's sessions when cloning or renaming the database
  --create-database             create the target database, empty, when it does not exist
  --drift-policy POLICY         schema drift after the release: fail, warn or off
  --drift-ignore TABLES         comma-separated tables (audit_log, public.audit_log) or schemas (analytics.*)
                                that the migrations do not manage, left out of the drift check
  --lint-policy RULES           the lint's policy per rule over the defaults, comma-separated rule=block|warn|off,
                                e.g. add-foreign-key=block,update-without-where=off (rules: docs/lint.md)
  --keep-snapshots N            pre-migration snapshots of successful releases kept per database (default
                                ${DEFAULT_KEEP_SNAPSHOTS}); older ones this tool took are dropped after a successful run
  --lock-timeout-attempts N     tries of a release that hit its lock timeout and left nothing behind (default 3)
  --end-idle-lock-holders-after SECONDS
                                end a session holding Prisma's migration lock that has been idle longer than
                                this (default: never; the run is refused while the lock is held)
  --http-checks JSON            HTTP checks of the application, e.g. '[{"name":"api","url":
                                "http://localhost:3000/health","expectedStatus":200,"bodyContains":"ok"}]'
  --bake-time SECONDS           after a healthy release, wait this long and run every check again
  -h, --help                    this text

DATABASE_URL=postgres://user:password@host:5432/db selects the target database (its server must allow
CREATE DATABASE: snapshots are template clones). Without it, an embedded PostgreSQL is started and the
target is its database ${SAMPLE_DATABASE}.

A target database that does not exist is created only when asked: with the sample's own migrations (no
--migrations, or --migrations prisma/migrations) and no --create-database, it is created as the sample
application at its previous release, with sample data; with --create-database it is created empty; otherwise
the run is refused and nothing is created. Input, migrations and URL are checked before anything is created.

Ctrl-C (SIGINT) or SIGTERM stops the run: its statements on the server are ended, a swap in progress is
completed, its shadow databases are dropped, and it says where things stand (exit 130). A second Ctrl-C
exits at once. A run that finds the leftovers of an unfinished execution says what to do and touches nothing.

Exit codes: ${Object.entries(Outcomes)
  .map(([name, { exitCode }]) => `${exitCode} ${name}`)
  .join(', ')}, 1 also for bad input or usage.`;

function parseKeepSnapshots(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) {
    throw new UsageError(`--keep-snapshots takes a whole number of snapshots, e.g. 3 (received "${value}")`);
  }
  return Number(value);
}

function parseWholeNumber(
  flag: string,
  value: string | undefined,
  what: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < min || number > max) {
    throw new UsageError(`${flag} takes a whole number of ${what} (received "${value}")`);
  }
  return number;
}

/** `--http-checks '[{"name":"api","url":"http://localhost:3000/health"}]'`: validated like the construct's. */
function parseHttpChecks(value: string | undefined): HttpHealthCheckDefinition[] | undefined {
  if (value === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed)) {
    throw new UsageError(
      '--http-checks takes a JSON array of { "name", "url", "expectedStatus"?, "bodyContains"?, "timeoutMs"? }, ' +
        `e.g. '[{"name":"api","url":"http://localhost:3000/health"}]' (received "${value}")`,
    );
  }
  const problems = parsed.flatMap((check, index) => httpCheckProblems(check, `--http-checks[${index}]`));
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  return parsed as HttpHealthCheckDefinition[];
}

function parseTransactionMode(value: string | undefined): TransactionMode | undefined {
  if (value === undefined) return undefined;
  if (!(TransactionModes as readonly string[]).includes(value)) {
    throw new UsageError(
      `--transaction-mode must be one of ${TransactionModes.join(', ')} (received "${value}")`,
    );
  }
  return value as TransactionMode;
}

/** The `--input` JSON, validated against the workflow input schema (as preflight will). */
function parseInput(raw: string | undefined): unknown {
  if (raw === undefined) return {};
  let input: unknown;
  try {
    input = JSON.parse(raw);
  } catch {
    throw new UsageError(`--input must be JSON, e.g. '{"release":"v1.2.0"}' (received ${raw})`);
  }
  try {
    local.parseWorkflowInput(input);
  } catch (error) {
    throw new UsageError(`--input: ${(error as Error).message}`);
  }
  return input;
}

/** A table (`audit_log`), a qualified table (`public.audit_log`) or a whole schema (`analytics.*`). */
const DRIFT_IGNORE_ENTRY = /^[^\s.,*"]+(\.([^\s.,*"]+|\*))?$/;

function parseDrift(policy: string | undefined, ignore: string | undefined): DriftOption | undefined {
  if (policy === undefined && ignore === undefined) return undefined;
  const drift: DriftOption = {};
  if (policy !== undefined) {
    if (!(DriftPolicies as readonly string[]).includes(policy)) {
      throw new UsageError(
        `--drift-policy must be one of ${DriftPolicies.join(', ')} (received "${policy}")`,
      );
    }
    drift.policy = policy as DriftPolicy;
  }
  if (ignore !== undefined) {
    const entries = ignore
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
    const wrong = entries.filter((entry) => !DRIFT_IGNORE_ENTRY.test(entry));
    if (entries.length === 0 || wrong.length > 0) {
      throw new UsageError(
        '--drift-ignore takes comma-separated tables (audit_log), qualified tables (public.audit_log) or ' +
          `schemas (analytics.*) (received "${ignore}")`,
      );
    }
    drift.ignore = entries;
  }
  return drift;
}

/** `--lint-policy add-foreign-key=block,update-without-where=off`: the lint's policy overrides. */
function parseLintPolicy(value: string | undefined): LintPolicyOverrides | undefined {
  if (value === undefined) return undefined;
  const pairs = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const malformed = pairs.filter((pair) => !/^[^=\s]+=[^=\s]+$/.test(pair));
  if (pairs.length === 0 || malformed.length > 0) {
    throw new UsageError(
      `--lint-policy takes comma-separated rule=${LintSeverities.join('|')} pairs, e.g. add-foreign-key=block ` +
        `(received "${value}")`,
    );
  }
  const checked = checkLintPolicy(
    Object.fromEntries(pairs.map((pair) => pair.split('=') as [string, string])),
  );
  if ('problems' in checked) throw new UsageError(`--lint-policy: ${checked.problems.join('; ')}`);
  return checked.overrides;
}

/** DATABASE_URL, checked before anything is created: a PostgreSQL URL that names a database. */
function databaseUrlFromEnv(): string | undefined {
  const url = process.env.DATABASE_URL;
  if (url === undefined || url === '') return undefined;
  try {
    new URL(url);
  } catch {
    throw new UsageError('DATABASE_URL is not a URL: use postgres://user:password@host:5432/database');
  }
  try {
    local.connectionTarget(url);
  } catch (error) {
    throw new UsageError(`DATABASE_URL: ${(error as Error).message}`);
  }
  if (!local.databaseOfUrl(url))
    throw new UsageError('DATABASE_URL names no database: add it, e.g. postgres://user@host:5432/mydb');
  return url;
}

/** The server to use: DATABASE_URL's (checked by `databaseUrlFromEnv`), or a started embedded one. */
async function server(url: string | undefined): Promise<{ url: string; embedded?: RunningPostgres }> {
  if (url) return { url };
  print('Starting the embedded PostgreSQL (data in .data/embedded-pg) ...');
  const embedded = await local.startEmbeddedPostgres({ dataDir: '.data/embedded-pg', persistent: true });
  return { url: local.urlWithDatabase(embedded.url, SAMPLE_DATABASE), embedded };
}

/** True when `dir` is the sample application's own migrations folder (followed through links). */
async function isSampleMigrations(dir: string): Promise<boolean> {
  const [a, b] = await Promise.all([realpath(dir), realpath(SAMPLE_MIGRATIONS)]);
  return a === b;
}

/**
 * Makes sure the target database exists, creating only what the command line asked for (see USAGE): the
 * sample database with sample data, an empty database (`--create-database`), or nothing (refused).
 */
async function ensureDatabase(
  url: string,
  name: string,
  migrationsDir: string,
  createEmpty: boolean,
): Promise<void> {
  if (await local.databaseExists(url, name)) return;
  let result: 'created' | 'exists';
  if (createEmpty) {
    print(`Creating the empty database ${name} (--create-database) ...`);
    result = await local.createDatabaseIfMissing(url, name);
  } else if (await isSampleMigrations(migrationsDir)) {
    print(`Creating the sample database ${name} at the previous release, with sample data ...`);
    result = await local.createSampleDatabaseIfMissing(url, name, SAMPLE_MIGRATIONS);
  } else {
    throw new RefusedError(
      `The database ${name} does not exist on ${local.connectionTarget(url).endpoint.replace(/\/[^/]*$/, '')}. ` +
        'Nothing was created or changed. Create it yourself, or run again with --create-database to create it ' +
        `empty: the migrations in ${migrationsDir} then build it from the first one.`,
    );
  }
  if (result === 'exists') {
    print(`The database ${name} was created by another run at the same time; this run uses it as it is.`);
  }
}

async function commandRun(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      migrations: { type: 'string' },
      input: { type: 'string' },
      'transaction-mode': { type: 'string' },
      'terminate-sessions': { type: 'boolean' },
      'create-database': { type: 'boolean' },
      'drift-policy': { type: 'string' },
      'drift-ignore': { type: 'string' },
      'lint-policy': { type: 'string' },
      'keep-snapshots': { type: 'string' },
      'lock-timeout-attempts': { type: 'string' },
      'end-idle-lock-holders-after': { type: 'string' },
      'http-checks': { type: 'string' },
      'bake-time': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    print(USAGE);
    return 0;
  }
  const keepSnapshots = parseKeepSnapshots(values['keep-snapshots']);
  const lockTimeoutAttempts = parseWholeNumber(
    '--lock-timeout-attempts',
    values['lock-timeout-attempts'],
    'attempts from 1 to 10, e.g. 3',
    1,
    10,
  );
  const endIdleAfter = parseWholeNumber(
    '--end-idle-lock-holders-after',
    values['end-idle-lock-holders-after'],
    'seconds, e.g. 300',
    0,
  );
  const httpHealthChecks = parseHttpChecks(values['http-checks']);
  const bakeSeconds = parseWholeNumber(
    '--bake-time',
    values['bake-time'],
    `seconds from 0 to ${MAX_BAKE_SECONDS}, e.g. 60`,
    0,
    MAX_BAKE_SECONDS,
  );
  // Everything is checked before anything is created: input, options, migrations, URL.
  const input = parseInput(values.input);
  const transactionMode = parseTransactionMode(values['transaction-mode']);
  const drift = parseDrift(values['drift-policy'], values['drift-ignore']);
  const lintPolicy = parseLintPolicy(values['lint-policy']);
  const migrationsDir = resolve(values.migrations ?? SAMPLE_MIGRATIONS);
  await new local.DirectoryMigrationSource(migrationsDir).load();
  const databaseUrl = databaseUrlFromEnv();
  const { url, embedded } = await server(databaseUrl);
  let mayBeLeft = 'nothing of the workflow yet (it had not started)';
  const signals = local.watchSignals({
    onFirst: (signal) => {
      print();
      print(
        `${signal}: stopping the run: ending its statements on the server, settling a swap in progress, dropping ` +
          `its shadow databases (at most ${DEFAULT_CLEANUP_TIMEOUT_MS / 1000} s; ${signal === 'SIGINT' ? 'Ctrl-C' : signal} again exits at once) ...`,
      );
    },
    onSecond: (signal) => {
      process.stderr.write(
        `\n${signal} again: exiting at once, the cleanup did not finish. What may be left: ${mayBeLeft}. The next run ` +
          'detects a half-done swap and says what to do.\n',
      );
      process.exit(130);
    },
  });
  try {
    const name = local.databaseOfUrl(url);
    const unfinished = await new local.PostgresSnapshotGateway({ serverUrl: url, databaseName: name })
      .unfinishedExecution()
      .catch(() => undefined);
    if (unfinished) {
      print(`${Outcomes['unfinished-execution'].summary} (exit 1).`);
      printUnfinished(unfinished);
      return 1;
    }
    await ensureDatabase(url, name, migrationsDir, values['create-database'] ?? false);
    print(`Running the synthesized workflow against ${name} with the migrations in ${migrationsDir}`);
    print();
    // The sample's own release acknowledges its DROP COLUMN (bin/sample/release-input.ts; docs/lint.md).
    const runInput = (await isSampleMigrations(migrationsDir))
      ? local.withSampleAcknowledgements(input, await local.pendingSampleAcknowledgements(url, lintPolicy))
      : input;
    const options: LocalRunOptions = {
      databaseUrl: url,
      migrationsDir,
      input: runInput,
      ...(transactionMode ? { transactionMode } : {}),
      ...(drift ? { drift } : {}),
      ...(lintPolicy ? { lintPolicy } : {}),
      ...(keepSnapshots !== undefined ? { keepSnapshots } : {}),
      ...(lockTimeoutAttempts !== undefined ? { lockTimeoutAttempts } : {}),
      ...(endIdleAfter !== undefined ? { endIdleLockHoldersAfterSeconds: endIdleAfter } : {}),
      ...(httpHealthChecks ? { httpHealthChecks } : {}),
      ...(bakeSeconds ? { bakeSeconds } : {}),
      terminateSessions: values['terminate-sessions'] ?? false,
      onEvent: stateReporter(),
      onNotification: printNotification,
      signal: signals.signal,
      onStarted: ({ sessionNames }) => {
        mayBeLeft = local.leftByKill(name, sessionNames);
      },
    };
    const result = await local.runLocal(options);
    printSummary(result);
    return result.exitCode;
  } finally {
    signals.dispose();
    await embedded?.stop();
  }
}

function compareDigests(before: DatabaseDigest, after: DatabaseDigest): string[] {
  const differences: string[] = [];
  const tables = new Set([...Object.keys(before.tables), ...Object.keys(after.tables)]);
  for (const table of [...tables].sort()) {
    const a = before.tables[table];
    const b = after.tables[table];
    if (!a || !b) differences.push(`${table}: ${a ? 'missing after' : 'new after'} the release`);
    else if (a.rows !== b.rows || a.hash !== b.hash)
      differences.push(`${table}: ${a.rows} rows before, ${b.rows} after`);
  }
  if (before.columns.join('\n') !== after.columns.join('\n')) differences.push('columns differ');
  if (before.indexes.join('\n') !== after.indexes.join('\n'))
    differences.push('indexes or constraints differ');
  return differences;
}

async function commandDemo(args: string[]): Promise<number> {
  const which = args[0];
  if (which === '--help' || which === '-h') {
    print(USAGE);
    return 0;
  }
  if (which !== 'rollback' && which !== 'failed-release') {
    throw new UsageError('demo takes "rollback" or "failed-release"');
  }
  const transactionMode: TransactionMode = which === 'rollback' ? 'per-migration' : 'release';
  const { url: targetUrl, embedded } = await server(databaseUrlFromEnv());
  try {
    const url = local.urlWithDatabase(targetUrl, ROLLBACK_DEMO_DATABASE);
    const leftovers = await local.dropDemoLeftovers(
      targetUrl,
      sanitizeIdentifierPart(ROLLBACK_DEMO_DATABASE),
    );
    if (leftovers.length > 0)
      print(`Dropped ${leftovers.length} database(s) the previous demo left: ${leftovers.join(', ')}`);
    print(
      `Preparing ${ROLLBACK_DEMO_DATABASE}: the sample app with data, every sample migration applied ...`,
    );
    await local.createSampleDatabase(url, ROLLBACK_DEMO_DATABASE, SAMPLE_MIGRATIONS);
    await local.applyFirstMigrations(url, SAMPLE_MIGRATIONS, Number.MAX_SAFE_INTEGER);
    const before = await local.digestDatabase(url);
    const release = await local.composeRelease('failing');
    print(
      `Deploying the failing release prisma/releases/failing (on top of the sample migrations, in ${release})`,
    );
    print(
      which === 'rollback'
        ? 'Transaction mode: per-migration. The first new migration commits before the next one fails, so only ' +
            'the snapshot can undo it: expect the restore branch and exit code 2.'
        : 'Transaction mode: release (the default). The whole release runs in one transaction, so the failure ' +
            'undoes everything by itself: expect no restore and exit code 5.',
    );
    print();
    const result = await local.runLocal({
      databaseUrl: url,
      migrationsDir: release,
      input: { release: `demo-${which}` },
      transactionMode,
      onEvent: stateReporter(),
      onNotification: printNotification,
    });
    printSummary(result);
    const differences = compareDigests(before, await local.digestDatabase(url));
    print();
    if (differences.length === 0) {
      print(
        `Verified: every table of ${ROLLBACK_DEMO_DATABASE} (${Object.keys(before.tables).length} tables, including ` +
          '_prisma_migrations) holds exactly the rows it held before the release, and the schema is the same.',
      );
    } else {
      print(`DIFFERENCES after the release: ${differences.join('; ')}`);
    }
    return result.exitCode;
  } finally {
    await embedded?.stop();
  }
}

/** The target of `backup`, `backups` and `restore`: DATABASE_URL's database, or the embedded sample's. */
async function existingTarget(): Promise<{ url: string; name: string; embedded?: RunningPostgres }> {
  const { url, embedded } = await server(databaseUrlFromEnv());
  const name = local.databaseOfUrl(url);
  if (!(await local.databaseExists(url, name))) {
    await embedded?.stop();
    throw new RefusedError(
      `The database ${name} does not exist; nothing was created or changed. Point DATABASE_URL at the database ` +
        'to protect (or run npm start once to create the sample one).',
    );
  }
  return { url, name, ...(embedded ? { embedded } : {}) };
}

/** `backup` and `restore`: one execution of the synthesized workflow in that mode. */
async function commandOperation(mode: 'backup' | 'restore', args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      confirm: { type: 'string' },
      'terminate-sessions': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    print(USAGE);
    return 0;
  }
  if (mode === 'backup' && (positionals.length > 0 || values.confirm !== undefined))
    throw new UsageError('backup takes no snapshot name and no --confirm.');
  if (mode === 'restore' && positionals.length !== 1)
    throw new UsageError('restore takes one snapshot: its name (see `backups`) or latest.');
  if (mode === 'restore' && values.confirm === undefined)
    throw new UsageError(
      "restore replaces the database with the snapshot: confirm with --confirm <database> (the database's name). " +
        'Nothing was touched.',
    );
  const input =
    mode === 'backup'
      ? { mode }
      : {
          mode,
          snapshot: positionals[0],
          ...(values.confirm !== undefined ? { confirm: values.confirm } : {}),
        };
  parseInput(JSON.stringify(input));
  const { url, name, embedded } = await existingTarget();
  const signals = local.watchSignals({
    onFirst: (signal) =>
      print(`
${signal}: stopping the ${mode} and settling what it started ...`),
    onSecond: () => process.exit(130),
  });
  try {
    print(`Running the synthesized workflow (mode ${mode}) against ${name}`);
    print();
    const result = await local.runLocal({
      databaseUrl: url,
      // A backup or a restore never reads the migrations.
      migrationsDir: SAMPLE_MIGRATIONS,
      input,
      terminateSessions: values['terminate-sessions'] ?? false,
      onEvent: stateReporter(),
      onNotification: printNotification,
      signal: signals.signal,
    });
    printSummary(result);
    return result.exitCode;
  } finally {
    signals.dispose();
    await embedded?.stop();
  }
}

/** Whole days, hours or minutes, as an age. */
function age(from: string | undefined, now: Date): string {
  const ms = now.getTime() - Date.parse(from ?? '');
  if (Number.isNaN(ms)) return 'unknown';
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours} h` : `${Math.floor(hours / 24)} d`;
}

/** `backups`: the managed snapshots of the target, oldest first, with what keeps each under the policy. */
async function commandBackups(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    print(USAGE);
    return 0;
  }
  const { url, name, embedded } = await existingTarget();
  try {
    const gateway = new local.PostgresSnapshotGateway({
      serverUrl: url,
      databaseName: name,
      managedBy: LOCAL_MANAGED_BY,
    });
    const snapshots = await gateway.listManagedSnapshots();
    if (snapshots.length === 0) {
      print(`${name} has no managed snapshot yet. Take one with: npm start -- backup`);
      return 0;
    }
    const now = new Date();
    const decision = retention(snapshots.map(local.retainedOf), now, DEFAULT_RETENTION_POLICY, {
      executions: [],
    });
    const rules = new Map(decision.keep.map((kept) => [kept.id, kept.rules.join('+')]));
    const rows = snapshots.map((s) => [
      s.snapshotId,
      s.kind,
      s.createdAt ?? 'unknown',
      age(s.createdAt, now),
      s.sizeGiB === undefined ? '?' : `${(s.sizeGiB * 1024).toFixed(1)} MB`,
      rules.get(s.snapshotId) ?? 'next backup deletes it',
    ]);
    const header = ['snapshot', 'kind', 'taken at', 'age', 'size', 'retention class'];
    const widths = header.map((title, i) =>
      Math.max(title.length, ...rows.map((row) => row[i]?.length ?? 0)),
    );
    for (const row of [header, ...rows]) print(row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  '));
    print();
    print(`Restore one with: npm start -- restore <snapshot|latest> --confirm ${name}`);
    return 0;
  } finally {
    await embedded?.stop();
  }
}

/** `npm start -- backup` runs `cli.ts run backup`: the other commands are reached through `run` as well. */
const OPERATIONS = new Set([
  'backup',
  'backups',
  'restore',
  'pack',
  'report',
  'start',
  'watch',
  'status',
  'executions',
  'plan',
]);

/** A message the workflow published (locally recorded, not sent): the rollback-started notification. */
function printNotification(notification: { state: string; subject?: string; message: string }): void {
  print(`          :: ${notification.state}: ${notification.subject ?? notification.message.split('\n')[0]}`);
}

/** The commands that run locally (they load `importLocal`'s modules). */
const LOCAL_COMMANDS: ReadonlySet<string> = new Set(['run', 'backup', 'restore', 'backups', 'demo']);

/** `--help` or `-h` among a command's arguments (before a `--`): its usage, without loading the command. */
function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv[0] === 'run' && OPERATIONS.has(argv[1] ?? '') ? argv.slice(1) : argv;
  try {
    if (LOCAL_COMMANDS.has(command ?? '') && !wantsHelp(rest)) await loadLocal();
    switch (command) {
      case 'run':
        return await commandRun(rest);
      case 'backup':
      case 'restore':
        return await commandOperation(command, rest);
      case 'backups':
        return await commandBackups(rest);
      case 'demo':
        return await commandDemo(rest);
      case 'start':
      case 'watch':
      case 'status':
      case 'executions':
      case 'plan':
        if (wantsHelp(rest)) {
          const { OPERATOR_USAGE } = await import('./operator/usage.js');
          print(OPERATOR_USAGE[command as OperatorCommand]);
          return 0;
        }
        return await (await import('./operator/aws-commands.js')).OPERATOR_COMMANDS[
          command as OperatorCommand
        ](rest);
      case 'pack':
        return await (await import('./commands/pack.js')).commandPack(rest);
      case 'report':
        return await (await import('./commands/report.js')).commandReport(rest);
      case 'help':
      case '--help':
      case '-h':
        print(USAGE);
        return 0;
      case undefined:
        throw new UsageError('No command given.');
      default:
        throw new UsageError(`Unknown command "${command}".`);
    }
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
      return 1;
    }
    process.stderr.write(`${(error as Error).name}: ${(error as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
// An interrupted run ends now, whatever a statement it no longer waits for still holds open.
if (process.exitCode === 130) process.exit(130);
