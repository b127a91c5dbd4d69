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

/**
 * What the target database uses and a restore passes on to its copy, named so that the restore may pass only
 * these (iam:PassRole, the groups' ARNs). Each one not given is left open to any of its kind in the account.
 */
export interface DatabaseSettings {
  /**
   * The IAM roles the target uses, which a restore passes to RDS: its enhanced-monitoring role (an Aurora
   * cluster's and its instances'), and the directory role and feature roles (`s3Import`, ...) when it has them.
   * `[]` when it uses none: no iam:PassRole is granted then.
   *
   * @default - any role of this account, passed to RDS only (iam:PassedToService)
   */
  readonly roles?: iam.IRole[];
  /**
   * The name of the target's DB subnet group (the restore reuses it).
   *
   * @default - any DB subnet group of this account and region
   */
  readonly subnetGroupName?: string;
  /**
   * The name of the target's DB parameter group: an instance's, or the one of an Aurora cluster's instances
   * (each restored member reuses its original's).
   *
   * @default - any DB parameter group of this account and region
   */
  readonly parameterGroupName?: string;
  /**
   * Aurora only: the name of the target cluster's DB cluster parameter group.
   *
   * @default - any DB cluster parameter group of this account and region
   */
  readonly clusterParameterGroupName?: string;
  /**
   * DB instance only: the name of the target's option group (an Aurora restore passes none).
   *
   * @default - any option group of this account and region
   */
  readonly optionGroupName?: string;
}

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
  settings: DatabaseSettings = {},
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
  const groupKeys = isCluster
    ? (['subnetGroupName', 'parameterGroupName', 'clusterParameterGroupName'] as const)
    : (['subnetGroupName', 'parameterGroupName', 'optionGroupName'] as const);
  const openGroups = groupKeys.filter((key) => settings[key] === undefined).join(', ');
  const groupReason =
    "A restore reuses the original's groups, whose names it reads from the original at run time; they are " +
    `referenced, never modified. Not given (databaseSettings ${openGroups}), so any group of that kind in ` +
    "this account and region: pass the names to narrow it to exactly the original's.";
  const group = (resource: string, name: string | undefined) => arn(resource, name ?? '*');
  const membersReason =
    'Aurora cluster members: DescribeDBInstances filtered by cluster id, which the API authorizes on db:* only ' +
    '(the filtered members are named by the original cluster, not by a pattern).';
  const passRoleReason =
    "iam:PassRole of the original's monitoring role, directory role and feature roles (s3Import, ...), read " +
    'from the original at run time, only to RDS (iam:PassedToService); databaseSettings.roles not given, so ' +
    'any role of this account: pass the roles to narrow it to exactly them.';
  const passRole: iam.PolicyStatementProps | undefined =
    settings.roles?.length === 0
      ? undefined
      : {
          sid: 'PassOriginalRolesToRds',
          actions: ['iam:PassRole'],
          resources: settings.roles
            ? settings.roles.map((role) => role.roleArn)
            : [stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: '*' })],
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
      // What the adapters pass (settings.ts): an instance, its subnet, parameter and option groups; a cluster,
      // its subnet and cluster parameter groups (no option group).
      resources: isCluster
        ? [group('subgrp', settings.subnetGroupName), group('cluster-pg', settings.clusterParameterGroupName)]
        : [
            group('subgrp', settings.subnetGroupName),
            group('pg', settings.parameterGroupName),
            group('og', settings.optionGroupName),
          ],
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
  if (passRole) allow(restore, passRole, passRoleReason);
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
    // CreateDBInstance takes the new instance (db, required) and its cluster (optional: only checked when the
    // request names one). An Aurora engine cannot make a standalone instance, so with the engine condition every
    // instance created is a member of a cluster, which must be a restored copy; and its own name must be of the
    // restored pattern too (restoredMemberIdentifier keeps it).
    allow(
      check,
      {
        sid: 'CreateRestoredClusterMembers',
        actions: ['rds:CreateDBInstance'],
        resources: [arn('db', patterns.restored), restoredArn],
        conditions: { StringLike: { 'rds:DatabaseEngine': 'aurora*' } },
      },
      patternReason,
    );
    allow(
      check,
      {
        sid: 'TagRestoredClusterMembersOnCreate',
        actions: ['rds:AddTagsToResource'],
        resources: [arn('db', patterns.restored)],
        conditions: managedBy(`aws:RequestTag/${MANAGED_BY_TAG}`),
      },
      patternReason,
    );
    // A member is created with its original's DB parameter group only (clusterMemberInput): no subnet or
    // option group.
    allow(
      check,
      {
        sid: 'CreateMembersWithOriginalParameterGroup',
        actions: ['rds:CreateDBInstance'],
        resources: [group('pg', settings.parameterGroupName)],
      },
      groupReason,
    );
  }
  if (passRole) allow(check, passRole, passRoleReason);

  // swap: rename the original aside (<target>-rolledback-*), then the restored copy to the original's name.
  // RDS IAM cannot limit ModifyDBInstance/ModifyDBCluster to the rename (NewDBInstanceIdentifier has no condition
  // key), so the action is whole, on exactly the original, the restored pattern and the aside pattern; settings
  // that name another resource (groups, roles, keys) stay out of reach, as this role holds none of them.
  const swapArns = [targetArn, restoredArn, asideArn];
  allow(roles.swap, { sid: 'DescribeSwapped', actions: [describeDb], resources: swapArns }, patternReason);
  if (isCluster) allow(roles.swap, describeMembers, membersReason);
  allow(roles.swap, { sid: 'RenameSwapped', actions: [modifyDb], resources: swapArns }, patternReason);
}
