/**
 * The workflow's own CloudWatch metrics, in Embedded Metric Format: the report function writes one document per
 * ended execution (outcome, durations), and the steps write theirs when the fact happens (Powertools Metrics,
 * `runtime/step-metrics.ts`: migrations applied, rollbacks started). Each name has one writer. The alarms and the
 * dashboard of the construct (`lib/private/alarms.ts`) read them. Both sides import these names, so the alarm
 * cannot watch a metric nobody emits.
 */

/** The CloudWatch namespace of the workflow's own metrics. */
export const METRICS_NAMESPACE = 'PrismaMigrationOrchestrator';

/** Metric names. */
export const MetricNames = {
  /**
   * One per ended execution (Count), by outcome: the execution's `OutcomeErrors` value when it failed with one,
   * else its status (`SUCCEEDED`, `FAILED`, `TIMED_OUT`, `ABORTED`).
   */
  executions: 'Executions',
  /** The apply step of a `migrate` execution (Milliseconds). */
  applyDuration: 'ApplyDuration',
  /** Creating the snapshot until it was available: create, wait and check states summed (Milliseconds). */
  snapshotDuration: 'SnapshotDuration',
  /** Restoring a snapshot until the copy was available: restore, wait and check states summed (Milliseconds). */
  restoreDuration: 'RestoreDuration',
  /**
   * Migrations a release applied (Count, the number of them), written by the apply step when it succeeds, or by
   * the assess step when it finds the release complete after the apply step died.
   */
  migrationsApplied: 'MigrationsApplied',
  /** One per rollback started (Count): the restore step of a `migrate` execution started (or adopted) the restore. */
  rollbacks: 'Rollbacks',
} as const;

/** Dimension names: every metric has `StateMachineName`; `Executions` has `Outcome` too. */
export const MetricDimensions = {
  stateMachine: 'StateMachineName',
  outcome: 'Outcome',
} as const;
