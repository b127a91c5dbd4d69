/**
 * The ports of the execution report and the notifications (see `lambdas/report/`): reading an execution of the
 * workflow, storing its report, and publishing a message to the notification topic.
 */
import type { NotificationMessage } from '../domain/notification.js';
import type { ExecutionStatus } from '../domain/report.js';

/** An execution as DescribeExecution answers it (input and output are the JSON strings, decrypted). */
export interface DescribedExecution {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: ExecutionStatus;
  readonly startDate: Date;
  readonly stopDate?: Date;
  readonly input?: string;
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
}

/** The fields of a GetExecutionHistory event the report reads (the SDK's `HistoryEvent` fits it). */
export interface HistoryEvent {
  readonly timestamp?: Date | string;
  readonly type?: string;
  readonly stateEnteredEventDetails?: { readonly name?: string; readonly input?: string };
  readonly stateExitedEventDetails?: { readonly name?: string; readonly output?: string };
  readonly taskScheduledEventDetails?: {
    readonly resourceType?: string;
    readonly resource?: string;
    readonly parameters?: string;
  };
}

/** Reads an execution of the workflow and its history. */
export interface ExecutionReader {
  describe(executionArn: string): Promise<DescribedExecution>;
  /** Every event of the execution, oldest first, with the state documents. */
  history(executionArn: string): Promise<readonly HistoryEvent[]>;
}

/** Where reports are kept. */
export interface ReportStore {
  /** Stores the report JSON under `key`; returns where it is (an `s3://` URI or a path). */
  put(key: string, body: string): Promise<string>;
}

/** The notification topic. */
export interface Notifier {
  publish(message: NotificationMessage): Promise<void>;
}

/** Where the metrics of an ended execution go (an Embedded Metric Format document, see `execution-metrics.ts`). */
export interface MetricsPublisher {
  publish(document: object): void;
}
