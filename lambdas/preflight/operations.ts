/**
 * Preflight of the executions that do not migrate: a `backup` (take a managed snapshot, then apply the retention
 * policy) and a `restore` (bring back a managed snapshot of this target). Neither opens the migrations or the
 * database: a backup must work while the database is unreachable, and a restore replaces it anyway. Both refuse
 * while another execution runs against the target.
 */
import {
  type BackupPlan,
  type ExecutionInfo,
  type RestorePlan,
  TagKeys,
} from '../shared/contract/contract.js';
import { ConcurrentExecutionError, InvalidInputError } from '../shared/contract/errors.js';
import type { WorkflowInput } from '../shared/contract/input.js';
import type { ExecutionGuard, ManagedSnapshot, SnapshotGateway } from '../shared/contract/ports.js';
import type { WorkflowSettings } from '../shared/runtime/settings.js';

/** What `restore` accepts instead of an identifier: the newest available backup. */
export const LATEST = 'latest';

export interface OperationDeps {
  readonly guard: ExecutionGuard;
  readonly gateway: () => Promise<SnapshotGateway>;
  readonly settings: WorkflowSettings;
}

/** Refuses while another execution of the workflow runs against the target (every mode). */
export async function refuseConcurrent(
  guard: ExecutionGuard,
  execution: ExecutionInfo,
  target: string,
): Promise<void> {
  const others = await guard.othersRunning(execution);
  if (others.length > 0) {
    throw new ConcurrentExecutionError(
      `Another execution is running against ${target}: ${others.join(', ')}. Nothing was touched. Releases, ` +
        'backups and restores of one database run one at a time: wait for it to end (or stop it), then start ' +
        'this execution again.',
      { details: { others } },
    );
  }
}

export async function planBackup(
  execution: ExecutionInfo,
  deps: Pick<OperationDeps, 'guard' | 'settings'>,
): Promise<BackupPlan> {
  await refuseConcurrent(deps.guard, execution, deps.settings.targetIdentifier);
  return {
    mode: 'backup',
    targetIdentifier: deps.settings.targetIdentifier,
    proceed: true,
    snapshotRequired: true,
    warnings: [],
  };
}

export async function planRestore(
  input: WorkflowInput,
  execution: ExecutionInfo,
  deps: OperationDeps,
): Promise<RestorePlan> {
  const target = deps.settings.targetIdentifier;
  if (input.confirm !== target) {
    throw new InvalidInputError(
      `input.confirm: must be the identifier of the target, "${target}", typed again (received ` +
        `${JSON.stringify(input.confirm)}). A restore replaces ${target} with the snapshot; the current database ` +
        'is kept aside, not deleted.',
      { details: { field: 'confirm', expected: target } },
    );
  }
  await refuseConcurrent(deps.guard, execution, target);
  const requested = input.snapshot ?? LATEST;
  const gateway = await deps.gateway();
  const managed = await gateway.listManagedSnapshots();
  const chosen =
    requested === LATEST ? latestBackup(managed, target) : await named(gateway, managed, requested);
  if (chosen.status !== 'available') {
    throw new InvalidInputError(
      `input.snapshot: ${chosen.snapshotId} is "${chosen.status}", not available; only an available snapshot can ` +
        'be restored. Wait until it is available, or choose another one.',
      { details: { field: 'snapshot', snapshotId: chosen.snapshotId, status: chosen.status } },
    );
  }
  const createdAt = chosen.createdAt ?? 'unknown';
  return {
    mode: 'restore',
    targetIdentifier: target,
    source: {
      snapshotId: chosen.snapshotId,
      kind: chosen.kind,
      createdAt,
      execution: chosen.tags[TagKeys.execution] ?? 'unknown',
      requested,
    },
    proceed: true,
    warnings: [
      `This restore replaces ${target} with snapshot ${chosen.snapshotId} (${chosen.kind}, taken ${createdAt}): ` +
        'writes made after that time stay only in the replaced database, which is renamed aside and kept.',
    ],
  };
}

function latestBackup(managed: readonly ManagedSnapshot[], target: string): ManagedSnapshot {
  const backups = managed
    .filter((snapshot) => snapshot.kind === 'backup' && snapshot.status === 'available')
    .sort((a, b) => Date.parse(a.createdAt ?? '') - Date.parse(b.createdAt ?? ''));
  const newest = backups.at(-1);
  if (!newest) {
    const others = managed.map((snapshot) => `${snapshot.snapshotId} (${snapshot.kind})`);
    throw new InvalidInputError(
      `input.snapshot: "latest" names the newest available backup of ${target}, and there is none. ` +
        (others.length > 0
          ? `Managed snapshots of ${target}: ${others.join(', ')}; name one of them instead.`
          : `There is no managed snapshot of ${target} at all: take one with {"mode":"backup"} first.`),
      { details: { field: 'snapshot' } },
    );
  }
  return newest;
}

/**
 * The managed snapshot of the target named `snapshotId`: by its identifier, or by the provider's name for it
 * (locally the database's name, which PostgreSQL's 63 bytes shorten where the identifier is longer: what `\l`
 * shows). One that exists but was not taken of this target by this orchestrator (another database's, an automated
 * or a hand-taken one) is refused with what it is.
 */
async function named(
  gateway: SnapshotGateway,
  managed: readonly ManagedSnapshot[],
  snapshotId: string,
): Promise<ManagedSnapshot> {
  const found =
    managed.find((snapshot) => snapshot.snapshotId === snapshotId) ??
    managed.find((snapshot) => snapshot.name === snapshotId);
  if (found) return found;
  const target = gateway.targetIdentifier;
  const described = await gateway.describeSnapshot(snapshotId).catch(() => undefined);
  const listing =
    managed.length > 0
      ? `Managed snapshots of ${target}: ${managed.map((snapshot) => snapshot.snapshotId).join(', ')}.`
      : `${target} has no managed snapshot yet.`;
  if (!described) {
    throw new InvalidInputError(`input.snapshot: there is no snapshot named ${snapshotId}. ${listing}`, {
      details: { field: 'snapshot', snapshotId },
    });
  }
  const source = described.tags[TagKeys.source] ?? described.sourceIdentifier;
  const owner = described.tags[TagKeys.managedBy];
  throw new InvalidInputError(
    `input.snapshot: ${snapshotId} is not a snapshot this orchestrator took of ${target} ` +
      `(it is of ${source || 'an unknown source'}, ${owner ? `managed by ${owner}` : 'not managed by this orchestrator'}). ` +
      `Only managed snapshots of the target itself are restored here; restore any other snapshot by hand. ${listing}`,
    { details: { field: 'snapshot', snapshotId, source, managedBy: owner } },
  );
}
