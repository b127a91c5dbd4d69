/**
 * The settings carried over from the original to its restored copy. A restore from a snapshot creates a new
 * database with RDS defaults (default security group, default parameter group, single-AZ, no monitoring...;
 * for Aurora the region's default engine version and no instances): every setting that matters is read from
 * the original and passed to the restore call, and the few the restore API does not accept are applied with
 * a modify call once the copy is available.
 */
import type {
  CreateDBInstanceCommandInput,
  DBCluster,
  DBInstance,
  ModifyDBClusterCommandInput,
  ModifyDBInstanceCommandInput,
  RestoreDBClusterFromSnapshotCommandInput,
  RestoreDBInstanceFromDBSnapshotCommandInput,
  Tag,
  VpcSecurityGroupMembership,
} from '@aws-sdk/client-rds';
import type { RestoreRequest } from '../../contract/ports.js';
import { restoredMemberIdentifier } from '../../domain/identifiers.js';

/**
 * How many times the settings that a restore API does not accept are requested with a modify call before
 * the restored copy is reported available anyway (a setting that RDS reports back differently from how it
 * was set must not hold the rollback hostage).
 */
export const MAX_POST_RESTORE_ATTEMPTS = 3;

/** Drops undefined values, so that an SDK input carries only the settings that were read. */
export function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** The VPC security groups a database uses (not those being removed), or undefined when there are none. */
export function activeSecurityGroupIds(
  groups: readonly VpcSecurityGroupMembership[] | undefined,
): string[] | undefined {
  const ids = (groups ?? [])
    .filter((group) => group.Status !== 'removing')
    .map((group) => group.VpcSecurityGroupId)
    .filter((id): id is string => id !== undefined);
  return ids.length > 0 ? ids : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// A DB instance

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
export function missingInstanceRoles(
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

// ---------------------------------------------------------------------------------------------------------
// An Aurora cluster and its instances

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

/** Where a member of the original cluster is recreated. */
export interface MemberTarget {
  readonly originalCluster: string;
  readonly restoredCluster: string;
  /** The engine of an instance that does not say its own. */
  readonly engine: string;
  readonly tags: Tag[];
}

/** The CreateDBInstance input that recreates `member` of the original cluster in the restored cluster. */
export function clusterMemberInput(member: DBInstance, into: MemberTarget): CreateDBInstanceCommandInput {
  const { originalCluster, restoredCluster, engine, tags } = into;
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
export function membersInCreationOrder(original: DBCluster, instances: readonly DBInstance[]): DBInstance[] {
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
