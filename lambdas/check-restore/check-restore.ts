/**
 * One check of the restored copy (the Wait -> Check -> Choice loop of the rollback).
 */
import { OutcomeErrors, type RestoreProgress, runbookArticle } from '../shared/contract/contract.js';
import { RestoreFailedError, RestoreTimedOutError } from '../shared/contract/errors.js';
import { requireRestore, stateOf } from '../shared/contract/state.js';
import { nextPoll, type SnapshotStepDeps } from '../shared/runtime/settings.js';

export type CheckRestoreDeps = SnapshotStepDeps;

export async function checkRestore(event: unknown, deps: CheckRestoreDeps): Promise<RestoreProgress> {
  const state = stateOf(event, 'check-restore');
  const progress = requireRestore(state, 'check-restore');
  const untouched =
    `The original ${progress.originalIdentifier} was not renamed and still holds the failed release; ` +
    `the snapshot ${progress.snapshotId} is intact.`;
  const description = await deps.gateway.describeRestore(progress.restoredIdentifier);
  if (!description || description.status === 'failed') {
    throw new RestoreFailedError(
      `Restoring ${progress.snapshotId} as ${progress.restoredIdentifier} failed ` +
        `(${description ? `status "${description.rawStatus}"` : 'it does not exist'}). ${untouched} ` +
        `Restore the snapshot by hand (${runbookArticle(OutcomeErrors.RollbackFailed)}) or start the rollback again.`,
      { details: { ...progress, status: description?.rawStatus ?? 'missing' } },
    );
  }
  const { attempts, waitSeconds, overdue } = nextPoll(deps.settings, progress, deps.clock.now());
  if (description.status !== 'available' && overdue) {
    throw new RestoreTimedOutError(
      `${progress.restoredIdentifier} was still "${description.rawStatus}" at the deadline ${progress.deadline}. ` +
        `${untouched} When it becomes available, swap it in by hand (${runbookArticle(OutcomeErrors.RollbackFailed)}).`,
      { details: { ...progress, status: description.rawStatus } },
    );
  }
  return { ...progress, status: description.status, attempts, waitSeconds };
}
