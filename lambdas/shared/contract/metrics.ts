/**
 * The workflow's own CloudWatch metrics: written by the report function (Embedded Metric Format, one document per
 * ended execution) and read by the alarms and the dashboard of the construct (`lib/private/alarms.ts`). Both
 * import these names, so the alarm cannot watch a metric nobody emits.
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
} as const;

/** Dimension names: every metric has `StateMachineName`; `Executions` has `Outcome` too. */
export const MetricDimensions = {
  stateMachine: 'StateMachineName',
  outcome: 'Outcome',
} as const;
