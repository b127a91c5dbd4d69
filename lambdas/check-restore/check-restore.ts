/**
 * One check of the restored copy (the Wait -> Check -> Choice loop of a rollback or a requested restore).
 */
import { failedRestoreOutcome, type RestoreProgress, runbookArticle } from '../shared/contract/contract.js';
import { RestoreFailedError, RestoreTimedOutError } from '../shared/contract/errors.js';
import { modeOf, requireRestore, stateOf } from '../shared/contract/state.js';
import { nextPoll, type SnapshotStepDeps } from '../shared/runtime/settings.js';

export type CheckRestoreDeps = SnapshotStepDeps;

export async function checkRestore(event: unknown, deps: CheckRestoreDeps): Promise<RestoreProgress> {
  const state = stateOf(event, 'check-restore');
  const progress = requireRestore(state, 'check-restore');
  const mode = modeOf(state);
  const article = runbookArticle(failedRestoreOutcome(mode));
  const untouched =
    `The original ${progress.originalIdentifier} was not renamed ` +
    `${mode === 'restore' ? 'or changed' : 'and still holds the failed release'}; the snapshot ${progress.snapshotId} is intact.`;
  const description = await deps.gateway.describeRestore(progress.restoredIdentifier);
  if (!description || description.status === 'failed') {
    throw new RestoreFailedError(
      `Restoring ${progress.snapshotId} as ${progress.restoredIdentifier} failed ` +
        `(${description ? `status "${description.rawStatus}"` : 'it does not exist'}). ${untouched} ` +
        `Restore the snapshot by hand (${article}) or start the ${mode === 'restore' ? 'restore' : 'rollback'} again.`,
      { details: { ...progress, status: description?.rawStatus ?? 'missing' } },
    );
  }
  const { attempts, waitSeconds, overdue } = nextPoll(deps.settings, progress, deps.clock.now());
  if (description.status !== 'available' && overdue) {
    throw new RestoreTimedOutError(
      `${progress.restoredIdentifier} was still "${description.rawStatus}" at the deadline ${progress.deadline}. ` +
        `${untouched} When it becomes available, swap it in by hand (${article}).`,
      { details: { ...progress, status: description.rawStatus } },
    );
  }
  return { ...progress, status: description.status, attempts, waitSeconds };
}
