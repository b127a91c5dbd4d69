/**
 * The step contract: the workflow input, the state document each step reads and extends, the error names
 * the state machine routes on, and the state names. `lib/` (the state machine's Retry/Catch) and
 * `lambdas/` (what the code throws) both import this file, so the two cannot drift apart.
 */
import type { DriftBaseline, ExpectedSchema } from '../domain/drift.js';
import type { LintResult } from '../domain/lint/policy.js';

/** Error names thrown by the steps. Each is the `name` of a class in `errors.ts`. */
export const ErrorNames = {
  /** The execution input is not valid (a field is missing or has a wrong value). */
  InvalidInput: 'InvalidInput',
  /** The migrations directory is missing, empty, or not in Prisma's layout. */
  MigrationsInvalid: 'MigrationsInvalid',
  /** The database cannot be reached. Nothing was attempted. */
  DatabaseUnreachable: 'DatabaseUnreachable',
  /** `_prisma_migrations` holds a failed row, or a state `prisma migrate deploy` would refuse. */
  MigrationHistoryBlocked: 'MigrationHistoryBlocked',
  /** Another execution of the workflow is running against the same target. Nothing was touched. */
  ConcurrentExecution: 'ConcurrentExecution',
  /** The target database (instance or cluster) is not in a state that allows a snapshot. */
  TargetNotAvailable: 'TargetNotAvailable',
  /** Creating the pre-migration snapshot failed. The database was not touched. */
  SnapshotFailed: 'SnapshotFailed',
  /** The snapshot did not become available before the configured timeout. */
  SnapshotTimedOut: 'SnapshotTimedOut',
  /** The account's manual snapshot quota is reached. */
  SnapshotQuotaExceeded: 'SnapshotQuotaExceeded',
  /** A migration failed while being applied. */
  MigrationFailed: 'MigrationFailed',
  /**
   * A migration failed inside a whole-release transaction, which was rolled back: the database is exactly
   * as it was before the release, so no snapshot restore is needed.
   */
  MigrationFailedDatabaseUnchanged: 'MigrationFailedDatabaseUnchanged',
  /** The database is not healthy after the migrations (history incomplete, failed rows, user checks). */
  HealthCheckFailed: 'HealthCheckFailed',
  /** Restoring the snapshot failed. */
  RestoreFailed: 'RestoreFailed',
  /** The restored database did not become available before the configured timeout. */
  RestoreTimedOut: 'RestoreTimedOut',
  /** Swapping the restored database into place failed. */
  SwapFailed: 'SwapFailed',
  /** A transient fault of a cloud API (throttling, 5xx) that is worth retrying. */
  TransientFault: 'TransientFault',
  /**
   * What the release committed could not be read (the database stayed unreachable after the apply step
   * failed): nothing is restored on a guess.
   */
  ReleaseOutcomeUnknown: 'ReleaseOutcomeUnknown',
  /** Applying the retention policy failed part-way (a snapshot could not be listed or deleted). */
  RetentionFailed: 'RetentionFailed',
} as const;
export type ErrorName = (typeof ErrorNames)[keyof typeof ErrorNames];

/** Errors of the terminal Fail states (what the caller of the execution sees). */
export const OutcomeErrors = {
  /** Preflight refused the release (bad input, unsafe history, unreachable database). Nothing was touched. */
  PreflightRefused: 'PreflightRefused',
  /** The snapshot could not be taken. Nothing was applied. */
  SnapshotFailedDatabaseUntouched: 'SnapshotFailedDatabaseUntouched',
  /** The release failed inside one transaction that was rolled back. The database is unchanged. */
  ReleaseFailedDatabaseUnchanged: 'ReleaseFailedDatabaseUnchanged',
  /** The migration or the health check failed; the snapshot was restored and swapped into place. */
  MigrationRolledBack: 'MigrationRolledBack',
  /** The rollback itself failed: data at risk, an operator must act (docs/runbook.md, "RollbackFailed"). */
  RollbackFailed: 'RollbackFailed',
  /**
   * The migration or the health check failed and the release ran without a snapshot (`skipSnapshot`):
   * nothing could be restored, the database is as the failure left it. An operator must act.
   */
  MigrationFailedWithoutSnapshot: 'MigrationFailedWithoutSnapshot',
  /**
   * The apply step failed and what it committed could not be read: nothing was restored on a guess. An
   * operator must look (the snapshot is kept).
   */
  ReleaseOutcomeUnknown: 'ReleaseOutcomeUnknown',
  /**
   * The backup was taken and is available, but the retention policy could not be applied: older snapshots
   * that the policy would delete are still there (and count against the account's snapshot quota).
   */
  BackupTakenRetentionFailed: 'BackupTakenRetentionFailed',
  /**
   * A restore the input asked for (mode `restore`) failed: no release is involved, and the database is replaced
   * only by the swap. The cause says where it stands (before the swap: untouched; during it: which database holds
   * what, and the one action that finishes or undoes it).
   */
  BackupRestoreFailed: 'BackupRestoreFailed',
} as const;
export type OutcomeError = (typeof OutcomeErrors)[keyof typeof OutcomeErrors];

/** The operator runbook in the repository: one article per outcome, titled with the outcome's error. */
export const RUNBOOK = 'docs/runbook.md';

/**
 * The outcome a failure on the restore path ends in: a rollback's (`RollbackFailed`: a failed release is in the
 * database), or a requested restore's (`BackupRestoreFailed`: no release involved).
 */
export function failedRestoreOutcome(mode: string | undefined): OutcomeError {
  return mode === 'restore' ? OutcomeErrors.BackupRestoreFailed : OutcomeErrors.RollbackFailed;
}

/** How a message names the runbook article of `outcome`: `see docs/runbook.md, "RollbackFailed"`. */
export function runbookArticle(outcome: OutcomeError): string {
  return `see ${RUNBOOK}, "${outcome}"`;
}

/** State names. Sentences, as they appear in the console and the local runner's output. */
export const StateNames = {
  start: 'Record the execution',
  preflight: 'Check the release plan',
  operation: 'Which operation?',
  anythingToApply: 'Is anything pending?',
  nothingToDo: 'Nothing to do',
  snapshotRequested: 'Is a snapshot required?',
  createSnapshot: 'Create the snapshot',
  waitForSnapshot: 'Wait for the snapshot',
  checkSnapshot: 'Check the snapshot',
  snapshotReady: 'Is the snapshot available?',
  applyMigrations: 'Apply pending migrations',
  assessRelease: 'Find out what the release committed',
  releaseOutcomeUnknown: 'Release outcome unknown, operator action required',
  verifyHealth: 'Verify database health',
  succeeded: 'Migrations applied',
  snapshotToRestore: 'Is there a snapshot to restore?',
  failedWithoutSnapshot: 'Migration failed without a snapshot',
  preflightRefused: 'Preflight refused the release',
  snapshotFailed: 'Snapshot failed, database untouched',
  releaseFailedUnchanged: 'Release failed, database unchanged',
  notifyRollback: 'Notify that the rollback starts',
  restoreSnapshot: 'Restore the snapshot next to the original',
  waitForRestore: 'Wait for the restored database',
  checkRestore: 'Check the restored database',
  restoreReady: 'Is the restored database available?',
  swap: 'Swap the restored database into place',
  swapDone: 'Is the swap complete?',
  waitForSwap: 'Wait for the swap',
  verifyRollbackHealth: 'Verify health after rollback',
  rolledBack: 'Migration rolled back',
  rollbackFailed: 'Rollback failed, operator action required',
  pruneSnapshots: 'Apply the retention policy',
  backupTaken: 'Backup taken',
  retentionFailed: 'Backup taken, retention failed',
  restoreRequested: 'Was a backup restore requested?',
  backupRestored: 'Backup restored',
  whichRestoreFailed: 'Was the failed restore a rollback?',
  backupRestoreFailed: 'Backup restore failed',
} as const;

/** The lambdas, one per step. The folder under `lambdas/` has the same name. */
export const Steps = [
  'preflight',
  'create-snapshot',
  'check-snapshot',
  'apply-migrations',
  'assess-release',
  'verify-health',
  'restore-snapshot',
  'check-restore',
  'swap',
  'prune-snapshots',
] as const;
export type Step = (typeof Steps)[number];

/**
 * What an execution does: `migrate` applies the pending migrations (snapshot first, rollback on failure);
 * `backup` takes a managed snapshot and applies the retention policy, never touching the migrations; `restore`
 * restores a managed snapshot of the target next to it and swaps it in (the rollback's own path).
 */
export const Modes = ['migrate', 'backup', 'restore'] as const;
export type Mode = (typeof Modes)[number];

/** Why a managed snapshot was taken: before a release, or as a (scheduled) backup. */
export const SnapshotKinds = ['pre-migration', 'backup'] as const;
export type SnapshotKind = (typeof SnapshotKinds)[number];

/** The kind a `snapshot-kind` tag names; snapshots taken before kinds existed (no tag) are pre-migration ones. */
export function snapshotKindOf(tag: string | undefined): SnapshotKind {
  return SnapshotKinds.find((kind) => kind === tag) ?? 'pre-migration';
}

export const TransactionModes = ['release', 'per-migration'] as const;
export type TransactionMode = (typeof TransactionModes)[number];

/** The execution input (validated by `parseWorkflowInput` in `input.ts`, which carries the schema library). */
export type { WorkflowInput } from './input.js';

/** Identity of the execution, recorded by the first state from the context object. */
export interface ExecutionInfo {
  readonly id: string;
  readonly name: string;
  readonly startedAt: string;
}

/** A row of `_prisma_migrations` as the plan reports it. */
export interface AppliedMigration {
  readonly name: string;
  readonly checksum: string;
  readonly finishedAt: string | null;
  readonly rolledBackAt: string | null;
  readonly startedAt: string;
  readonly appliedStepsCount: number;
  readonly logs: string | null;
}

/** The release plan computed by preflight (mode `migrate`). */
export interface Plan {
  readonly mode: 'migrate';
  readonly databaseName: string;
  readonly targetIdentifier: string;
  readonly totalMigrations: number;
  /**
   * Where the migrations came from: `bundled at deploy time: <dir>` (locally `directory: <dir>`), or the input's
   * release bundle, `s3://bucket/key.zip (sha256 0123456789ab…)`. Absent in plans written before bundles existed.
   */
  readonly migrationSource?: string;
  readonly applied: readonly string[];
  readonly pending: readonly string[];
  /** Migrations whose file changed after they were applied (checksum differs). Reported, not re-applied. */
  readonly edited: readonly string[];
  /** Rows in `_prisma_migrations` that have no migration directory (applied from elsewhere). */
  readonly unknownApplied: readonly string[];
  readonly transactionMode: TransactionMode;
  /** Why the release falls back to per-migration mode, when it does. */
  readonly transactionFallbackReason?: string;
  /**
   * Pending migrations that cannot run as one transaction (a statement such as `CREATE INDEX CONCURRENTLY`, or
   * their own `BEGIN`/`COMMIT`): when one fails, part of it may have committed.
   */
  readonly nonAtomic?: readonly string[];
  /**
   * `analysedDigest` of the pending migrations preflight parsed (names and checksums): the apply step uses
   * `transactionMode` and `nonAtomic` instead of parsing the same scripts again. Absent when nothing was parsed,
   * and in plans written before it existed.
   */
  readonly analysedDigest?: string;
  /** Tables the release will lock (from the parsed statements). */
  readonly lockedTables: readonly string[];
  /**
   * The lint of the pending migrations (docs/lint.md): findings of `warn` rules, and findings of `block` rules the
   * input acknowledged, with its reasons. Absent when there was nothing to report.
   */
  readonly lint?: LintResult;
  /**
   * Schema drift measured before anything is applied (the live schema against the applied migrations), so that
   * verification can tell drift the release introduced from drift that was already there.
   */
  readonly driftBaseline?: DriftBaseline;
  /**
   * The expected schemas of the migrations before and after the release (`ExpectedSchema`), computed in preflight
   * so that the drift checks after the release, or after a rollback, need no replay when the schema matches.
   */
  readonly expectedSchemas?: readonly ExpectedSchema[];
  /**
   * HTTP checks that already failed in preflight, before anything was applied: after the release they are
   * reported, never acted on (the release did not break them). Absent when every check passed or none is set.
   */
  readonly httpChecksFailingBefore?: readonly string[];
  /**
   * The input's resolution of the failed migration (P3009), with the schema evidence preflight found for it; the
   * apply step marks it after the snapshot. Absent when the input resolves nothing.
   */
  readonly resolve?: readonly PlannedResolution[];
  readonly snapshotRequired: boolean;
  readonly skipSnapshotReason?: string;
  readonly dryRun: boolean;
  /** True when there is something to apply and the workflow should go on. */
  readonly proceed: boolean;
  readonly warnings: readonly string[];
}

/**
 * A failed migration the input resolves (`input.resolve`), and the evidence for it: the live schema compared with
 * what the migrations up to it produce (including it for `applied`, excluding it for `rolled-back`).
 */
export interface PlannedResolution {
  readonly migration: string;
  readonly as: 'rolled-back' | 'applied';
  readonly reason: string;
  /** When its failed row was started (from `_prisma_migrations`). */
  readonly failedAt: string;
  readonly evidence: ResolutionEvidence;
}

/** The schema difference a resolution rests on (never row data: Prisma's diff of the schemas). */
export interface ResolutionEvidence {
  /** The migrations replayed in the shadow database: how many, and the last one. */
  readonly comparedWith: { readonly count: number; readonly last: string | null };
  /** True when the live schema is what those migrations produce (tables of the drift ignore list left out). */
  readonly matches: boolean;
  /** The differences (first characters of each statement of Prisma's diff), at most 20. */
  readonly differences: readonly string[];
  /** Differences left out because they name tables of the drift ignore list. */
  readonly ignoredCount: number;
}

/** Preflight's plan of a backup (mode `backup`): take a managed snapshot, then apply the retention policy. */
export interface BackupPlan {
  readonly mode: 'backup';
  readonly targetIdentifier: string;
  /** Always true: the workflow goes on to take the snapshot. */
  readonly proceed: true;
  readonly snapshotRequired: true;
  readonly warnings: readonly string[];
}

/** The managed snapshot a restore brings back, as preflight found and checked it. */
export interface RestoreSource {
  readonly snapshotId: string;
  readonly kind: SnapshotKind;
  /** When it was taken (ISO 8601). */
  readonly createdAt: string;
  /** The execution that took it (its execution tag). */
  readonly execution: string;
  /** What the input asked for: the snapshot's identifier, or `latest`. */
  readonly requested: string;
}

/** Preflight's plan of a restore (mode `restore`): the checked snapshot, restored next to the target and swapped in. */
export interface RestorePlan {
  readonly mode: 'restore';
  readonly targetIdentifier: string;
  readonly source: RestoreSource;
  readonly proceed: true;
  readonly warnings: readonly string[];
}

/** What preflight returns, by mode. */
export type OperationPlan = Plan | BackupPlan | RestorePlan;

/** The account's manual snapshot quota, as read before a snapshot is taken. */
export interface SnapshotQuota {
  readonly used: number;
  readonly max: number;
}

export const SnapshotStatuses = ['creating', 'available', 'failed'] as const;
export type SnapshotStatus = (typeof SnapshotStatuses)[number];

/** Progress of the pre-migration snapshot, carried between the create/check steps. */
export interface SnapshotProgress {
  readonly snapshotId: string;
  readonly sourceIdentifier: string;
  readonly status: SnapshotStatus;
  readonly startedAt: string;
  readonly deadline: string;
  readonly attempts: number;
  /** Seconds the Wait state waits before the next check (exponential backoff, capped). */
  readonly waitSeconds: number;
  readonly adopted?: boolean;
  /** Why it was taken. Absent in states written before backups existed: pre-migration. */
  readonly kind?: SnapshotKind;
  /** The manual snapshot quota read before it was taken, when the provider has one. */
  readonly quota?: SnapshotQuota;
  /** Worth knowing, not failing on (the snapshot quota above 80%). */
  readonly warnings?: readonly string[];
}

/** How long one migration's script took to run (in release mode: inside the release transaction). */
export interface MigrationTiming {
  readonly name: string;
  readonly durationMs: number;
}

/** At most this many migration timings travel in the state document (its size is limited to 256 KB). */
export const MAX_MIGRATION_TIMINGS = 50;

/** Result of applying the migrations. */
export interface ApplyResult {
  readonly applied: readonly string[];
  readonly transactionMode: TransactionMode;
  readonly durationMs: number;
  /**
   * Per applied migration, in the order applied: how long its script ran. Capped at `MAX_MIGRATION_TIMINGS`
   * (the slowest kept); `timingsOmitted` counts the rest.
   */
  readonly timings?: readonly MigrationTiming[];
  /** Applied migrations whose timing was left out of `timings` (the cap). */
  readonly timingsOmitted?: number;
  /**
   * Set when the apply step did not answer and the release was found complete afterwards, from
   * `_prisma_migrations` read on a fresh connection.
   */
  readonly assessed?: boolean;
  /** Lock timeouts retried before the outcome above (each attempt left nothing behind). */
  readonly lockRetries?: readonly LockRetry[];
  /** The failed migrations the apply step resolved (`plan.resolve`) before applying, through Prisma's engine. */
  readonly resolved?: readonly ResolvedMigration[];
}

/** A resolution the apply step performed: `marked` (this run wrote it) or `found` (a retried step found it done). */
export interface ResolvedMigration {
  readonly migration: string;
  readonly as: 'rolled-back' | 'applied';
  readonly how: 'marked' | 'found';
}

/** One lock timeout (PostgreSQL 55P03) that was retried: the attempt, who blocked it, how long the next waited. */
export interface LockRetry {
  /** The attempt that hit the lock timeout (1-based). */
  readonly attempt: number;
  readonly migration: string;
  /** Who held the locks (application, client, state, transaction age, redacted query); '' when unknown. */
  readonly blockers: string;
  /** How long the next attempt waited for. */
  readonly waitMs: number;
}

/** What a failed release committed, read from `_prisma_migrations` on a fresh connection. */
export interface ReleaseEvidence {
  /** Pending migrations of the plan recorded as finished: committed. */
  readonly committed: readonly string[];
  /** Pending migrations with an unfinished row (started, then failed or interrupted). */
  readonly failed: readonly string[];
  /**
   * Failed migrations whose statements may have partly committed: non-atomic scripts, or rows that record no
   * error (interrupted between the script and Prisma's bookkeeping).
   */
  readonly uncertain: readonly string[];
  /**
   * Migrations applied before the release that `_prisma_migrations` no longer records as applied (its rows deleted,
   * or the table gone): the release changed the history itself, so it cannot be unchanged. Absent when none.
   */
  readonly historyLost?: readonly string[];
  /** True when nothing of the release can have committed: no restore is needed. */
  readonly unchanged: boolean;
}

/** A failure while applying, as recorded for the report (no secret, no connection string). */
export interface MigrationFailure {
  readonly migration: string;
  readonly message: string;
  readonly code?: string;
  readonly position?: string;
  readonly applied: readonly string[];
}

/**
 * What a health check looks at: the database itself and its migration history (a rollback must restore
 * those), the user's own SQL checks, schema drift, or the user's HTTP checks (the application's endpoints).
 */
export type HealthCheckKind = 'database' | 'history' | 'user' | 'drift' | 'http';

export interface HealthCheckResult {
  readonly name: string;
  readonly kind?: HealthCheckKind;
  readonly ok: boolean;
  readonly detail: string;
  /** Something worth knowing that does not make the database unhealthy (drift the release did not cause). */
  readonly warning?: string;
}

export interface HealthReport {
  readonly healthy: boolean;
  readonly checks: readonly HealthCheckResult[];
  /** Reported, not acted on: drift the release did not introduce, checks that cannot fail a rollback. */
  readonly warnings?: readonly string[];
  /** After a rollback: what happened, the state the database is in and the one next action. */
  readonly summary?: string;
  /** The bake time waited before these checks ran again (`checks` are then the second run's). */
  readonly bakedSeconds?: number;
}

export const RestoreStatuses = ['restoring', 'available', 'failed'] as const;
export type RestoreStatus = (typeof RestoreStatuses)[number];

/** Progress of the rollback's restore, carried between restore/check/swap. */
export interface RestoreProgress {
  readonly snapshotId: string;
  readonly originalIdentifier: string;
  /** The temporary identifier the snapshot is restored under. */
  readonly restoredIdentifier: string;
  /** Where the failed original is kept after the swap, for forensics. */
  readonly asideIdentifier: string;
  readonly status: RestoreStatus;
  readonly startedAt: string;
  readonly deadline: string;
  readonly attempts: number;
  readonly waitSeconds: number;
}

export const SwapPhases = ['not-started', 'original-renamed', 'complete'] as const;
export type SwapPhase = (typeof SwapPhases)[number];

export interface SwapProgress {
  readonly phase: SwapPhase;
  readonly complete: boolean;
  readonly originalIdentifier: string;
  readonly asideIdentifier: string;
  readonly restoredIdentifier: string;
  readonly waitSeconds: number;
  readonly attempts: number;
}

/** What applying the retention policy kept and deleted, each with its reason. */
export interface RetentionReport {
  readonly kept: readonly { readonly snapshotId: string; readonly why: string }[];
  readonly deleted: readonly { readonly snapshotId: string; readonly why: string }[];
  /** Snapshots the policy would delete that were left (the gateway refused, or they went missing). */
  readonly skipped: readonly { readonly snapshotId: string; readonly why: string }[];
  /** The policy applied, in words (`7 daily, 4 weekly, 12 monthly backups; 10 pre-migration; Europe/Berlin`). */
  readonly policy: string;
}

/** A caught error as Step Functions places it under `resultPath` (`$.error`). */
export interface CaughtError {
  readonly Error: string;
  readonly Cause?: string;
}

/** The state document: the execution input plus what each step added under its own key. */
export interface WorkflowState {
  readonly input: unknown;
  readonly execution: ExecutionInfo;
  readonly plan?: OperationPlan;
  readonly snapshot?: SnapshotProgress;
  readonly apply?: ApplyResult;
  readonly health?: HealthReport;
  readonly error?: CaughtError;
  readonly restore?: RestoreProgress;
  readonly swap?: SwapProgress;
  readonly rollbackHealth?: HealthReport;
  readonly rollbackError?: CaughtError;
  /** Why the rollback-started notification could not be sent (the rollback went on regardless). */
  readonly notifyError?: CaughtError;
  readonly retention?: RetentionReport;
}

/** Where each step writes its result in the state document (the Task state's `ResultPath`). */
export const ResultPaths = {
  preflight: '$.plan',
  'create-snapshot': '$.snapshot',
  'check-snapshot': '$.snapshot',
  'apply-migrations': '$.apply',
  'assess-release': '$.apply',
  'verify-health': '$.health',
  'restore-snapshot': '$.restore',
  'check-restore': '$.restore',
  swap: '$.swap',
  'prune-snapshots': '$.retention',
} as const satisfies Record<Step, string>;

/** Tag keys on what the workflow creates (snapshots, restored copies); `managed-by` also scopes IAM. */
export const TagKeys = {
  managedBy: 'managed-by',
  execution: 'migration-execution',
  release: 'migration-release',
  /** `backup` or `pre-migration` (`SnapshotKinds`). */
  kind: 'snapshot-kind',
  /** The retention rule that governs the snapshot (`retentionClassOf`). */
  retention: 'retention-class',
  source: 'source-identifier',
} as const;
