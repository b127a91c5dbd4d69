/**
 * Reading the state document at a step's edge: the workflow input is validated with its schema, and the
 * parts a step needs from earlier steps must be there (their absence is a wiring bug, named as such).
 */
import type { z } from 'zod';
import {
  type ExecutionInfo,
  type Plan,
  type RestoreProgress,
  type SnapshotProgress,
  type WorkflowInput,
  WorkflowInputSchema,
  type WorkflowState,
} from './contract.js';
import { InvalidInputError } from './errors.js';

/** One line per problem: `release: letters, digits ... (received "a b")`. */
export function describeIssues(error: z.ZodError, root: string): string {
  return error.issues
    .map((issue) => {
      const path = [root, ...issue.path.map(String)].filter(Boolean).join('.');
      return `${path || '(input)'}: ${issue.message}`;
    })
    .join('; ');
}

export function parseWorkflowInput(raw: unknown): WorkflowInput {
  const parsed = WorkflowInputSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    throw new InvalidInputError(
      `The execution input is invalid: ${describeIssues(parsed.error, 'input')}. ` +
        'Allowed fields: release (string), skipSnapshot ({ "reason": string }), ' +
        'transactionMode ("release" | "per-migration"), dryRun (boolean). See the README for an example.',
      {
        details: {
          issues: parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })),
        },
      },
    );
  }
  return parsed.data;
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

export function requirePlan(state: WorkflowState, step: string): Plan {
  if (!state.plan) throw missing('plan', step);
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
