/**
 * Ports: what the step cores depend on. Adapters in `adapters/` implement them, one per technology
 * (`RdsInstanceSnapshotGateway`, `PostgresSnapshotGateway`, `PrismaMigrationEngine`, `PgHealthProbe`, ...).
 * Cores receive them as plain objects and never import an SDK, `pg` or `process.env`.
 */

import type { DriftBaseline, DriftSettings, ExpectedSchema } from '../domain/drift.js';
import type { SchemaCatalog } from '../domain/lint/rules.js';
import type { ReleaseVerdicts } from '../domain/transaction-fallback.js';
import type {
  AppliedMigration,
  ExecutionInfo,
  HealthReport,
  LockRetry,
  MigrationTiming,
  ResolvedMigration,
  RestoreStatus,
  SnapshotKind,
  SnapshotQuota,
  SnapshotStatus,
  SwapPhase,
  TransactionMode,
} from './contract.js';

/** One migration directory: `migrations/<name>/migration.sql`. */
export interface Migration {
  readonly name: string;
  readonly sql: string;
  /** sha256 hex of the raw `migration.sql` bytes, as Prisma computes it. */
  readonly checksum: string;
}

/** The migrations of a release, as loaded from Prisma's layout. */
export interface MigrationBundle {
  /** The directory they were loaded from, or the release bundle's URI (for messages). */
  readonly directory: string;
  /** Sorted by name, as Prisma applies them. */
  readonly migrations: readonly Migration[];
  /** `provider` of `migration_lock.toml`. */
  readonly provider: string;
  /** What the source noticed and the plan should show (e.g. folder names outside Prisma's layout). */
  readonly warnings?: readonly string[];
  /**
   * Where the migrations came from, as the plan reports it (`bundled at deploy time: ...`,
   * `s3://bucket/key.zip (sha256 0123456789ab…)`). @default - the directory
   */
  readonly source?: string;
}

export interface MigrationSource {
  load(): Promise<MigrationBundle>;
}

// ---------------------------------------------------------------------------------------------------------
// Snapshot gateway

export interface TargetDescription {
  readonly identifier: string;
  /** The provider's status word (`available`, `backing-up`, `modifying`, ...). */
  readonly status: string;
  /** True when the target accepts a snapshot and migrations now. */
  readonly available: boolean;
  readonly engine: string;
}

export interface CreateSnapshotRequest {
  readonly snapshotId: string;
  /**
   * The execution taking the snapshot (the execution ARN; locally the runner's execution id). The gateway
   * tags the snapshot with it (`TagKeys.execution`) and adopts an existing snapshot only when that tag names it.
   */
  readonly executionId: string;
  readonly tags: Readonly<Record<string, string>>;
}

export interface SnapshotDescription {
  readonly snapshotId: string;
  readonly sourceIdentifier: string;
  readonly status: SnapshotStatus;
  /** The provider's own status word, for messages (`creating`, `incompatible-restore`, ...). */
  readonly rawStatus: string;
  readonly tags: Readonly<Record<string, string>>;
}

export interface RestoreRequest {
  readonly snapshotId: string;
  /** The identifier the original has, and that the restored copy will take after the swap. */
  readonly originalIdentifier: string;
  /** A temporary identifier for the restored copy while the original keeps serving. */
  readonly restoredIdentifier: string;
  /**
   * The execution restoring (see `CreateSnapshotRequest.executionId`): the copy is tagged with it, and a copy
   * already under `restoredIdentifier` is adopted only when it was restored by this execution from this snapshot.
   */
  readonly executionId: string;
  readonly tags: Readonly<Record<string, string>>;
}

export interface RestoreDescription {
  readonly identifier: string;
  readonly status: RestoreStatus;
  readonly rawStatus: string;
}

export interface SwapRequest {
  readonly originalIdentifier: string;
  readonly restoredIdentifier: string;
  /** Where the original goes (`<id>-rolledback-<time>`); kept, never deleted by the workflow. */
  readonly asideIdentifier: string;
}

export interface SwapStatus {
  readonly phase: SwapPhase;
  /** True when the restored copy serves under the original identifier. */
  readonly complete: boolean;
}

/**
 * A snapshot this workflow took of the target: tagged `managed-by` with this orchestrator's value and
 * `source-identifier` with the target (for retention, listings and restores).
 */
export interface ManagedSnapshot {
  readonly snapshotId: string;
  /** The provider's name for it (locally: the database name). */
  readonly name: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Its `snapshot-kind` tag; snapshots taken before kinds existed are pre-migration ones. */
  readonly kind: SnapshotKind;
  /** When it was taken (ISO 8601), when known. */
  readonly createdAt?: string;
  /** The provider's status word (`available`, `creating`, ...). */
  readonly status: string;
  /** Allocated size in GiB (RDS) or bytes on disk / 2^30 (locally), when known. */
  readonly sizeGiB?: number;
  /** How the execution that took it ended, when recorded (locally: `succeeded`, ...). */
  readonly outcome?: string;
}

/**
 * Snapshots, restores and the identifier swap of one target database. Every method is idempotent: a
 * retried call of the same execution finds what its previous attempt did and goes on from there. What
 * another execution created is never adopted, even under the same identifier: the `migration-execution` tag
 * (`TagKeys.execution`) decides, not the name.
 */
export interface SnapshotGateway {
  /** The target's identifier (RDS instance id, cluster id, or local database name). */
  readonly targetIdentifier: string;
  describeTarget(): Promise<TargetDescription>;
  /**
   * Starts a snapshot. If one with this id already exists, adopts it only when it was taken of the target by
   * `request.executionId` (its execution tag); otherwise refuses with SnapshotFailed, naming its creator.
   */
  createSnapshot(request: CreateSnapshotRequest): Promise<SnapshotDescription>;
  describeSnapshot(snapshotId: string): Promise<SnapshotDescription | undefined>;
  /**
   * Starts restoring the snapshot under `restoredIdentifier`, with the original's settings. The caller proves
   * first (describeSnapshot, its execution tag) that the snapshot is its own.
   */
  restoreSnapshot(request: RestoreRequest): Promise<RestoreDescription>;
  describeRestore(restoredIdentifier: string): Promise<RestoreDescription | undefined>;
  /**
   * Advances the swap by one step and says where it stands: rename the original aside, then (once that
   * rename has settled) rename the restored copy to the original identifier. Call again until complete.
   */
  swap(request: SwapRequest): Promise<SwapStatus>;
  /**
   * The snapshots this workflow took of the target (both kinds), oldest first: only those tagged `managed-by`
   * with this orchestrator's value and `source-identifier` with the target. Never automated or hand-taken ones.
   */
  listManagedSnapshots(): Promise<readonly ManagedSnapshot[]>;
  /**
   * Deletes snapshot `snapshotId` only when it is one this workflow took of the target (its tags or metadata
   * say so, read again right before the delete); returns false, deleting nothing, otherwise (absent included).
   */
  deleteSnapshot(snapshotId: string): Promise<boolean>;
  /**
   * The account's manual snapshot quota for the target's kind of snapshot (RDS `DescribeAccountAttributes`:
   * `ManualSnapshots` for instances, `ManualClusterSnapshots` for clusters); undefined where there is none.
   */
  snapshotQuota(): Promise<SnapshotQuota | undefined>;
}

// ---------------------------------------------------------------------------------------------------------
// Migration engine

export interface ApplyOptions {
  readonly transactionMode: TransactionMode;
  /**
   * `application_name` of the migration session, so that a later step can find it on the server and end it
   * (see `applySessionName`). @default the connection's own
   */
  readonly applicationName?: string;
  /**
   * Failed migrations to resolve first, as `prisma migrate resolve` does (the engine's `markMigrationRolledBack` /
   * `markMigrationApplied`), on the run's session: inside the release transaction in `release` mode, committed
   * before the first script in `per-migration` mode. @default - none
   */
  readonly resolve?: readonly { readonly migration: string; readonly as: 'rolled-back' | 'applied' }[];
  /**
   * Preflight's verdicts on the pending scripts (the plan's `analysedDigest` and `nonAtomic`): used instead of
   * parsing the scripts again when the pending migrations are exactly the ones preflight read (same names, same
   * checksums); otherwise the scripts are parsed. @default - parsed
   */
  readonly verdicts?: ReleaseVerdicts;
}

export interface ApplyOutcome {
  readonly applied: readonly string[];
  readonly transactionMode: TransactionMode;
  /** Lock timeouts retried before this outcome. @default - none */
  readonly lockRetries?: readonly LockRetry[];
  /** How long each applied migration's script ran, in the order applied (all of them, uncapped). */
  readonly timings?: readonly MigrationTiming[];
  /** The resolutions of `ApplyOptions.resolve`, as performed. @default - none */
  readonly resolved?: readonly ResolvedMigration[];
}

/**
 * Prisma's migration engine over one database. Same semantics and the same `_prisma_migrations` table as
 * `prisma migrate deploy`.
 */
export interface MigrationEngine {
  /** Rows of `_prisma_migrations`, oldest first; empty when the table does not exist yet. */
  readHistory(): Promise<readonly AppliedMigration[]>;
  /**
   * Applies the pending migrations of the bundle. Throws `MigrationFailedError` (some migrations may be
   * committed) or `MigrationFailedDatabaseUnchangedError` (the release transaction was rolled back).
   */
  applyPending(bundle: MigrationBundle, options: ApplyOptions): Promise<ApplyOutcome>;
  /**
   * The tables that exist now (before the release), read from the catalog: what the lint tells an existing table
   * from one the release creates by.
   */
  readSchemaCatalog(): Promise<SchemaCatalog>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------
// Prisma's migration lock

/** A session holding Prisma's migration advisory lock (`pg_advisory_lock(72707369)`) on the target database. */
export interface MigrationLockHolder {
  readonly pid: number;
  readonly applicationName: string;
  /** `host(client_addr)`; undefined for a local socket. */
  readonly clientAddress?: string;
  /** `pg_stat_activity.state` (`active`, `idle`, `idle in transaction`, ...); undefined when not visible. */
  readonly state?: string;
  /** Seconds in that state (`now() - state_change`), when visible. */
  readonly stateSeconds?: number;
  /** Seconds since the session connected, when visible. */
  readonly connectedSeconds?: number;
}

/** Reads and ends the sessions holding Prisma's migration lock, on fresh connections. */
export interface MigrationLockInspector {
  /** Holders of the lock on the target database, other than the inspector's own session. */
  holders(): Promise<readonly MigrationLockHolder[]>;
  /** Ends these sessions (`pg_terminate_backend`), waiting up to a few seconds for each to go. */
  end(pids: readonly number[]): Promise<readonly { pid: number; ended: boolean; message?: string }[]>;
}

// ---------------------------------------------------------------------------------------------------------
// Evidence after a failed release

/**
 * Reads what a failed release left, on fresh connections: the evidence the workflow decides a restore on.
 */
export interface ReleaseInspector {
  /**
   * Ends the sessions whose `application_name` is `applicationName` (the apply step's migration session,
   * which may still be running a statement and holding locks after the step died) and waits until they are
   * gone. Returns how many it ended. Throws when they do not go within `timeoutMs`.
   */
  endSessions(applicationName: string, timeoutMs: number): Promise<number>;
  /** Rows of `_prisma_migrations`, oldest first. */
  readHistory(): Promise<readonly AppliedMigration[]>;
  /**
   * Marks the unfinished rows of these migrations rolled back, as `prisma migrate resolve --rolled-back`
   * does, so the next deploy is not blocked (P3009) by a migration that left nothing behind.
   */
  markRolledBack(migrations: readonly string[]): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------
// Health

export interface HealthExpectation {
  /** Migration names that must be present and finished in `_prisma_migrations`. */
  readonly migrations: readonly string[];
  /**
   * Migrations that must NOT be recorded as applied: after a rollback, those of the failed release (the
   * restored database is at the release before; rows of migrations absent from the directory are fine).
   */
  readonly absent?: readonly string[];
  /**
   * Migrations whose failed row was there before the release (the input resolved it, and a restore brings the row
   * back with the snapshot): reported, not failed on. @default - none: any failed row fails the check
   */
  readonly failedBefore?: readonly string[];
  /** How to judge schema drift, when the probe has a drift detector. @default - drift fails the check */
  readonly drift?: DriftExpectation;
}

export interface DriftExpectation {
  readonly settings: DriftSettings;
  /** Drift measured before the release; what it already held is reported, never failed on. */
  readonly baseline?: DriftBaseline;
  /** The expected schemas preflight computed (see `ExpectedSchema`). @default - none: the engine replays */
  readonly expected?: readonly ExpectedSchema[];
  /**
   * `release`: drift the release introduced fails under the `fail` policy. `report`: drift is only reported
   * (after a rollback: the restored schema is the snapshot's, whatever it is).
   */
  readonly mode: 'release' | 'report';
}

/** What a schema drift check found. */
export interface SchemaDriftResult {
  /** True when the live schema is exactly what the migrations produce. */
  readonly inSync: boolean;
  /** SQL that would turn the migrations' schema into the live one (empty when in sync). */
  readonly script: string;
  /**
   * How it was found: the live schema's fingerprint equal to an expected one (`fingerprint`), or Prisma's engine
   * replaying the migrations and diffing (`engine`). @default engine
   */
  readonly by?: 'fingerprint' | 'engine';
}

/** Compares the live schema with the schema the named migrations produce (replayed in a shadow database). */
export interface SchemaDriftDetector {
  /**
   * The live schema against the named migrations'. With `expected` schemas, one for this very set whose
   * fingerprint the live schema has answers in sync without a replay; any other answer comes from the engine.
   */
  diff(migrations: readonly string[], expected?: readonly ExpectedSchema[]): Promise<SchemaDriftResult>;
  /**
   * The expected schema of each set of migrations (named as for `diff`), replayed once in a temporary database
   * (a set that extends the one before it continues the same replay). A set whose replay fails is left out.
   */
  expectedSchemas?(sets: readonly (readonly string[])[]): Promise<ExpectedSchema[]>;
}

export interface HealthProbe {
  check(expectation: HealthExpectation): Promise<HealthReport>;
}

// ---------------------------------------------------------------------------------------------------------
// One release at a time

/**
 * Knows which executions of the workflow are running against the target, so that two releases (or a
 * release and a rollback) never interleave their snapshots, migrations and swaps.
 */
export interface ExecutionGuard {
  /** Descriptions of the other running executions (empty when this one is alone). */
  othersRunning(current: ExecutionInfo): Promise<readonly string[]>;
}

/** How an execution stands, as retention needs to know it. */
export type ExecutionStatus = 'running' | 'succeeded' | 'failed' | 'unknown';

/**
 * The status of executions of this workflow (on AWS: `DescribeExecution` of the state machine's executions;
 * locally: the outcome the runner recorded). Retention protects the snapshots of executions that are running,
 * or failed and not resolved since.
 */
export interface ExecutionHistory {
  /** The status of each execution id; `unknown` when it cannot be found (Step Functions keeps 90 days). */
  statusOf(executionIds: readonly string[]): Promise<Readonly<Record<string, ExecutionStatus>>>;
  /** How each execution ended, as far as the history tells it (the retry guard names it in its refusal). */
  endingsOf(executionIds: readonly string[]): Promise<Readonly<Record<string, ExecutionEnding>>>;
}

/** How an execution ended, in the history's own words. */
export interface ExecutionEnding {
  readonly status: ExecutionStatus;
  /**
   * How it ended: on AWS the execution status (`FAILED`, `TIMED_OUT`, `ABORTED`: DescribeExecution is called
   * with METADATA_ONLY, and the error and cause are encrypted with the state machine's key, so the status is
   * all it tells); locally the run's outcome and its summary. Absent when unknown.
   */
  readonly how?: string;
}

// ---------------------------------------------------------------------------------------------------------
// Time, so cores stay deterministic under test.

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
