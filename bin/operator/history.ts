/**
 * An AWS execution's history read as the local runner reports a run: `GetExecutionHistory` events become the
 * same `RunEvent`s (entered, exited, failed, retried, caught), and the terminal event the same outcome and exit
 * code. What the two runtimes record differs in shape only:
 *
 *   local (aws-local-stepfunctions)          AWS history
 *   StateEntered / StateExited               <Type>StateEntered / <Type>StateExited
 *   StateFailed (a step threw)               LambdaFunctionFailed, TaskFailed, ...TimedOut, ...StartFailed
 *   StateRetried                             the step scheduled again before its state is left
 *   StateCaught                              its state left after a failure (the Catch's next state follows)
 *   StateFailed of a Fail state              FailStateEntered, then ExecutionFailed with the Fail's error
 */
import {
  GetExecutionHistoryCommand,
  type GetExecutionHistoryCommandOutput,
  type HistoryEvent,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import type { OperationPlan, WorkflowState } from '../../lambdas/shared/contract/contract.js';
import { StateNames } from '../../lambdas/shared/contract/contract.js';
import { type Outcome, outcomeOfError, outcomeOfSuccess } from '../../lib/local/outcomes.js';
import type { RunEvent } from '../../lib/local/runner.js';
import { aws } from './errors.js';
import { regionOfArn } from './locate.js';

/** How an execution ended, as its last history event (or DescribeExecution) says. */
export interface ExecutionEnd {
  readonly status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  readonly at: Date;
  readonly error?: string;
  readonly cause?: string;
  /** The execution's output (JSON), when it succeeded and the history carries it. */
  readonly output?: string;
}

/** The Succeed states, each with the outcome it ends in (`Nothing to do` is also where a dry run ends). */
const SUCCEED_OUTCOMES: Record<string, Outcome> = {
  [StateNames.succeeded]: 'succeeded',
  [StateNames.nothingToDo]: 'nothing-to-do',
  [StateNames.backupTaken]: 'backup-taken',
  [StateNames.backupRestored]: 'backup-restored',
};

/**
 * The local outcome of an AWS execution. Succeeded: from its output, as the local runner decides (a dry run
 * with pending migrations is `dry-run`), or from the Succeed state it ended in when the output is not readable.
 * Failed: from the Fail state's error (`OutcomeErrors`), any other error being a failed rollback, as locally.
 * Timed out or aborted: the workflow stopped wherever it was, so what it did is unknown (`outcome-unknown`).
 */
export function outcomeOfExecution(end: ExecutionEnd, succeedState?: string): Outcome {
  switch (end.status) {
    case 'SUCCEEDED': {
      const output = parseState(end.output);
      if (output?.plan) return outcomeOfSuccess(output);
      return (succeedState && SUCCEED_OUTCOMES[succeedState]) || 'succeeded';
    }
    case 'FAILED':
      return outcomeOfError(end.error);
    case 'TIMED_OUT':
    case 'ABORTED':
      return 'outcome-unknown';
  }
}

/** A state document parsed from an event's input or output, when it is one (it carries `execution`). */
export function parseState(json: string | undefined): WorkflowState | undefined {
  if (!json) return undefined;
  try {
    const parsed = JSON.parse(json) as unknown;
    return parsed && typeof parsed === 'object' && 'execution' in parsed
      ? (parsed as WorkflowState)
      : undefined;
  } catch {
    return undefined;
  }
}

const STATE_EVENT = /^(Task|Choice|Wait|Pass|Succeed|Fail|Parallel|Map)State(Entered|Exited)$/;

/** Events that say the state's step failed (its Retry or Catch decides what happens next). */
const STEP_FAILURES: Record<string, keyof HistoryEvent> = {
  LambdaFunctionFailed: 'lambdaFunctionFailedEventDetails',
  LambdaFunctionTimedOut: 'lambdaFunctionTimedOutEventDetails',
  LambdaFunctionScheduleFailed: 'lambdaFunctionScheduleFailedEventDetails',
  LambdaFunctionStartFailed: 'lambdaFunctionStartFailedEventDetails',
  TaskFailed: 'taskFailedEventDetails',
  TaskTimedOut: 'taskTimedOutEventDetails',
  TaskStartFailed: 'taskStartFailedEventDetails',
  TaskSubmitFailed: 'taskSubmitFailedEventDetails',
};

const STEP_SCHEDULED = new Set(['LambdaFunctionScheduled', 'TaskScheduled']);

/**
 * Reads history events in order (they may arrive a page or a poll at a time) and returns the `RunEvent`s each
 * one means, keeping what the summary needs: the path, the last state document, the end.
 */
export class HistoryTranslator {
  /** State names in the order they were entered. */
  readonly path: string[] = [];
  /** The execution's input. */
  input: unknown;
  /** The final state document (on success) or the last one seen (on failure). */
  lastState: WorkflowState | undefined;
  /** The Succeed state the execution ended in. */
  succeedState: string | undefined;
  end: ExecutionEnd | undefined;
  startedAt: Date | undefined;
  private open: { name: string; type: string; failed: boolean } | undefined;

  push(event: HistoryEvent): RunEvent[] {
    const at = event.timestamp ?? new Date();
    if (event.type === 'ExecutionStarted') {
      this.startedAt = at;
      this.input = parseJson(event.executionStartedEventDetails?.input);
      return [];
    }
    const elapsedMs = Math.max(0, at.getTime() - (this.startedAt ?? at).getTime());
    const type = event.type ?? '';
    const state = STATE_EVENT.exec(type);
    if (state) {
      const [, stateType = '', edge] = state;
      if (edge === 'Entered') {
        const name = event.stateEnteredEventDetails?.name ?? '?';
        this.path.push(name);
        this.open = { name, type: stateType, failed: false };
        if (stateType === 'Succeed') this.succeedState = name;
        this.keep(event.stateEnteredEventDetails?.input);
        return [{ type: 'entered', state: name, stateType, elapsedMs }];
      }
      const name = event.stateExitedEventDetails?.name ?? this.open?.name ?? '?';
      const events: RunEvent[] = [];
      if (this.open?.failed) events.push({ type: 'caught', state: name, stateType, elapsedMs });
      events.push({ type: 'exited', state: name, stateType, elapsedMs });
      this.open = undefined;
      this.keep(event.stateExitedEventDetails?.output);
      return events;
    }
    const failure = STEP_FAILURES[type];
    if (failure && this.open) {
      const details = event[failure] as { error?: string } | undefined;
      this.open.failed = true;
      return [this.failedEvent(elapsedMs, details?.error ?? type)];
    }
    if (STEP_SCHEDULED.has(type) && this.open?.failed) {
      this.open.failed = false;
      return [{ type: 'retried', state: this.open.name, stateType: this.open.type, elapsedMs }];
    }
    switch (type) {
      case 'ExecutionSucceeded': {
        const output = event.executionSucceededEventDetails?.output;
        this.end = { status: 'SUCCEEDED', at, ...(output !== undefined ? { output } : {}) };
        this.keep(output);
        return [];
      }
      case 'ExecutionFailed':
        return this.ended('FAILED', at, elapsedMs, event.executionFailedEventDetails);
      case 'ExecutionTimedOut':
        return this.ended('TIMED_OUT', at, elapsedMs, event.executionTimedOutEventDetails, 'States.Timeout');
      case 'ExecutionAborted':
        return this.ended('ABORTED', at, elapsedMs, event.executionAbortedEventDetails, 'States.Aborted');
      default:
        return [];
    }
  }

  private ended(
    status: ExecutionEnd['status'],
    at: Date,
    elapsedMs: number,
    details: { error?: string | undefined; cause?: string | undefined } | undefined,
    defaultError?: string,
  ): RunEvent[] {
    const error = details?.error ?? defaultError;
    this.end = {
      status,
      at,
      ...(error !== undefined ? { error } : {}),
      ...(details?.cause !== undefined ? { cause: details.cause } : {}),
    };
    // A Fail state ends the execution with its error; a state still open otherwise failed without a catch.
    const open = this.open;
    this.open = undefined;
    if (!open || (open.failed && open.type !== 'Fail')) return [];
    return [{ type: 'failed', state: open.name, stateType: open.type, elapsedMs, detail: error ?? 'error' }];
  }

  private failedEvent(elapsedMs: number, error: string): RunEvent {
    const open = this.open ?? { name: '?', type: 'Task' };
    return { type: 'failed', state: open.name, stateType: open.type, elapsedMs, detail: error };
  }

  private keep(json: string | undefined): void {
    const state = parseState(json);
    if (state) this.lastState = state;
  }
}

function parseJson(json: string | undefined): unknown {
  if (json === undefined) return undefined;
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return undefined;
  }
}

/** What following an execution to its end found. */
export interface FollowedExecution {
  readonly end: ExecutionEnd;
  readonly outcome: Outcome;
  readonly startedAt: Date | undefined;
  readonly path: readonly string[];
  readonly input: unknown;
  readonly lastState: WorkflowState | undefined;
  readonly plan: OperationPlan | undefined;
}

export interface FollowOptions {
  readonly client: SFNClient;
  readonly executionArn: string;
  /** Receives each state event as the history reveals it. */
  readonly onEvent?: (event: RunEvent) => void;
  /** Between two reads of a running execution's history. @default 2000 */
  readonly intervalMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const PAGE_SIZE = 1000;

/**
 * Follows an execution to its end: reads its history (every page), reports each new event, and while it runs,
 * reads again after `intervalMs`, from the page where the last read ended (a page grows until it is full).
 */
export async function followExecution(options: FollowOptions): Promise<FollowedExecution> {
  const translator = new HistoryTranslator();
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((done) => setTimeout(done, ms)));
  const region = regionOfArn(options.executionArn);
  const call = {
    action: 'states:GetExecutionHistory',
    resource: options.executionArn,
    ...(region ? { region } : {}),
  };
  let lastId = 0;
  let resumeFrom: string | undefined;
  for (;;) {
    let token = resumeFrom;
    do {
      const page: GetExecutionHistoryCommandOutput = await aws(call, () =>
        options.client.send(
          new GetExecutionHistoryCommand({
            executionArn: options.executionArn,
            maxResults: PAGE_SIZE,
            includeExecutionData: true,
            ...(token ? { nextToken: token } : {}),
          }),
        ),
      );
      for (const event of page.events ?? []) {
        if ((event.id ?? 0) <= lastId) continue;
        lastId = event.id ?? lastId;
        for (const runEvent of translator.push(event)) options.onEvent?.(runEvent);
      }
      if (page.nextToken) {
        resumeFrom = page.nextToken;
        token = page.nextToken;
      } else token = undefined;
    } while (token);
    const end = translator.end;
    if (end) {
      const outcome = outcomeOfExecution(end, translator.succeedState);
      return {
        end,
        outcome,
        startedAt: translator.startedAt,
        path: translator.path,
        input: translator.input,
        lastState: translator.lastState,
        plan: translator.lastState?.plan,
      };
    }
    await sleep(options.intervalMs ?? 2000);
  }
}
