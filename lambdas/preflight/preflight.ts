/**
 * Preflight: validate the input, load the migrations, read `_prisma_migrations`, compute the plan, and
 * refuse unsafe states before anything is touched.
 */
import type {
  AppliedMigration,
  BackupPlan,
  ExecutionInfo,
  Plan,
  RestorePlan,
  TransactionMode,
  WorkflowState,
} from '../shared/contract/contract.js';
import { OutcomeErrors, runbookArticle } from '../shared/contract/contract.js';
import {
  ConcurrentExecutionError,
  InvalidInputError,
  MigrationHistoryBlockedError,
  MigrationsInvalidError,
  OrchestratorError,
} from '../shared/contract/errors.js';
import { parseWorkflowInput, type WorkflowInput } from '../shared/contract/input.js';
import type {
  ExecutionGuard,
  ExecutionHistory,
  HealthProbe,
  Migration,
  MigrationEngine,
  MigrationSource,
  SchemaDriftDetector,
  SnapshotGateway,
} from '../shared/contract/ports.js';
import { requireExecution, stateOf } from '../shared/contract/state.js';
import { type DriftBaseline, driftBaseline, type ExpectedSchema } from '../shared/domain/drift.js';
import { isAppliedRow, isFailedRow } from '../shared/domain/history.js';
import { resolveLintPolicy } from '../shared/domain/lint/policy.js';
import {
  attemptBefore,
  decideRetry,
  describeEnding,
  earlierAttemptsOf,
} from '../shared/domain/release-retry.js';
import { memoryShortfall, memoryShortfallMessage } from '../shared/domain/script-memory.js';
import {
  transactionFallbackReason as fallbackReason,
  migrationsDigest,
  nonAtomicMigrations,
  type ReleaseAnalysis,
  unparsableScriptsMessage,
} from '../shared/domain/transaction-fallback.js';
import type { WorkflowSettings } from '../shared/runtime/settings.js';
import { httpChecksFailingBefore } from './http-baseline.js';
import { lintPending } from './lint.js';
import {
  checkMigrationLock,
  lockHeldBy,
  type MigrationLockDeps,
  otherLockHolders,
} from './migration-lock.js';
import { type OperationDeps, planBackup, planRestore, refuseConcurrent } from './operations.js';
import { planResolutions } from './resolve.js';

export interface PreflightDeps {
  readonly source: MigrationSource;
  readonly engine: MigrationEngine;
  /** Refuses the release while another execution runs against the same target. */
  readonly guard: ExecutionGuard;
  readonly settings: WorkflowSettings;
  readonly databaseName: string;
  /**
   * Measures schema drift before anything is applied (the baseline verification compares with). @default -
   * no baseline: all drift after the release counts as the release's
   */
  readonly drift?: SchemaDriftDetector;
  /** PostgreSQL's parser over the pending scripts (injected: it loads WebAssembly). */
  readonly analyzeRelease: (migrations: readonly Migration[]) => ReleaseAnalysis | Promise<ReleaseAnalysis>;
  /**
   * The retry guard (`release-retry.ts`): the target's managed snapshots (earlier executions of the release) and
   * how those executions ended. Read only when the release proceeds. @default - no guard
   */
  readonly retryGuard?: RetryGuardDeps;
  /** Who holds Prisma's migration lock (`migration-lock.ts`): refused while one does. @default - not checked */
  readonly migrationLock?: MigrationLockDeps;
  /** The user's HTTP checks, run before the release (`http-baseline.ts`). @default - none */
  readonly httpChecks?: HealthProbe;
  /**
   * The memory the function may use and who sets it (`runtime/memory.ts`): a pending script too large to parse in
   * it is refused before it is parsed (`script-memory.ts`). @default - not checked
   */
  readonly memory?: { readonly bytes: number; readonly owner: string };
}

export interface RetryGuardDeps {
  readonly gateway: () => Promise<SnapshotGateway>;
  readonly history: () => Promise<ExecutionHistory>;
}

/** Says the database's state where a refusal's own message does not: preflight touches nothing. */
const SAYS_STATE = /nothing (?:was|is|has been) (?:touched|changed|applied)|database (?:was|is) not touched/i;

/** Preflight of a migration: the release plan. */
export async function preflight(event: unknown, deps: PreflightDeps): Promise<Plan> {
  return await touchingNothing(() => plan(event, deps));
}

/** Preflight of a `backup` or `restore` execution (see `operations.ts`): no migration, no database session. */
export async function preflightOperation(
  event: unknown,
  deps: OperationDeps,
): Promise<BackupPlan | RestorePlan> {
  return await touchingNothing(async () => {
    const state: WorkflowState = stateOf(event, 'preflight');
    const input = parseWorkflowInput(state.input);
    const execution = requireExecution(state, 'preflight');
    return input.mode === 'restore'
      ? await planRestore(input, execution, deps)
      : await planBackup(execution, deps);
  });
}

/** What preflight refuses, it refuses before touching anything: every refusal says so. */
async function touchingNothing<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof OrchestratorError && !SAYS_STATE.test(error.message)) {
      error.message = `${error.message.replace(/\s*$/, '')} Nothing was touched: the database is as it was.`;
    }
    throw error;
  }
}

async function plan(event: unknown, deps: PreflightDeps): Promise<Plan> {
  const state: WorkflowState = stateOf(event, 'preflight');
  const input = parseWorkflowInput(state.input);
  const execution = requireExecution(state, 'preflight');
  await refuseConcurrent(deps.guard, execution, deps.settings.targetIdentifier);
  const bundle = await deps.source.load();
  const history = await deps.engine.readHistory();

  const failed = history.filter(isFailedRow);
  const resolution = await planResolutions({
    requested: input.resolve ?? [],
    history,
    bundle,
    databaseName: deps.databaseName,
    drift: deps.drift,
    driftSettings: deps.settings.drift,
  });
  if (failed.length > 0 && resolution === undefined) {
    const names = failed.map((row) => row.name).join(', ');
    const first = failed[0] as AppliedMigration;
    await refuseWhileInFlight(first, deps, execution);
    const before = await snapshotBefore(first, deps);
    throw new MigrationHistoryBlockedError(
      `_prisma_migrations in database ${deps.databaseName} has a failed migration: ${names} ` +
        `(started ${first.startedAt}, ${first.appliedStepsCount} steps applied, not finished). ` +
        'Nothing was applied. Inspect what it left behind, repair the database, then mark it with ' +
        `\`prisma migrate resolve --rolled-back ${first.name}\` (to re-apply it) or ` +
        `\`--applied ${first.name}\` (if you completed it by hand), and start the release again; or start it with ` +
        `input "resolve": [{ "migration": "${first.name}", "as": "rolled-back" | "applied", "reason": "..." }], ` +
        `which checks the schema first and marks it after the snapshot.${before ? ` ${before.message}` : ''}`,
      {
        details: {
          failed: failed.map((row) => ({ name: row.name, logs: row.logs })),
          ...(before ? { snapshotBefore: before.snapshotId } : {}),
        },
      },
    );
  }

  const appliedRows = history.filter(isAppliedRow);
  const appliedByName = new Map(appliedRows.map((row) => [row.name, row]));
  // A migration resolved as applied counts as applied (the apply step marks it, with its file's checksum).
  for (const resolved of resolution?.resolutions ?? []) {
    const migration = bundle.migrations.find((m) => m.name === resolved.migration);
    if (resolved.as === 'applied' && migration) {
      appliedByName.set(migration.name, {
        ...(failed.find((row) => row.name === migration.name) as AppliedMigration),
        checksum: migration.checksum,
      });
    }
  }
  const local = new Map(bundle.migrations.map((m) => [m.name, m]));
  const applied = bundle.migrations.filter((m) => appliedByName.has(m.name)).map((m) => m.name);
  const pendingMigrations = bundle.migrations.filter((m) => !appliedByName.has(m.name));
  const pending = pendingMigrations.map((m) => m.name);
  const edited = bundle.migrations
    .filter((m) => {
      const row = appliedByName.get(m.name);
      return row !== undefined && row.checksum !== m.checksum;
    })
    .map((m) => m.name);
  const unknownApplied = [...appliedByName.keys()].filter((name) => !local.has(name));

  const warnings: string[] = [...(bundle.warnings ?? [])];
  for (const name of edited) {
    warnings.push(
      `Migration ${name} was edited after it was applied (its checksum differs from _prisma_migrations). ` +
        'It is not re-applied; restore the file as it was, or create a new migration for the change.',
    );
  }
  if (unknownApplied.length > 0) {
    warnings.push(
      `The database has applied migrations that are not in ${bundle.directory}: ${unknownApplied.join(', ')}. ` +
        'Deploy from a branch that contains them.',
    );
  }

  const shortfall = deps.memory && memoryShortfall(pendingMigrations, deps.memory.bytes);
  if (deps.memory && shortfall) {
    const { bytes, owner } = deps.memory;
    throw new MigrationsInvalidError(memoryShortfallMessage(shortfall, bytes, bundle.directory, owner), {
      details: { memoryShortfall: shortfall },
    });
  }
  const analysis = pendingMigrations.length > 0 ? await deps.analyzeRelease(pendingMigrations) : undefined;
  const unparsable = analysis && unparsableScriptsMessage(analysis, bundle.directory);
  if (unparsable !== undefined) {
    throw new MigrationsInvalidError(unparsable, { details: { unparsable: analysis?.unparsable } });
  }
  const linted = await lintPending({
    analysis,
    engine: deps.engine,
    policy: resolveLintPolicy(deps.settings.lintPolicy),
    acknowledge: input.acknowledge ?? [],
    applied,
    pending,
  });
  warnings.push(...linted.warnings);
  let transactionMode: TransactionMode = input.transactionMode ?? deps.settings.transactionMode;
  const transactionFallbackReason =
    transactionMode === 'release' && analysis ? fallbackReason(analysis) : undefined;
  if (transactionFallbackReason !== undefined) {
    transactionMode = 'per-migration';
    warnings.push(
      `This release cannot run in one transaction: ${transactionFallbackReason}. A failure is then undone by ` +
        'restoring the snapshot.',
    );
  }

  const snapshotRequired = input.skipSnapshot === undefined;
  if (!snapshotRequired) {
    warnings.push(`No snapshot is taken: ${input.skipSnapshot?.reason}`);
  }
  const dryRun = input.dryRun ?? false;
  // A resolution alone is a release too: the apply step marks it after the snapshot, even with nothing to apply.
  const proceeds = pending.length > 0 || resolution !== undefined;
  if (proceeds && !dryRun && deps.retryGuard && input.release !== undefined) {
    const release = input.release;
    const rerun = await guardRetry({ ...input, release }, execution, {
      ...deps,
      retryGuard: deps.retryGuard,
    });
    if (rerun) warnings.push(rerun);
  }
  if (proceeds && deps.migrationLock) {
    await checkMigrationLock(deps.migrationLock, execution, deps.databaseName, dryRun, warnings);
  }
  const httpFailing =
    proceeds && deps.httpChecks ? await httpChecksFailingBefore(deps.httpChecks, warnings) : [];
  // A dry run is not verified: only the schema before the release is expected (the baseline's).
  const expectedSchemas = proceeds
    ? await expectedSchemasOf(deps, applied, dryRun ? undefined : pending)
    : [];
  const baseline = !proceeds
    ? undefined
    : resolution !== undefined
      ? // The evidence is the drift before the release: the same diff, already measured.
        deps.settings.drift.policy === 'off'
        ? undefined
        : driftBaseline(resolution.script, deps.settings.drift)
      : await measureDrift(deps, applied, bundle.directory, warnings, expectedSchemas);

  return {
    mode: 'migrate',
    databaseName: deps.databaseName,
    targetIdentifier: deps.settings.targetIdentifier,
    totalMigrations: bundle.migrations.length,
    migrationSource: bundle.source ?? bundle.directory,
    applied,
    pending,
    edited,
    unknownApplied,
    transactionMode,
    ...(transactionFallbackReason === undefined ? {} : { transactionFallbackReason }),
    nonAtomic: analysis ? nonAtomicMigrations(analysis) : [],
    ...(analysis ? { analysedDigest: migrationsDigest(pendingMigrations) } : {}),
    lockedTables: analysis?.lockedTables ?? [],
    ...(linted.lint ? { lint: linted.lint } : {}),
    ...(baseline === undefined ? {} : { driftBaseline: baseline }),
    ...(expectedSchemas.length > 0 ? { expectedSchemas } : {}),
    ...(httpFailing.length > 0 ? { httpChecksFailingBefore: httpFailing } : {}),
    ...(resolution ? { resolve: resolution.resolutions } : {}),
    snapshotRequired,
    ...(input.skipSnapshot === undefined ? {} : { skipSnapshotReason: input.skipSnapshot.reason }),
    dryRun,
    proceed: proceeds && !dryRun,
    warnings,
  };
}

/**
 * The expected schemas of the migrations before and after the release, replayed once here, before the snapshot, so
 * that the drift checks after the release (and after a rollback) need no replay of their own when the schema is
 * as expected. Optional: without them every check replays, as it would without this.
 */
async function expectedSchemasOf(
  deps: PreflightDeps,
  applied: readonly string[],
  pending: readonly string[] | undefined,
): Promise<ExpectedSchema[]> {
  if (!deps.drift?.expectedSchemas || deps.settings.drift.policy === 'off') return [];
  try {
    return await deps.drift.expectedSchemas(pending ? [applied, [...applied, ...pending]] : [applied]);
  } catch {
    return [];
  }
}

/**
 * The drift already there before the release (reported in the plan's warnings): verification fails only on
 * drift the release introduces. A drift check that cannot run is a warning, never a refusal.
 */
async function measureDrift(
  deps: PreflightDeps,
  applied: readonly string[],
  directory: string,
  warnings: string[],
  expected: readonly ExpectedSchema[],
): Promise<DriftBaseline | undefined> {
  if (!deps.drift || deps.settings.drift.policy === 'off') return undefined;
  try {
    const result = await deps.drift.diff(applied, expected);
    const baseline = driftBaseline(result.inSync ? '' : result.script, deps.settings.drift);
    if (baseline.fingerprints.length > 0) {
      warnings.push(
        `The live schema already differs from what the applied migrations in ${directory} produce ` +
          `(${baseline.fingerprints.length} difference(s), e.g. ${baseline.summary.slice(0, 3).join('; ')}). ` +
          "This drift is not the release's: it is reported after the release, never acted on. List tables the " +
          'migrations do not manage in the drift ignore list to leave them out.',
      );
    }
    return baseline;
  } catch (error) {
    warnings.push(
      `The schema drift before the release could not be measured (${(error as Error).message}); after the ` +
        "release every difference from the migrations counts as the release's.",
    );
    return undefined;
  }
}

/**
 * A migration row that is started and not finished is also what a migration still running looks like: another
 * `prisma migrate deploy` in the middle of it, or the session of a killed run, which the server ends only when it
 * next writes to its client. Either holds Prisma's migration lock; while a session does, the row is not evidence of
 * a failure, and repairing or marking it would act on a migration still being applied: refused, naming the holder.
 */
async function refuseWhileInFlight(
  row: AppliedMigration,
  deps: PreflightDeps,
  execution: ExecutionInfo,
): Promise<void> {
  if (!deps.migrationLock) return;
  const holders = await otherLockHolders(deps.migrationLock.inspector, execution);
  if (holders.length === 0) return;
  throw new ConcurrentExecutionError(
    `${lockHeldBy(deps.databaseName, holders)} _prisma_migrations shows ${row.name} started at ${row.startedAt} ` +
      'and not finished: it may still be running in that session, so it is not treated as failed. Nothing was ' +
      'applied: the database was not touched. Wait for that session to finish and start the release again; if it ' +
      'is the session of a run that was killed, end it (SELECT pg_terminate_backend(<pid>)), which rolls back what ' +
      'it had not committed, then start again to see what the migration left.',
    { details: { lockHolders: holders, unfinished: row.name } },
  );
}

/**
 * The newest pre-migration snapshot of the target taken before the unfinished migration `row` started (see
 * `attemptBefore`), with the execution that took it and how that execution ended, and the restore that takes the
 * database back to it: the other way out of a migration that an interrupted execution (stopped, timed out, a
 * killed local run) left half applied. Undefined when no such snapshot exists or the snapshots cannot be read:
 * the refusal stands without it.
 */
async function snapshotBefore(
  row: AppliedMigration,
  deps: PreflightDeps,
): Promise<{ snapshotId: string; message: string } | undefined> {
  if (!deps.retryGuard) return undefined;
  try {
    const attempt = attemptBefore(
      await (await deps.retryGuard.gateway()).listManagedSnapshots(),
      row.startedAt,
    );
    if (!attempt) return undefined;
    const endings = await (await deps.retryGuard.history()).endingsOf([attempt.executionId]);
    const ending = endings[attempt.executionId] ?? { status: 'unknown' };
    const target = deps.settings.targetIdentifier;
    // A release that succeeded left no unfinished row: this one came later, from something else.
    const elsewhere =
      ending.status === 'succeeded'
        ? ` So ${row.name} was started after that release by something else (a deploy outside this orchestrator?), ` +
          'and the snapshot predates everything since.'
        : '';
    return {
      snapshotId: attempt.snapshotId,
      message:
        `The newest pre-migration snapshot of ${target} taken before ${row.name} started is ${attempt.snapshotId} ` +
        `(taken ${attempt.at} by execution ${attempt.executionName}; ${describeEnding(ending)}).${elsewhere} To go ` +
        `back to the database as it was then instead, start an execution with input {"mode":"restore","snapshot":` +
        `"${attempt.snapshotId}","confirm":"${target}"}: writes made since stay only in the replaced database, ` +
        'which is kept aside.',
    };
  } catch {
    return undefined;
  }
}

/**
 * Refuses a release that an earlier execution on this target tried and did not bring to success, unless the
 * input's `rerun` names that execution; returns the warning of a deliberate re-run.
 */
async function guardRetry(
  input: WorkflowInput & { readonly release: string },
  execution: ExecutionInfo,
  deps: PreflightDeps & { readonly retryGuard: RetryGuardDeps },
): Promise<string | undefined> {
  const target = deps.settings.targetIdentifier;
  const gateway = await deps.retryGuard.gateway();
  const attempts = earlierAttemptsOf(await gateway.listManagedSnapshots(), input.release, execution.id);
  const endings =
    attempts.length > 0
      ? await (await deps.retryGuard.history()).endingsOf(attempts.map((a) => a.executionId))
      : {};
  const decision = decideRetry(
    attempts.map((attempt) => ({
      ...attempt,
      ending: endings[attempt.executionId] ?? { status: 'unknown' },
    })),
    input.rerun,
  );
  if (decision.proceed) {
    const earlier = decision.rerunOf;
    return earlier
      ? `This execution runs release ${input.release} again (rerun), after execution ${earlier.executionName}: ` +
          `${describeEnding(earlier.ending)}.`
      : undefined;
  }
  const latest = decision.latest;
  if (decision.reason === 'wrong-rerun') {
    const actual = latest
      ? `the latest earlier execution of release ${input.release} on ${target} is ${latest.executionName} ` +
        `(${describeEnding(latest.ending)})`
      : `release ${input.release} has no earlier execution on ${target}`;
    throw new InvalidInputError(
      `input.rerun: names execution ${JSON.stringify(input.rerun)}, but ${actual}. rerun runs a release again ` +
        'only after its latest execution did not succeed, and names that execution; ' +
        (latest && latest.ending.status !== 'succeeded'
          ? `set it to "${latest.executionName}".`
          : 'remove it.'),
      {
        details: { field: 'rerun', release: input.release, latest: latest?.executionName ?? null },
      },
    );
  }
  const earlier = latest as NonNullable<typeof latest>;
  throw new MigrationHistoryBlockedError(
    `Release ${input.release} already ran on ${target}: execution ${earlier.executionName} (snapshot ` +
      `${earlier.snapshotId}${earlier.at ? `, taken ${earlier.at}` : ''}); ${describeEnding(earlier.ending)}. ` +
      'A retried or repeated execution does not run a release a second time on its own. Find out how that ' +
      `execution ended first (\`report ${earlier.executionName}\`; ${runbookArticle(OutcomeErrors.PreflightRefused)}), ` +
      'then, to run the release ' +
      `again deliberately, start an execution with the same input plus "rerun": "${earlier.executionName}".`,
    {
      details: {
        release: input.release,
        earlier: earlier.executionName,
        executionId: earlier.executionId,
        snapshotId: earlier.snapshotId,
        status: earlier.ending.status,
        ...(earlier.ending.how ? { how: earlier.ending.how } : {}),
      },
    },
  );
}
