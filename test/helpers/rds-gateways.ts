/**
 * What the tests of the two RDS gateways share: their fixtures (an original with a non-default value for
 * every setting that matters), the kinds (`INSTANCE`, `CLUSTER`: identifiers, operations, nouns), the flow
 * helpers (snapshot, restore, swap until they settle) and the fault matrix, one table-driven describe that a
 * test file runs over one gateway with its rows.
 */
import {
  CreateDBClusterSnapshotCommand,
  CreateDBSnapshotCommand,
  type DBCluster,
  type DBInstance,
  type Tag,
} from '@aws-sdk/client-rds';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RdsClusterSnapshotGateway } from '../../lambdas/shared/adapters/rds/cluster.js';
import { RdsInstanceSnapshotGateway } from '../../lambdas/shared/adapters/rds/instance.js';
import type {
  RestoreDescription,
  RestoreRequest,
  SnapshotGateway,
  SwapRequest,
  SwapStatus,
} from '../../lambdas/shared/contract/ports.js';
import { FakeRds, type FakeRdsOptions, type FaultKind, type Operation } from './fake-rds.js';

export const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:orchestrator:release-42';
/** An earlier execution whose name cleaned to the same identifier (`Release.42`). */
export const OTHER_EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:orchestrator:Release.42';
export const TAGS = {
  'managed-by': 'prisma-migration-orchestrator',
  release: 'release-42',
  'retention-class': 'pre-migration',
};
/** `TAGS` and the execution tag, as the RDS tag list the gateways send. */
export const TAG_LIST: Tag[] = [
  { Key: 'managed-by', Value: 'prisma-migration-orchestrator' },
  { Key: 'release', Value: 'release-42' },
  { Key: 'retention-class', Value: 'pre-migration' },
  { Key: 'migration-execution', Value: EXECUTION },
];
export const IAM = 'arn:aws:iam::123456789012';
export const KMS = 'arn:aws:kms:us-east-1:123456789012:key';

/** An RDS instance with a non-default value for every setting that matters, so a forgotten one fails a test. */
export const ORIGINAL: DBInstance & { DBInstanceIdentifier: string } = {
  DBInstanceIdentifier: 'orders-db',
  DBInstanceClass: 'db.r6g.xlarge',
  Engine: 'postgres',
  EngineVersion: '16.4',
  AllocatedStorage: 500,
  MaxAllocatedStorage: 1000,
  StorageType: 'gp3',
  Iops: 12000,
  StorageThroughput: 500,
  MultiAZ: false,
  AvailabilityZone: 'us-east-1b',
  DBSubnetGroup: { DBSubnetGroupName: 'orders-private', VpcId: 'vpc-0orders' },
  VpcSecurityGroups: [
    { VpcSecurityGroupId: 'sg-orders', Status: 'active' },
    { VpcSecurityGroupId: 'sg-bastion', Status: 'active' },
    { VpcSecurityGroupId: 'sg-leaving', Status: 'removing' },
  ],
  DBParameterGroups: [{ DBParameterGroupName: 'orders-pg16', ParameterApplyStatus: 'in-sync' }],
  OptionGroupMemberships: [{ OptionGroupName: 'orders-options', Status: 'in-sync' }],
  Endpoint: { Address: 'orders-db.cfake.us-east-1.rds.amazonaws.com', Port: 6543 },
  PubliclyAccessible: true,
  IAMDatabaseAuthenticationEnabled: true,
  DeletionProtection: true,
  CopyTagsToSnapshot: true,
  EnabledCloudwatchLogsExports: ['postgresql', 'upgrade'],
  CACertificateIdentifier: 'rds-ca-ecc384-g1',
  AutoMinorVersionUpgrade: false,
  BackupRetentionPeriod: 14,
  PreferredBackupWindow: '07:00-07:30',
  PreferredMaintenanceWindow: 'tue:09:00-tue:09:30',
  NetworkType: 'DUAL',
  EngineLifecycleSupport: 'open-source-rds-extended-support-disabled',
  StorageEncrypted: true,
  KmsKeyId: `${KMS}/storage`,
  MonitoringInterval: 15,
  MonitoringRoleArn: `${IAM}:role/rds-monitoring`,
  PerformanceInsightsEnabled: true,
  PerformanceInsightsKMSKeyId: `${KMS}/insights`,
  PerformanceInsightsRetentionPeriod: 731,
  DatabaseInsightsMode: 'advanced',
  AssociatedRoles: [{ RoleArn: `${IAM}:role/orders-s3-import`, FeatureName: 's3Import', Status: 'ACTIVE' }],
  TagList: [
    { Key: 'team', Value: 'orders' },
    { Key: 'aws:cloudformation:stack-name', Value: 'orders-stack' },
    { Key: 'prisma-migration-orchestrator:restore-id', Value: 'from-an-earlier-rollback' },
    { Key: 'release', Value: 'release-41' },
  ],
};

/** An Aurora PostgreSQL cluster with a non-default value for every setting that matters. */
export const CLUSTER: DBCluster & { DBClusterIdentifier: string } = {
  DBClusterIdentifier: 'orders-cluster',
  Engine: 'aurora-postgresql',
  EngineVersion: '15.8',
  DBClusterParameterGroup: 'orders-cluster-pg15',
  DBSubnetGroup: 'orders-private',
  VpcSecurityGroups: [
    { VpcSecurityGroupId: 'sg-orders', Status: 'active' },
    { VpcSecurityGroupId: 'sg-reporting', Status: 'active' },
  ],
  StorageEncrypted: true,
  KmsKeyId: `${KMS}/storage`,
  IAMDatabaseAuthenticationEnabled: true,
  ServerlessV2ScalingConfiguration: { MinCapacity: 2, MaxCapacity: 64 },
  EnabledCloudwatchLogsExports: ['postgresql'],
  Port: 6432,
  DeletionProtection: true,
  CopyTagsToSnapshot: true,
  StorageType: 'aurora-iopt1',
  BackupRetentionPeriod: 21,
  PreferredBackupWindow: '06:00-06:30',
  PreferredMaintenanceWindow: 'wed:04:00-wed:04:30',
  NetworkType: 'DUAL',
  EngineLifecycleSupport: 'open-source-rds-extended-support-disabled',
  HttpEndpointEnabled: true,
  AssociatedRoles: [{ RoleArn: `${IAM}:role/orders-s3-import`, FeatureName: 's3Import', Status: 'ACTIVE' }],
  TagList: [
    { Key: 'team', Value: 'orders' },
    { Key: 'aws:cloudformation:stack-name', Value: 'orders-stack' },
  ],
};

/** A provisioned writer, listed first by `addCluster` (so it is the writer). */
export const WRITER_INSTANCE: DBInstance & { DBInstanceIdentifier: string } = {
  DBInstanceIdentifier: 'orders-cluster-writer',
  DBInstanceClass: 'db.r6g.2xlarge',
  DBParameterGroups: [{ DBParameterGroupName: 'orders-instance-pg15', ParameterApplyStatus: 'in-sync' }],
  PromotionTier: 0,
  AvailabilityZone: 'us-east-1a',
  PubliclyAccessible: false,
  AutoMinorVersionUpgrade: false,
  PreferredMaintenanceWindow: 'thu:03:00-thu:03:30',
  CACertificateIdentifier: 'rds-ca-ecc384-g1',
  MonitoringInterval: 30,
  MonitoringRoleArn: `${IAM}:role/rds-monitoring`,
  PerformanceInsightsEnabled: true,
  PerformanceInsightsKMSKeyId: `${KMS}/insights`,
  PerformanceInsightsRetentionPeriod: 465,
  TagList: [{ Key: 'role', Value: 'writer' }],
};

/** A Serverless v2 reader. */
export const READER_INSTANCE: DBInstance & { DBInstanceIdentifier: string } = {
  DBInstanceIdentifier: 'orders-cluster-reader-1',
  DBInstanceClass: 'db.serverless',
  DBParameterGroups: [{ DBParameterGroupName: 'orders-reader-pg15', ParameterApplyStatus: 'in-sync' }],
  PromotionTier: 2,
  AvailabilityZone: 'us-east-1b',
  PubliclyAccessible: false,
  AutoMinorVersionUpgrade: true,
  PreferredMaintenanceWindow: 'fri:03:00-fri:03:30',
  CACertificateIdentifier: 'rds-ca-rsa4096-g1',
  MonitoringInterval: 0,
  PerformanceInsightsEnabled: false,
  TagList: [{ Key: 'role', Value: 'reader' }],
};

export function pick<T extends object>(value: T | undefined, keys: readonly (keyof T)[]) {
  return Object.fromEntries(keys.map((key) => [key, value?.[key]]));
}

/** One of the two gateways, as the shared tests see it. */
export interface GatewayKind {
  readonly name: 'RdsInstanceSnapshotGateway' | 'RdsClusterSnapshotGateway';
  /** The AWS CLI's word. */
  readonly kind: 'instance' | 'cluster';
  /** 'RDS DB instance' or 'Aurora cluster', as messages name it. */
  readonly resource: string;
  /** 'Snapshot' or 'Cluster snapshot', as messages start. */
  readonly snapshotNoun: string;
  readonly O: string;
  readonly R: string;
  readonly A: string;
  readonly SNAPSHOT: string;
  readonly ops: {
    readonly describe: Operation;
    readonly createSnapshot: Operation;
    readonly describeSnapshots: Operation;
    readonly deleteSnapshot: Operation;
    readonly restore: Operation;
    readonly modify: Operation;
  };
  /** The AccountQuotaName of its manual snapshot quota in DescribeAccountAttributes. */
  readonly accountQuota: 'ManualSnapshots' | 'ManualClusterSnapshots';
  /** The input parameter that names the database, and the one that renames it. */
  readonly idKey: 'DBInstanceIdentifier' | 'DBClusterIdentifier';
  readonly newIdKey: 'NewDBInstanceIdentifier' | 'NewDBClusterIdentifier';
  /** The input parameter that names the snapshot. */
  readonly snapshotKey: 'DBSnapshotIdentifier' | 'DBClusterSnapshotIdentifier';
  /** The AWS CLI command that deletes a manual snapshot. */
  readonly deleteSnapshot: string;
  /** Adds the original (`O`) with its data `before the release`. */
  seed(fake: FakeRds): void;
  /** Adds a plain database `id` (an Aurora cluster with one instance), tagged by nobody. */
  addPlain(fake: FakeRds, id: string): void;
  gateway(fake: FakeRds, identifier?: string): SnapshotGateway;
  /** The identifiers of this kind that exist. */
  identifiers(fake: FakeRds): string[];
  snapshotTags(fake: FakeRds, snapshotId: string): Tag[] | undefined;
  /** Whether the fake has snapshot `snapshotId` (manual or automated). */
  hasSnapshot(fake: FakeRds, snapshotId: string): boolean;
  /** Takes snapshot `snapshotId` of `source` (default `O`) by hand: no execution tag, unless `tags` has one. */
  snapshotByHand(fake: FakeRds, snapshotId: string, tags?: Tag[], source?: string): Promise<unknown>;
}

/**
 * The tags the create-snapshot step puts on a managed snapshot of `source` (`snapshot-kind` left out when
 * `kind` is undefined: a snapshot taken before kinds existed).
 */
export function managedTags(
  source: string,
  kind: 'backup' | 'pre-migration' | undefined,
  executionId = EXECUTION,
  managedBy = 'prisma-migration-orchestrator',
): Record<string, string> {
  return {
    'managed-by': managedBy,
    'migration-execution': executionId,
    'source-identifier': source,
    ...(kind === undefined ? {} : { 'snapshot-kind': kind }),
  };
}

export const INSTANCE: GatewayKind = {
  name: 'RdsInstanceSnapshotGateway',
  kind: 'instance',
  resource: 'RDS DB instance',
  snapshotNoun: 'Snapshot',
  O: 'orders-db',
  R: 'orders-db-restored-1a2b3c4d',
  A: 'orders-db-rolledback-20300101t000000z',
  SNAPSHOT: 'orders-db-premigration-release-42',
  ops: {
    describe: 'DescribeDBInstances',
    createSnapshot: 'CreateDBSnapshot',
    describeSnapshots: 'DescribeDBSnapshots',
    deleteSnapshot: 'DeleteDBSnapshot',
    restore: 'RestoreDBInstanceFromDBSnapshot',
    modify: 'ModifyDBInstance',
  },
  accountQuota: 'ManualSnapshots',
  idKey: 'DBInstanceIdentifier',
  newIdKey: 'NewDBInstanceIdentifier',
  snapshotKey: 'DBSnapshotIdentifier',
  deleteSnapshot: 'delete-db-snapshot',
  seed: (fake) => fake.addInstance(ORIGINAL, 'before the release'),
  addPlain: (fake, id) => fake.addInstance({ DBInstanceIdentifier: id }),
  gateway: (fake, identifier = INSTANCE.O) =>
    new RdsInstanceSnapshotGateway({ instanceIdentifier: identifier, client: fake.client }),
  identifiers: (fake) => fake.identifiers().instances,
  snapshotTags: (fake, id) => fake.snapshot(id)?.TagList,
  hasSnapshot: (fake, id) => fake.snapshot(id) !== undefined,
  snapshotByHand: (fake, id, tags, source = INSTANCE.O) =>
    fake.client.send(
      new CreateDBSnapshotCommand({
        DBSnapshotIdentifier: id,
        DBInstanceIdentifier: source,
        ...(tags ? { Tags: tags } : {}),
      }),
    ),
};

export const CLUSTER_KIND: GatewayKind = {
  name: 'RdsClusterSnapshotGateway',
  kind: 'cluster',
  resource: 'Aurora cluster',
  snapshotNoun: 'Cluster snapshot',
  O: 'orders-cluster',
  R: 'orders-cluster-restored-1a2b3c4d',
  A: 'orders-cluster-rolledback-20300101t000000z',
  SNAPSHOT: 'orders-cluster-premigration-release-42',
  ops: {
    describe: 'DescribeDBClusters',
    createSnapshot: 'CreateDBClusterSnapshot',
    describeSnapshots: 'DescribeDBClusterSnapshots',
    deleteSnapshot: 'DeleteDBClusterSnapshot',
    restore: 'RestoreDBClusterFromSnapshot',
    modify: 'ModifyDBCluster',
  },
  accountQuota: 'ManualClusterSnapshots',
  idKey: 'DBClusterIdentifier',
  newIdKey: 'NewDBClusterIdentifier',
  snapshotKey: 'DBClusterSnapshotIdentifier',
  deleteSnapshot: 'delete-db-cluster-snapshot',
  seed: (fake) => fake.addCluster(CLUSTER, [WRITER_INSTANCE, READER_INSTANCE], 'before the release'),
  addPlain: (fake, id) => fake.addCluster({ DBClusterIdentifier: id }, [{ DBInstanceIdentifier: `${id}-1` }]),
  gateway: (fake, identifier = CLUSTER_KIND.O) =>
    new RdsClusterSnapshotGateway({ clusterIdentifier: identifier, client: fake.client }),
  identifiers: (fake) => fake.identifiers().clusters,
  snapshotTags: (fake, id) => fake.clusterSnapshot(id)?.TagList,
  hasSnapshot: (fake, id) => fake.clusterSnapshot(id) !== undefined,
  snapshotByHand: (fake, id, tags, source = CLUSTER_KIND.O) =>
    fake.client.send(
      new CreateDBClusterSnapshotCommand({
        DBClusterSnapshotIdentifier: id,
        DBClusterIdentifier: source,
        ...(tags ? { Tags: tags } : {}),
      }),
    ),
};

/** The fake, the gateway under test and the steps that bring them to a point of the workflow. */
export class GatewayHarness<G extends SnapshotGateway = SnapshotGateway> {
  fake!: FakeRds;
  gateway!: G;

  constructor(readonly kind: GatewayKind) {}

  /** A new fake with `options`, empty, and a gateway on it. */
  begin(options: FakeRdsOptions = {}): void {
    this.fake = new FakeRds(options);
    this.gateway = this.kind.gateway(this.fake) as G;
  }

  /** Starts again on a fake with `options`, seeded with the original. */
  reset(options: FakeRdsOptions): void {
    this.fake.restore();
    this.begin(options);
    this.kind.seed(this.fake);
  }

  restoreRequest(executionId = EXECUTION): RestoreRequest {
    const { SNAPSHOT, O, R } = this.kind;
    return { snapshotId: SNAPSHOT, originalIdentifier: O, restoredIdentifier: R, executionId, tags: TAGS };
  }

  get swapRequest(): SwapRequest {
    return { originalIdentifier: this.kind.O, restoredIdentifier: this.kind.R, asideIdentifier: this.kind.A };
  }

  async snapshotReady(executionId = EXECUTION): Promise<void> {
    await this.gateway.createSnapshot({ snapshotId: this.kind.SNAPSHOT, executionId, tags: TAGS });
    this.fake.settle();
  }

  /** Snapshot, then the release changes the data, then the restore until it settles. */
  async restoreReady(): Promise<RestoreDescription[]> {
    await this.snapshotReady();
    this.fake.setData(this.kind.O, 'after the release');
    await this.gateway.restoreSnapshot(this.restoreRequest());
    const seen: RestoreDescription[] = [];
    for (let i = 0; i < 50; i++) {
      const description = await this.gateway.describeRestore(this.kind.R);
      if (description === undefined) throw new Error('restored copy vanished');
      seen.push(description);
      if (description.status !== 'restoring') return seen;
    }
    throw new Error('restore did not settle');
  }

  async swapUntilComplete(): Promise<SwapStatus> {
    for (let i = 0; i < 50; i++) {
      const status = await this.gateway.swap(this.swapRequest);
      if (status.complete) return status;
    }
    throw new Error('swap did not complete');
  }

  /** The two renames of a swap, each with ApplyImmediately. */
  renames(): Record<string, unknown>[] {
    const { O, R, A, idKey, newIdKey } = this.kind;
    return [
      { [idKey]: O, [newIdKey]: A, ApplyImmediately: true },
      { [idKey]: R, [newIdKey]: O, ApplyImmediately: true },
    ];
  }
}

/** A harness begun anew before each test of the calling describe, its fake restored after. */
export function useGateway<G extends SnapshotGateway>(kind: GatewayKind): GatewayHarness<G> {
  const h = new GatewayHarness<G>(kind);
  beforeEach(() => h.begin());
  afterEach(() => h.fake.restore());
  return h;
}

// ---------------------------------------------------------------------------------------------------------
// The fault matrix

/** What a row expects: an error by name (and message parts), or a result. */
export type FaultOutcome =
  | { error: string; message?: RegExp | string | readonly (RegExp | string)[] }
  | { resolves: unknown };

/** The scenarios every gateway has; a gateway adds its own (`arrangements`). */
export type SharedScenario =
  | 'describeTarget'
  | 'createSnapshot'
  | 'describeSnapshot'
  | 'restoreSnapshot'
  | 'swapFirst'
  | 'swapSecond';

/** Brings the fake to the point where a scenario runs its call, and returns the call. */
export type Arrangement = (h: GatewayHarness) => Promise<() => Promise<unknown>>;

export type FaultRow<S extends string = SharedScenario> = readonly [S, Operation, FaultKind, FaultOutcome];

export const SHARED_ARRANGEMENTS: Readonly<Record<SharedScenario, Arrangement>> = {
  describeTarget: async (h) => () => h.gateway.describeTarget(),
  createSnapshot: async (h) => () =>
    h.gateway.createSnapshot({ snapshotId: h.kind.SNAPSHOT, executionId: EXECUTION, tags: TAGS }),
  describeSnapshot: async (h) => {
    await h.snapshotReady();
    return () => h.gateway.describeSnapshot(h.kind.SNAPSHOT);
  },
  restoreSnapshot: async (h) => {
    await h.snapshotReady();
    return () => h.gateway.restoreSnapshot(h.restoreRequest());
  },
  swapFirst: async (h) => {
    await h.restoreReady();
    return () => h.gateway.swap(h.swapRequest);
  },
  swapSecond: async (h) => {
    await h.restoreReady();
    await h.gateway.swap(h.swapRequest);
    h.fake.settle();
    return () => h.gateway.swap(h.swapRequest);
  },
};

/** Restored and available: the next describeRestore completes the copy (settings, instances). */
export const RESTORED_AVAILABLE: Arrangement = async (h) => {
  await (await SHARED_ARRANGEMENTS.restoreSnapshot(h))();
  h.fake.settle();
  return () => h.gateway.describeRestore(h.kind.R);
};

/** `arrangement`, then its call once and time until it settles: the next call is the following step. */
export function afterOneDescribe(arrangement: Arrangement): Arrangement {
  return async (h) => {
    const act = await arrangement(h);
    await act();
    h.fake.settle();
    return act;
  };
}

/**
 * `it.each` over `rows` on the seeded `h`: each row arranges its scenario, makes the next call of its
 * operation fail with its fault, and checks the outcome.
 */
export function faultMatrix<S extends string>(
  h: GatewayHarness,
  rows: readonly FaultRow<S>[],
  arrangements: Readonly<Record<S, Arrangement>>,
): void {
  const table = rows.map(
    ([scenario, operation, fault, outcome]) =>
      [scenario, operation, fault, 'error' in outcome ? outcome.error : 'a result', outcome] as const,
  );
  it.each(table)('%s: %s answering %s gives %s', async (scenario, operation, fault, _, outcome) => {
    // Prepare
    const act = await arrangements[scenario](h);
    h.fake.failNext(operation, fault);

    // Act
    const attempt = act();

    // Assess
    if ('resolves' in outcome) {
      await expect(attempt).resolves.toEqual(outcome.resolves);
    } else {
      await expect(attempt).rejects.toMatchObject({ name: outcome.error });
      const messages = outcome.message === undefined ? [] : [outcome.message].flat();
      for (const message of messages) await expect(attempt).rejects.toThrow(message);
    }
  });
}

/** The describe of the fault matrix of one gateway: seeded before each row. */
export function describeFaults<S extends string>(
  h: GatewayHarness,
  rows: readonly FaultRow<S>[],
  arrangements: Readonly<Record<S, Arrangement>>,
): void {
  describe('faults', () => {
    beforeEach(() => {
      h.kind.seed(h.fake);
    });
    faultMatrix(h, rows, arrangements);
  });
}
