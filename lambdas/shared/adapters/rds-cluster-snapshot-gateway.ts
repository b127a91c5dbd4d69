/**
 * `SnapshotGateway` for an Aurora PostgreSQL cluster (provisioned and Serverless v2 instances): DB cluster
 * snapshots, a restore next to the original that carries the cluster's settings and recreates each of its
 * instances, and the cluster identifier swap.
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
  AddTagsToResourceCommand,
  CreateDBClusterSnapshotCommand,
  CreateDBInstanceCommand,
  type CreateDBInstanceCommandInput,
  type DBCluster,
  type DBClusterSnapshot,
  type DBInstance,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  ModifyDBClusterCommand,
  type ModifyDBClusterCommandInput,
  RDSClient,
  RestoreDBClusterFromSnapshotCommand,
  type RestoreDBClusterFromSnapshotCommandInput,
  type Tag,
} from '@aws-sdk/client-rds';
import {
  RestoreFailedError,
  SnapshotFailedError,
  SnapshotQuotaExceededError,
  TargetNotAvailableError,
} from '../errors.js';
import { withCreatorTag } from '../execution-tag.js';
import { restoredMemberIdentifier } from '../identifiers.js';
import type {
  CreateSnapshotRequest,
  RestoreDescription,
  RestoreRequest,
  SnapshotDescription,
  SnapshotGateway,
  SwapRequest,
  SwapStatus,
  TargetDescription,
} from '../ports.js';
import {
  accessHint,
  activeSecurityGroupIds,
  adoptExistingSnapshot,
  adoptRestoredCopy,
  advanceSwap,
  CLUSTER_SNAPSHOT_READY,
  DEFAULT_MANAGED_BY,
  defined,
  faultMessage,
  faultName,
  fromRdsTags,
  isFailedResourceStatus,
  isTransientFault,
  isUsable,
  MAX_POST_RESTORE_ATTEMPTS,
  type ResourceNouns,
  type RestoreTagKeys,
  readForRestore,
  restoreCallFailure,
  restoredTags,
  restoreStatusOf,
  restoreTagKeys,
  type SwapOperations,
  snapshotStatusOf,
  toRdsTags,
  transientFault,
} from './rds-common.js';

export interface RdsClusterSnapshotGatewayOptions {
  /** The Aurora PostgreSQL cluster the workflow protects. */
  readonly clusterIdentifier: string;
  /** @default - a new `RDSClient` (region and credentials from the environment) */
  readonly client?: RDSClient;
  /** Prefix of the tag keys put on restored copies. @default 'prisma-migration-orchestrator' */
  readonly managedBy?: string;
}

const NOUNS: ResourceNouns = { resource: 'Aurora cluster', snapshot: 'cluster snapshot' };

/** The RestoreDBClusterFromSnapshot input that recreates `original` from the snapshot (without instances). */
export function clusterRestoreInput(
  original: DBCluster,
  request: RestoreRequest,
  tags: Tag[],
): RestoreDBClusterFromSnapshotCommandInput {
  const scaling = original.ServerlessV2ScalingConfiguration;
  const logs = original.EnabledCloudwatchLogsExports ?? [];
  const domain = original.DomainMemberships?.find((membership) => membership.Status !== 'removing');
  const roles = (original.AssociatedRoles ?? [])
    .filter((role) => role.RoleArn !== undefined && role.Status !== 'INVALID')
    .map((role) => defined({ RoleArn: role.RoleArn as string, FeatureName: role.FeatureName }));
  const monitoring = original.MonitoringInterval ?? 0;
  const insights = original.PerformanceInsightsEnabled === true;
  return defined({
    DBClusterIdentifier: request.restoredIdentifier,
    SnapshotIdentifier: request.snapshotId,
    Engine: original.Engine ?? 'aurora-postgresql',
    // Without it RDS uses the region's default version, not the snapshot's.
    EngineVersion: original.EngineVersion,
    DBClusterParameterGroupName: original.DBClusterParameterGroup,
    DBSubnetGroupName: original.DBSubnetGroup,
    VpcSecurityGroupIds: activeSecurityGroupIds(original.VpcSecurityGroups),
    KmsKeyId: original.StorageEncrypted ? original.KmsKeyId : undefined,
    EnableIAMDatabaseAuthentication: original.IAMDatabaseAuthenticationEnabled,
    ServerlessV2ScalingConfiguration: scaling
      ? defined({
          MinCapacity: scaling.MinCapacity,
          MaxCapacity: scaling.MaxCapacity,
          SecondsUntilAutoPause: scaling.SecondsUntilAutoPause,
        })
      : undefined,
    EnableCloudwatchLogsExports: logs.length > 0 ? [...logs] : undefined,
    Port: original.Port,
    DeletionProtection: original.DeletionProtection,
    CopyTagsToSnapshot: original.CopyTagsToSnapshot,
    StorageType: original.StorageType,
    BackupRetentionPeriod: original.BackupRetentionPeriod,
    PreferredBackupWindow: original.PreferredBackupWindow,
    NetworkType: original.NetworkType,
    EngineLifecycleSupport: original.EngineLifecycleSupport,
    Domain: domain?.Domain,
    DomainIAMRoleName: domain?.IAMRoleName,
    AssociatedRoles: roles.length > 0 ? roles : undefined,
    // Cluster-level monitoring and Performance Insights (Database Insights), only when the original has them.
    MonitoringInterval: monitoring > 0 ? monitoring : undefined,
    MonitoringRoleArn: monitoring > 0 ? original.MonitoringRoleArn : undefined,
    EnablePerformanceInsights: insights ? true : undefined,
    PerformanceInsightsKMSKeyId: insights ? original.PerformanceInsightsKMSKeyId : undefined,
    PerformanceInsightsRetentionPeriod: insights ? original.PerformanceInsightsRetentionPeriod : undefined,
    Tags: tags,
  });
}

/** The CreateDBInstance input that recreates `member` of the original cluster in the restored cluster. */
export function clusterMemberInput(
  member: DBInstance,
  originalCluster: string,
  restoredCluster: string,
  engine: string,
  tags: Tag[],
): CreateDBInstanceCommandInput {
  const monitoring = member.MonitoringInterval ?? 0;
  const insights = member.PerformanceInsightsEnabled === true;
  return defined({
    DBInstanceIdentifier: restoredMemberIdentifier(
      restoredCluster,
      originalCluster,
      member.DBInstanceIdentifier ?? '',
    ),
    DBClusterIdentifier: restoredCluster,
    Engine: member.Engine ?? engine,
    DBInstanceClass: member.DBInstanceClass ?? 'db.serverless',
    DBParameterGroupName: member.DBParameterGroups?.[0]?.DBParameterGroupName,
    PromotionTier: member.PromotionTier,
    AvailabilityZone: member.AvailabilityZone,
    PubliclyAccessible: member.PubliclyAccessible,
    AutoMinorVersionUpgrade: member.AutoMinorVersionUpgrade,
    PreferredMaintenanceWindow: member.PreferredMaintenanceWindow,
    CACertificateIdentifier: member.CACertificateIdentifier,
    MonitoringInterval: monitoring > 0 ? monitoring : undefined,
    MonitoringRoleArn: monitoring > 0 ? member.MonitoringRoleArn : undefined,
    EnablePerformanceInsights: member.PerformanceInsightsEnabled,
    PerformanceInsightsKMSKeyId: insights ? member.PerformanceInsightsKMSKeyId : undefined,
    PerformanceInsightsRetentionPeriod: insights ? member.PerformanceInsightsRetentionPeriod : undefined,
    Tags: tags,
  });
}

/** Cluster settings RestoreDBClusterFromSnapshot does not accept and `restored` lacks (ModifyDBCluster). */
export function clusterPostRestoreModification(
  original: DBCluster,
  restored: DBCluster,
): Omit<ModifyDBClusterCommandInput, 'DBClusterIdentifier'> | undefined {
  const changes: Omit<ModifyDBClusterCommandInput, 'DBClusterIdentifier'> = {};
  const window = original.PreferredMaintenanceWindow;
  if (window !== undefined && window.toLowerCase() !== restored.PreferredMaintenanceWindow?.toLowerCase()) {
    changes.PreferredMaintenanceWindow = window;
  }
  if (original.HttpEndpointEnabled === true && restored.HttpEndpointEnabled !== true)
    changes.EnableHttpEndpoint = true;
  if (
    original.DatabaseInsightsMode !== undefined &&
    original.DatabaseInsightsMode !== restored.DatabaseInsightsMode
  ) {
    changes.DatabaseInsightsMode = original.DatabaseInsightsMode;
  }
  return Object.keys(changes).length > 0 ? changes : undefined;
}

/** The original's members, writer first, then by promotion tier and identifier (the creation order). */
function membersInCreationOrder(original: DBCluster, instances: readonly DBInstance[]): DBInstance[] {
  const writer = new Set(
    (original.DBClusterMembers ?? []).filter((m) => m.IsClusterWriter).map((m) => m.DBInstanceIdentifier),
  );
  return [...instances].sort(
    (a, b) =>
      Number(writer.has(b.DBInstanceIdentifier)) - Number(writer.has(a.DBInstanceIdentifier)) ||
      (a.PromotionTier ?? 15) - (b.PromotionTier ?? 15) ||
      (a.DBInstanceIdentifier ?? '').localeCompare(b.DBInstanceIdentifier ?? ''),
  );
}

export class RdsClusterSnapshotGateway implements SnapshotGateway {
  readonly targetIdentifier: string;
  private readonly client: RDSClient;
  private readonly managedBy: string;
  private readonly keys: RestoreTagKeys;

  constructor(options: RdsClusterSnapshotGatewayOptions) {
    this.targetIdentifier = options.clusterIdentifier;
    this.client = options.client ?? new RDSClient({});
    this.managedBy = options.managedBy ?? DEFAULT_MANAGED_BY;
    this.keys = restoreTagKeys(this.managedBy);
  }

  async describeTarget(): Promise<TargetDescription> {
    const id = this.targetIdentifier;
    const notAvailable =
      (operation: string) =>
      (error: unknown): never => {
        if (isTransientFault(error)) throw transientFault(operation, id, error);
        throw new TargetNotAvailableError(
          `Cannot describe Aurora cluster ${id} (${operation}: ${faultName(error)}: ${faultMessage(error)}).${accessHint(operation, error)}`,
          { cause: error, details: { identifier: id } },
        );
      };
    const cluster = await this.findCluster(id).catch(notAvailable('DescribeDBClusters'));
    if (cluster === undefined) {
      throw new TargetNotAvailableError(
        `Aurora cluster ${id} does not exist in this account and region. Check the cluster identifier the orchestrator is configured with.`,
        { details: { identifier: id } },
      );
    }
    const engine = cluster.Engine ?? 'unknown';
    const status = cluster.Status ?? 'unknown';
    if (!CLUSTER_SNAPSHOT_READY.has(status)) return { identifier: id, status, available: false, engine };
    // Migrations need the writer: a cluster whose writer is not serving is not ready either.
    const writerId = cluster.DBClusterMembers?.find((member) => member.IsClusterWriter)?.DBInstanceIdentifier;
    if (writerId === undefined) {
      return { identifier: id, status: `${status}, without a writer instance`, available: false, engine };
    }
    const members = await this.clusterInstances(id).catch(notAvailable('DescribeDBInstances'));
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

  async createSnapshot(request: CreateSnapshotRequest): Promise<SnapshotDescription> {
    const { snapshotId } = request;
    const id = this.targetIdentifier;
    try {
      const out = await this.client.send(
        new CreateDBClusterSnapshotCommand({
          DBClusterSnapshotIdentifier: snapshotId,
          DBClusterIdentifier: id,
          Tags: toRdsTags(withCreatorTag(request.tags, request.executionId)),
        }),
      );
      return this.snapshotDescription(out.DBClusterSnapshot, snapshotId);
    } catch (error) {
      const details = { snapshotId, identifier: id };
      switch (faultName(error)) {
        case 'DBClusterSnapshotAlreadyExistsFault':
          return adoptExistingSnapshot(await this.describeSnapshot(snapshotId), request, id, NOUNS, error);
        case 'SnapshotQuotaExceededFault':
          throw new SnapshotQuotaExceededError(
            `Cannot create snapshot ${snapshotId} of Aurora cluster ${id}: the account's manual DB cluster snapshot quota in this region is reached ` +
              '(100 by default). Delete manual cluster snapshots you no longer need (aws rds delete-db-cluster-snapshot --db-cluster-snapshot-identifier <id>), ' +
              'or raise the quota "Manual DB cluster snapshots" in Service Quotas; then start the execution again. The database was not touched.',
            { cause: error, details },
          );
        case 'InvalidDBClusterStateFault':
          throw new TargetNotAvailableError(
            `Aurora cluster ${id} does not accept a snapshot in its current state (${faultMessage(error)}). ` +
              'Wait until it is available, then start the execution again. The database was not touched.',
            { cause: error, details },
          );
        case 'DBClusterNotFoundFault':
          throw new TargetNotAvailableError(
            `Aurora cluster ${id} does not exist in this account and region, so snapshot ${snapshotId} cannot be taken. ` +
              'Check the cluster identifier the orchestrator is configured with.',
            { cause: error, details },
          );
        default:
          if (isTransientFault(error)) throw transientFault('CreateDBClusterSnapshot', id, error);
          throw new SnapshotFailedError(
            `Creating snapshot ${snapshotId} of Aurora cluster ${id} failed (${faultName(error)}: ${faultMessage(error)}). ` +
              `The database was not touched.${accessHint('CreateDBClusterSnapshot', error)}`,
            { cause: error, details },
          );
      }
    }
  }

  async describeSnapshot(snapshotId: string): Promise<SnapshotDescription | undefined> {
    let snapshot: DBClusterSnapshot | undefined;
    try {
      const out = await this.client.send(
        new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: snapshotId }),
      );
      snapshot = out.DBClusterSnapshots?.find((s) => s.DBClusterSnapshotIdentifier === snapshotId);
    } catch (error) {
      if (faultName(error) === 'DBClusterSnapshotNotFoundFault') return undefined;
      if (isTransientFault(error)) throw transientFault('DescribeDBClusterSnapshots', snapshotId, error);
      throw new SnapshotFailedError(
        `Cannot describe DB cluster snapshot ${snapshotId} of Aurora cluster ${this.targetIdentifier} (${faultName(error)}: ${faultMessage(error)}).` +
          accessHint('DescribeDBClusterSnapshots', error),
        { cause: error, details: { snapshotId } },
      );
    }
    return snapshot === undefined ? undefined : this.snapshotDescription(snapshot, snapshotId);
  }

  async restoreSnapshot(request: RestoreRequest): Promise<RestoreDescription> {
    const { snapshotId, originalIdentifier: o, restoredIdentifier: r } = request;
    const details = { snapshotId, originalIdentifier: o, restoredIdentifier: r };
    const untouched = `The original ${o} is untouched.`;
    const existing = await readForRestore(
      () => this.findCluster(r),
      'DescribeDBClusters',
      r,
      details,
      untouched,
    );
    if (existing !== undefined) return this.adoptRestore(existing, request);
    const original = await readForRestore(
      () => this.findCluster(o),
      'DescribeDBClusters',
      o,
      details,
      untouched,
    );
    if (original === undefined) {
      throw new RestoreFailedError(
        `Cannot restore snapshot ${snapshotId}: the original Aurora cluster ${o} does not exist, so its settings cannot be read. ` +
          `Restore by hand with the settings you need: aws rds restore-db-cluster-from-snapshot --snapshot-identifier ${snapshotId} --db-cluster-identifier ${r} --engine aurora-postgresql ..., then create its instances.`,
        { details },
      );
    }
    const tags = restoredTags(
      original.TagList,
      withCreatorTag(request.tags, request.executionId),
      { [this.keys.restoreId]: r, [this.keys.restoreOf]: o, [this.keys.restoredFrom]: snapshotId },
      this.managedBy,
    );
    try {
      const out = await this.client.send(
        new RestoreDBClusterFromSnapshotCommand(clusterRestoreInput(original, request, tags)),
      );
      const status = out.DBCluster?.Status ?? 'creating';
      return {
        identifier: r,
        status: restoreStatusOf(status) === 'failed' ? 'failed' : 'restoring',
        rawStatus: status,
      };
    } catch (error) {
      const name = faultName(error);
      if (name === 'DBClusterAlreadyExistsFault') {
        const raced = await readForRestore(
          () => this.findCluster(r),
          'DescribeDBClusters',
          r,
          details,
          untouched,
        );
        if (raced !== undefined) return this.adoptRestore(raced, request);
      }
      const why: Record<string, string> = {
        DBClusterSnapshotNotFoundFault: `snapshot ${snapshotId} does not exist`,
        InvalidDBClusterSnapshotStateFault: `snapshot ${snapshotId} is not available`,
        DBClusterQuotaExceededFault:
          'the DB cluster quota of the account is reached (raise it in Service Quotas or delete unused clusters)',
        StorageQuotaExceededFault: 'the storage quota of the account is reached (raise it in Service Quotas)',
        InsufficientDBClusterCapacityFault: 'RDS has no capacity for the cluster now',
        KMSKeyNotAccessibleFault: `the KMS key ${original.KmsKeyId ?? ''} cannot be used (check its key policy and that it is enabled)`,
        DBClusterAlreadyExistsFault: `the identifier ${r} is taken`,
      };
      throw restoreCallFailure(
        error,
        'RestoreDBClusterFromSnapshot',
        request,
        NOUNS,
        why,
        untouched,
        details,
      );
    }
  }

  async describeRestore(restoredIdentifier: string): Promise<RestoreDescription | undefined> {
    const r = restoredIdentifier;
    const details: Record<string, unknown> = { restoredIdentifier: r };
    const restored = await readForRestore(() => this.findCluster(r), 'DescribeDBClusters', r, details, '');
    if (restored === undefined) return undefined;
    const raw = restored.Status ?? 'unknown';
    const status = restoreStatusOf(raw);
    if (status !== 'available') return { identifier: r, status, rawStatus: raw };

    const tags = fromRdsTags(restored.TagList);
    const originalId = tags[this.keys.restoreOf];
    const untouched = originalId ? `The original ${originalId} is untouched.` : '';
    details.originalIdentifier = originalId;
    const instances = await readForRestore(
      () => this.clusterInstances(r),
      'DescribeDBInstances',
      r,
      details,
      untouched,
    );
    const original =
      originalId === undefined
        ? undefined
        : await readForRestore(
            () => this.findCluster(originalId),
            'DescribeDBClusters',
            originalId,
            details,
            untouched,
          );
    // After the swap began, the identifier of the original may hold this very copy: nothing to copy from.
    const source =
      original && fromRdsTags(original.TagList)[this.keys.restoreId] !== r ? original : undefined;

    // 1. One instance per instance of the original (a restored cluster has none).
    if (source !== undefined && originalId !== undefined) {
      const originalMembers = await readForRestore(
        () => this.clusterInstances(originalId),
        'DescribeDBInstances',
        originalId,
        details,
        untouched,
      );
      const present = new Set(instances.map((db) => db.DBInstanceIdentifier));
      const missing = membersInCreationOrder(source, originalMembers).filter(
        (member) => !present.has(restoredMemberIdentifier(r, originalId, member.DBInstanceIdentifier ?? '')),
      );
      if (missing.length > 0) {
        const created = await this.createMembers(
          missing,
          source,
          restored,
          originalId,
          r,
          details,
          untouched,
        );
        return { identifier: r, status: 'restoring', rawStatus: `${raw}, ${created}` };
      }
    } else if (instances.length === 0) {
      throw new RestoreFailedError(
        `The restored Aurora cluster ${r} has no instances, and the original ${originalId ?? '(unknown: the restored cluster lacks its tags)'} ` +
          'cannot be read to recreate them. Create its instances by hand (aws rds create-db-instance --db-cluster-identifier ' +
          `${r} --engine aurora-postgresql --db-instance-class <class> --db-instance-identifier <id>).`,
        { details },
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
    const attempts = Number(tags[this.keys.postRestore] ?? '0');
    const modification =
      source !== undefined && attempts < MAX_POST_RESTORE_ATTEMPTS
        ? clusterPostRestoreModification(source, restored)
        : undefined;
    if (modification === undefined) return { identifier: r, status: 'available', rawStatus: raw };
    try {
      await this.client.send(
        new ModifyDBClusterCommand({ DBClusterIdentifier: r, ApplyImmediately: true, ...modification }),
      );
      await this.client.send(
        new AddTagsToResourceCommand({
          ResourceName: restored.DBClusterArn ?? r,
          Tags: [{ Key: this.keys.postRestore, Value: String(attempts + 1) }],
        }),
      );
    } catch (error) {
      if (faultName(error) === 'InvalidDBClusterStateFault') {
        return { identifier: r, status: 'restoring', rawStatus: `${raw}, settings pending` };
      }
      if (isTransientFault(error)) throw transientFault('ModifyDBCluster', r, error);
      throw new RestoreFailedError(
        `Applying the settings ${Object.keys(modification).join(', ')} of ${originalId} to the restored Aurora cluster ${r} failed ` +
          `(${faultName(error)}: ${faultMessage(error)}). ${untouched}${accessHint('ModifyDBCluster', error)}`,
        { cause: error, details },
      );
    }
    return {
      identifier: r,
      status: 'restoring',
      rawStatus: `${raw}, applying ${Object.keys(modification).join(', ')}`,
    };
  }

  swap(request: SwapRequest): Promise<SwapStatus> {
    const ops: SwapOperations = {
      kind: 'cluster',
      describe: async (identifier, restoredIdentifier) => {
        const cluster = await this.findCluster(identifier);
        if (cluster === undefined) return undefined;
        const status = cluster.Status ?? 'unknown';
        const isRestoredCopy = fromRdsTags(cluster.TagList)[this.keys.restoreId] === restoredIdentifier;
        const pending = cluster.PendingModifiedValues?.DBClusterIdentifier;
        const base = { identifier, status, isRestoredCopy, ...(pending ? { renamingTo: pending } : {}) };
        if (!isRestoredCopy || !isUsable(status)) return { ...base, usable: isUsable(status) };
        // The restored copy serves only when it has instances and all of them serve.
        const instances = await this.clusterInstances(identifier);
        if (instances.length === 0) return { ...base, usable: false, detail: 'no instances' };
        const notServing = instances.find((db) => !isUsable(db.DBInstanceStatus));
        if (notServing !== undefined) {
          const detail = `instance ${notServing.DBInstanceIdentifier} ${notServing.DBInstanceStatus ?? 'unknown'}`;
          return { ...base, usable: false, detail };
        }
        return { ...base, usable: true };
      },
      rename: async (from, to) => {
        await this.client.send(
          new ModifyDBClusterCommand({
            DBClusterIdentifier: from,
            NewDBClusterIdentifier: to,
            ApplyImmediately: true,
          }),
        );
      },
    };
    return advanceSwap(ops, request);
  }

  // -------------------------------------------------------------------------------------------------------

  private async createMembers(
    missing: readonly DBInstance[],
    original: DBCluster,
    restored: DBCluster,
    originalId: string,
    r: string,
    details: Record<string, unknown>,
    untouched: string,
  ): Promise<string> {
    // The workflow's own tags, as put on the restored cluster: what it has that the original has not.
    const originalTags = fromRdsTags(original.TagList);
    const ours = Object.fromEntries(
      Object.entries(fromRdsTags(restored.TagList)).filter(
        ([key, value]) => !key.startsWith(`${this.managedBy}:`) && originalTags[key] !== value,
      ),
    );
    const engine = restored.Engine ?? original.Engine ?? 'aurora-postgresql';
    const created: string[] = [];
    for (const member of missing) {
      const input = clusterMemberInput(
        member,
        originalId,
        r,
        engine,
        restoredTags(member.TagList, ours, { [this.keys.restoreId]: r }, this.managedBy),
      );
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
            `${why[name] ?? `${name}: ${faultMessage(error)}`}. ${untouched} Create it by hand: aws rds create-db-instance --db-cluster-identifier ${r} ` +
            `--db-instance-identifier ${input.DBInstanceIdentifier} --db-instance-class ${input.DBInstanceClass} --engine ${input.Engine}` +
            accessHint('CreateDBInstance', error),
          { cause: error, details: { ...details, instance: instanceId } },
        );
      }
    }
    return created.length > 0 ? `creating instances ${created.join(', ')}` : 'creating its instances';
  }

  /** The cluster with this identifier, or undefined when RDS answers DBClusterNotFound. */
  private async findCluster(identifier: string): Promise<DBCluster | undefined> {
    try {
      const out = await this.client.send(new DescribeDBClustersCommand({ DBClusterIdentifier: identifier }));
      return out.DBClusters?.find((cluster) => cluster.DBClusterIdentifier === identifier);
    } catch (error) {
      if (faultName(error) === 'DBClusterNotFoundFault') return undefined;
      throw error;
    }
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

  private adoptRestore(existing: DBCluster, request: RestoreRequest): RestoreDescription {
    // Its instances are created by describeRestore: until then it is still restoring.
    return adoptRestoredCopy(
      { tags: fromRdsTags(existing.TagList), status: existing.Status },
      request,
      this.keys,
      NOUNS,
    );
  }

  private snapshotDescription(
    snapshot: DBClusterSnapshot | undefined,
    snapshotId: string,
  ): SnapshotDescription {
    const raw = snapshot?.Status ?? 'creating';
    return {
      snapshotId: snapshot?.DBClusterSnapshotIdentifier ?? snapshotId,
      sourceIdentifier: snapshot?.DBClusterIdentifier ?? this.targetIdentifier,
      status: snapshotStatusOf(raw),
      rawStatus: raw,
      tags: fromRdsTags(snapshot?.TagList),
    };
  }
}
