/**
 * Create the pre-migration snapshot. Refuses when the target is not available; adopts the snapshot of
 * this execution if a retried call already created it.
 */
import { type SnapshotProgress, TagKeys } from '../shared/contract.js';
import { TargetNotAvailableError } from '../shared/errors.js';
import { preMigrationSnapshotId } from '../shared/identifiers.js';
import { backoffSeconds, type SnapshotStepDeps } from '../shared/settings.js';
import { parseWorkflowInput, requireExecution, stateOf } from '../shared/state.js';

export type CreateSnapshotDeps = SnapshotStepDeps;

export async function createSnapshot(event: unknown, deps: CreateSnapshotDeps): Promise<SnapshotProgress> {
  const state = stateOf(event, 'create-snapshot');
  const execution = requireExecution(state, 'create-snapshot');
  const input = parseWorkflowInput(state.input);
  const { gateway, settings, clock } = deps;

  const target = await gateway.describeTarget();
  if (!target.available) {
    throw new TargetNotAvailableError(
      `${target.identifier} is "${target.status}", not available; no snapshot was taken and nothing was ` +
        'applied. Wait until it is available (or finish the operation in progress) and start the release again.',
      { details: { identifier: target.identifier, status: target.status } },
    );
  }

  const snapshotId = preMigrationSnapshotId(settings.targetIdentifier, execution.name);
  const description = await gateway.createSnapshot({
    snapshotId,
    tags: {
      [TagKeys.managedBy]: settings.managedBy,
      [TagKeys.execution]: execution.id,
      [TagKeys.release]: input.release ?? 'unspecified',
      [TagKeys.retention]: 'pre-migration',
      [TagKeys.source]: settings.targetIdentifier,
    },
  });
  const startedAt = clock.now();
  return {
    snapshotId: description.snapshotId,
    sourceIdentifier: description.sourceIdentifier,
    status: description.status === 'failed' ? 'creating' : description.status,
    startedAt: startedAt.toISOString(),
    deadline: new Date(startedAt.getTime() + settings.snapshotTimeoutSeconds * 1000).toISOString(),
    attempts: 0,
    waitSeconds: description.status === 'available' ? 1 : backoffSeconds(settings, 0),
    ...(description.status === 'available' ? { adopted: true } : {}),
  };
}
