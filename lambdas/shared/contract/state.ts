/**
 * Reading the state document at a step's edge: the parts a step needs from earlier steps must be there (their
 * absence is a wiring bug, named as such). The execution input itself is validated by preflight (`input.ts`).
 */
import type {
  ExecutionInfo,
  Mode,
  Plan,
  RestorePlan,
  RestoreProgress,
  SnapshotProgress,
  WorkflowState,
} from './contract.js';
import { InvalidInputError } from './errors.js';

/** The execution input of a state document (undefined when the event is not one). */
export function inputOf(event: unknown): unknown {
  return (event as { input?: unknown } | null | undefined)?.input;
}

/**
 * The release label of the execution input, for the steps after preflight (which validated the whole input
 * with its schema): a string, or undefined.
 */
export function releaseOf(input: unknown): string | undefined {
  const release = (input as { release?: unknown } | null | undefined)?.release;
  return typeof release === 'string' ? release : undefined;
}

function missing(field: string, step: string): InvalidInputError {
  return new InvalidInputError(
    `The state document has no ${field}; the ${step} step runs only after it is set. ` +
      'Start executions through the state machine, not by invoking the function directly.',
  );
}

export function stateOf(raw: unknown, step: string): WorkflowState {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidInputError(`The ${step} step expects the workflow state document (an object).`);
  }
  const state = raw as WorkflowState;
  requireExecution(state, step);
  return state;
}

export function requireExecution(state: WorkflowState, step: string): ExecutionInfo {
  const execution = state.execution;
  if (!execution || typeof execution.name !== 'string' || typeof execution.id !== 'string') {
    throw missing('execution (id, name, startedAt)', step);
  }
  return execution;
}

/**
 * True when the state document is past the swap, i.e. the health check running now is the one after a rollback
 * (or a requested restore): the verify-health step runs in two Task states, told apart by this.
 */
export function isAfterRollback(state: WorkflowState): boolean {
  return state.swap?.complete === true;
}

/** The execution's mode, from preflight's plan (a plan written before modes existed is a migration's). */
export function modeOf(state: WorkflowState): Mode {
  return state.plan?.mode ?? 'migrate';
}

/** The release plan of a `migrate` execution. */
export function requirePlan(state: WorkflowState, step: string): Plan {
  if (!state.plan) throw missing('plan', step);
  if (modeOf(state) !== 'migrate') throw missing('release plan (mode "migrate")', step);
  return state.plan as Plan;
}

/** The plan of a `restore` execution: the checked snapshot to restore. */
export function requireRestorePlan(state: WorkflowState, step: string): RestorePlan {
  if (state.plan?.mode !== 'restore') throw missing('restore plan (mode "restore")', step);
  return state.plan;
}

export function requireSnapshot(state: WorkflowState, step: string): SnapshotProgress {
  if (!state.snapshot) throw missing('snapshot', step);
  return state.snapshot;
}

export function requireRestore(state: WorkflowState, step: string): RestoreProgress {
  if (!state.restore) throw missing('restore', step);
  return state.restore;
}
