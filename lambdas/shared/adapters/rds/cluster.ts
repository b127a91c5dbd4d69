/**
 * `SnapshotGateway` for an Aurora PostgreSQL cluster (provisioned and Serverless v2 instances): DB cluster
 * snapshots, a restore next to the original that carries the cluster's settings and recreates each of its
 * instances, and the cluster identifier swap (the protocol is `RdsSnapshotGateway`'s; this class makes the
 * DB cluster calls).
 *
 * RestoreDBClusterFromSnapshot creates a cluster with NO instances, with RDS defaults for what it is not
 * given (and the region's default engine version!): the original cluster and each member instance are
 * described, the cluster is restored with the cluster's settings, and `describeRestore`, once the cluster is
 * available, creates one instance per original instance with that instance's settings (class, including
 * `db.serverless`, parameter group, promotion tier, zone, monitoring, Performance Insights), then reports
 * available only when the cluster and all its instances are.
 *
 * The swap renames the clusters only. The restored cluster's instances keep their identifiers (derived from
 * the restored cluster's: `<restored>-<suffix of the original instance>`): applications connect through the
 * cluster endpoints, which follow the cluster identifier, and renaming instances too would double the steps
 * that can fail while nothing serves.
 */
import {
  CreateDBClusterSnapshotCommand,
  CreateDBInstanceCommand,
  type DBCluster,
  type DBClusterSnapshot,
  type DBInstance,
  DeleteDBClusterSnapshotCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  ModifyDBClusterCommand,
  RestoreDBClusterFromSnapshotCommand,
  type Tag,
} from '@aws-sdk/client-rds';
import { RestoreFailedError } from '../../contract/errors.js';
import type { RestoreDescription, RestoreRequest, TargetDescription } from '../../contract/ports.js';
import { restoredMemberIdentifier } from '../../domain/identifiers.js';
import {
  RdsSnapshotGateway,
  type RdsSnapshotGatewayOptions,
  type ResourceView,
  type RestoreContext,
  type SnapshotPage,
  type SnapshotView,
} from './base.js';
import {
  accessHint,
  faultMessage,
  faultName,
  isTransientFault,
  readForRestore,
  transientFault,
} from './faults.js';
import type { RdsNouns } from './nouns.js';
import {
  clusterMemberInput,
  clusterPostRestoreModification,
  clusterRestoreInput,
  MAX_POST_RESTORE_ATTEMPTS,
  membersInCreationOrder,
} from './settings.js';
import { CLUSTER_SNAPSHOT_READY, isFailedResourceStatus, isUsable } from './statuses.js';

export interface RdsClusterSnapshotGatewayOptions extends RdsSnapshotGatewayOptions {
  /** The Aurora PostgreSQL cluster the workflow protects. */
  readonly clusterIdentifier: string;
}

const CLUSTER_NOUNS: RdsNouns = {
  kind: 'cluster',
  resource: 'Aurora cluster',
  snapshot: 'cluster snapshot',
  snapshotType: 'DB cluster snapshot',
  snapshotQuota: 'Manual DB cluster snapshots',
  accountQuota: 'ManualClusterSnapshots',
  deleteSnapshotCommand: 'aws rds delete-db-cluster-snapshot --db-cluster-snapshot-identifier <id>',
  restoreByHand: (snapshotId, r) =>
    `aws rds restore-db-cluster-from-snapshot --snapshot-identifier ${snapshotId} --db-cluster-identifier ${r} --engine aurora-postgresql ..., then create its instances.`,
  operations: {
    describe: 'DescribeDBClusters',
    createSnapshot: 'CreateDBClusterSnapshot',
    describeSnapshots: 'DescribeDBClusterSnapshots',
    deleteSnapshot: 'DeleteDBClusterSnapshot',
    restore: 'RestoreDBClusterFromSnapshot',
    modify: 'ModifyDBCluster',
  },
  faults: {
    notFound: 'DBClusterNotFoundFault',
    alreadyExists: 'DBClusterAlreadyExistsFault',
    invalidState: 'InvalidDBClusterStateFault',
    snapshotNotFound: 'DBClusterSnapshotNotFoundFault',
    snapshotAlreadyExists: 'DBClusterSnapshotAlreadyExistsFault',
    snapshotInvalidState: 'InvalidDBClusterSnapshotStateFault',
  },
};

/** The restored cluster whose instances are being created, and where its reads report their faults. */
interface MemberCopy {
  readonly original: DBCluster;
  readonly restored: DBCluster;
  readonly originalId: string;
  readonly restoredId: string;
  readonly at: RestoreContext;
}

export class RdsClusterSnapshotGateway extends RdsSnapshotGateway<DBCluster> {
  protected readonly nouns = CLUSTER_NOUNS;

  constructor(options: RdsClusterSnapshotGatewayOptions) {
    super(options.clusterIdentifier, options);
  }

  protected async describeResource(identifier: string): Promise<DBCluster | undefined> {
    const out = await this.client.send(new DescribeDBClustersCommand({ DBClusterIdentifier: identifier }));
    return out.DBClusters?.find((cluster) => cluster.DBClusterIdentifier === identifier);
  }

  protected view(cluster: DBCluster): ResourceView {
    return {
      status: cluster.Status,
      tags: cluster.TagList,
      arn: cluster.DBClusterArn,
      renamingTo: cluster.PendingModifiedValues?.DBClusterIdentifier,
    };
  }

  /** Available, with a serving writer: migrations need the writer. */
  protected async readiness(cluster: DBCluster): Promise<TargetDescription> {
    const id = this.targetIdentifier;
    const engine = cluster.Engine ?? 'unknown';
    const status = cluster.Status ?? 'unknown';
    if (!CLUSTER_SNAPSHOT_READY.has(status)) return { identifier: id, status, available: false, engine };
    const writerId = cluster.DBClusterMembers?.find((member) => member.IsClusterWriter)?.DBInstanceIdentifier;
    if (writerId === undefined) {
      return { identifier: id, status: `${status}, without a writer instance`, available: false, engine };
    }
    const members = await this.clusterInstances(id).catch(this.targetUnreadable('DescribeDBInstances'));
    const writerStatus =
      members.find((db) => db.DBInstanceIdentifier === writerId)?.DBInstanceStatus ?? 'missing';
    if (!isUsable(writerStatus)) {
      return {
        identifier: id,
        status: `${status}, writer ${writerId} ${writerStatus}`,
        available: false,
        engine,
      };
    }
    return { identifier: id, status, available: true, engine };
  }

  protected async createSnapshotCall(snapshotId: string, tags: Tag[]): Promise<SnapshotView | undefined> {
    const out = await this.client.send(
      new CreateDBClusterSnapshotCommand({
        DBClusterSnapshotIdentifier: snapshotId,
        DBClusterIdentifier: this.targetIdentifier,
        Tags: tags,
      }),
    );
    return snapshotView(out.DBClusterSnapshot);
  }

  protected async describeSnapshotCall(snapshotId: string): Promise<SnapshotView | undefined> {
    const out = await this.client.send(
      new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: snapshotId }),
    );
    return snapshotView(out.DBClusterSnapshots?.find((s) => s.DBClusterSnapshotIdentifier === snapshotId));
  }

  protected async listSnapshotsCall(marker: string | undefined): Promise<SnapshotPage> {
    const out = await this.client.send(
      new DescribeDBClusterSnapshotsCommand({
        DBClusterIdentifier: this.targetIdentifier,
        SnapshotType: 'manual',
        ...(marker ? { Marker: marker } : {}),
      }),
    );
    return {
      snapshots: (out.DBClusterSnapshots ?? []).flatMap((s) => snapshotView(s) ?? []),
      marker: out.Marker,
    };
  }

  protected async deleteSnapshotCall(snapshotId: string): Promise<void> {
    await this.client.send(new DeleteDBClusterSnapshotCommand({ DBClusterSnapshotIdentifier: snapshotId }));
  }

  protected async restoreCall(
    original: DBCluster,
    request: RestoreRequest,
    tags: Tag[],
  ): Promise<string | undefined> {
    const out = await this.client.send(
      new RestoreDBClusterFromSnapshotCommand(clusterRestoreInput(original, request, tags)),
    );
    return out.DBCluster?.Status;
  }

  protected restoreFaultReasons(original: DBCluster): Readonly<Record<string, string>> {
    return {
      DBClusterQuotaExceededFault:
        'the DB cluster quota of the account is reached (raise it in Service Quotas or delete unused clusters)',
      InsufficientDBClusterCapacityFault: 'RDS has no capacity for the cluster now',
      KMSKeyNotAccessibleFault: `the KMS key ${original.KmsKeyId ?? ''} cannot be used (check its key policy and that it is enabled)`,
    };
  }

  /** Creates the instances, waits until they all serve, then applies the cluster settings the restore lacks. */
  protected async describeRestored(restored: DBCluster, r: string, raw: string): Promise<RestoreDescription> {
    const { originalId, attempts } = this.tagging.origin(restored.TagList);
    const at: RestoreContext = {
      details: { restoredIdentifier: r, originalIdentifier: originalId },
      untouched: originalId ? `The original ${originalId} is untouched.` : '',
    };
    const instances = await this.instancesForRestore(r, at);
    const original = originalId === undefined ? undefined : await this.findForRestore(originalId, at);
    // After the swap began, the identifier of the original may hold this very copy: nothing to copy from.
    const source = original && !this.tagging.isCopy(original.TagList, r) ? original : undefined;

    // 1. One instance per instance of the original (a restored cluster has none).
    if (source !== undefined && originalId !== undefined) {
      const originalMembers = await this.instancesForRestore(originalId, at);
      const present = new Set(instances.map((db) => db.DBInstanceIdentifier));
      const missing = membersInCreationOrder(source, originalMembers).filter(
        (member) => !present.has(restoredMemberIdentifier(r, originalId, member.DBInstanceIdentifier ?? '')),
      );
      if (missing.length > 0) {
        const copy = { original: source, restored, originalId, restoredId: r, at };
        const created = await this.createMembers(missing, copy);
        return { identifier: r, status: 'restoring', rawStatus: `${raw}, ${created}` };
      }
    } else if (instances.length === 0) {
      throw new RestoreFailedError(
        `The restored Aurora cluster ${r} has no instances, and the original ${originalId ?? '(unknown: the restored cluster lacks its tags)'} ` +
          'cannot be read to recreate them. Create its instances by hand (aws rds create-db-instance --db-cluster-identifier ' +
          `${r} --engine aurora-postgresql --db-instance-class <class> --db-instance-identifier <id>).`,
        { details: at.details },
      );
    }

    // 2. Every instance serving.
    const failed = instances.find((db) => isFailedResourceStatus(db.DBInstanceStatus));
    if (failed !== undefined) {
      return {
        identifier: r,
        status: 'failed',
        rawStatus: `${raw}, instance ${failed.DBInstanceIdentifier} ${failed.DBInstanceStatus}`,
      };
    }
    const waiting = instances.filter((db) => !isUsable(db.DBInstanceStatus));
    if (waiting.length > 0) {
      const list = waiting
        .map((db) => `${db.DBInstanceIdentifier} ${db.DBInstanceStatus ?? 'unknown'}`)
        .join(', ');
      return { identifier: r, status: 'restoring', rawStatus: `${raw}, instances ${list}` };
    }

    // 3. The cluster settings the restore does not accept.
    const modification =
      source !== undefined && attempts < MAX_POST_RESTORE_ATTEMPTS
        ? clusterPostRestoreModification(source, restored)
        : undefined;
    if (modification === undefined || originalId === undefined) {
      return { identifier: r, status: 'available', rawStatus: raw };
    }
    const settings = Object.keys(modification).join(', ');
    return this.requestSettings({
      restored,
      restoredIdentifier: r,
      raw,
      originalIdentifier: originalId,
      attempts,
      operation: 'ModifyDBCluster',
      what: `the settings ${settings}`,
      applying: settings,
      send: async () => {
        await this.client.send(
          new ModifyDBClusterCommand({ DBClusterIdentifier: r, ApplyImmediately: true, ...modification }),
        );
      },
    });
  }

  protected async rename(from: string, to: string): Promise<void> {
    await this.client.send(
      new ModifyDBClusterCommand({
        DBClusterIdentifier: from,
        NewDBClusterIdentifier: to,
        ApplyImmediately: true,
      }),
    );
  }

  /** The restored copy serves only when it has instances and all of them serve. */
  protected override async notServing(identifier: string): Promise<string | undefined> {
    const instances = await this.clusterInstances(identifier);
    if (instances.length === 0) return 'no instances';
    const notServing = instances.find((db) => !isUsable(db.DBInstanceStatus));
    return notServing === undefined
      ? undefined
      : `instance ${notServing.DBInstanceIdentifier} ${notServing.DBInstanceStatus ?? 'unknown'}`;
  }

  // -------------------------------------------------------------------------------------------------------

  /** Creates the `missing` members of the original in the restored cluster; says what it did. */
  private async createMembers(missing: readonly DBInstance[], copy: MemberCopy): Promise<string> {
    const { original, restored, originalId, restoredId: r, at } = copy;
    // The workflow's own tags, as put on the restored cluster: what it has that the original has not.
    const ours = this.tagging.oursOn(restored.TagList, original.TagList);
    const engine = restored.Engine ?? original.Engine ?? 'aurora-postgresql';
    const created: string[] = [];
    for (const member of missing) {
      const input = clusterMemberInput(member, {
        originalCluster: originalId,
        restoredCluster: r,
        engine,
        tags: this.tagging.forCopy(member.TagList, ours, { [this.tagging.keys.restoreId]: r }),
      });
      const instanceId = input.DBInstanceIdentifier ?? '';
      try {
        await this.client.send(new CreateDBInstanceCommand(input));
        created.push(instanceId);
      } catch (error) {
        const name = faultName(error);
        if (name === 'DBInstanceAlreadyExistsFault') continue; // A previous attempt created it.
        // The cluster moved on (modifying, backing-up...) between the describe and the call: next time.
        if (name === 'InvalidDBClusterStateFault') return 'waiting to create its instances';
        if (isTransientFault(error)) throw transientFault('CreateDBInstance', instanceId, error);
        const why: Record<string, string> = {
          InstanceQuotaExceededFault:
            'the DB instance quota of the account is reached (raise it in Service Quotas)',
          InsufficientDBInstanceCapacityFault: `RDS has no capacity for ${input.DBInstanceClass} in ${input.AvailabilityZone ?? 'the zone'} now`,
          DBClusterNotFoundFault: `the restored cluster ${r} does not exist any more`,
        };
        throw new RestoreFailedError(
          `Creating instance ${input.DBInstanceIdentifier} (${input.DBInstanceClass}, for ${member.DBInstanceIdentifier}) in the restored Aurora cluster ${r} failed: ` +
            `${why[name] ?? `${name}: ${faultMessage(error)}`}. ${at.untouched} Create it by hand: aws rds create-db-instance --db-cluster-identifier ${r} ` +
            `--db-instance-identifier ${input.DBInstanceIdentifier} --db-instance-class ${input.DBInstanceClass} --engine ${input.Engine}` +
            accessHint('CreateDBInstance', error),
          { cause: error, details: { ...at.details, instance: instanceId } },
        );
      }
    }
    return created.length > 0 ? `creating instances ${created.join(', ')}` : 'creating its instances';
  }

  /** `clusterInstances` in the restore step: its faults become TransientFault or RestoreFailed. */
  private instancesForRestore(clusterIdentifier: string, at: RestoreContext): Promise<DBInstance[]> {
    return readForRestore(() => this.clusterInstances(clusterIdentifier), {
      operation: 'DescribeDBInstances',
      resource: clusterIdentifier,
      ...at,
    });
  }

  /** The instances of a cluster (all pages). */
  private async clusterInstances(clusterIdentifier: string): Promise<DBInstance[]> {
    const instances: DBInstance[] = [];
    let marker: string | undefined;
    do {
      const out = await this.client.send(
        new DescribeDBInstancesCommand({
          Filters: [{ Name: 'db-cluster-id', Values: [clusterIdentifier] }],
          ...(marker ? { Marker: marker } : {}),
        }),
      );
      instances.push(...(out.DBInstances ?? []));
      marker = out.Marker;
    } while (marker);
    return instances;
  }
}

function snapshotView(snapshot: DBClusterSnapshot | undefined): SnapshotView | undefined {
  return (
    snapshot && {
      snapshotId: snapshot.DBClusterSnapshotIdentifier,
      sourceIdentifier: snapshot.DBClusterIdentifier,
      status: snapshot.Status,
      tags: snapshot.TagList,
      snapshotType: snapshot.SnapshotType,
      createdAt: snapshot.SnapshotCreateTime,
      sizeGiB: snapshot.AllocatedStorage,
    }
  );
}
