/** RDS status words (instances, clusters, snapshots) and what they mean for the contract's statuses. */
import type { RestoreStatus, SnapshotStatus } from '../../contract/contract.js';

/**
 * Statuses in which a database serves queries and accepts a rename. `backing-up` is usable: a restored
 * instance can stay in it for a long time after a restore, and it serves meanwhile.
 */
const USABLE = new Set(['available', 'backing-up', 'storage-optimization']);

/**
 * Statuses of a DB instance that accept CreateDBSnapshot. The API reference says: "The source DB instance
 * must be in the available or storage-optimization state." `backing-up` is NOT among them (RDS answers
 * InvalidDBInstanceState while an automated or manual backup runs), so the target is reported not
 * available then and the core refuses with TargetNotAvailable naming the state.
 */
export const INSTANCE_SNAPSHOT_READY = new Set(['available', 'storage-optimization']);

/** Statuses of an Aurora cluster that accept CreateDBClusterSnapshot. */
export const CLUSTER_SNAPSHOT_READY = new Set(['available']);

/** States a database does not leave by itself: a restore or swap that meets one has failed. */
const FAILED_RESOURCE = new Set([
  'failed',
  'restore-error',
  'storage-full',
  'insufficient-capacity',
  'inaccessible-encryption-credentials',
  'inaccessible-encryption-credentials-recoverable',
  'deleting',
  'deleted',
  'stopped',
  'stopping',
  'cannot-upgrade',
]);

export function isUsable(status: string | undefined): boolean {
  return status !== undefined && USABLE.has(status);
}

export function isFailedResourceStatus(status: string | undefined): boolean {
  return status !== undefined && (FAILED_RESOURCE.has(status) || status.startsWith('incompatible-'));
}

/** Statuses in which RDS is busy with the resource and will leave by itself: wait, do not act. */
export function isBusy(status: string): boolean {
  return !isUsable(status) && !isFailedResourceStatus(status);
}

/** A restored database's status word as the contract's restore status. */
export function restoreStatusOf(status: string | undefined): RestoreStatus {
  if (isUsable(status)) return 'available';
  if (isFailedResourceStatus(status)) return 'failed';
  return 'restoring';
}

/** A snapshot's status word as the contract's snapshot status. */
export function snapshotStatusOf(status: string | undefined): SnapshotStatus {
  if (status === 'available') return 'available';
  if (
    status === 'failed' ||
    status === 'error' ||
    status === 'deleted' ||
    status === 'deleting' ||
    status?.startsWith('incompatible-')
  ) {
    return 'failed';
  }
  return 'creating';
}
