/**
 * RDS permissions, per step, scoped to the target and to the identifier patterns of what the workflow
 * creates; only the functions that need an action get it. Mirrors the calls of the RDS snapshot gateways
 * (instance and cluster, under lambdas/shared/adapters/). Every wildcard carries its reason for cdk-nag.
 * Deleting and restoring a snapshot also need its tags to say this orchestrator took it of this target.
 */
import { ArnFormat, Stack, Token } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { type Step, TagKeys } from '../../lambdas/shared/contract/contract.js';
import {
  asideIdentifier,
  backupSnapshotId,
  preMigrationSnapshotId,
  restoredIdentifier,
} from '../../lambdas/shared/domain/identifiers.js';
import { MANAGED_BY_TAG, managedByValue } from './managed-by.js';
import type { Allow } from './nag.js';
import type { ResolvedTarget } from './props-validation.js';

/** Identifier patterns (for IAM) of what the workflow creates for `targetIdentifier`. */
export interface ManagedIdentifierPatterns {
  /** Pre-migration snapshots: `<target>-premigration-*`. */
  readonly snapshot: string;
  /** Backups: `<target>-backup-*`. */
  readonly backup: string;
  /** Restored copies: `<target>-restored-*`. */
  readonly restored: string;
  /** Failed originals kept aside: `<target>-rolledback-*`. */
  readonly aside: string;
}

/** The marker after the target's identifier in each kind of name identifiers.ts gives. */
const MARKERS: ManagedIdentifierPatterns = {
  snapshot: '-premigration-',
  backup: '-backup-',
  restored: '-restored-',
  aside: '-rolledback-',
};

/**
 * The identifier patterns of the snapshots, backups, restored copies and aside copies of `targetIdentifier`,
 * derived from the very helpers the functions name them with (so a long identifier, shortened by them, still
 * matches). For an unresolved token, `<token>-<kind>-*`.
 */
export function managedIdentifierPatterns(targetIdentifier: string): ManagedIdentifierPatterns {
  if (Token.isUnresolved(targetIdentifier)) {
    return {
      snapshot: `${targetIdentifier}${MARKERS.snapshot}*`,
      backup: `${targetIdentifier}${MARKERS.backup}*`,
      restored: `${targetIdentifier}${MARKERS.restored}*`,
      aside: `${targetIdentifier}${MARKERS.aside}*`,
    };
  }
  const upTo = (id: string, marker: string) => `${id.slice(0, id.lastIndexOf(marker) + marker.length)}*`;
  const execution = { id: 'execution', name: 'execution', startedAt: new Date(0).toISOString() };
  return {
    snapshot: upTo(preMigrationSnapshotId(targetIdentifier, 'execution'), MARKERS.snapshot),
    backup: upTo(backupSnapshotId(targetIdentifier, execution), MARKERS.backup),
    restored: upTo(restoredIdentifier(targetIdentifier, 'execution'), MARKERS.restored),
    aside: upTo(asideIdentifier(targetIdentifier, new Date(0)), MARKERS.aside),
  };
}

/** Grants each step's role the RDS (and database key) actions its gateway calls make. */
export function grantDatabaseOperations(
  roles: Readonly<Record<Step, iam.Role>>,
  target: ResolvedTarget,
  databaseKey: kms.IKey | undefined,
  allow: Allow,
): void {
  const stack = Stack.of(roles.swap);
  const id = Token.isUnresolved(target.identifier) ? target.identifier : target.identifier.toLowerCase();
  const patterns = managedIdentifierPatterns(id);
  const arn = (resource: string, name: string) =>
    stack.formatArn({
      service: 'rds',
      resource,
      resourceName: name,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  const isCluster = target.kind === 'cluster';
  const dbType = isCluster ? 'cluster' : 'db';
  const targetArn = arn(dbType, id);
  const restoredArn = arn(dbType, patterns.restored);
  const asideArn = arn(dbType, patterns.aside);
  const snapshotType = isCluster ? 'cluster-snapshot' : 'snapshot';
  // Every snapshot this workflow takes of the target: pre-migration snapshots and backups.
  const snapshotArns = [arn(snapshotType, patterns.snapshot), arn(snapshotType, patterns.backup)];
  const managedBy = (key: string) => ({ StringEquals: { [key]: managedByValue(stack) } });
  // A snapshot's own tags: managed by this orchestrator (the stack's name), of this very target (the name
  // patterns already say so, but another target's name may begin with this one's, e.g. app and app-backup-2).
  const managedSnapshotOfTarget = {
    StringEquals: {
      [`aws:ResourceTag/${MANAGED_BY_TAG}`]: managedByValue(stack),
      [`aws:ResourceTag/${TagKeys.source}`]: target.identifier,
    },
  };
  const describeDb = isCluster ? 'rds:DescribeDBClusters' : 'rds:DescribeDBInstances';
  const describeSnapshots = isCluster ? 'rds:DescribeDBClusterSnapshots' : 'rds:DescribeDBSnapshots';
  const modifyDb = isCluster ? 'rds:ModifyDBCluster' : 'rds:ModifyDBInstance';
  const restoreAction = isCluster
    ? 'rds:RestoreDBClusterFromSnapshot'
    : 'rds:RestoreDBInstanceFromDBSnapshot';
  const deleteSnapshot = isCluster ? 'rds:DeleteDBClusterSnapshot' : 'rds:DeleteDBSnapshot';
  const patternReason =
    'Identifier pattern of what this workflow itself creates and names (lambdas/shared/domain/identifiers.ts): ' +
    `pre-migration snapshots ${patterns.snapshot}, backups ${patterns.backup}, restored copies ${patterns.restored}, ` +
    `failed originals kept aside ${patterns.aside}; the exact names depend on the execution.`;
  const groupReason =
    "A restore reuses the original's subnet group, parameter group and option group, whose names are read " +
    'from the original at run time (unknown at synth); they are referenced, never modified.';
  const membersReason =
    'Aurora cluster members: DescribeDBInstances filtered by cluster id (the API authorizes it on db:*), and ' +
    "creating the restored cluster's instances, whose names derive from the original members' names read at " +
    'run time (restoredMemberIdentifier); creation is limited to the restored clusters (cluster ARN pattern) ' +
    `and to requests tagged ${MANAGED_BY_TAG} this stack.`;
  const passRoleReason =
    "iam:PassRole of the original's monitoring role, directory role and feature roles (s3Import, ...), read " +
    'from the original at run time, only to RDS (iam:PassedToService).';
  const passRole: iam.PolicyStatementProps = {
    sid: 'PassOriginalRolesToRds',
    actions: ['iam:PassRole'],
    resources: ['*'],
    conditions: {
      StringEquals: { 'iam:PassedToService': ['rds.amazonaws.com', 'monitoring.rds.amazonaws.com'] },
    },
  };
  const describeMembers: iam.PolicyStatementProps = {
    sid: 'DescribeClusterMembers',
    actions: ['rds:DescribeDBInstances'],
    resources: [arn('db', '*')],
  };

  // create-snapshot: read the target and the account's snapshot quota, snapshot the target as
  // <target>-premigration-* or <target>-backup-*, tagged managed-by (and its kind and retention class).
  const create = roles['create-snapshot'];
  allow(create, { sid: 'DescribeTarget', actions: [describeDb], resources: [targetArn] });
  if (isCluster) allow(create, describeMembers, membersReason);
  allow(
    create,
    { sid: 'ReadSnapshotQuota', actions: ['rds:DescribeAccountAttributes'], resources: ['*'] },
    'rds:DescribeAccountAttributes (the manual snapshot quota and its usage, read before each snapshot) has no ' +
      'resource-level permission.',
  );
  allow(
    create,
    {
      sid: 'CreateManagedSnapshot',
      actions: [isCluster ? 'rds:CreateDBClusterSnapshot' : 'rds:CreateDBSnapshot'],
      resources: [targetArn, ...snapshotArns],
    },
    patternReason,
  );
  allow(
    create,
    {
      sid: 'TagManagedSnapshotOnCreate',
      actions: ['rds:AddTagsToResource'],
      resources: snapshotArns,
      conditions: managedBy(`aws:RequestTag/${MANAGED_BY_TAG}`),
    },
    patternReason,
  );
  allow(
    create,
    { sid: 'DescribeManagedSnapshot', actions: [describeSnapshots], resources: snapshotArns },
    patternReason,
  );

  // check-snapshot: read the snapshot.
  allow(
    roles['check-snapshot'],
    { sid: 'DescribeManagedSnapshot', actions: [describeSnapshots], resources: snapshotArns },
    patternReason,
  );

  // preflight, in a restore: list the target's snapshots (the API authorizes a listing filtered by the target
  // on the target's ARN) and describe the one asked for.
  allow(
    roles.preflight,
    { sid: 'ListManagedSnapshots', actions: [describeSnapshots], resources: [targetArn, ...snapshotArns] },
    patternReason,
  );

  // prune-snapshots: list the target's snapshots, and delete those retention no longer keeps, only when their
  // own tags say this orchestrator took them of this target (the function re-reads them first, too).
  const prune = roles['prune-snapshots'];
  allow(
    prune,
    { sid: 'ListManagedSnapshots', actions: [describeSnapshots], resources: [targetArn, ...snapshotArns] },
    patternReason,
  );
  allow(
    prune,
    {
      sid: 'DeleteManagedSnapshots',
      actions: [deleteSnapshot],
      resources: snapshotArns,
      conditions: managedSnapshotOfTarget,
    },
    patternReason,
  );

  // restore-snapshot: read the original's settings, restore a managed snapshot of the target (the release's
  // pre-migration one in a rollback, the backup asked for in a restore) as <target>-restored-*, tagged managed-by.
  const restore = roles['restore-snapshot'];
  allow(
    restore,
    { sid: 'DescribeOriginalAndRestored', actions: [describeDb], resources: [targetArn, restoredArn] },
    patternReason,
  );
  // The restore step proves by the snapshot's tags that it may restore it (its execution's, or this target's).
  allow(
    restore,
    { sid: 'ProveSnapshotOwnership', actions: [describeSnapshots], resources: snapshotArns },
    patternReason,
  );
  allow(
    restore,
    {
      sid: 'RestoreFromManagedSnapshot',
      actions: [restoreAction],
      resources: snapshotArns,
      conditions: managedSnapshotOfTarget,
    },
    patternReason,
  );
  allow(
    restore,
    { sid: 'RestoreAsRestoredCopy', actions: [restoreAction], resources: [restoredArn] },
    patternReason,
  );
  allow(
    restore,
    {
      sid: 'RestoreWithOriginalGroups',
      actions: [restoreAction],
      resources: [arn('subgrp', '*'), arn(isCluster ? 'cluster-pg' : 'pg', '*'), arn('og', '*')],
    },
    groupReason,
  );
  allow(
    restore,
    {
      sid: 'TagRestoredCopyOnCreate',
      actions: ['rds:AddTagsToResource'],
      resources: [restoredArn],
      conditions: managedBy(`aws:RequestTag/${MANAGED_BY_TAG}`),
    },
    patternReason,
  );
  allow(restore, passRole, passRoleReason);
  if (databaseKey) {
    allow(restore, {
      sid: 'DescribeDatabaseKey',
      actions: ['kms:DescribeKey'],
      resources: [databaseKey.keyArn],
    });
    allow(restore, {
      sid: 'LetRdsUseDatabaseKey',
      actions: ['kms:CreateGrant'],
      resources: [databaseKey.keyArn],
      conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
    });
  }

  // check-restore: read the restored copy (and the original, for what a restore does not take), then
  // apply it to the restored copy (Aurora: create its instances), recording progress in a tag.
  const check = roles['check-restore'];
  allow(
    check,
    { sid: 'DescribeRestoredAndOriginal', actions: [describeDb], resources: [restoredArn, targetArn] },
    patternReason,
  );
  allow(
    check,
    {
      sid: 'ApplyOriginalSettingsToRestoredCopy',
      actions: isCluster ? [modifyDb] : [modifyDb, 'rds:AddRoleToDBInstance'],
      resources: [restoredArn],
    },
    patternReason,
  );
  allow(
    check,
    {
      sid: 'TagRestoredCopyProgress',
      actions: ['rds:AddTagsToResource'],
      resources: [restoredArn],
      conditions: managedBy(`aws:ResourceTag/${MANAGED_BY_TAG}`),
    },
    patternReason,
  );
  if (isCluster) {
    allow(check, describeMembers, membersReason);
    allow(
      check,
      {
        sid: 'CreateRestoredClusterMembers',
        actions: ['rds:CreateDBInstance', 'rds:AddTagsToResource'],
        resources: [arn('db', '*')],
        conditions: managedBy(`aws:RequestTag/${MANAGED_BY_TAG}`),
      },
      membersReason,
    );
    allow(
      check,
      {
        sid: 'CreateMembersInRestoredClusterOnly',
        actions: ['rds:CreateDBInstance'],
        resources: [restoredArn],
      },
      patternReason,
    );
    allow(
      check,
      {
        sid: 'CreateMembersWithOriginalGroups',
        actions: ['rds:CreateDBInstance'],
        resources: [arn('subgrp', '*'), arn('pg', '*'), arn('og', '*')],
      },
      groupReason,
    );
  }
  allow(check, passRole, passRoleReason);

  // swap: rename the original aside (<target>-rolledback-*), then the restored copy to the original's name.
  const swapArns = [targetArn, restoredArn, asideArn];
  allow(roles.swap, { sid: 'DescribeSwapped', actions: [describeDb], resources: swapArns }, patternReason);
  if (isCluster) allow(roles.swap, describeMembers, membersReason);
  allow(roles.swap, { sid: 'RenameSwapped', actions: [modifyDb], resources: swapArns }, patternReason);
}
