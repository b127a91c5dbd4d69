/**
 * The metrics of one ended execution, as an Embedded Metric Format document (CloudWatch extracts the metrics from
 * the report function's log line; no `PutMetricData` call, no permission): `Executions` by outcome (what the
 * construct's outcome alarms watch, `RollbackFailed` first), and the apply, snapshot and restore durations the
 * report measured. Pure: the same report, the same document.
 */
import { OutcomeErrors, StateNames } from '../shared/contract/contract.js';
import { METRICS_NAMESPACE, MetricDimensions, MetricNames } from '../shared/contract/metrics.js';
import type { ExecutionReport } from '../shared/contract/report-schema.js';

/** An Embedded Metric Format document: the directive under `_aws`, the dimension and metric values at the root. */
export interface EmfDocument {
  readonly _aws: {
    readonly Timestamp: number;
    readonly CloudWatchMetrics: readonly {
      readonly Namespace: string;
      readonly Dimensions: readonly (readonly string[])[];
      readonly Metrics: readonly { readonly Name: string; readonly Unit: string }[];
    }[];
  };
  readonly [field: string]: unknown;
}

/** The states whose time, summed, is the snapshot's duration (create, then wait and check until available). */
export const SNAPSHOT_STATES = [
  StateNames.createSnapshot,
  StateNames.waitForSnapshot,
  StateNames.checkSnapshot,
  StateNames.snapshotReady,
] as const;

/** The states whose time, summed, is the restore's duration (restore, then wait and check until available). */
export const RESTORE_STATES = [
  StateNames.restoreSnapshot,
  StateNames.waitForRestore,
  StateNames.checkRestore,
  StateNames.restoreReady,
] as const;

const OUTCOMES: ReadonlySet<string> = new Set(Object.values(OutcomeErrors));

/**
 * The `Outcome` dimension of an execution: its outcome error when it failed with one of `OutcomeErrors`, else
 * its status (`SUCCEEDED`, `TIMED_OUT`, `ABORTED`, or `FAILED` for an error the workflow does not name, such as
 * `States.Runtime`). A closed set, so the metric has a bounded number of dimension values.
 */
export function outcomeOf(report: ExecutionReport): string {
  const error = report.outcome.error;
  if (report.execution.status === 'FAILED' && error !== undefined && OUTCOMES.has(error)) return error;
  return report.execution.status;
}

/** Milliseconds spent in `states` (summed over their visits), or undefined when the execution entered none. */
function timeIn(report: ExecutionReport, states: readonly string[]): number | undefined {
  const spent = states.map((state) => report.durations.byState[state]).filter((ms) => ms !== undefined);
  return spent.length === 0 ? undefined : spent.reduce((sum, ms) => sum + ms, 0);
}

/** The EMF document of the ended execution `report` of the state machine `stateMachine`, stamped `at`. */
export function executionMetrics(report: ExecutionReport, stateMachine: string, at: Date): EmfDocument {
  const durations: [string, number | undefined][] = [
    [MetricNames.applyDuration, report.migrations?.durationMs],
    [MetricNames.snapshotDuration, timeIn(report, SNAPSHOT_STATES)],
    [MetricNames.restoreDuration, timeIn(report, RESTORE_STATES)],
  ];
  const measured = durations.filter((entry): entry is [string, number] => entry[1] !== undefined);
  return {
    _aws: {
      Timestamp: at.getTime(),
      CloudWatchMetrics: [
        {
          Namespace: METRICS_NAMESPACE,
          Dimensions: [[MetricDimensions.stateMachine, MetricDimensions.outcome]],
          Metrics: [{ Name: MetricNames.executions, Unit: 'Count' }],
        },
        ...(measured.length === 0
          ? []
          : [
              {
                Namespace: METRICS_NAMESPACE,
                Dimensions: [[MetricDimensions.stateMachine]],
                Metrics: measured.map(([name]) => ({ Name: name, Unit: 'Milliseconds' })),
              },
            ]),
      ],
    },
    [MetricDimensions.stateMachine]: stateMachine,
    [MetricDimensions.outcome]: outcomeOf(report),
    [MetricNames.executions]: 1,
    ...Object.fromEntries(measured),
  };
}
