/**
 * The report step's core: from an EventBridge "Step Functions Execution Status Change" event of the workflow,
 * read the execution (DescribeExecution) and its history (GetExecutionHistory), build the report with the same
 * `buildReport` the local runner uses, store it under `reports/<state machine>/<execution>.json`, and publish the
 * readable message to the notification topic. It is not a workflow step: EventBridge invokes it once the
 * execution ended.
 */

import type { WorkflowState } from '../shared/contract/contract.js';
import { InvalidInputError } from '../shared/contract/errors.js';
import type { Clock } from '../shared/contract/ports.js';
import type {
  ExecutionReader,
  MetricsPublisher,
  Notifier,
  ReportStore,
} from '../shared/contract/report-ports.js';
import type { ExecutionReport } from '../shared/contract/report-schema.js';
import { statusChangeMessage } from '../shared/domain/notification.js';
import { buildReport } from '../shared/domain/report.js';
import { executionMetrics } from './execution-metrics.js';
import { readHistory } from './history.js';

/** The fields of the EventBridge event this core reads. */
export interface ExecutionStatusChangeEvent {
  readonly source?: string;
  readonly 'detail-type'?: string;
  readonly region?: string;
  readonly detail?: { readonly executionArn?: string; readonly status?: string };
}

export interface ReportExecutionDeps {
  readonly reader: ExecutionReader;
  readonly store: ReportStore;
  readonly notifier: Notifier;
  /** Receives the execution's metrics (outcome, durations) before the report is stored. */
  readonly metrics: MetricsPublisher;
  readonly clock: Clock;
}

export interface ReportExecutionResult {
  readonly key: string;
  readonly location: string;
  readonly report: ExecutionReport;
}

/** The report's key: `reports/<state machine name>/<execution name>.json`. */
export function reportKey(stateMachineName: string, executionName: string): string {
  return `reports/${stateMachineName}/${executionName}.json`;
}

/** `arn:<partition>:states:<region>:<account>:execution:<state machine>:<name>` -> its parts. */
function partsOf(executionArn: string): { region: string; stateMachine: string; name: string } {
  const [arn, , service, region, , type, stateMachine, name] = executionArn.split(':');
  if (arn !== 'arn' || service !== 'states' || type !== 'execution' || !region || !stateMachine || !name) {
    throw new InvalidInputError(
      `The event's detail.executionArn is not a Step Functions execution ARN (received ${JSON.stringify(executionArn)}). ` +
        'The report function is invoked by the EventBridge rule of the MigrationOrchestrator construct only.',
    );
  }
  return { region, stateMachine, name };
}

function parse(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export async function reportExecution(
  raw: unknown,
  deps: ReportExecutionDeps,
): Promise<ReportExecutionResult> {
  const event = (raw ?? {}) as ExecutionStatusChangeEvent;
  const executionArn = event.detail?.executionArn;
  if (event.source !== 'aws.states' || typeof executionArn !== 'string') {
    throw new InvalidInputError(
      `Expected an EventBridge "Step Functions Execution Status Change" event with detail.executionArn (received source ` +
        `${JSON.stringify(event.source)}, detail-type ${JSON.stringify(event['detail-type'])}).`,
    );
  }
  const { region, stateMachine, name } = partsOf(executionArn);
  const [execution, events] = await Promise.all([
    deps.reader.describe(executionArn),
    deps.reader.history(executionArn),
  ]);
  const history = readHistory(events);
  const output = parse(execution.output);
  const state = (
    execution.status === 'SUCCEEDED' && output && typeof output === 'object' ? output : history.lastState
  ) as WorkflowState | undefined;
  const report = buildReport({
    runtime: 'aws',
    execution: {
      name: execution.name,
      arn: execution.executionArn,
      stateMachine,
      status: execution.status,
      startedAt: execution.startDate.toISOString(),
      ...(execution.stopDate ? { stoppedAt: execution.stopDate.toISOString() } : {}),
      consoleUrl: `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`,
    },
    input: parse(execution.input) ?? null,
    ...(state ? { state } : {}),
    path: history.path,
    ...(execution.error
      ? { error: { name: execution.error, ...(execution.cause ? { cause: execution.cause } : {}) } }
      : {}),
    notifications: history.notifications,
    generatedAt: deps.clock.now().toISOString(),
  });
  // First, so that a failing S3 or SNS cannot keep the outcome alarms (RollbackFailed) from firing; a retried
  // invocation counts the execution again, which an alarm on "at least 1" tolerates.
  deps.metrics.publish(executionMetrics(report, stateMachine, deps.clock.now()));
  const key = reportKey(stateMachine, name);
  const location = await deps.store.put(key, `${JSON.stringify(report, null, 2)}\n`);
  await deps.notifier.publish(statusChangeMessage(report, location));
  return { key, location, report };
}
