/**
 * The local run's report and notifications: the runner records the path (from its state events) and the messages
 * the workflow's SNS Publish tasks would have sent, then writes `.reports/<execution>.json` with the same
 * `buildReport` the report Lambda uses on AWS.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ExecutionInfo, WorkflowState } from '../../lambdas/shared/contract/contract.js';
import type { ExecutionReport } from '../../lambdas/shared/contract/report-schema.js';
import { notificationOfParameters } from '../../lambdas/shared/domain/notification.js';
import {
  buildReport,
  type ExecutionStatus,
  type RecordedNotification,
  type StateType,
  type StateVisit,
} from '../../lambdas/shared/domain/report.js';

/** Where local reports go, relative to the working directory (git-ignored). */
export const LOCAL_REPORTS_DIR = '.reports';

/** The resource of Step Functions' SNS Publish integration, as the synthesized definition names it. */
export function isSnsPublish(resource: string | undefined): boolean {
  return resource !== undefined && /^arn:[^:]+:states:::sns:publish$/.test(resource);
}

/** The state events the runner emits (`RunEvent`), as the trace reads them. */
interface TracedEvent {
  readonly type: 'entered' | 'exited' | 'failed' | 'retried' | 'caught';
  readonly state: string;
  readonly stateType: string;
  readonly elapsedMs: number;
}

/** Records the path of a run from its state events, and the notifications its SNS Publish tasks sent. */
export class RunTrace {
  private readonly visits: { -readonly [K in keyof StateVisit]: StateVisit[K] }[] = [];
  readonly notifications: RecordedNotification[] = [];

  constructor(private readonly startedMs: number) {}

  /** A listener that records `event`, then passes it on to `next`. */
  listener<E extends TracedEvent>(next?: (event: E) => void): (event: E) => void {
    return (event) => {
      this.record(event);
      next?.(event);
    };
  }

  /** The local handler of an SNS Publish Task state: records the message (the CLI prints it), sends nothing. */
  snsPublishHandler(
    state: string,
    onNotification?: (notification: RecordedNotification) => void,
  ): (parameters: unknown) => Promise<{ MessageId: string }> {
    return async (parameters) => {
      const notification = notificationOfParameters(state, parameters) ?? { state, message: '' };
      this.notifications.push(notification);
      onNotification?.(notification);
      return { MessageId: `local-${this.notifications.length}` };
    };
  }

  get path(): readonly StateVisit[] {
    return this.visits;
  }

  private at(elapsedMs: number): string {
    return new Date(this.startedMs + elapsedMs).toISOString();
  }

  private record(event: TracedEvent): void {
    const current = this.visits.at(-1);
    switch (event.type) {
      case 'entered':
        this.visits.push({
          state: event.state,
          type: event.stateType as StateType,
          enteredAt: this.at(event.elapsedMs),
          failed: false,
          retries: 0,
        });
        break;
      case 'exited':
        if (current) current.leftAt = this.at(event.elapsedMs);
        break;
      case 'retried':
        if (current) current.retries += 1;
        break;
      case 'failed':
      case 'caught':
        if (current) {
          current.failed = true;
          current.leftAt ??= this.at(event.elapsedMs);
        }
        break;
    }
  }
}

/** What the runner knows at the end of a run. */
export interface LocalReportRun {
  readonly execution: ExecutionInfo;
  readonly input: unknown;
  readonly state: WorkflowState;
  readonly error?: { readonly name: string; readonly cause: string };
  readonly succeeded: boolean;
  readonly interrupted: boolean;
  readonly stoppedMs: number;
}

/** The report of a local run. */
export function localReport(trace: RunTrace, run: LocalReportRun): ExecutionReport {
  const status: ExecutionStatus = run.interrupted ? 'ABORTED' : run.succeeded ? 'SUCCEEDED' : 'FAILED';
  return buildReport({
    runtime: 'local',
    execution: {
      name: run.execution.name,
      arn: run.execution.id,
      status,
      startedAt: run.execution.startedAt,
      stoppedAt: new Date(run.stoppedMs).toISOString(),
    },
    input: run.input ?? {},
    state: run.state,
    path: trace.path,
    ...(run.error ? { error: run.error } : {}),
    notifications: trace.notifications,
    generatedAt: new Date(run.stoppedMs).toISOString(),
  });
}

/** Writes `report` as `<directory>/<execution>.json`; returns the file's absolute path. */
export async function writeLocalReport(
  report: ExecutionReport,
  directory = LOCAL_REPORTS_DIR,
): Promise<string> {
  const dir = resolve(directory);
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${report.execution.name}.json`);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}
