/**
 * One check of the pre-migration snapshot (the Wait -> Check -> Choice loop). Ends the loop with a named
 * error when the snapshot failed or the overall timeout passed, before anything is applied.
 */
import type { SnapshotProgress } from '../shared/contract/contract.js';
import { SnapshotFailedError, SnapshotTimedOutError } from '../shared/contract/errors.js';
import { requireSnapshot, stateOf } from '../shared/contract/state.js';
import { nextPoll, type SnapshotStepDeps } from '../shared/runtime/settings.js';

export type CheckSnapshotDeps = SnapshotStepDeps;

export async function checkSnapshot(event: unknown, deps: CheckSnapshotDeps): Promise<SnapshotProgress> {
  const state = stateOf(event, 'check-snapshot');
  const progress = requireSnapshot(state, 'check-snapshot');
  const description = await deps.gateway.describeSnapshot(progress.snapshotId);
  if (!description) {
    throw new SnapshotFailedError(
      `Snapshot ${progress.snapshotId} of ${progress.sourceIdentifier} no longer exists (deleted while it ` +
        'was being created?). Nothing was applied; start the release again.',
      { details: { snapshotId: progress.snapshotId } },
    );
  }
  if (description.status === 'failed') {
    throw new SnapshotFailedError(
      `Snapshot ${progress.snapshotId} of ${progress.sourceIdentifier} is "${description.rawStatus}". ` +
        'Nothing was applied. Check the database events for the cause, then start the release again.',
      { details: { snapshotId: progress.snapshotId, status: description.rawStatus } },
    );
  }
  const { attempts, waitSeconds, overdue } = nextPoll(deps.settings, progress, deps.clock.now());
  if (description.status !== 'available' && overdue) {
    throw new SnapshotTimedOutError(
      `Snapshot ${progress.snapshotId} of ${progress.sourceIdentifier} was still "${description.rawStatus}" at ` +
        `the deadline ${progress.deadline} (after ${attempts} checks). Nothing was applied. Raise ` +
        'snapshotTimeout if the database is large, and start the release again.',
      { details: { snapshotId: progress.snapshotId, status: description.rawStatus } },
    );
  }
  return { ...progress, status: description.status, attempts, waitSeconds };
}
