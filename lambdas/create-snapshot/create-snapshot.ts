/**
 * Create the execution's snapshot: the pre-migration snapshot of a release, or the backup of a `backup`
 * execution. Refuses when the target is not available or the account's manual snapshot quota is reached (and
 * warns above 80% of it); adopts the snapshot of this execution if a retried call already created it (its
 * execution tag says so), never another's.
 */
import {
  type SnapshotKind,
  type SnapshotProgress,
  type SnapshotQuota,
  TagKeys,
} from '../shared/contract/contract.js';
import { SnapshotQuotaExceededError, TargetNotAvailableError } from '../shared/contract/errors.js';
import type { SnapshotGateway } from '../shared/contract/ports.js';
import { modeOf, releaseOf, requireExecution, stateOf } from '../shared/contract/state.js';
import { backupSnapshotId, preMigrationSnapshotId } from '../shared/domain/identifiers.js';
import { retentionClassOf } from '../shared/domain/retention.js';
import { type SnapshotStepDeps, startPolling } from '../shared/runtime/settings.js';

export type CreateSnapshotDeps = SnapshotStepDeps;

/** Above this share of the manual snapshot quota, the execution's output carries a warning. */
export const QUOTA_WARNING_RATIO = 0.8;

export async function createSnapshot(event: unknown, deps: CreateSnapshotDeps): Promise<SnapshotProgress> {
  const state = stateOf(event, 'create-snapshot');
  const execution = requireExecution(state, 'create-snapshot');

  const { gateway, settings, clock } = deps;
  const kind: SnapshotKind = modeOf(state) === 'backup' ? 'backup' : 'pre-migration';
  const what =
    kind === 'backup' ? 'the backup was not taken' : 'no snapshot was taken and nothing was applied';

  const target = await gateway.describeTarget();
  if (!target.available) {
    throw new TargetNotAvailableError(
      `${target.identifier} is "${target.status}", not available; ${what}. Wait until it is available (or ` +
        'finish the operation in progress) and start the execution again.',
      { details: { identifier: target.identifier, status: target.status } },
    );
  }

  const snapshotId =
    kind === 'backup'
      ? backupSnapshotId(settings.targetIdentifier, execution)
      : preMigrationSnapshotId(settings.targetIdentifier, execution);
  const quota = await checkQuota(gateway, snapshotId, what);
  const description = await gateway.createSnapshot({
    snapshotId,
    executionId: execution.id,
    tags: {
      [TagKeys.managedBy]: settings.managedBy,
      [TagKeys.execution]: execution.id,
      ...(kind === 'pre-migration' ? { [TagKeys.release]: releaseOf(state.input) ?? 'unspecified' } : {}),
      [TagKeys.kind]: kind,
      [TagKeys.retention]: retentionClassOf(kind, settings.retention),
      [TagKeys.source]: settings.targetIdentifier,
    },
  });
  const done = description.status === 'available';
  const warnings = quota ? quotaWarnings(quota) : [];
  return {
    snapshotId: description.snapshotId,
    sourceIdentifier: description.sourceIdentifier,
    status: description.status === 'failed' ? 'creating' : description.status,
    ...startPolling(settings, clock.now(), settings.snapshotTimeoutSeconds, done),
    ...(done ? { adopted: true } : {}),
    kind,
    ...(quota ? { quota } : {}),
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

/**
 * Refuses at the quota (the snapshot would fail anyway, after minutes), unless a retry finds its own snapshot
 * already started (it is then part of `used`); returns the quota for the warning.
 */
async function checkQuota(
  gateway: SnapshotGateway,
  snapshotId: string,
  what: string,
): Promise<SnapshotQuota | undefined> {
  const quota = await gateway.snapshotQuota();
  if (quota && quota.used >= quota.max && (await gateway.describeSnapshot(snapshotId)) === undefined) {
    throw new SnapshotQuotaExceededError(
      `The account's manual snapshot quota is reached (${quota.used} of ${quota.max}): ${what}. Delete manual ` +
        'snapshots nobody needs (the retention policy deletes only the ones this orchestrator took and no ' +
        'longer keeps), or ask AWS for a higher quota (Service Quotas, Amazon RDS "Manual DB snapshots"), then ' +
        'start the execution again.',
      { details: { used: quota.used, max: quota.max } },
    );
  }
  return quota;
}

function quotaWarnings(quota: SnapshotQuota): string[] {
  const after = quota.used + 1;
  if (after <= quota.max * QUOTA_WARNING_RATIO) return [];
  return [
    `With this snapshot the account holds ${after} of its ${quota.max} manual snapshots ` +
      `(${Math.round((after / quota.max) * 100)}%): at the quota, new snapshots (backups and pre-migration ones) ` +
      'are refused. Delete manual snapshots nobody needs, lower the retention, or ask AWS for a higher quota.',
  ];
}
