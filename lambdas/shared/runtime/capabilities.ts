/**
 * What a step needs, as capabilities. Each step's wiring (`lambdas/<step>/run.ts`) asks only for the ones it
 * uses; the AWS handler composes them from `runtime/aws/*` (so an RDS-only step never loads `pg`, the SQL parser
 * or Prisma's engine) and the local runner provides them all from its local adapters. The wiring itself exists
 * once, for both.
 */
import type {
  Clock,
  ExecutionGuard,
  ExecutionHistory,
  HealthProbe,
  Migration,
  MigrationEngine,
  MigrationLockInspector,
  MigrationSource,
  ReleaseInspector,
  SchemaDriftDetector,
  SnapshotGateway,
} from '../contract/ports.js';
import type { ReleaseBundleRef } from '../domain/release-bundle.js';
import type { ReleaseAnalysis } from '../domain/transaction-fallback.js';
import type { WorkflowSettings } from './settings.js';

/** What every step has: its settings and the time. */
export interface BaseCapability {
  readonly settings: WorkflowSettings;
  readonly clock: Clock;
}

/** Snapshots, restores and the swap of the target (RDS, Aurora, or local PostgreSQL). */
export interface SnapshotCapability {
  gateway(): Promise<SnapshotGateway>;
}

/** The migrations of the release and the database they go into. */
export interface MigrationsCapability {
  /**
   * The migrations of this execution: the release bundle its input names (`releaseBundleOf(input)`), or, without
   * one, those bundled at deploy time (locally: the run's migrations). Nothing is read before `load()`.
   */
  migrationSource(bundle: ReleaseBundleRef | undefined): MigrationSource;
  databaseName(): Promise<string>;
}

export interface EngineDefaults {
  /** `statement_timeout` of the migration session when the configuration sets none. */
  readonly statementTimeoutMs?: number;
}

/** Prisma's engine (a new one per call, on a new connection: the caller closes it) and the release analysis. */
export interface EngineCapability {
  engine(defaults?: EngineDefaults): Promise<MigrationEngine>;
  analyzeRelease(): Promise<(migrations: readonly Migration[]) => ReleaseAnalysis>;
}

/** Reads what a failed release committed. */
export interface EvidenceCapability {
  releaseInspector(): Promise<ReleaseInspector>;
}

/**
 * Health checks, and the drift detector when the drift check runs (undefined when it does not); both compare the
 * live schema with the execution's migrations, `source`.
 */
export interface HealthCapability {
  healthProbe(source: MigrationSource): Promise<HealthProbe>;
  driftDetector(source: MigrationSource): Promise<SchemaDriftDetector | undefined>;
}

/** Who holds Prisma's migration lock on the target (preflight refuses while one does). */
export interface MigrationLockCapability {
  migrationLock(): Promise<MigrationLockInspector>;
}

/** One release per database at a time. */
export interface GuardCapability {
  executionGuard(): Promise<ExecutionGuard>;
}

/** How earlier executions of the workflow ended (retention protects the snapshots of unresolved ones). */
export interface HistoryCapability {
  executionHistory(): Promise<ExecutionHistory>;
}

/** Everything a step may need: what the local runner provides. */
export type StepRuntime = BaseCapability &
  HistoryCapability &
  SnapshotCapability &
  MigrationsCapability &
  EngineCapability &
  EvidenceCapability &
  HealthCapability &
  GuardCapability &
  MigrationLockCapability;
