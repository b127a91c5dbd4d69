/**
 * The keys that tie a log line to its execution: the step, the Task state that invoked it, the execution's name,
 * the release, the target and the Lambda request id. Read from the state document as Step Functions passes it
 * (the whole document is each Task's payload) and from the function's configuration; absent keys are left out.
 *
 * The Task state's name is not in the payload: it is derived from the step with the routing table, which names
 * the one Task state of each step; the verify-health step runs in two (before and after a rollback), told apart
 * by the state document as the step itself tells them apart.
 */
import { StateNames, type Step, type WorkflowState } from '../contract/contract.js';
import { type LambdaTaskKey, Routing, type TaskKey } from '../contract/routing.js';
import { isAfterRollback } from '../contract/state.js';

/** The steps that more than one Task state invokes, and which of them it is for a state document. */
const SHARED_STEPS: Partial<Record<Step, (state: WorkflowState) => LambdaTaskKey>> = {
  'verify-health': (state) => (isAfterRollback(state) ? 'verifyRollbackHealth' : 'verifyHealth'),
};

/** The Task states of each step, from the routing table. */
function taskKeysOf(step: Step): LambdaTaskKey[] {
  return (Object.keys(Routing) as TaskKey[]).filter(
    (key): key is LambdaTaskKey => (Routing[key] as { step?: Step }).step === step,
  );
}

function isStateDocument(event: unknown): event is WorkflowState {
  return typeof event === 'object' && event !== null && !Array.isArray(event);
}

/** The name of the Task state that invoked `step` with `event`, or undefined when it cannot be told. */
export function taskStateOf(step: Step, event: unknown): string | undefined {
  const keys = taskKeysOf(step);
  if (keys.length === 1) return StateNames[keys[0] as LambdaTaskKey];
  const resolve = SHARED_STEPS[step];
  if (!resolve || !isStateDocument(event)) return undefined;
  const key = resolve(event);
  return keys.includes(key) ? StateNames[key] : undefined;
}

/** What a step's log lines carry besides the step: `state`, `execution`, `release`, `target`, `requestId`. */
export function correlationOf(
  step: Step,
  event: unknown,
  requestId: string | undefined,
  target: string | undefined,
): Record<string, string> {
  const state = (isStateDocument(event) ? event : {}) as {
    execution?: { name?: unknown };
    input?: { release?: unknown };
  };
  const keys: Record<string, string> = {};
  const taskState = taskStateOf(step, event);
  if (taskState !== undefined) keys.state = taskState;
  if (typeof state.execution?.name === 'string') keys.execution = state.execution.name;
  if (typeof state.input?.release === 'string') keys.release = state.input.release;
  if (target !== undefined && target !== '') keys.target = target;
  if (typeof requestId === 'string' && requestId !== '') keys.requestId = requestId;
  return keys;
}

/**
 * The report function's keys: the execution's name (the last part of the event's `detail.executionArn`) and the
 * request id. Its event is EventBridge's, not a state document: no Task state, release or target there.
 */
export function reportCorrelationOf(event: unknown, requestId: string | undefined): Record<string, string> {
  const arn = (event as { detail?: { executionArn?: unknown } } | null | undefined)?.detail?.executionArn;
  const keys: Record<string, string> = {};
  const parts = typeof arn === 'string' ? arn.split(':') : [];
  if (parts.length === 8 && parts[5] === 'execution' && parts[7]) keys.execution = parts[7];
  if (typeof requestId === 'string' && requestId !== '') keys.requestId = requestId;
  return keys;
}
