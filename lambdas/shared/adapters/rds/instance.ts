/**
 * `SnapshotGateway` for an RDS for PostgreSQL DB instance: manual DB snapshots, a restore next to the
 * original that carries every setting of the original, and the identifier swap (the protocol is
 * `RdsSnapshotGateway`'s; this class makes the DB instance calls).
 *
 * A restore from a snapshot creates a new instance with RDS defaults (default security group, default
 * parameter group, single-AZ, no monitoring...): the original is described first and every setting is passed
 * to RestoreDBInstanceFromDBSnapshot; the few that the restore API does not accept are applied with
 * ModifyDBInstance once the restored instance is available (from `describeRestore`, which reports
 * `restoring` until they are in place).
 */
import {
  AddRoleToDBInstanceCommand,
  CreateDBSnapshotCommand,
  type DBInstance,
  type DBSnapshot,
  DeleteDBSnapshotCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBInstanceCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
  type Tag,
} from '@aws-sdk/client-rds';
import { TargetNotAvailableError } from '../../contract/errors.js';
import type { RestoreDescription, RestoreRequest, TargetDescription } from '../../contract/ports.js';
import {
  RdsSnapshotGateway,
  type RdsSnapshotGatewayOptions,
  type ResourceView,
  type SnapshotPage,
  type SnapshotView,
} from './base.js';
import { faultName } from './faults.js';
import type { RdsNouns } from './nouns.js';
import {
  instancePostRestoreModification,
  instanceRestoreInput,
  MAX_POST_RESTORE_ATTEMPTS,
  missingInstanceRoles,
} from './settings.js';
import { INSTANCE_SNAPSHOT_READY } from './statuses.js';

export interface RdsInstanceSnapshotGatewayOptions extends RdsSnapshotGatewayOptions {
  /** The DB instance the workflow protects. */
  readonly instanceIdentifier: string;
}

const INSTANCE_NOUNS: RdsNouns = {
  kind: 'instance',
  resource: 'RDS DB instance',
  snapshot: 'snapshot',
  snapshotType: 'DB snapshot',
  snapshotQuota: 'Manual DB instance snapshots',
  accountQuota: 'ManualSnapshots',
  deleteSnapshotCommand: 'aws rds delete-db-snapshot --db-snapshot-identifier <id>',
  restoreByHand: (snapshotId, r) =>
    `aws rds restore-db-instance-from-db-snapshot --db-snapshot-identifier ${snapshotId} --db-instance-identifier ${r} ...`,
  operations: {
    describe: 'DescribeDBInstances',
    createSnapshot: 'CreateDBSnapshot',
    describeSnapshots: 'DescribeDBSnapshots',
    deleteSnapshot: 'DeleteDBSnapshot',
    restore: 'RestoreDBInstanceFromDBSnapshot',
    modify: 'ModifyDBInstance',
  },
  faults: {
    notFound: 'DBInstanceNotFoundFault',
    alreadyExists: 'DBInstanceAlreadyExistsFault',
    invalidState: 'InvalidDBInstanceStateFault',
    snapshotNotFound: 'DBSnapshotNotFoundFault',
    snapshotAlreadyExists: 'DBSnapshotAlreadyExistsFault',
    snapshotInvalidState: 'InvalidDBSnapshotStateFault',
  },
};

export class RdsInstanceSnapshotGateway extends RdsSnapshotGateway<DBInstance> {
  protected readonly nouns = INSTANCE_NOUNS;

  constructor(options: RdsInstanceSnapshotGatewayOptions) {
    super(options.instanceIdentifier, options);
  }

  protected async describeResource(identifier: string): Promise<DBInstance | undefined> {
    const out = await this.client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier }));
    return out.DBInstances?.find((db) => db.DBInstanceIdentifier === identifier);
  }

  protected view(db: DBInstance): ResourceView {
    return {
      status: db.DBInstanceStatus,
      tags: db.TagList,
      arn: db.DBInstanceArn,
      renamingTo: db.PendingModifiedValues?.DBInstanceIdentifier,
    };
  }

  protected async readiness(db: DBInstance): Promise<TargetDescription> {
    const id = this.targetIdentifier;
    if (db.DBClusterIdentifier) {
      throw new TargetNotAvailableError(
        `RDS DB instance ${id} is a member of Aurora cluster ${db.DBClusterIdentifier}: Aurora snapshots are taken of the cluster. ` +
          `Configure the orchestrator with the cluster ${db.DBClusterIdentifier} as its target.`,
        { details: { identifier: id, cluster: db.DBClusterIdentifier } },
      );
    }
    const status = db.DBInstanceStatus ?? 'unknown';
    return {
      identifier: id,
      status,
      available: INSTANCE_SNAPSHOT_READY.has(status),
      engine: db.Engine ?? 'unknown',
    };
  }

  protected async createSnapshotCall(snapshotId: string, tags: Tag[]): Promise<SnapshotView | undefined> {
    const out = await this.client.send(
      new CreateDBSnapshotCommand({
        DBSnapshotIdentifier: snapshotId,
        DBInstanceIdentifier: this.targetIdentifier,
        Tags: tags,
      }),
    );
    return snapshotView(out.DBSnapshot);
  }

  protected async describeSnapshotCall(snapshotId: string): Promise<SnapshotView | undefined> {
    const out = await this.client.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: snapshotId }));
    return snapshotView(out.DBSnapshots?.find((s) => s.DBSnapshotIdentifier === snapshotId));
  }

  protected async listSnapshotsCall(marker: string | undefined): Promise<SnapshotPage> {
    const out = await this.client.send(
      new DescribeDBSnapshotsCommand({
        DBInstanceIdentifier: this.targetIdentifier,
        SnapshotType: 'manual',
        ...(marker ? { Marker: marker } : {}),
      }),
    );
    return {
      snapshots: (out.DBSnapshots ?? []).flatMap((s) => snapshotView(s) ?? []),
      marker: out.Marker,
    };
  }

  protected async deleteSnapshotCall(snapshotId: string): Promise<void> {
    await this.client.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: snapshotId }));
  }

  protected async restoreCall(
    original: DBInstance,
    request: RestoreRequest,
    tags: Tag[],
  ): Promise<string | undefined> {
    const out = await this.client.send(
      new RestoreDBInstanceFromDBSnapshotCommand(instanceRestoreInput(original, request, tags)),
    );
    return out.DBInstance?.DBInstanceStatus;
  }

  protected restoreFaultReasons(original: DBInstance): Readonly<Record<string, string>> {
    return {
      InstanceQuotaExceededFault:
        'the DB instance quota of the account is reached (raise it in Service Quotas or delete unused instances)',
      InsufficientDBInstanceCapacityFault: `RDS has no capacity for ${original.DBInstanceClass} in ${original.AvailabilityZone ?? 'the zone'} now`,
    };
  }

  /** Applies the original's settings the restore API does not accept: IAM roles first, then the others. */
  protected async describeRestored(
    restored: DBInstance,
    r: string,
    raw: string,
  ): Promise<RestoreDescription> {
    const available: RestoreDescription = { identifier: r, status: 'available', rawStatus: raw };
    const { originalId, attempts } = this.tagging.origin(restored.TagList);
    if (originalId === undefined || !(attempts < MAX_POST_RESTORE_ATTEMPTS)) return available;
    const original = await this.findForRestore(originalId, {
      details: { restoredIdentifier: r },
      untouched: '',
    });
    // Once the original is renamed aside the swap has begun: the settings were applied before it.
    if (original === undefined || this.tagging.isCopy(original.TagList, r)) return available;
    const modification = instancePostRestoreModification(original, restored);
    const roles = missingInstanceRoles(original, restored);
    const step = { restored, restoredIdentifier: r, raw, originalIdentifier: originalId, attempts };
    // Roles first: they always converge, and a setting that never shows up must not hold them back.
    if (roles.length > 0) {
      return this.requestSettings({
        ...step,
        operation: 'AddRoleToDBInstance',
        what: `the IAM roles ${roles.map((role) => role.FeatureName).join(', ')}`,
        applying: 'IAM roles',
        send: async () => {
          for (const role of roles) {
            await this.client
              .send(new AddRoleToDBInstanceCommand({ DBInstanceIdentifier: r, ...role }))
              .catch((error: unknown) => {
                if (faultName(error) !== 'DBInstanceRoleAlreadyExistsFault') throw error;
              });
          }
        },
      });
    }
    if (modification === undefined) return available;
    const settings = Object.keys(modification).join(', ');
    return this.requestSettings({
      ...step,
      operation: 'ModifyDBInstance',
      what: `the settings ${settings}`,
      applying: settings,
      send: async () => {
        await this.client.send(
          new ModifyDBInstanceCommand({ DBInstanceIdentifier: r, ApplyImmediately: true, ...modification }),
        );
      },
    });
  }

  protected async rename(from: string, to: string): Promise<void> {
    await this.client.send(
      new ModifyDBInstanceCommand({
        DBInstanceIdentifier: from,
        NewDBInstanceIdentifier: to,
        ApplyImmediately: true,
      }),
    );
  }
}

function snapshotView(snapshot: DBSnapshot | undefined): SnapshotView | undefined {
  return (
    snapshot && {
      snapshotId: snapshot.DBSnapshotIdentifier,
      sourceIdentifier: snapshot.DBInstanceIdentifier,
      status: snapshot.Status,
      tags: snapshot.TagList,
      snapshotType: snapshot.SnapshotType,
      createdAt: snapshot.SnapshotCreateTime,
      sizeGiB: snapshot.AllocatedStorage,
    }
  );
}
