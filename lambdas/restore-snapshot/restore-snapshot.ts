/**
 * Start restoring the pre-migration snapshot next to the original, under a temporary identifier, while
 * the original keeps serving.
 */

import { type RestoreProgress, TagKeys } from '../shared/contract.js';
import { RestoreFailedError } from '../shared/errors.js';
import { asideIdentifier, restoredIdentifier } from '../shared/identifiers.js';
import { type SnapshotStepDeps, startPolling } from '../shared/settings.js';
import { requireExecution, stateOf } from '../shared/state.js';

export type RestoreSnapshotDeps = SnapshotStepDeps;

export async function restoreSnapshot(event: unknown, deps: RestoreSnapshotDeps): Promise<RestoreProgress> {
  const state = stateOf(event, 'restore-snapshot');
  const execution = requireExecution(state, 'restore-snapshot');
  const { settings, gateway, clock } = deps;
  const snapshot = state.snapshot;
  if (snapshot?.status !== 'available') {
    throw new RestoreFailedError(
      `There is no available pre-migration snapshot of ${settings.targetIdentifier} to restore ` +
        `(snapshot ${snapshot ? `${snapshot.snapshotId} is ${snapshot.status}` : 'was skipped'}). The database is as ` +
        'the failed release left it; repair it by hand (see the runbook).',
    );
  }
  const now = clock.now();
  const restoredId = restoredIdentifier(settings.targetIdentifier, execution.name);
  const description = await gateway.restoreSnapshot({
    snapshotId: snapshot.snapshotId,
    originalIdentifier: settings.targetIdentifier,
    restoredIdentifier: restoredId,
    tags: {
      [TagKeys.managedBy]: settings.managedBy,
      [TagKeys.execution]: execution.id,
      [TagKeys.source]: settings.targetIdentifier,
    },
  });
  return {
    snapshotId: snapshot.snapshotId,
    originalIdentifier: settings.targetIdentifier,
    restoredIdentifier: description.identifier,
    asideIdentifier: asideIdentifier(settings.targetIdentifier, now),
    status: description.status === 'failed' ? 'restoring' : description.status,
    ...startPolling(settings, now, settings.restoreTimeoutSeconds, description.status === 'available'),
  };
}
