/**
 * Find out what the release committed, after the apply step died without answering (Lambda timeout, out of
 * memory, a killed process): end the migration's own session on the server (it may still be running a
 * statement and holding its locks), read `_prisma_migrations` on a fresh connection, and decide as the apply
 * step would have: nothing committed, no restore; something committed, the restore path; everything
 * committed, verify the release.
 */
import type { ApplyResult, CaughtError } from '../shared/contract/contract.js';
import type { ReleaseInspector } from '../shared/contract/ports.js';
import { requireExecution, requirePlan, stateOf } from '../shared/contract/state.js';
import {
  applySessionName,
  decideOnEvidence,
  type FailureSummary,
  messageOfCaught,
} from '../shared/domain/release-evidence.js';

export interface AssessReleaseDeps {
  readonly inspector: ReleaseInspector;
}

/** The apply step's error as Step Functions caught it, told in one sentence. */
export function failureOf(error: CaughtError | undefined): FailureSummary {
  if (!error) return { name: 'Unknown', message: 'The apply step failed without an error.' };
  return {
    name: error.Error,
    message: `The apply step did not answer (${error.Error}): ${messageOfCaught(error)}`,
  };
}

export async function assessRelease(event: unknown, deps: AssessReleaseDeps): Promise<ApplyResult> {
  const state = stateOf(event, 'assess-release');
  const plan = requirePlan(state, 'assess-release');
  const sessionName = applySessionName(requireExecution(state, 'assess-release'));
  return await decideOnEvidence(plan, deps.inspector, sessionName, failureOf(state.error), undefined);
}
