/**
 * RDS permissions, per step, scoped to the target and to the identifier patterns of what the workflow
 * creates; only the functions that need an action get it. Mirrors the calls of the RDS snapshot gateways
 * (instance and cluster, under lambdas/shared/adapters/). Every wildcard carries its reason for cdk-nag.
 */
import { ArnFormat, Stack, Token } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Step } from '../../lambdas/shared/contract/contract.js';
import {
  asideIdentifier,
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
  /** Restored copies: `<target>-restored-*`. */
  readonly restored: string;
  /** Failed originals kept aside: `<target>-rolledback-*`. */
  readonly aside: string;
}

/** The marker after the target's identifier in each kind of name identifiers.ts gives. */
const MARKERS: ManagedIdentifierPatterns = {
  snapshot: '-premigration-',
  restored: '-restored-',
  aside: '-rolledback-',
};

/**
 * The identifier patterns of the snapshots, restored copies and aside copies of `targetIdentifier`, derived
 * from the very helpers the functions name them with (so a long identifier, shortened by them, still
 * matches). For an unresolved token, `<token>-<kind>-*`.
 */
export function managedIdentifierPatterns(targetIdentifier: string): ManagedIdentifierPatterns {
  if (Token.isUnresolved(targetIdentifier)) {
    return {
      snapshot: `${targetIdentifier}${MARKERS.snapshot}*`,
      restored: `${targetIdentifier}${MARKERS.restored}*`,
      aside: `${targetIdentifier}${MARKERS.aside}*`,
    };
  }
  const upTo = (id: string, marker: string) => `${id.slice(0, id.lastIndexOf(marker) + marker.length)}*`;
  return {
    snapshot: upTo(preMigrationSnapshotId(targetIdentifier, 'execution'), MARKERS.snapshot),
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
  const snapshotArn = arn(isCluster ? 'cluster-snapshot' : 'snapshot', patterns.snapshot);
  const managedBy = (key: string) => ({ StringEquals: { [key]: managedByValue(stack) } });
  const describeDb = isCluster ? 'rds:DescribeDBClusters' : 'rds:DescribeDBInstances';
  const describeSnapshots = isCluster ? 'rds:DescribeDBClusterSnapshots' : 'rds:DescribeDBSnapshots';
  const modifyDb = isCluster ? 'rds:ModifyDBCluster' : 'rds:ModifyDBInstance';
  const restoreAction = isCluster
    ? 'rds:RestoreDBClusterFromSnapshot'
    : 'rds:RestoreDBInstanceFromDBSnapshot';
  const patternReason =
    'Identifier pattern of what this workflow itself creates and names (lambdas/shared/domain/identifiers.ts): ' +
    `pre-migration snapshots ${patterns.snapshot}, restored copies ${patterns.restored}, failed originals kept ` +
    `aside ${patterns.aside}; the exact names depend on the execution.`;
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

  // create-snapshot: read the target, snapshot it as <target>-premigration-*, tagged managed-by.
  const create = roles['create-snapshot'];
  allow(create, { sid: 'DescribeTarget', actions: [describeDb], resources: [targetArn] });
  if (isCluster) allow(create, describeMembers, membersReason);
  allow(
    create,
    {
      sid: 'CreatePreMigrationSnapshot',
      actions: [isCluster ? 'rds:CreateDBClusterSnapshot' : 'rds:CreateDBSnapshot'],
      resources: [targetArn, snapshotArn],
    },
    patternReason,
  );
  allow(
    create,
    {
      sid: 'TagPreMigrationSnapshotOnCreate',
      actions: ['rds:AddTagsToResource'],
      resources: [snapshotArn],
      conditions: managedBy(`aws:RequestTag/${MANAGED_BY_TAG}`),
    },
    patternReason,
  );
  allow(
    create,
    { sid: 'DescribePreMigrationSnapshot', actions: [describeSnapshots], resources: [snapshotArn] },
    patternReason,
  );

  // check-snapshot: read the snapshot.
  allow(
    roles['check-snapshot'],
    { sid: 'DescribePreMigrationSnapshot', actions: [describeSnapshots], resources: [snapshotArn] },
    patternReason,
  );

  // restore-snapshot: read the original's settings, restore as <target>-restored-*, tagged managed-by.
  const restore = roles['restore-snapshot'];
  allow(
    restore,
    { sid: 'DescribeOriginalAndRestored', actions: [describeDb], resources: [targetArn, restoredArn] },
    patternReason,
  );
  // The restore step proves by its execution tag that the snapshot is this execution's own.
  allow(
    restore,
    { sid: 'ProveSnapshotOwnership', actions: [describeSnapshots], resources: [snapshotArn] },
    patternReason,
  );
  allow(
    restore,
    { sid: 'RestorePreMigrationSnapshot', actions: [restoreAction], resources: [restoredArn, snapshotArn] },
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
