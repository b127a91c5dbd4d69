/**
 * The metrics the steps write when the fact happens (the report function writes the per-execution ones: outcome
 * and durations, `lambdas/report/execution-metrics.ts`): migrations applied, from the apply result; a rollback
 * started, from the restore step of a migration. Pure: a step's result and state document in, metric values out;
 * the handler factory adds them to Powertools Metrics with the `StateMachineName` dimension.
 */
import type { ApplyResult, WorkflowState } from '../contract/contract.js';
import { MetricNames } from '../contract/metrics.js';
import { modeOf } from '../contract/state.js';

export type MetricName = (typeof MetricNames)[keyof typeof MetricNames];

export interface StepMetric {
  readonly name: MetricName;
  readonly unit: 'Count' | 'Milliseconds';
  readonly value: number;
}

/** What a step measured in one successful run, from its result and the state document it received. */
export type StepMetrics<T> = (result: T, event: unknown) => readonly StepMetric[];

/** The state machine's name, from the execution ARN of the state document (`...:execution:<name>:<execution>`). */
export function stateMachineNameOf(event: unknown): string | undefined {
  const id = (event as { execution?: { id?: unknown } } | null | undefined)?.execution?.id;
  if (typeof id !== 'string') return undefined;
  const parts = id.split(':');
  return parts.length === 8 && parts[0] === 'arn' && parts[5] === 'execution' && parts[6]
    ? parts[6]
    : undefined;
}

/** The apply step, and the assess step that found the release complete: how many migrations the release applied. */
export const applyMetrics: StepMetrics<ApplyResult> = (result) => [
  { name: MetricNames.migrationsApplied, unit: 'Count', value: result.applied.length },
];

/** The restore step: a rollback started, unless the execution is a restore the input asked for. */
export const restoreMetrics: StepMetrics<unknown> = (_result, event) =>
  modeOf((event ?? {}) as WorkflowState) === 'migrate'
    ? [{ name: MetricNames.rollbacks, unit: 'Count', value: 1 }]
    : [];
