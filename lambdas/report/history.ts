/**
 * Reading an execution's history (GetExecutionHistory's events, oldest first): the path through the workflow with
 * each state's time and retries, the last state document, and the messages the workflow published itself. Pure:
 * the events are plain data (the SDK's `HistoryEvent` fits `HistoryEvent` here).
 */
import type { WorkflowState } from '../shared/contract/contract.js';
import type { HistoryEvent } from '../shared/contract/report-ports.js';
import { notificationOfParameters } from '../shared/domain/notification.js';
import type { RecordedNotification, StateType, StateVisit } from '../shared/domain/report.js';

const STATE_TYPES: readonly StateType[] = [
  'Pass',
  'Task',
  'Choice',
  'Wait',
  'Succeed',
  'Fail',
  'Parallel',
  'Map',
];

/** An attempt of a task starts. */
const SCHEDULED = new Set(['TaskScheduled', 'LambdaFunctionScheduled']);

/** An attempt of a task fails (the state's retriers or catchers take it from there). */
const FAILED = new Set([
  'TaskFailed',
  'TaskTimedOut',
  'TaskStartFailed',
  'TaskSubmitFailed',
  'LambdaFunctionFailed',
  'LambdaFunctionTimedOut',
  'LambdaFunctionStartFailed',
  'LambdaFunctionScheduleFailed',
]);

function isoOf(timestamp: Date | string | undefined): string {
  const date = timestamp instanceof Date ? timestamp : new Date(timestamp ?? 0);
  return date.toISOString();
}

function stateTypeOf(eventType: string, suffix: 'StateEntered' | 'StateExited'): StateType | undefined {
  if (!eventType.endsWith(suffix)) return undefined;
  const type = eventType.slice(0, -suffix.length) as StateType;
  return STATE_TYPES.includes(type) ? type : undefined;
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export interface ReadHistory {
  readonly path: StateVisit[];
  /** The input of the last state entered, or the output of the last state left, whichever came last. */
  readonly lastState?: WorkflowState;
  /** Messages the workflow's SNS Publish tasks sent (the tasks that succeeded). */
  readonly notifications: RecordedNotification[];
}

/** Reads the events of one execution, oldest first. */
export function readHistory(events: readonly HistoryEvent[]): ReadHistory {
  const path: {
    -readonly [K in keyof StateVisit]: StateVisit[K];
  }[] = [];
  const attempts: number[] = [];
  const sent = new Map<number, RecordedNotification>();
  let lastState: WorkflowState | undefined;
  for (const event of events) {
    const type = event.type ?? '';
    const at = isoOf(event.timestamp);
    const current = path.at(-1);
    const entered = stateTypeOf(type, 'StateEntered');
    if (entered) {
      const name = event.stateEnteredEventDetails?.name ?? '(unnamed)';
      path.push({ state: name, type: entered, enteredAt: at, failed: false, retries: 0 });
      attempts.push(0);
      const document = parseJson(event.stateEnteredEventDetails?.input);
      if (isStateDocument(document)) lastState = document;
      continue;
    }
    if (!current) continue;
    const index = path.length - 1;
    if (stateTypeOf(type, 'StateExited')) {
      current.leftAt = at;
      current.failed = false;
      const document = parseJson(event.stateExitedEventDetails?.output);
      if (isStateDocument(document)) lastState = document;
    } else if (SCHEDULED.has(type)) {
      attempts[index] = (attempts[index] ?? 0) + 1;
      current.retries = Math.max(0, (attempts[index] ?? 1) - 1);
      current.failed = false;
      delete current.leftAt;
      const details = event.taskScheduledEventDetails;
      if (details?.resourceType === 'sns' && details.resource?.startsWith('publish')) {
        const notification = notificationOfParameters(current.state, parseJson(details.parameters));
        if (notification) sent.set(index, notification);
      }
    } else if (FAILED.has(type)) {
      current.failed = true;
      current.leftAt = at;
    }
  }
  const notifications = [...sent.entries()]
    .filter(([index]) => path[index] && !path[index].failed)
    .map(([, notification]) => notification);
  return { path, ...(lastState ? { lastState } : {}), notifications };
}

function isStateDocument(value: unknown): value is WorkflowState {
  return value !== null && typeof value === 'object' && 'execution' in value;
}
