/** How an RDS gateway names what it handles: the words of its messages, its API operations and faults. */

export interface RdsNouns {
  /** The AWS CLI's word: `modify-db-instance`, `modify-db-cluster`. */
  readonly kind: 'instance' | 'cluster';
  /** 'RDS DB instance' or 'Aurora cluster'. */
  readonly resource: string;
  /** 'snapshot' or 'cluster snapshot'. */
  readonly snapshot: string;
  /** 'DB snapshot' or 'DB cluster snapshot'. */
  readonly snapshotType: string;
  /** The Service Quotas name of the manual snapshot quota. */
  readonly snapshotQuota: string;
  /** The `AccountQuotaName` of that quota in DescribeAccountAttributes. */
  readonly accountQuota: 'ManualSnapshots' | 'ManualClusterSnapshots';
  /** The AWS CLI command that deletes a manual snapshot (`<id>` for the identifier). */
  readonly deleteSnapshotCommand: string;
  /** The AWS CLI command that restores `snapshotId` as `restoredIdentifier` by hand. */
  restoreByHand(snapshotId: string, restoredIdentifier: string): string;
  readonly operations: {
    readonly describe: string;
    readonly createSnapshot: string;
    readonly describeSnapshots: string;
    readonly deleteSnapshot: string;
    readonly restore: string;
    readonly modify: string;
  };
  readonly faults: {
    readonly notFound: string;
    readonly alreadyExists: string;
    readonly invalidState: string;
    readonly snapshotNotFound: string;
    readonly snapshotAlreadyExists: string;
    readonly snapshotInvalidState: string;
  };
}

/** The AWS CLI command that renames an RDS instance or cluster at once. */
export function renameCommand(kind: 'instance' | 'cluster', from: string, to: string): string {
  return `aws rds modify-db-${kind} --db-${kind}-identifier ${from} --new-db-${kind}-identifier ${to} --apply-immediately`;
}
