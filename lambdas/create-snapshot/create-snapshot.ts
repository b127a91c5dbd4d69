/**
 * Create the pre-migration snapshot. Refuses when the target is not available; adopts the snapshot of
 * this execution if a retried call already created it (its execution tag says so), never another's.
 */
import { type SnapshotProgress, TagKeys } from '../shared/contract/contract.js';
import { TargetNotAvailableError } from '../shared/contract/errors.js';
import { releaseOf, requireExecution, stateOf } from '../shared/contract/state.js';
import { preMigrationSnapshotId } from '../shared/domain/identifiers.js';
import { type SnapshotStepDeps, startPolling } from '../shared/runtime/settings.js';

export type CreateSnapshotDeps = SnapshotStepDeps;

export async function createSnapshot(event: unknown, deps: CreateSnapshotDeps): Promise<SnapshotProgress> {
  const state = stateOf(event, 'create-snapshot');
  const execution = requireExecution(state, 'create-snapshot');

  const { gateway, settings, clock } = deps;

  const target = await gateway.describeTarget();
  if (!target.available) {
    throw new TargetNotAvailableError(
      `${target.identifier} is "${target.status}", not available; no snapshot was taken and nothing was ` +
        'applied. Wait until it is available (or finish the operation in progress) and start the release again.',
      { details: { identifier: target.identifier, status: target.status } },
    );
  }

  const snapshotId = preMigrationSnapshotId(settings.targetIdentifier, execution);
  const description = await gateway.createSnapshot({
    snapshotId,
    executionId: execution.id,
    tags: {
      [TagKeys.managedBy]: settings.managedBy,
      [TagKeys.execution]: execution.id,
      [TagKeys.release]: releaseOf(state.input) ?? 'unspecified',
      [TagKeys.retention]: 'pre-migration',
      [TagKeys.source]: settings.targetIdentifier,
    },
  });
  const done = description.status === 'available';
  return {
    snapshotId: description.snapshotId,
    sourceIdentifier: description.sourceIdentifier,
    status: description.status === 'failed' ? 'creating' : description.status,
    ...startPolling(settings, clock.now(), settings.snapshotTimeoutSeconds, done),
    ...(done ? { adopted: true } : {}),
  };
}
