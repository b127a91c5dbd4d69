/**
 * The local runner: executes the state machine synthesized by CDK, in-process, with
 * `aws-local-stepfunctions`. Each Task state is dispatched, through the `orchestrator:step` metadata of the
 * Lambda function its Resource names, to the same step core the Lambda runs, with local adapters
 * (PostgreSQL template-database snapshots instead of RDS). The path through the workflow is the
 * synthesized definition's: there is no second copy of it here.
 */
import './polyfills.js';
import { randomBytes } from 'node:crypto';
import {
  ExecutionAbortedError,
  ExecutionError,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import { runApplyMigrations } from '../../lambdas/apply-migrations/run.js';
import { runAssessRelease } from '../../lambdas/assess-release/run.js';
import { runCheckRestore } from '../../lambdas/check-restore/run.js';
import { runCheckSnapshot } from '../../lambdas/check-snapshot/run.js';
import { runCreateSnapshot } from '../../lambdas/create-snapshot/run.js';
import { runPreflight } from '../../lambdas/preflight/run.js';
import { runPruneSnapshots } from '../../lambdas/prune-snapshots/run.js';
import { runRestoreSnapshot } from '../../lambdas/restore-snapshot/run.js';
import { databaseOfUrl } from '../../lambdas/shared/adapters/postgres/connection.js';
import { PostgresExecutionGuard } from '../../lambdas/shared/adapters/postgres/execution-guard.js';
import { PgHealthProbe } from '../../lambdas/shared/adapters/postgres/health-probe.js';
import { PgMigrationLock } from '../../lambdas/shared/adapters/postgres/migration-lock.js';
import { PgReleaseInspector } from '../../lambdas/shared/adapters/postgres/release-inspector.js';
import {
  type KeptAsideDatabase,
  PostgresSnapshotGateway,
  SUCCEEDED_OUTCOME,
  type UnfinishedExecution,
} from '../../lambdas/shared/adapters/postgres/snapshot-gateway.js';
import { PrismaMigrationEngine } from '../../lambdas/shared/adapters/prisma/migration-engine.js';
import { PrismaSchemaDriftDetector } from '../../lambdas/shared/adapters/prisma/schema-drift-detector.js';
import {
  type ExecutionInfo,
  type Step,
  Steps,
  TagKeys,
  type TransactionMode,
  type WorkflowState,
} from '../../lambdas/shared/contract/contract.js';
import {
  type Clock,
  type ExecutionEnding,
  type ExecutionGuard,
  type ExecutionHistory,
  type HealthProbe,
  type MigrationEngine,
  type MigrationLockInspector,
  type MigrationSource,
  type ReleaseInspector,
  type SchemaDriftDetector,
  type SnapshotGateway,
  systemClock,
} from '../../lambdas/shared/contract/ports.js';
import { releaseOf } from '../../lambdas/shared/contract/state.js';
import type { DriftSettings } from '../../lambdas/shared/domain/drift.js';
import { compactTimestamp, preMigrationSnapshotId } from '../../lambdas/shared/domain/identifiers.js';
import type { LintPolicyOverrides } from '../../lambdas/shared/domain/lint/policy.js';
import { redactError } from '../../lambdas/shared/domain/redaction.js';
import type { RecordedNotification } from '../../lambdas/shared/domain/report.js';
import { type RetentionPolicy, resolveRetentionPolicy } from '../../lambdas/shared/domain/retention.js';
import type { StepRuntime } from '../../lambdas/shared/runtime/capabilities.js';
import {
  DEFAULT_SETTINGS,
  type HealthCheckDefinition,
  type HttpHealthCheckDefinition,
  type WorkflowSettings,
} from '../../lambdas/shared/runtime/settings.js';
import { runSwap } from '../../lambdas/swap/run.js';
import { runVerifyHealth } from '../../lambdas/verify-health/run.js';
import { type AslDefinition, definitionFromTemplate } from '../asl.js';
import {
  type CachedWorkflow,
  DEFINITION_CACHE_DIR,
  definitionCacheKey,
  readCachedWorkflow,
  writeCachedWorkflow,
} from './definition-cache.js';
import {
  cleanUpAfterInterrupt,
  type InterruptionReport,
  runSessionName,
  sessionNamesOf,
  withApplicationName,
} from './interruption.js';
import {
  DEFAULT_CLEANUP_TIMEOUT_MS,
  DEFAULT_KEEP_SNAPSHOTS,
  LOCAL_MANAGED_BY,
  type Outcome,
  Outcomes,
  outcomeOfError,
  outcomeOfSuccess,
} from './outcomes.js';
import { localMigrationSource } from './release-bundle.js';
import { isSnsPublish, LOCAL_REPORTS_DIR, localReport, RunTrace, writeLocalReport } from './reports.js';

// What the CLI and the operator commands need of a run's outcome, in a module that does not load the runner.
export {
  DEFAULT_CLEANUP_TIMEOUT_MS,
  DEFAULT_KEEP_SNAPSHOTS,
  LOCAL_MANAGED_BY,
  type Outcome,
  Outcomes,
  outcomeOfError,
  outcomeOfSuccess,
} from './outcomes.js';

/** Outcomes after which the database is as the run found it: the run's snapshot is not needed. */
const UNCHANGED_OUTCOMES: readonly Outcome[] = [
  'release-failed-unchanged',
  'snapshot-failed',
  'preflight-refused',
];

/** The adapters each step core gets locally. Any of them can be replaced (tests, the RDS fake). */
export interface LocalAdapters {
  readonly gateway: SnapshotGateway;
  readonly source: MigrationSource;
  /** A new engine per step; the runner closes it (a template clone needs the database free). */
  readonly engine: () => MigrationEngine;
  /** Reads what a failed release committed. */
  readonly inspector: ReleaseInspector;
  /** Measures schema drift before the release (the baseline). @default - with `checkSchemaDrift`, Prisma's engine */
  readonly drift?: SchemaDriftDetector;
  readonly probe: HealthProbe;
  /** One run per database at a time. @default - a PostgreSQL advisory lock taken for the whole run */
  readonly guard: ExecutionGuard;
  /**
   * How earlier executions ended (retention protects unresolved ones). @default - from the outcome recorded on
   * each snapshot: `succeeded`, otherwise unknown (protected until a later release succeeds)
   */
  readonly history: ExecutionHistory;
  readonly clock: Clock;
  /** Who holds Prisma's migration lock (preflight refuses while one does). @default - read on the server */
  readonly migrationLock: MigrationLockInspector;
}

export interface LocalRunOptions {
  /** URL of the target database (its server must allow CREATE DATABASE for snapshots). */
  readonly databaseUrl: string;
  readonly migrationsDir: string;
  /** The execution input, as documented in the README. */
  readonly input?: unknown;
  readonly transactionMode?: TransactionMode;
  readonly healthChecks?: readonly HealthCheckDefinition[];
  /** End the application's sessions on the database when cloning/renaming it. @default false */
  readonly terminateSessions?: boolean;
  /** Check that the live schema matches the migrations after the release and after a rollback. @default true */
  readonly checkSchemaDrift?: boolean;
  /**
   * How drift is judged: `fail` (drift the release introduced fails it), `warn` (reported) or `off`, and tables
   * or schemas (`analytics.*`) to leave out. @default `warn`, nothing ignored
   */
  readonly drift?: Partial<DriftSettings>;
  /** The lint's policy per rule (docs/lint.md), over the defaults: `block`, `warn` or `off`. @default - the defaults */
  readonly lintPolicy?: LintPolicyOverrides;
  readonly executionName?: string;
  /** Replace adapters (e.g. the RDS fake standing in for AWS). */
  readonly adapters?: Partial<LocalAdapters>;
  /** Settings overrides (poll intervals, timeouts). */
  readonly settings?: Partial<WorkflowSettings>;
  /** Make Wait states and retry intervals wait this many ms instead of their seconds. @default 0 */
  readonly waitMs?: number;
  /** Receives each state event as it happens. */
  readonly onEvent?: (event: RunEvent) => void;
  /**
   * Called with each step's input before its core runs. What it throws is what the step's invocation fails
   * with, as when a Lambda function dies (`Lambda.Unknown`, `States.Timeout`): how rehearsals and tests
   * exercise the paths of a step that never answers.
   */
  readonly beforeStep?: (step: Step, input: WorkflowState) => void | Promise<void>;
  /**
   * Interrupts the run when aborted (the CLI aborts it on SIGINT/SIGTERM): no further step starts, the run's
   * statements on the server are ended, a swap in progress is completed (or undone when the restored copy is
   * missing), the shadow databases it created are dropped, and the result (`interrupted`) says where things
   * stand. @default - not interruptible
   */
  readonly signal?: AbortSignal;
  /** How long the cleanup after an interrupt may take. @default 30 s */
  readonly cleanupTimeoutMs?: number;
  /**
   * Pre-migration snapshots of successful releases kept per database (the newest); older ones this tool took
   * are dropped after a successful run. Snapshots of other outcomes are never pruned. @default 3
   */
  readonly keepSnapshots?: number;
  /**
   * The retention policy `backup` executions apply (counts and the time zone days begin in).
   * @default 7 daily, 4 weekly, 12 monthly backups, 10 pre-migration snapshots, UTC
   */
  readonly retention?: Partial<RetentionPolicy>;
  /** Called once the execution is known, with the application names of its sessions on the server. */
  readonly onStarted?: (run: { execution: ExecutionInfo; sessionNames: readonly string[] }) => void;
  /** Receives each message the workflow publishes itself (the rollback-started notification); none is sent. */
  readonly onNotification?: (notification: RecordedNotification) => void;
  /** Where the run's report is written (`<dir>/<execution>.json`), or `false` for none. @default '.reports' */
  readonly reportsDir?: string | false;
  /**
   * How many times a release that hit its lock timeout, leaving nothing behind, is tried (1: never retried).
   * @default 3
   */
  readonly lockTimeoutAttempts?: number;
  /**
   * Preflight ends a session holding Prisma's migration lock that has been idle longer than this many seconds.
   * @default - never: preflight refuses while the lock is held
   */
  readonly endIdleLockHoldersAfterSeconds?: number;
  /** HTTP checks of the application (see the construct's `httpHealthChecks`). @default - none */
  readonly httpHealthChecks?: readonly HttpHealthCheckDefinition[];
  /** Seconds to wait after a healthy release before running every check again. @default - no bake */
  readonly bakeSeconds?: number;
}

export interface RunEvent {
  readonly type: 'entered' | 'exited' | 'failed' | 'retried' | 'caught';
  readonly state: string;
  readonly stateType: string;
  readonly elapsedMs: number;
  readonly detail?: string;
}

export interface LocalRunResult {
  readonly outcome: Outcome;
  readonly exitCode: number;
  readonly executionName: string;
  /** State names in the order they were entered. */
  readonly path: readonly string[];
  /** The final state document (on success) or the last state input seen (on failure). */
  readonly state: WorkflowState;
  /** The terminal error and cause, when the execution failed. */
  readonly error?: { readonly name: string; readonly cause: string };
  readonly durationMs: number;
  /** After an interrupt: what was done and where things stand. */
  readonly interruption?: InterruptionReport;
  /** When an earlier execution's leftovers stopped the run before it started. */
  readonly unfinished?: UnfinishedExecution;
  /** What happened to snapshots after the run (local PostgreSQL only). */
  readonly snapshots?: SnapshotHousekeeping;
  /** The target's databases kept aside by rollbacks, each with the command that drops it. */
  readonly keptAside?: readonly KeptAsideDatabase[];
  /** The messages the workflow published (recorded, not sent). */
  readonly notifications?: readonly RecordedNotification[];
  /** The report written for the run, when one was. */
  readonly reportFile?: string;
}

export interface SnapshotHousekeeping {
  /** This run's snapshot, dropped because the database ended unchanged. */
  readonly dropped?: string;
  /** The copy a requested restore made and never swapped in (it failed before), dropped: nothing was replaced. */
  readonly droppedCopy?: string;
  /** Older snapshots of successful releases dropped by retention (`keepSnapshots`). */
  readonly pruned: readonly string[];
  /** Snapshots of successful releases kept, oldest first. */
  readonly kept: readonly string[];
  /** What could not be done (a message), if anything. */
  readonly warning?: string;
}

function databaseNameOf(url: string): string {
  const name = databaseOfUrl(url);
  if (!name)
    throw new Error('The database URL names no database: add it, e.g. postgres://user@host:5432/mydb');
  return name;
}

/** The AWS Lambda error shape: Step Functions sees `Error` = errorType, `Cause` = this JSON. */
class LambdaStyleError extends Error {
  constructor(original: unknown) {
    // Where an error leaves a step locally, as the middleware is on AWS: row values are redacted.
    const error = redactError(original instanceof Error ? original : new Error(String(original)));
    super(JSON.stringify({ errorType: error.name, errorMessage: error.message }));
    this.name = error.name;
  }
}

type StepHandler = (event: unknown) => Promise<unknown>;

/** Each step's wiring, the same the Lambda handlers use (`lambdas/<step>/run.ts`). */
const STEP_RUNS: Record<Step, (event: unknown, runtime: StepRuntime) => Promise<unknown>> = {
  preflight: runPreflight,
  'create-snapshot': runCreateSnapshot,
  'check-snapshot': runCheckSnapshot,
  'apply-migrations': (event, runtime) => runApplyMigrations(event, runtime),
  'assess-release': runAssessRelease,
  'verify-health': runVerifyHealth,
  'restore-snapshot': runRestoreSnapshot,
  'check-restore': runCheckRestore,
  swap: runSwap,
  'prune-snapshots': runPruneSnapshots,
};

/** Every capability a step may ask for, from the local adapters. */
function localRuntime(
  adapters: LocalAdapters,
  settings: WorkflowSettings,
  databaseName: string,
): StepRuntime {
  return {
    settings,
    clock: adapters.clock,
    gateway: async () => adapters.gateway,
    migrationSource: () => adapters.source,
    databaseName: async () => databaseName,
    engine: async () => adapters.engine(),
    analyzeRelease: async () =>
      (await import('../../lambdas/shared/domain/release-analysis.js')).analyzeRelease,
    releaseInspector: async () => adapters.inspector,
    healthProbe: async () => adapters.probe,
    driftDetector: async () => adapters.drift,
    executionGuard: async () => adapters.guard,
    executionHistory: async () => adapters.history,
    migrationLock: async () => adapters.migrationLock,
  };
}

/**
 * Execution statuses read from the outcome the runner records on each snapshot it took: `succeeded`, any other
 * recorded outcome failed, none (the run died, or is running) unknown.
 */
export function recordedHistory(gateway: SnapshotGateway): ExecutionHistory {
  const endingsOf = async (ids: readonly string[]): Promise<Record<string, ExecutionEnding>> => {
    const outcomes = new Map(
      (await gateway.listManagedSnapshots()).map((snapshot) => [
        snapshot.tags[TagKeys.execution],
        snapshot.outcome,
      ]),
    );
    return Object.fromEntries(ids.map((id) => [id, endingOfRecorded(outcomes.get(id))] as const));
  };
  return {
    endingsOf,
    statusOf: async (ids) =>
      Object.fromEntries(Object.entries(await endingsOf(ids)).map(([id, ending]) => [id, ending.status])),
  };
}

function endingOfRecorded(outcome: string | undefined): ExecutionEnding {
  if (outcome === undefined) return { status: 'unknown' };
  if (outcome === SUCCEEDED_OUTCOME) return { status: 'succeeded', how: outcome };
  const summary = (Outcomes as Record<string, { summary: string } | undefined>)[outcome]?.summary;
  return { status: 'failed', how: summary ? `${outcome} (${summary})` : outcome };
}

function localHandlers(
  adapters: LocalAdapters,
  settings: WorkflowSettings,
  databaseName: string,
): Record<Step, StepHandler> {
  const runtime = localRuntime(adapters, settings, databaseName);
  return Object.fromEntries(
    Steps.map((step) => [step, (event: unknown) => STEP_RUNS[step](event, runtime)]),
  ) as Record<Step, StepHandler>;
}

/** A synthesized workflow: its definition as plain ASL, and the step each Task state runs. */
export interface SynthesizedWorkflow {
  readonly definition: AslDefinition;
  readonly taskSteps: Map<string, Step>;
}

/** Where `loadWorkflow` finds and keeps definitions, and the key of one. */
export interface WorkflowCache {
  /** The folder of the entries, or false for no cache. */
  readonly dir: string | false;
  /** The key of the inputs as they are now, or undefined when the cache must not be used. */
  readonly key: (transactionMode: TransactionMode) => string | undefined;
}

/** The definitions in `.cache/definitions/`, keyed by every input of the synthesis (lib/local/definition-cache.ts). */
export const DEFAULT_WORKFLOW_CACHE: WorkflowCache = {
  dir: DEFINITION_CACHE_DIR,
  key: (transactionMode) => definitionCacheKey(transactionMode),
};

/**
 * Synthesizes the stack (aws-cdk-lib is loaded here, and only here) and returns its state machine as plain ASL,
 * with each Task state's step, checked by the interpreter (`aws-local-stepfunctions` validates it).
 */
export async function synthesizeWorkflow(
  transactionMode: TransactionMode = 'release',
): Promise<SynthesizedWorkflow> {
  const { synthesizeTemplate } = await import('../stack.js');
  const { definition, resourceToStep } = definitionFromTemplate(synthesizeTemplate({ transactionMode }));
  const taskSteps = new Map<string, Step>();
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type !== 'Task' || isSnsPublish(state.Resource)) continue;
    const step = state.Resource ? resourceToStep.get(state.Resource) : undefined;
    if (step === undefined || !(Steps as readonly string[]).includes(step)) {
      throw new Error(
        `Task state "${name}" invokes ${state.Resource ?? '(no resource)'}, which is not a step function.`,
      );
    }
    taskSteps.set(name, step as Step);
  }
  // Throws when the interpreter finds the definition invalid (it takes ~150 ms, so a cached one is not checked again).
  new StateMachine(definition as StateMachineDefinition, { validationOptions: { checkArn: false } });
  return { definition, taskSteps };
}

/**
 * The workflow of `transactionMode`: from the cache when its entry for the inputs as they are now exists,
 * otherwise synthesized and stored. It is stored only when the inputs' key is the same after the synthesis as
 * before it (nothing changed meanwhile), so an entry always holds what its inputs synthesize.
 */
export async function loadWorkflow(
  transactionMode: TransactionMode,
  cache: WorkflowCache = DEFAULT_WORKFLOW_CACHE,
): Promise<SynthesizedWorkflow & { readonly from: 'cache' | 'synthesis' }> {
  const key = cache.dir === false ? undefined : cache.key(transactionMode);
  if (cache.dir !== false && key !== undefined) {
    const cached = readCachedWorkflow(cache.dir, key);
    if (cached) return { definition: cached.definition, taskSteps: new Map(cached.taskSteps), from: 'cache' };
  }
  const workflow = await synthesizeWorkflow(transactionMode);
  if (cache.dir !== false && key !== undefined && cache.key(transactionMode) === key) {
    const entry: CachedWorkflow = { definition: workflow.definition, taskSteps: [...workflow.taskSteps] };
    writeCachedWorkflow(cache.dir, key, entry);
  }
  return { ...workflow, from: 'synthesis' };
}

/** The workflow of each transaction mode, loaded once per process. */
const loaded = new Map<TransactionMode, SynthesizedWorkflow>();

/**
 * The synthesized workflow of `transactionMode` (see `loadWorkflow`), once per process; each call gets its own
 * copy.
 */
export async function synthesizedWorkflow(
  transactionMode: TransactionMode = 'release',
): Promise<SynthesizedWorkflow> {
  let workflow = loaded.get(transactionMode);
  if (!workflow) {
    const { definition, taskSteps } = await loadWorkflow(transactionMode);
    workflow = { definition, taskSteps };
    loaded.set(transactionMode, workflow);
  }
  return { definition: structuredClone(workflow.definition), taskSteps: new Map(workflow.taskSteps) };
}

/**
 * Runs the synthesized workflow locally against PostgreSQL. The run holds its database's execution lock
 * (a PostgreSQL advisory lock) from start to end, unless `adapters.guard` replaces it.
 */
export async function runLocal(options: LocalRunOptions): Promise<LocalRunResult> {
  if (options.adapters?.guard) return await execute(options, options.adapters.guard);
  const lock = await PostgresExecutionGuard.acquire(
    options.databaseUrl,
    databaseNameOf(options.databaseUrl),
  ).catch((error: unknown) => error as Error);
  if (lock instanceof Error) {
    // The server cannot be reached: preflight reports it, through the workflow, when it asks the guard.
    return await execute(options, {
      othersRunning: async () => {
        throw lock;
      },
    });
  }
  try {
    return await execute(options, lock);
  } finally {
    await lock.release();
  }
}

async function execute(given: LocalRunOptions, guard: ExecutionGuard): Promise<LocalRunResult> {
  const started = Date.now();
  // The path and the notifications of the run, for its report.
  const trace = new RunTrace(started);
  const options: LocalRunOptions = { ...given, onEvent: trace.listener(given.onEvent) };
  const databaseName = databaseNameOf(options.databaseUrl);
  const executionName =
    options.executionName ?? `local-${compactTimestamp(new Date(started))}-${randomBytes(3).toString('hex')}`;
  const execution: ExecutionInfo = {
    id: `arn:aws:states:local:000000000000:execution:migration-orchestrator:${executionName}`,
    name: executionName,
    startedAt: new Date(started).toISOString(),
  };
  // Every session of the run carries its name, so an interrupt finds (and ends) exactly the run's statements.
  const runUrl = withApplicationName(options.databaseUrl, runSessionName(execution.id));
  // The execution as the workflow recorded it (its start time is the interpreter's): what names the
  // snapshot, the restored copy and the apply step's session.
  let recorded: ExecutionInfo | undefined;
  const settings: WorkflowSettings = {
    ...DEFAULT_SETTINGS,
    targetIdentifier: databaseName,
    managedBy: LOCAL_MANAGED_BY,
    initialPollSeconds: 1,
    maxPollSeconds: 5,
    ...(options.transactionMode ? { transactionMode: options.transactionMode } : {}),
    healthChecks: options.healthChecks ?? [],
    drift: { ...DEFAULT_SETTINGS.drift, ...options.drift },
    ...(options.lintPolicy ? { lintPolicy: options.lintPolicy } : {}),
    retention: resolveRetentionPolicy(options.retention),
    ...(options.endIdleLockHoldersAfterSeconds === undefined
      ? {}
      : { endIdleLockHoldersAfterSeconds: options.endIdleLockHoldersAfterSeconds }),
    ...(options.httpHealthChecks ? { httpHealthChecks: options.httpHealthChecks } : {}),
    ...(options.bakeSeconds ? { bakeSeconds: options.bakeSeconds } : {}),
    ...options.settings,
  };
  const clock = options.adapters?.clock ?? systemClock;
  // The run's migrations: the release bundle its input names (file:), else the migrations directory.
  const source = options.adapters?.source ?? localMigrationSource(options.input, options.migrationsDir);
  const drift =
    options.adapters?.drift ??
    (options.checkSchemaDrift === false || settings.drift.policy === 'off'
      ? undefined
      : new PrismaSchemaDriftDetector({ connection: runUrl, source }));
  const gateway =
    options.adapters?.gateway ??
    new PostgresSnapshotGateway({
      serverUrl: runUrl,
      databaseName,
      terminateSessions: options.terminateSessions ?? false,
      managedBy: settings.managedBy,
      clock,
    });
  const adapters: LocalAdapters = {
    gateway,
    source,
    engine:
      options.adapters?.engine ??
      (() =>
        new PrismaMigrationEngine({
          connectionString: runUrl,
          ...(options.lockTimeoutAttempts === undefined
            ? {}
            : { lockRetry: { attempts: options.lockTimeoutAttempts } }),
        })),
    probe:
      options.adapters?.probe ??
      new PgHealthProbe({
        connection: runUrl,
        checks: settings.healthChecks,
        ...(drift ? { drift } : {}),
      }),
    ...(drift ? { drift } : {}),
    inspector: options.adapters?.inspector ?? new PgReleaseInspector({ connection: runUrl }),
    guard,
    history: options.adapters?.history ?? recordedHistory(gateway),
    clock,
    migrationLock: options.adapters?.migrationLock ?? new PgMigrationLock({ connection: runUrl }),
  };
  const localGateway = adapters.gateway instanceof PostgresSnapshotGateway ? adapters.gateway : undefined;
  const base = { executionName, path: [], durationMs: 0 };
  const unfinished = await leftoversOf(localGateway, guard, execution);
  if (unfinished) {
    return {
      ...base,
      outcome: 'unfinished-execution',
      exitCode: Outcomes['unfinished-execution'].exitCode,
      state: { input: options.input, execution } as WorkflowState,
      unfinished,
      durationMs: Date.now() - started,
    };
  }
  const handlers = localHandlers(adapters, settings, databaseName);
  const { definition, taskSteps } = await synthesizedWorkflow(settings.transactionMode);

  // The step running now (and the state it received), for the cleanup after an interrupt.
  let current: { step: Step; input: WorkflowState; done: Promise<unknown> } | undefined;
  const taskResourceLocalHandlers: Record<string, (input: never) => Promise<never>> = {};
  for (const [stateName, step] of taskSteps) {
    taskResourceLocalHandlers[stateName] = async (input) => {
      if (options.signal?.aborted) throw new LambdaStyleError(new Error('The run was interrupted.'));
      const seen = (input as WorkflowState).execution;
      if (!recorded && seen?.id === execution.id) {
        recorded = seen;
        options.onStarted?.({ execution: seen, sessionNames: sessionNamesOf(seen) });
      }
      const run = (async () => {
        await options.beforeStep?.(step, input as WorkflowState);
        return await handlers[step](input);
      })();
      current = { step, input: input as WorkflowState, done: run.catch(() => undefined) };
      try {
        return (await run) as never;
      } catch (error) {
        throw new LambdaStyleError(error);
      }
    };
  }
  for (const [stateName, state] of Object.entries(definition.States)) {
    if (state.Type === 'Task' && isSnsPublish(state.Resource))
      taskResourceLocalHandlers[stateName] = trace.snsPublishHandler(
        stateName,
        options.onNotification,
      ) as never;
  }
  const waitMs = options.waitMs ?? 0;
  const states = definition.States;
  const waitTimeOverrides: Record<string, number> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  for (const [name, state] of Object.entries(states)) {
    if (state.Type === 'Wait') waitTimeOverrides[name] = waitMs;
    if (state.Retry) retryIntervalOverrides[name] = waitMs;
  }

  // The definition was validated when it was synthesized (`synthesizeWorkflow`), before it was cached.
  const machine = new StateMachine(definition as StateMachineDefinition, {
    validationOptions: { checkArn: false, noValidate: true },
  });
  const execution_ = machine.run(
    (options.input ?? {}) as never,
    {
      overrides: { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides },
      context: {
        Execution: { Id: execution.id, Name: execution.name, StartTime: execution.startedAt },
      },
    } as never,
  );

  const path: string[] = [];
  let lastState: WorkflowState | undefined;
  const events = (async () => {
    for await (const event of execution_.eventLogs) {
      if (!('state' in event)) continue;
      const { name, type, input, output } = event.state as {
        name: string;
        type: string;
        input: unknown;
        output?: unknown;
      };
      const elapsedMs = Date.now() - started;
      const base = { state: name, stateType: type, elapsedMs };
      switch (event.type) {
        case 'StateEntered':
          path.push(name);
          if (input && typeof input === 'object' && 'execution' in input) lastState = input as WorkflowState;
          options.onEvent?.({ type: 'entered', ...base });
          break;
        case 'StateExited':
          if (output && typeof output === 'object' && 'execution' in output)
            lastState = output as WorkflowState;
          options.onEvent?.({ type: 'exited', ...base });
          break;
        case 'StateFailed':
          options.onEvent?.({ type: 'failed', ...base, detail: (event as { Error?: string }).Error });
          break;
        case 'StateRetried':
          options.onEvent?.({ type: 'retried', ...base });
          break;
        case 'StateCaught':
          options.onEvent?.({ type: 'caught', ...base });
          break;
        default:
          break;
      }
    }
  })();

  const onAbort = () => execution_.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();

  let outcome: Outcome;
  let error: LocalRunResult['error'];
  let interruption: InterruptionReport | undefined;
  try {
    const output = (await execution_.result) as unknown as WorkflowState;
    lastState = output;
    outcome = outcomeOfSuccess(output);
  } catch (caught) {
    if (caught instanceof ExecutionAbortedError || options.signal?.aborted) {
      outcome = 'interrupted';
      const running = current;
      interruption = await cleanUpAfterInterrupt({
        adminUrl: options.databaseUrl,
        databaseName,
        execution: recorded ?? execution,
        ...(running ? { step: running.step, state: running.input } : {}),
        ...(localGateway ? { gateway: localGateway } : {}),
        inFlight: async () => {
          await running?.done;
        },
        deadline: Date.now() + (options.cleanupTimeoutMs ?? DEFAULT_CLEANUP_TIMEOUT_MS),
      });
    } else {
      const failure = caught instanceof ExecutionError ? (caught.cause as Error | undefined) : undefined;
      if (!failure) throw caught;
      error = { name: failure.name, cause: failure.message };
      outcome = outcomeOfError(failure.name);
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  if (outcome !== 'interrupted') await events;
  // Side by side (each on a connection of its own): retention touches snapshots, the listing reads kept-aside copies.
  const [housekeeping, keptAside] = await Promise.all([
    localGateway && outcome !== 'interrupted'
      ? keepSnapshots(localGateway, outcome, lastState, recorded ?? execution, options.keepSnapshots)
      : undefined,
    localGateway ? localGateway.listKeptAside().catch(() => undefined) : undefined,
  ]);
  const finalState = lastState ?? ({ input: options.input, execution } as WorkflowState);
  const reportFile =
    options.reportsDir === false
      ? undefined
      : await writeLocalReport(
          localReport(trace, {
            execution: recorded ?? execution,
            input: options.input,
            state: finalState,
            ...(error ? { error } : {}),
            succeeded: Outcomes[outcome].exitCode === 0,
            interrupted: outcome === 'interrupted',
            stoppedMs: Date.now(),
          }),
          options.reportsDir ?? LOCAL_REPORTS_DIR,
        );
  return {
    notifications: trace.notifications,
    ...(reportFile ? { reportFile } : {}),
    ...(interruption ? { interruption } : {}),
    ...(housekeeping ? { snapshots: housekeeping } : {}),
    ...(keptAside && keptAside.length > 0 ? { keptAside } : {}),
    outcome,
    exitCode: Outcomes[outcome].exitCode,
    executionName,
    path,
    state: lastState ?? ({ input: options.input, execution } as WorkflowState),
    ...(error ? { error } : {}),
    durationMs: Date.now() - started,
  };
}

/**
 * The leftovers of an execution that never finished (see `PostgresSnapshotGateway.unfinishedExecution`),
 * looked for only when no other run holds the database (a running one is mid-way, not unfinished).
 */
async function leftoversOf(
  gateway: PostgresSnapshotGateway | undefined,
  guard: ExecutionGuard,
  execution: ExecutionInfo,
): Promise<UnfinishedExecution | undefined> {
  if (!gateway) return undefined;
  try {
    if ((await guard.othersRunning(execution)).length > 0) return undefined;
    return await gateway.unfinishedExecution();
  } catch {
    return undefined; // The server cannot be reached: preflight reports it.
  }
}

/** A migrate run with a release label, whose attempt the retry guard of a later run of that release must see. */
function guardsRetries(state: WorkflowState | undefined): boolean {
  return (
    state?.snapshot !== undefined && state.plan?.mode === 'migrate' && releaseOf(state.input) !== undefined
  );
}

/**
 * Snapshot retention after a run: the run's own snapshot is dropped when the database ended unchanged (kept, with
 * its outcome, after a release with a release label failed: the retry guard reads it); a failed
 * release's is kept and marked with its outcome (the retry guard reads it); after a successful release it is
 * marked so, and snapshots of successful releases beyond the newest `keep` are
 * dropped. Nothing else is ever dropped (see `PostgresSnapshotGateway.deleteSnapshot`).
 */
async function keepSnapshots(
  gateway: PostgresSnapshotGateway,
  outcome: Outcome,
  state: WorkflowState | undefined,
  execution: ExecutionInfo,
  keep = DEFAULT_KEEP_SNAPSHOTS,
): Promise<SnapshotHousekeeping | undefined> {
  const own = state?.snapshot?.snapshotId ?? preMigrationSnapshotId(gateway.targetIdentifier, execution);
  try {
    if (outcome === 'restore-failed') {
      // Left, it would stop every later run as the leftover of an execution that never finished.
      const copy = state?.restore
        ? await gateway.dropUnswappedCopy(state.restore.restoredIdentifier, execution.id)
        : undefined;
      return copy ? { droppedCopy: copy, pruned: [], kept: [] } : undefined;
    }
    if (outcome === 'release-failed-unchanged' && guardsRetries(state)) {
      // As on AWS, where the snapshot stays until retention: the retry guard finds this attempt of the release by
      // its snapshot's release tag and reads how it ended, so a retry of the same release is refused locally too.
      await gateway.recordOutcome(own, outcome);
      return undefined;
    }
    if (UNCHANGED_OUTCOMES.includes(outcome)) {
      const mine = (await gateway.listManagedSnapshots()).find(
        (snapshot) => snapshot.snapshotId === own && snapshot.tags[TagKeys.execution] === execution.id,
      );
      const dropped = mine && (await gateway.deleteSnapshot(own)) ? own : undefined;
      return dropped ? { dropped, pruned: [], kept: [] } : undefined;
    }
    if (!state?.snapshot) return undefined;
    if (outcome !== 'succeeded') {
      if (state.plan?.mode !== 'migrate') return undefined;
      // How the release ended, for the retry guard of a later execution of the same release.
      await gateway.recordOutcome(own, outcome);
      return undefined;
    }
    await gateway.recordOutcome(own, SUCCEEDED_OUTCOME);
    const pruned = await gateway.pruneSnapshots(keep);
    const kept = (await gateway.listManagedSnapshots())
      .filter((snapshot) => snapshot.outcome === SUCCEEDED_OUTCOME)
      .map((snapshot) => snapshot.snapshotId);
    return { pruned, kept };
  } catch (error) {
    return {
      pruned: [],
      kept: [],
      warning: `snapshot retention did not complete: ${(error as Error).message}`,
    };
  }
}
