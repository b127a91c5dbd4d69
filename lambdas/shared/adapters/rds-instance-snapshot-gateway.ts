/**
 * `SnapshotGateway` for an RDS for PostgreSQL DB instance: manual DB snapshots, a restore next to the
 * original that carries every setting of the original, and the identifier swap.
 *
 * A restore from a snapshot creates a new instance with RDS defaults (default security group, default
 * parameter group, single-AZ, no monitoring...): the original is described first and every setting is passed
 * to RestoreDBInstanceFromDBSnapshot; the few that the restore API does not accept are applied with
 * ModifyDBInstance once the restored instance is available (from `describeRestore`, which reports
 * `restoring` until they are in place).
 */
import {
  AddRoleToDBInstanceCommand,
  AddTagsToResourceCommand,
  CreateDBSnapshotCommand,
  type DBInstance,
  type DBSnapshot,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBInstanceCommand,
  type ModifyDBInstanceCommandInput,
  RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
  type RestoreDBInstanceFromDBSnapshotCommandInput,
} from '@aws-sdk/client-rds';
import {
  RestoreFailedError,
  SnapshotFailedError,
  SnapshotQuotaExceededError,
  TargetNotAvailableError,
} from '../errors.js';
import { withCreatorTag } from '../execution-tag.js';
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
  DEFAULT_MANAGED_BY,
  defined,
  faultMessage,
  faultName,
  fromRdsTags,
  INSTANCE_SNAPSHOT_READY,
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

export interface RdsInstanceSnapshotGatewayOptions {
  /** The DB instance the workflow protects. */
  readonly instanceIdentifier: string;
  /** @default - a new `RDSClient` (region and credentials from the environment) */
  readonly client?: RDSClient;
  /** Prefix of the tag keys put on restored copies. @default 'prisma-migration-orchestrator' */
  readonly managedBy?: string;
}

const NOUNS: ResourceNouns = { resource: 'RDS DB instance', snapshot: 'snapshot' };

/** Storage types that take provisioned IOPS, and those that also take a throughput. */
const IOPS_STORAGE = new Set(['io1', 'io2', 'gp3']);
/** Below this size (GiB), RDS for PostgreSQL gp3 storage has fixed baseline IOPS and throughput. */
const GP3_PROVISIONING_THRESHOLD_GIB = 400;

/**
 * The RestoreDBInstanceFromDBSnapshot input that recreates `original` from the snapshot under
 * `request.restoredIdentifier` (every setting that the restore API accepts).
 */
export function instanceRestoreInput(
  original: DBInstance,
  request: RestoreRequest,
  tags: RestoreDBInstanceFromDBSnapshotCommandInput['Tags'],
): RestoreDBInstanceFromDBSnapshotCommandInput {
  const multiAZ = original.MultiAZ ?? false;
  const storageType = original.StorageType;
  const allocated = original.AllocatedStorage ?? 0;
  // gp3 under the threshold has fixed IOPS/throughput, and RDS refuses them as parameters there.
  const provisioned =
    storageType !== undefined &&
    IOPS_STORAGE.has(storageType) &&
    (storageType !== 'gp3' || allocated >= GP3_PROVISIONING_THRESHOLD_GIB);
  const domain = original.DomainMemberships?.find((membership) => membership.Status !== 'removing');
  const selfManagedDomain = domain?.AuthSecretArn !== undefined;
  const logs = original.EnabledCloudwatchLogsExports ?? [];
  return defined({
    DBInstanceIdentifier: request.restoredIdentifier,
    DBSnapshotIdentifier: request.snapshotId,
    DBInstanceClass: original.DBInstanceClass,
    DBSubnetGroupName: original.DBSubnetGroup?.DBSubnetGroupName,
    VpcSecurityGroupIds: activeSecurityGroupIds(original.VpcSecurityGroups),
    DBParameterGroupName: original.DBParameterGroups?.[0]?.DBParameterGroupName,
    OptionGroupName: original.OptionGroupMemberships?.[0]?.OptionGroupName,
    MultiAZ: multiAZ,
    // RDS refuses an Availability Zone together with Multi-AZ.
    AvailabilityZone: multiAZ ? undefined : original.AvailabilityZone,
    StorageType: storageType,
    AllocatedStorage: original.AllocatedStorage,
    Iops: provisioned ? original.Iops : undefined,
    StorageThroughput: provisioned && storageType === 'gp3' ? original.StorageThroughput : undefined,
    Port: original.Endpoint?.Port ?? (original.DbInstancePort ? original.DbInstancePort : undefined),
    PubliclyAccessible: original.PubliclyAccessible,
    EnableIAMDatabaseAuthentication: original.IAMDatabaseAuthenticationEnabled,
    DeletionProtection: original.DeletionProtection,
    CopyTagsToSnapshot: original.CopyTagsToSnapshot,
    EnableCloudwatchLogsExports: logs.length > 0 ? [...logs] : undefined,
    CACertificateIdentifier: original.CACertificateIdentifier,
    AutoMinorVersionUpgrade: original.AutoMinorVersionUpgrade,
    BackupRetentionPeriod: original.BackupRetentionPeriod,
    PreferredBackupWindow: original.PreferredBackupWindow,
    NetworkType: original.NetworkType,
    EngineLifecycleSupport: original.EngineLifecycleSupport,
    Domain: domain && !selfManagedDomain ? domain.Domain : undefined,
    DomainIAMRoleName: domain && !selfManagedDomain ? domain.IAMRoleName : undefined,
    DomainFqdn: selfManagedDomain ? domain?.FQDN : undefined,
    DomainOu: selfManagedDomain ? domain?.OU : undefined,
    DomainAuthSecretArn: selfManagedDomain ? domain?.AuthSecretArn : undefined,
    DomainDnsIps: selfManagedDomain ? domain?.DnsIps : undefined,
    Tags: tags,
  });
}

/**
 * The settings of `original` that RestoreDBInstanceFromDBSnapshot does not accept and that `restored` does
 * not have yet, as a ModifyDBInstance input (without identifier), or undefined when there is nothing to do.
 */
export function instancePostRestoreModification(
  original: DBInstance,
  restored: DBInstance,
): Omit<ModifyDBInstanceCommandInput, 'DBInstanceIdentifier'> | undefined {
  const changes: Omit<ModifyDBInstanceCommandInput, 'DBInstanceIdentifier'> = {};
  const interval = original.MonitoringInterval ?? 0;
  if (
    interval !== (restored.MonitoringInterval ?? 0) ||
    (interval > 0 && original.MonitoringRoleArn !== restored.MonitoringRoleArn)
  ) {
    changes.MonitoringInterval = interval;
    if (interval > 0) changes.MonitoringRoleArn = original.MonitoringRoleArn;
  }
  const window = original.PreferredMaintenanceWindow;
  if (window !== undefined && window.toLowerCase() !== restored.PreferredMaintenanceWindow?.toLowerCase()) {
    changes.PreferredMaintenanceWindow = window;
  }
  if (
    original.MaxAllocatedStorage !== undefined &&
    original.MaxAllocatedStorage !== restored.MaxAllocatedStorage
  ) {
    changes.MaxAllocatedStorage = original.MaxAllocatedStorage;
  }
  const insights = original.PerformanceInsightsEnabled ?? false;
  if (
    insights !== (restored.PerformanceInsightsEnabled ?? false) ||
    (insights &&
      (original.PerformanceInsightsKMSKeyId !== restored.PerformanceInsightsKMSKeyId ||
        original.PerformanceInsightsRetentionPeriod !== restored.PerformanceInsightsRetentionPeriod))
  ) {
    changes.EnablePerformanceInsights = insights;
    if (insights) {
      changes.PerformanceInsightsKMSKeyId = original.PerformanceInsightsKMSKeyId;
      changes.PerformanceInsightsRetentionPeriod = original.PerformanceInsightsRetentionPeriod;
    }
  }
  if (
    original.DatabaseInsightsMode !== undefined &&
    original.DatabaseInsightsMode !== restored.DatabaseInsightsMode
  ) {
    changes.DatabaseInsightsMode = original.DatabaseInsightsMode;
  }
  const result = defined(changes);
  return Object.keys(result).length > 0 ? result : undefined;
}

/** IAM roles (`s3Import`, `s3Export`, ...) of `original` that `restored` lacks. */
function missingRoles(
  original: DBInstance,
  restored: DBInstance,
): { RoleArn: string; FeatureName: string }[] {
  const present = new Set(
    (restored.AssociatedRoles ?? []).map((role) => `${role.RoleArn} ${role.FeatureName}`),
  );
  return (original.AssociatedRoles ?? [])
    .filter(
      (role) => role.RoleArn !== undefined && role.FeatureName !== undefined && role.Status !== 'INVALID',
    )
    .filter((role) => !present.has(`${role.RoleArn} ${role.FeatureName}`))
    .map((role) => ({ RoleArn: role.RoleArn as string, FeatureName: role.FeatureName as string }));
}

export class RdsInstanceSnapshotGateway implements SnapshotGateway {
  readonly targetIdentifier: string;
  private readonly client: RDSClient;
  private readonly managedBy: string;
  private readonly keys: RestoreTagKeys;

  constructor(options: RdsInstanceSnapshotGatewayOptions) {
    this.targetIdentifier = options.instanceIdentifier;
    this.client = options.client ?? new RDSClient({});
    this.managedBy = options.managedBy ?? DEFAULT_MANAGED_BY;
    this.keys = restoreTagKeys(this.managedBy);
  }

  async describeTarget(): Promise<TargetDescription> {
    const id = this.targetIdentifier;
    let db: DBInstance | undefined;
    try {
      db = await this.findInstance(id);
    } catch (error) {
      if (isTransientFault(error)) throw transientFault('DescribeDBInstances', id, error);
      throw new TargetNotAvailableError(
        `Cannot describe RDS DB instance ${id} (${faultName(error)}: ${faultMessage(error)}).${accessHint('DescribeDBInstances', error)}`,
        { cause: error, details: { identifier: id } },
      );
    }
    if (db === undefined) {
      throw new TargetNotAvailableError(
        `RDS DB instance ${id} does not exist in this account and region. Check the instance identifier the orchestrator is configured with.`,
        { details: { identifier: id } },
      );
    }
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

  async createSnapshot(request: CreateSnapshotRequest): Promise<SnapshotDescription> {
    const { snapshotId } = request;
    const id = this.targetIdentifier;
    try {
      const out = await this.client.send(
        new CreateDBSnapshotCommand({
          DBSnapshotIdentifier: snapshotId,
          DBInstanceIdentifier: id,
          Tags: toRdsTags(withCreatorTag(request.tags, request.executionId)),
        }),
      );
      return this.snapshotDescription(out.DBSnapshot, snapshotId);
    } catch (error) {
      const details = { snapshotId, identifier: id };
      switch (faultName(error)) {
        case 'DBSnapshotAlreadyExistsFault':
          return adoptExistingSnapshot(await this.describeSnapshot(snapshotId), request, id, NOUNS, error);
        case 'SnapshotQuotaExceededFault':
          throw new SnapshotQuotaExceededError(
            `Cannot create snapshot ${snapshotId} of RDS DB instance ${id}: the account's manual DB snapshot quota in this region is reached ` +
              '(100 by default). Delete manual snapshots you no longer need (aws rds delete-db-snapshot --db-snapshot-identifier <id>), ' +
              'or raise the quota "Manual DB instance snapshots" in Service Quotas; then start the execution again. The database was not touched.',
            { cause: error, details },
          );
        case 'InvalidDBInstanceStateFault':
          throw new TargetNotAvailableError(
            `RDS DB instance ${id} does not accept a snapshot in its current state (${faultMessage(error)}). ` +
              'Wait until it is available, then start the execution again. The database was not touched.',
            { cause: error, details },
          );
        case 'DBInstanceNotFoundFault':
          throw new TargetNotAvailableError(
            `RDS DB instance ${id} does not exist in this account and region, so snapshot ${snapshotId} cannot be taken. ` +
              'Check the instance identifier the orchestrator is configured with.',
            { cause: error, details },
          );
        default:
          if (isTransientFault(error)) throw transientFault('CreateDBSnapshot', id, error);
          throw new SnapshotFailedError(
            `Creating snapshot ${snapshotId} of RDS DB instance ${id} failed (${faultName(error)}: ${faultMessage(error)}). ` +
              `The database was not touched.${accessHint('CreateDBSnapshot', error)}`,
            { cause: error, details },
          );
      }
    }
  }

  async describeSnapshot(snapshotId: string): Promise<SnapshotDescription | undefined> {
    let snapshot: DBSnapshot | undefined;
    try {
      const out = await this.client.send(
        new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: snapshotId }),
      );
      snapshot = out.DBSnapshots?.find((s) => s.DBSnapshotIdentifier === snapshotId);
    } catch (error) {
      if (faultName(error) === 'DBSnapshotNotFoundFault') return undefined;
      if (isTransientFault(error)) throw transientFault('DescribeDBSnapshots', snapshotId, error);
      throw new SnapshotFailedError(
        `Cannot describe DB snapshot ${snapshotId} of RDS DB instance ${this.targetIdentifier} (${faultName(error)}: ${faultMessage(error)}).` +
          accessHint('DescribeDBSnapshots', error),
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
      () => this.findInstance(r),
      'DescribeDBInstances',
      r,
      details,
      untouched,
    );
    if (existing !== undefined) return this.adoptRestore(existing, request);
    const original = await readForRestore(
      () => this.findInstance(o),
      'DescribeDBInstances',
      o,
      details,
      untouched,
    );
    if (original === undefined) {
      throw new RestoreFailedError(
        `Cannot restore snapshot ${snapshotId}: the original RDS DB instance ${o} does not exist, so its settings cannot be read. ` +
          `Restore by hand with the settings you need: aws rds restore-db-instance-from-db-snapshot --db-snapshot-identifier ${snapshotId} --db-instance-identifier ${r} ...`,
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
        new RestoreDBInstanceFromDBSnapshotCommand(instanceRestoreInput(original, request, tags)),
      );
      const status = out.DBInstance?.DBInstanceStatus ?? 'creating';
      return {
        identifier: r,
        status: restoreStatusOf(status) === 'failed' ? 'failed' : 'restoring',
        rawStatus: status,
      };
    } catch (error) {
      const name = faultName(error);
      if (name === 'DBInstanceAlreadyExistsFault') {
        const raced = await readForRestore(
          () => this.findInstance(r),
          'DescribeDBInstances',
          r,
          details,
          untouched,
        );
        if (raced !== undefined) return this.adoptRestore(raced, request);
      }
      const why: Record<string, string> = {
        DBSnapshotNotFoundFault: `snapshot ${snapshotId} does not exist`,
        InvalidDBSnapshotStateFault: `snapshot ${snapshotId} is not available`,
        InstanceQuotaExceededFault:
          'the DB instance quota of the account is reached (raise it in Service Quotas or delete unused instances)',
        StorageQuotaExceededFault: 'the storage quota of the account is reached (raise it in Service Quotas)',
        InsufficientDBInstanceCapacityFault: `RDS has no capacity for ${original.DBInstanceClass} in ${original.AvailabilityZone ?? 'the zone'} now`,
        DBInstanceAlreadyExistsFault: `the identifier ${r} is taken`,
      };
      throw restoreCallFailure(
        error,
        'RestoreDBInstanceFromDBSnapshot',
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
    const details = { restoredIdentifier: r };
    const restored = await readForRestore(() => this.findInstance(r), 'DescribeDBInstances', r, details, '');
    if (restored === undefined) return undefined;
    const raw = restored.DBInstanceStatus ?? 'unknown';
    const status = restoreStatusOf(raw);
    if (status !== 'available') return { identifier: r, status, rawStatus: raw };
    const tags = fromRdsTags(restored.TagList);
    const originalId = tags[this.keys.restoreOf];
    const attempts = Number(tags[this.keys.postRestore] ?? '0');
    if (originalId === undefined || !(attempts < MAX_POST_RESTORE_ATTEMPTS)) {
      return { identifier: r, status: 'available', rawStatus: raw };
    }
    const original = await readForRestore(
      () => this.findInstance(originalId),
      'DescribeDBInstances',
      originalId,
      details,
      '',
    );
    // Once the original is renamed aside the swap has begun: the settings were applied before it.
    if (original === undefined || fromRdsTags(original.TagList)[this.keys.restoreId] === r) {
      return { identifier: r, status: 'available', rawStatus: raw };
    }
    const modification = instancePostRestoreModification(original, restored);
    const roles = missingRoles(original, restored);
    if (modification === undefined && roles.length === 0)
      return { identifier: r, status: 'available', rawStatus: raw };
    try {
      // Roles first: they always converge, and a setting that never shows up must not hold them back.
      if (roles.length > 0) {
        for (const role of roles) {
          await this.client
            .send(new AddRoleToDBInstanceCommand({ DBInstanceIdentifier: r, ...role }))
            .catch((error: unknown) => {
              if (faultName(error) !== 'DBInstanceRoleAlreadyExistsFault') throw error;
            });
        }
      } else if (modification !== undefined) {
        await this.client.send(
          new ModifyDBInstanceCommand({ DBInstanceIdentifier: r, ApplyImmediately: true, ...modification }),
        );
      }
      await this.client.send(
        new AddTagsToResourceCommand({
          ResourceName: restored.DBInstanceArn ?? r,
          Tags: [{ Key: this.keys.postRestore, Value: String(attempts + 1) }],
        }),
      );
    } catch (error) {
      // The instance moved on (modifying, backing-up...) between the describe and the call: next time.
      if (faultName(error) === 'InvalidDBInstanceStateFault') {
        return { identifier: r, status: 'restoring', rawStatus: `${raw}, settings pending` };
      }
      if (isTransientFault(error)) {
        throw transientFault(roles.length > 0 ? 'AddRoleToDBInstance' : 'ModifyDBInstance', r, error);
      }
      const what =
        roles.length > 0
          ? `the IAM roles ${roles.map((role) => role.FeatureName).join(', ')}`
          : `the settings ${Object.keys(modification ?? {}).join(', ')}`;
      throw new RestoreFailedError(
        `Applying ${what} of ${originalId} to the restored RDS DB instance ${r} failed (${faultName(error)}: ${faultMessage(error)}). ` +
          `The original ${originalId} is untouched.${accessHint(roles.length > 0 ? 'AddRoleToDBInstance' : 'ModifyDBInstance', error)}`,
        { cause: error, details: { ...details, originalIdentifier: originalId } },
      );
    }
    const applying = roles.length > 0 ? 'IAM roles' : Object.keys(modification ?? {}).join(', ');
    return { identifier: r, status: 'restoring', rawStatus: `${raw}, applying ${applying}` };
  }

  swap(request: SwapRequest): Promise<SwapStatus> {
    const ops: SwapOperations = {
      kind: 'instance',
      describe: async (identifier, restoredIdentifier) => {
        const db = await this.findInstance(identifier);
        if (db === undefined) return undefined;
        const status = db.DBInstanceStatus ?? 'unknown';
        return {
          identifier,
          status,
          usable: isUsable(status),
          isRestoredCopy: fromRdsTags(db.TagList)[this.keys.restoreId] === restoredIdentifier,
          ...(db.PendingModifiedValues?.DBInstanceIdentifier
            ? { renamingTo: db.PendingModifiedValues.DBInstanceIdentifier }
            : {}),
        };
      },
      rename: async (from, to) => {
        await this.client.send(
          new ModifyDBInstanceCommand({
            DBInstanceIdentifier: from,
            NewDBInstanceIdentifier: to,
            ApplyImmediately: true,
          }),
        );
      },
    };
    return advanceSwap(ops, request);
  }

  // -------------------------------------------------------------------------------------------------------

  /** The instance with this identifier, or undefined when RDS answers DBInstanceNotFound. */
  private async findInstance(identifier: string): Promise<DBInstance | undefined> {
    try {
      const out = await this.client.send(
        new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier }),
      );
      return out.DBInstances?.find((db) => db.DBInstanceIdentifier === identifier);
    } catch (error) {
      if (faultName(error) === 'DBInstanceNotFoundFault') return undefined;
      throw error;
    }
  }

  private adoptRestore(existing: DBInstance, request: RestoreRequest): RestoreDescription {
    // Its post-restore settings are applied by describeRestore: until then it is still restoring.
    return adoptRestoredCopy(
      { tags: fromRdsTags(existing.TagList), status: existing.DBInstanceStatus },
      request,
      this.keys,
      NOUNS,
    );
  }

  private snapshotDescription(snapshot: DBSnapshot | undefined, snapshotId: string): SnapshotDescription {
    const raw = snapshot?.Status ?? 'creating';
    return {
      snapshotId: snapshot?.DBSnapshotIdentifier ?? snapshotId,
      sourceIdentifier: snapshot?.DBInstanceIdentifier ?? this.targetIdentifier,
      status: snapshotStatusOf(raw),
      rawStatus: raw,
      tags: fromRdsTags(snapshot?.TagList),
    };
  }
}
