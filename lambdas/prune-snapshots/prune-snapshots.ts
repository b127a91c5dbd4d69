/**
 * Apply the retention policy after a backup: list the snapshots this orchestrator took of the target, decide
 * with the one pure function (`domain/retention.ts`) which to keep, and delete the rest. The gateway lists and
 * deletes only snapshots tagged as managed by this orchestrator for this target, and re-reads the tags right
 * before each delete; automated and hand-taken snapshots are never in the list. Pre-migration snapshots of
 * executions that are running, or failed and not resolved since, are kept whatever the policy.
 */
import { type RetentionReport, TagKeys } from '../shared/contract/contract.js';
import { messageOf, RetentionFailedError, TransientFaultError } from '../shared/contract/errors.js';
import type { ExecutionHistory, ManagedSnapshot } from '../shared/contract/ports.js';
import { requireExecution, stateOf } from '../shared/contract/state.js';
import {
  describeRetentionPolicy,
  type RetainedSnapshot,
  retention,
  unresolvedExecutions,
} from '../shared/domain/retention.js';
import type { SnapshotStepDeps } from '../shared/runtime/settings.js';

export interface PruneSnapshotsDeps extends SnapshotStepDeps {
  readonly history: ExecutionHistory;
}

/** A managed snapshot as retention sees it: managed by construction (the gateway lists no other). */
export function retainedOf(snapshot: ManagedSnapshot): RetainedSnapshot {
  const execution = snapshot.tags[TagKeys.execution];
  return {
    id: snapshot.snapshotId,
    createdAt: snapshot.createdAt ?? '',
    managed: true,
    kind: snapshot.kind,
    status: snapshot.status,
    ...(execution ? { execution } : {}),
  };
}

export async function pruneSnapshots(event: unknown, deps: PruneSnapshotsDeps): Promise<RetentionReport> {
  const state = stateOf(event, 'prune-snapshots');
  const execution = requireExecution(state, 'prune-snapshots');
  const { gateway, settings, clock, history } = deps;

  const snapshots = (await gateway.listManagedSnapshots()).map(retainedOf);
  const releases = [
    ...new Set(snapshots.flatMap((s) => (s.kind === 'pre-migration' && s.execution ? [s.execution] : []))),
  ];
  const standing = releases.length > 0 ? await history.statusOf(releases) : {};
  const decision = retention(snapshots, clock.now(), settings.retention, {
    executions: unresolvedExecutions(snapshots, standing, execution.id),
  });

  const deleted: { snapshotId: string; why: string }[] = [];
  const skipped: { snapshotId: string; why: string }[] = [];
  const failures: string[] = [];
  for (const candidate of decision.delete) {
    try {
      if (await gateway.deleteSnapshot(candidate.id))
        deleted.push({ snapshotId: candidate.id, why: candidate.why });
      else
        skipped.push({
          snapshotId: candidate.id,
          why: 'not deleted: it is gone, or its tags no longer say this orchestrator took it of this target',
        });
    } catch (error) {
      // A retried step lists again and goes on: what is deleted stays deleted.
      if (error instanceof TransientFaultError) throw error;
      failures.push(`${candidate.id}: ${messageOf(error)}`);
    }
  }
  const policy = describeRetentionPolicy(settings.retention);
  if (failures.length > 0) {
    throw new RetentionFailedError(
      `The backup is taken, but ${failures.length} snapshot(s) the retention policy (${policy}) no longer keeps ` +
        `could not be deleted: ${failures.join('; ')}. ${deleted.length} were deleted. Nothing else was touched; ` +
        'fix the cause and the next backup applies the policy again.',
      { details: { failures, deleted: deleted.map((d) => d.snapshotId) } },
    );
  }
  return {
    kept: decision.keep.map((kept) => ({ snapshotId: kept.id, why: kept.why })),
    deleted,
    skipped,
    policy,
  };
}
