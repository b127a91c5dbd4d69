/**
 * Start restoring a snapshot next to the original, under a temporary identifier, while the original keeps
 * serving. In a rollback, only the snapshot this execution took is restored, proven by its execution tag:
 * another execution's snapshot under the same identifier would bring back other data. In a `restore`
 * execution, the snapshot preflight checked is restored, proven again by its tags: taken of this target by
 * this orchestrator.
 */

import {
  type ExecutionInfo,
  OutcomeErrors,
  type RestoreProgress,
  runbookArticle,
  TagKeys,
} from '../shared/contract/contract.js';
import { messageOf, RestoreFailedError, TransientFaultError } from '../shared/contract/errors.js';
import type { SnapshotDescription, SnapshotGateway } from '../shared/contract/ports.js';
import { modeOf, requireExecution, requireRestorePlan, stateOf } from '../shared/contract/state.js';
import { createdBy, creatorOf, creatorPhrase } from '../shared/domain/execution-tag.js';
import { asideIdentifier, restoredIdentifier } from '../shared/domain/identifiers.js';
import { type SnapshotStepDeps, startPolling } from '../shared/runtime/settings.js';

export type RestoreSnapshotDeps = SnapshotStepDeps;

export async function restoreSnapshot(event: unknown, deps: RestoreSnapshotDeps): Promise<RestoreProgress> {
  const state = stateOf(event, 'restore-snapshot');
  const execution = requireExecution(state, 'restore-snapshot');
  const { settings, gateway } = deps;
  if (modeOf(state) === 'restore') {
    const { source } = requireRestorePlan(state, 'restore-snapshot');
    await proveManagedSnapshot(gateway, source.snapshotId, settings.targetIdentifier, settings.managedBy);
    return await startRestore(source.snapshotId, execution, deps);
  }
  const snapshot = state.snapshot;
  if (snapshot?.status !== 'available') {
    throw new RestoreFailedError(
      `There is no available pre-migration snapshot of ${settings.targetIdentifier} to restore ` +
        `(snapshot ${snapshot ? `${snapshot.snapshotId} is ${snapshot.status}` : 'was skipped'}). The database is as ` +
        `the failed release left it; repair it by hand (${runbookArticle(OutcomeErrors.RollbackFailed)}).`,
    );
  }
  await proveOwnSnapshot(gateway, snapshot.snapshotId, settings.targetIdentifier, execution);
  return await startRestore(snapshot.snapshotId, execution, deps);
}

async function startRestore(
  snapshotId: string,
  execution: ExecutionInfo,
  { settings, gateway, clock }: RestoreSnapshotDeps,
): Promise<RestoreProgress> {
  const now = clock.now();
  const restoredId = restoredIdentifier(settings.targetIdentifier, execution);
  const description = await gateway.restoreSnapshot({
    snapshotId,
    originalIdentifier: settings.targetIdentifier,
    restoredIdentifier: restoredId,
    executionId: execution.id,
    tags: {
      [TagKeys.managedBy]: settings.managedBy,
      [TagKeys.execution]: execution.id,
      [TagKeys.source]: settings.targetIdentifier,
    },
  });
  return {
    snapshotId,
    originalIdentifier: settings.targetIdentifier,
    restoredIdentifier: description.identifier,
    asideIdentifier: asideIdentifier(settings.targetIdentifier, now),
    status: description.status === 'failed' ? 'restoring' : description.status,
    ...startPolling(settings, now, settings.restoreTimeoutSeconds, description.status === 'available'),
  };
}

/** What a refusal before the restore says, and where the details of its error point. */
interface Refusal {
  /** The state of the database: nothing was restored. */
  readonly untouched: string;
  /** What proving the snapshot means, for "cannot read it to prove ...". */
  readonly proving: string;
  /** The next action when the snapshot cannot be read, and when it is gone. */
  readonly unreadable: string;
  readonly gone: string;
  readonly details: Readonly<Record<string, unknown>>;
}

/**
 * Describes the snapshot for a proof: a transient fault is rethrown for the workflow to retry; any other error,
 * or a snapshot that is gone, refuses with RestoreFailed (nothing restored).
 */
async function describeForProof(
  gateway: SnapshotGateway,
  snapshotId: string,
  target: string,
  refusal: Refusal,
): Promise<SnapshotDescription> {
  let described: SnapshotDescription | undefined;
  try {
    described = await gateway.describeSnapshot(snapshotId);
  } catch (error) {
    if (error instanceof TransientFaultError) throw error;
    throw new RestoreFailedError(
      `Cannot read snapshot ${snapshotId} to prove that ${refusal.proving} (${messageOf(error)}). ` +
        `${refusal.untouched} ${refusal.unreadable}`,
      { cause: error, details: refusal.details },
    );
  }
  if (described === undefined) {
    throw new RestoreFailedError(
      `Snapshot ${snapshotId} of ${target} no longer exists. ${refusal.untouched} ${refusal.gone}`,
      { details: refusal.details },
    );
  }
  return described;
}

/**
 * Describes the snapshot and refuses (RestoreFailed, nothing restored) unless its tags say this orchestrator
 * took it of this target: preflight checked it, but it may have been deleted or re-tagged since.
 */
async function proveManagedSnapshot(
  gateway: SnapshotGateway,
  snapshotId: string,
  target: string,
  managedBy: string,
): Promise<void> {
  const untouched = `Nothing was restored: ${target} is untouched.`;
  const described = await describeForProof(gateway, snapshotId, target, {
    untouched,
    proving: `it is a managed snapshot of ${target}`,
    unreadable: 'Fix the cause and start the restore again.',
    gone: '(It was deleted after preflight checked it.) List the backups and start the restore again with one that exists.',
    details: { snapshotId, originalIdentifier: target },
  });
  if (described.tags[TagKeys.managedBy] !== managedBy || described.tags[TagKeys.source] !== target) {
    throw new RestoreFailedError(
      `Snapshot ${snapshotId} is no longer tagged as a snapshot this orchestrator (${managedBy}) took of ${target} ` +
        `(${TagKeys.managedBy}=${described.tags[TagKeys.managedBy] ?? '(none)'}, ${TagKeys.source}=` +
        `${described.tags[TagKeys.source] ?? '(none)'}). ${untouched} Restore it by hand if it is the right one.`,
      { details: { snapshotId, originalIdentifier: target } },
    );
  }
}

/**
 * Describes the snapshot and refuses (RestoreFailed, nothing restored) unless its execution tag names this
 * execution. A transient fault of the describe is rethrown for the workflow to retry.
 */
async function proveOwnSnapshot(
  gateway: SnapshotGateway,
  snapshotId: string,
  target: string,
  execution: ExecutionInfo,
): Promise<SnapshotDescription> {
  const untouched = `Nothing was restored: the original ${target} is untouched and still holds the failed release.`;
  const byHand = `(${runbookArticle(OutcomeErrors.RollbackFailed)}).`;
  const described = await describeForProof(gateway, snapshotId, target, {
    untouched,
    proving: 'this execution took it',
    unreadable: `Fix the cause and restore the snapshot by hand ${byHand}`,
    gone: `Repair the database by hand ${byHand}`,
    details: { snapshotId, originalIdentifier: target, executionId: execution.id },
  });
  if (!createdBy(described.tags, execution.id)) {
    throw new RestoreFailedError(
      `Snapshot ${snapshotId} of ${target} was taken by ${creatorPhrase(described.tags)}, not by this execution ` +
        `${execution.id}: restoring it would bring back another release's data. ${untouched} Find the snapshot this ` +
        `execution took (tag ${TagKeys.execution}=${execution.id}) and restore it by hand (${runbookArticle(OutcomeErrors.RollbackFailed)}).`,
      {
        details: {
          snapshotId,
          originalIdentifier: target,
          executionId: execution.id,
          createdBy: creatorOf(described.tags),
        },
      },
    );
  }
  return described;
}
