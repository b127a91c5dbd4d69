import {
  CreateDBClusterSnapshotCommand,
  type DBCluster,
  type DBInstance,
  RestoreDBClusterFromSnapshotCommand,
} from '@aws-sdk/client-rds';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RdsClusterSnapshotGateway } from '../../lambdas/shared/adapters/rds/cluster.js';
import type { RestoreDescription } from '../../lambdas/shared/ports.js';
import { FAKE_DEFAULT_AURORA_VERSION, FakeRds, type FaultKind, type Operation } from '../helpers/fake-rds.js';

const O = 'orders-cluster';
const R = 'orders-cluster-restored-1a2b3c4d';
const A = 'orders-cluster-rolledback-20300101t000000z';
const WRITER = 'orders-cluster-writer';
const READER = 'orders-cluster-reader-1';
const SNAPSHOT = 'orders-cluster-premigration-release-42';
const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:orchestrator:release-42';
/** An earlier execution whose name cleaned to the same identifier (`Release.42`). */
const OTHER_EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:orchestrator:Release.42';
const TAGS = { 'managed-by': 'prisma-migration-orchestrator', release: 'release-42' };
const IAM = 'arn:aws:iam::123456789012';
const KMS = 'arn:aws:kms:us-east-1:123456789012:key';

/** An Aurora PostgreSQL cluster with a non-default value for every setting that matters. */
const CLUSTER: DBCluster & { DBClusterIdentifier: string } = {
  DBClusterIdentifier: O,
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
const WRITER_INSTANCE: DBInstance & { DBInstanceIdentifier: string } = {
  DBInstanceIdentifier: WRITER,
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
const READER_INSTANCE: DBInstance & { DBInstanceIdentifier: string } = {
  DBInstanceIdentifier: READER,
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

const CLUSTER_CARRIED: (keyof DBCluster)[] = [
  'Engine',
  'EngineVersion',
  'DBClusterParameterGroup',
  'DBSubnetGroup',
  'VpcSecurityGroups',
  'StorageEncrypted',
  'KmsKeyId',
  'IAMDatabaseAuthenticationEnabled',
  'ServerlessV2ScalingConfiguration',
  'EnabledCloudwatchLogsExports',
  'Port',
  'DeletionProtection',
  'CopyTagsToSnapshot',
  'StorageType',
  'BackupRetentionPeriod',
  'PreferredBackupWindow',
  'PreferredMaintenanceWindow',
  'NetworkType',
  'EngineLifecycleSupport',
  'HttpEndpointEnabled',
  'AssociatedRoles',
];

const INSTANCE_CARRIED: (keyof DBInstance)[] = [
  'DBInstanceClass',
  'DBParameterGroups',
  'PromotionTier',
  'AvailabilityZone',
  'PubliclyAccessible',
  'AutoMinorVersionUpgrade',
  'PreferredMaintenanceWindow',
  'CACertificateIdentifier',
  'MonitoringInterval',
  'PerformanceInsightsEnabled',
  'PerformanceInsightsKMSKeyId',
  'PerformanceInsightsRetentionPeriod',
];

function pick<T extends object>(value: T | undefined, keys: readonly (keyof T)[]) {
  return Object.fromEntries(keys.map((key) => [key, value?.[key]]));
}

describe('RdsClusterSnapshotGateway', () => {
  let fake: FakeRds;
  let gateway: RdsClusterSnapshotGateway;

  beforeEach(() => {
    fake = new FakeRds();
    gateway = new RdsClusterSnapshotGateway({ clusterIdentifier: O, client: fake.client });
  });

  afterEach(() => {
    fake.restore();
  });

  const seed = () => fake.addCluster(CLUSTER, [WRITER_INSTANCE, READER_INSTANCE], 'before the release');

  async function snapshotReady(): Promise<void> {
    await gateway.createSnapshot({ snapshotId: SNAPSHOT, executionId: EXECUTION, tags: TAGS });
    fake.settle();
  }

  async function restoreReady(): Promise<RestoreDescription[]> {
    await snapshotReady();
    fake.setData(O, 'after the release');
    await gateway.restoreSnapshot({
      snapshotId: SNAPSHOT,
      originalIdentifier: O,
      restoredIdentifier: R,
      executionId: EXECUTION,
      tags: TAGS,
    });
    const seen: RestoreDescription[] = [];
    for (let i = 0; i < 50; i++) {
      const description = await gateway.describeRestore(R);
      if (description === undefined) throw new Error('restored cluster vanished');
      seen.push(description);
      if (description.status !== 'restoring') return seen;
    }
    throw new Error('restore did not settle');
  }

  async function swapUntilComplete() {
    for (let i = 0; i < 50; i++) {
      const status = await gateway.swap({ originalIdentifier: O, restoredIdentifier: R, asideIdentifier: A });
      if (status.complete) return status;
    }
    throw new Error('swap did not complete');
  }

  describe('describeTarget', () => {
    it('reports an available cluster with a serving writer as available', async () => {
      // Prepare
      seed();

      // Act
      const target = await gateway.describeTarget();

      // Assess
      expect(target).toEqual({
        identifier: O,
        status: 'available',
        available: true,
        engine: 'aurora-postgresql',
      });
    });

    it.each(['backing-up', 'modifying', 'stopped'])(
      'reports a cluster that is %s as not available',
      async (status) => {
        // Prepare
        seed();
        fake.setClusterStatus(O, status);

        // Act
        const target = await gateway.describeTarget();

        // Assess
        expect(target).toEqual({ identifier: O, status, available: false, engine: 'aurora-postgresql' });
      },
    );

    it('reports a cluster whose writer is rebooting as not available, naming the writer', async () => {
      // Prepare
      seed();
      fake.setInstanceStatus(WRITER, 'rebooting');

      // Act
      const target = await gateway.describeTarget();

      // Assess
      expect(target).toMatchObject({ available: false, status: `available, writer ${WRITER} rebooting` });
    });

    it('fails when the cluster does not exist, naming it', async () => {
      // Act
      const attempt = gateway.describeTarget();

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'TargetNotAvailable' });
      await expect(attempt).rejects.toThrow(`Aurora cluster ${O} does not exist`);
    });
  });

  describe('createSnapshot', () => {
    beforeEach(() => {
      seed();
    });

    it('calls CreateDBClusterSnapshot with the id, the cluster and the tags', async () => {
      // Act
      const started = await gateway.createSnapshot({
        snapshotId: SNAPSHOT,
        executionId: EXECUTION,
        tags: TAGS,
      });

      // Assess
      expect(fake.calls('CreateDBClusterSnapshot')).toEqual([
        {
          DBClusterSnapshotIdentifier: SNAPSHOT,
          DBClusterIdentifier: O,
          Tags: [
            { Key: 'managed-by', Value: 'prisma-migration-orchestrator' },
            { Key: 'release', Value: 'release-42' },
            { Key: 'migration-execution', Value: EXECUTION },
          ],
        },
      ]);
      expect(started).toEqual({
        snapshotId: SNAPSHOT,
        sourceIdentifier: O,
        status: 'creating',
        rawStatus: 'creating',
        tags: { ...TAGS, 'migration-execution': EXECUTION },
      });
    });

    it('adopts the snapshot when it already exists from the same cluster', async () => {
      // Prepare
      await snapshotReady();

      // Act
      const adopted = await gateway.createSnapshot({
        snapshotId: SNAPSHOT,
        executionId: EXECUTION,
        tags: TAGS,
      });

      // Assess
      expect(adopted).toMatchObject({ snapshotId: SNAPSHOT, sourceIdentifier: O, status: 'available' });
    });

    it('refuses, without adopting it, a cluster snapshot with that id that another execution took, naming it', async () => {
      // Prepare
      await gateway.createSnapshot({ snapshotId: SNAPSHOT, executionId: OTHER_EXECUTION, tags: TAGS });
      fake.settle();
      fake.clearCalls();

      // Act
      const attempt = gateway.createSnapshot({ snapshotId: SNAPSHOT, executionId: EXECUTION, tags: TAGS });

      // Assess
      await expect(attempt).rejects.toMatchObject({
        name: 'SnapshotFailed',
        details: { snapshotId: SNAPSHOT, executionId: EXECUTION, createdBy: OTHER_EXECUTION },
      });
      await expect(attempt).rejects.toThrow(
        `Cluster snapshot ${SNAPSHOT} of ${O} already exists but was taken by execution ${OTHER_EXECUTION}, not by this execution ${EXECUTION}`,
      );
      await expect(attempt).rejects.toThrow(/Nothing was applied and the database was not touched/);
      expect(fake.operations()).toEqual(['CreateDBClusterSnapshot', 'DescribeDBClusterSnapshots']);
      expect(fake.calls('CreateDBClusterSnapshot')).toEqual([
        {
          DBClusterSnapshotIdentifier: SNAPSHOT,
          DBClusterIdentifier: O,
          Tags: [
            { Key: 'managed-by', Value: 'prisma-migration-orchestrator' },
            { Key: 'release', Value: 'release-42' },
            { Key: 'migration-execution', Value: EXECUTION },
          ],
        },
      ]);
      expect(fake.calls('DescribeDBClusterSnapshots')).toEqual([{ DBClusterSnapshotIdentifier: SNAPSHOT }]);
      expect(fake.clusterSnapshot(SNAPSHOT)?.TagList).toContainEqual({
        Key: 'migration-execution',
        Value: OTHER_EXECUTION,
      });
    });

    it('refuses a cluster snapshot with that id that carries no execution tag (taken by hand)', async () => {
      // Prepare
      await fake.client.send(
        new CreateDBClusterSnapshotCommand({ DBClusterSnapshotIdentifier: SNAPSHOT, DBClusterIdentifier: O }),
      );
      fake.settle();
      fake.clearCalls();

      // Act
      const attempt = gateway.createSnapshot({ snapshotId: SNAPSHOT, executionId: EXECUTION, tags: TAGS });

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'SnapshotFailed' });
      await expect(attempt).rejects.toThrow(
        'was taken by an unknown execution (it has no migration-execution tag), not by this execution',
      );
      expect(fake.operations()).toEqual(['CreateDBClusterSnapshot', 'DescribeDBClusterSnapshots']);
    });

    it('fails when a snapshot with that id exists from another cluster, naming both', async () => {
      // Prepare
      fake.addCluster({ DBClusterIdentifier: 'billing-cluster' }, [{ DBInstanceIdentifier: 'billing-1' }]);
      const other = new RdsClusterSnapshotGateway({
        clusterIdentifier: 'billing-cluster',
        client: fake.client,
      });
      await other.createSnapshot({ snapshotId: SNAPSHOT, executionId: EXECUTION, tags: {} });

      // Act
      const attempt = gateway.createSnapshot({ snapshotId: SNAPSHOT, executionId: EXECUTION, tags: TAGS });

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'SnapshotFailed' });
      await expect(attempt).rejects.toThrow(/taken of Aurora cluster billing-cluster, not of orders-cluster/);
    });

    it.each([
      ['creating', 'creating'],
      ['available', 'available'],
      ['failed', 'failed'],
      ['incompatible-restore', 'failed'],
    ])('describes a cluster snapshot that is %s as %s', async (raw, status) => {
      // Prepare
      await gateway.createSnapshot({ snapshotId: SNAPSHOT, executionId: EXECUTION, tags: TAGS });
      fake.setSnapshotStatus(SNAPSHOT, raw);

      // Act
      const description = await gateway.describeSnapshot(SNAPSHOT);

      // Assess
      expect(description).toMatchObject({
        snapshotId: SNAPSHOT,
        sourceIdentifier: O,
        status,
        rawStatus: raw,
      });
    });
  });

  describe('restore', () => {
    beforeEach(() => {
      seed();
    });

    it('passes every cluster setting of the original to RestoreDBClusterFromSnapshot (engine version included)', async () => {
      // Prepare
      await snapshotReady();

      // Act
      const started = await gateway.restoreSnapshot({
        snapshotId: SNAPSHOT,
        originalIdentifier: O,
        restoredIdentifier: R,
        executionId: EXECUTION,
        tags: TAGS,
      });

      // Assess
      expect(started).toEqual({ identifier: R, status: 'restoring', rawStatus: 'creating' });
      expect(fake.calls('RestoreDBClusterFromSnapshot')).toEqual([
        {
          DBClusterIdentifier: R,
          SnapshotIdentifier: SNAPSHOT,
          Engine: 'aurora-postgresql',
          EngineVersion: '15.8',
          DBClusterParameterGroupName: 'orders-cluster-pg15',
          DBSubnetGroupName: 'orders-private',
          VpcSecurityGroupIds: ['sg-orders', 'sg-reporting'],
          KmsKeyId: `${KMS}/storage`,
          EnableIAMDatabaseAuthentication: true,
          ServerlessV2ScalingConfiguration: { MinCapacity: 2, MaxCapacity: 64 },
          EnableCloudwatchLogsExports: ['postgresql'],
          Port: 6432,
          DeletionProtection: true,
          CopyTagsToSnapshot: true,
          StorageType: 'aurora-iopt1',
          BackupRetentionPeriod: 21,
          PreferredBackupWindow: '06:00-06:30',
          NetworkType: 'DUAL',
          EngineLifecycleSupport: 'open-source-rds-extended-support-disabled',
          AssociatedRoles: [{ RoleArn: `${IAM}:role/orders-s3-import`, FeatureName: 's3Import' }],
          Tags: [
            { Key: 'team', Value: 'orders' },
            { Key: 'managed-by', Value: 'prisma-migration-orchestrator' },
            { Key: 'release', Value: 'release-42' },
            { Key: 'migration-execution', Value: EXECUTION },
            { Key: 'prisma-migration-orchestrator:restore-id', Value: R },
            { Key: 'prisma-migration-orchestrator:restore-of', Value: O },
            { Key: 'prisma-migration-orchestrator:restored-from', Value: SNAPSHOT },
          ],
        },
      ]);
      expect(fake.clusterInstances(R)).toEqual([]);
    });

    it('creates one instance per original instance, writer first, provisioned and Serverless v2, with their settings', async () => {
      // Act
      const seen = await restoreReady();

      // Assess
      const ours = [
        { Key: 'managed-by', Value: 'prisma-migration-orchestrator' },
        { Key: 'release', Value: 'release-42' },
        { Key: 'migration-execution', Value: EXECUTION },
      ];
      expect(fake.calls('CreateDBInstance')).toEqual([
        {
          DBInstanceIdentifier: `${R}-writer`,
          DBClusterIdentifier: R,
          Engine: 'aurora-postgresql',
          DBInstanceClass: 'db.r6g.2xlarge',
          DBParameterGroupName: 'orders-instance-pg15',
          PromotionTier: 0,
          AvailabilityZone: 'us-east-1a',
          PubliclyAccessible: false,
          AutoMinorVersionUpgrade: false,
          PreferredMaintenanceWindow: 'thu:03:00-thu:03:30',
          CACertificateIdentifier: 'rds-ca-ecc384-g1',
          MonitoringInterval: 30,
          MonitoringRoleArn: `${IAM}:role/rds-monitoring`,
          EnablePerformanceInsights: true,
          PerformanceInsightsKMSKeyId: `${KMS}/insights`,
          PerformanceInsightsRetentionPeriod: 465,
          Tags: [
            { Key: 'role', Value: 'writer' },
            ...ours,
            { Key: 'prisma-migration-orchestrator:restore-id', Value: R },
          ],
        },
        {
          DBInstanceIdentifier: `${R}-reader-1`,
          DBClusterIdentifier: R,
          Engine: 'aurora-postgresql',
          DBInstanceClass: 'db.serverless',
          DBParameterGroupName: 'orders-reader-pg15',
          PromotionTier: 2,
          AvailabilityZone: 'us-east-1b',
          PubliclyAccessible: false,
          AutoMinorVersionUpgrade: true,
          PreferredMaintenanceWindow: 'fri:03:00-fri:03:30',
          CACertificateIdentifier: 'rds-ca-rsa4096-g1',
          EnablePerformanceInsights: false,
          Tags: [
            { Key: 'role', Value: 'reader' },
            ...ours,
            { Key: 'prisma-migration-orchestrator:restore-id', Value: R },
          ],
        },
      ]);
      expect(fake.calls('ModifyDBCluster')).toEqual([
        {
          DBClusterIdentifier: R,
          ApplyImmediately: true,
          PreferredMaintenanceWindow: 'wed:04:00-wed:04:30',
          EnableHttpEndpoint: true,
        },
      ]);
      expect(seen.filter((d) => d.status === 'restoring').length).toBeGreaterThan(1);
      expect(seen.at(-1)).toMatchObject({ identifier: R, status: 'available' });
      expect(pick(fake.cluster(R), CLUSTER_CARRIED)).toEqual(pick(fake.cluster(O), CLUSTER_CARRIED));
      const restoredMembers = fake.cluster(R)?.DBClusterMembers ?? [];
      expect(restoredMembers.map((m) => [m.DBInstanceIdentifier, m.IsClusterWriter])).toEqual([
        [`${R}-writer`, true],
        [`${R}-reader-1`, false],
      ]);
      expect(pick(fake.instance(`${R}-writer`), INSTANCE_CARRIED)).toEqual(
        pick(fake.instance(WRITER), INSTANCE_CARRIED),
      );
      expect(pick(fake.instance(`${R}-reader-1`), INSTANCE_CARRIED)).toEqual(
        pick(fake.instance(READER), INSTANCE_CARRIED),
      );
    });

    it('reports restoring, not available, while the restored cluster has no instance yet', async () => {
      // Prepare
      await snapshotReady();
      await gateway.restoreSnapshot({
        snapshotId: SNAPSHOT,
        originalIdentifier: O,
        restoredIdentifier: R,
        executionId: EXECUTION,
        tags: TAGS,
      });
      fake.settle();

      // Act
      const first = await gateway.describeRestore(R);

      // Assess
      expect(fake.cluster(R)?.Status).toBe('available');
      expect(first).toMatchObject({ identifier: R, status: 'restoring' });
      expect(first?.rawStatus).toContain(`creating instances ${R}-writer, ${R}-reader-1`);
    });

    it('adopts its own restored cluster when retried, without a second restore call', async () => {
      // Prepare
      await snapshotReady();
      const request = {
        snapshotId: SNAPSHOT,
        originalIdentifier: O,
        restoredIdentifier: R,
        executionId: EXECUTION,
        tags: TAGS,
      };
      await gateway.restoreSnapshot(request);
      fake.clearCalls();

      // Act
      const retried = await gateway.restoreSnapshot(request);

      // Assess
      expect(retried).toMatchObject({ identifier: R, status: 'restoring' });
      expect(fake.operations()).toEqual(['DescribeDBClusters']);
    });

    it('refuses, without a restore call, a restored cluster under that identifier that another execution restored', async () => {
      // Prepare
      await snapshotReady();
      const request = { snapshotId: SNAPSHOT, originalIdentifier: O, restoredIdentifier: R, tags: TAGS };
      await gateway.restoreSnapshot({ ...request, executionId: OTHER_EXECUTION });
      fake.clearCalls();

      // Act
      const attempt = gateway.restoreSnapshot({ ...request, executionId: EXECUTION });

      // Assess
      await expect(attempt).rejects.toMatchObject({
        name: 'RestoreFailed',
        details: { restoredIdentifier: R, executionId: EXECUTION, createdBy: OTHER_EXECUTION },
      });
      await expect(attempt).rejects.toThrow(
        `was not restored from that snapshot by this execution ${EXECUTION} (it was restored from it by execution ${OTHER_EXECUTION}). The original ${O} is untouched.`,
      );
      expect(fake.operations()).toEqual(['DescribeDBClusters']);
      expect(fake.calls('DescribeDBClusters')).toEqual([{ DBClusterIdentifier: R }]);
    });

    it('does not create an instance twice when describeRestore is retried', async () => {
      // Prepare
      await snapshotReady();
      await gateway.restoreSnapshot({
        snapshotId: SNAPSHOT,
        originalIdentifier: O,
        restoredIdentifier: R,
        executionId: EXECUTION,
        tags: TAGS,
      });
      fake.settle();
      fake.failNext('CreateDBInstance', 'throttling', {
        when: (input) => input.DBInstanceIdentifier === `${R}-reader-1`,
      });
      await expect(gateway.describeRestore(R)).rejects.toMatchObject({ name: 'TransientFault' });

      // Act
      const retried = await gateway.describeRestore(R);

      // Assess
      expect(retried?.status).toBe('restoring');
      expect(fake.calls('CreateDBInstance').map((c) => c.DBInstanceIdentifier)).toEqual([
        `${R}-writer`,
        `${R}-reader-1`,
        `${R}-reader-1`,
      ]);
      expect(
        fake
          .clusterInstances(R)
          .map((db) => db.DBInstanceIdentifier)
          .sort(),
      ).toEqual([`${R}-reader-1`, `${R}-writer`].sort());
    });

    it('reports failed when one restored instance fails, naming it', async () => {
      // Prepare
      await snapshotReady();
      await gateway.restoreSnapshot({
        snapshotId: SNAPSHOT,
        originalIdentifier: O,
        restoredIdentifier: R,
        executionId: EXECUTION,
        tags: TAGS,
      });
      fake.settle();
      await gateway.describeRestore(R);
      fake.settle();
      fake.setInstanceStatus(`${R}-reader-1`, 'insufficient-capacity');

      // Act
      const description = await gateway.describeRestore(R);

      // Assess
      expect(description).toEqual({
        identifier: R,
        status: 'failed',
        rawStatus: `available, instance ${R}-reader-1 insufficient-capacity`,
      });
    });

    it('shows why the engine version is passed: without it RDS restores under the region default version', async () => {
      // Prepare
      await snapshotReady();

      // Act
      await fake.client.send(
        new RestoreDBClusterFromSnapshotCommand({
          DBClusterIdentifier: 'naive-restore',
          SnapshotIdentifier: SNAPSHOT,
          Engine: 'aurora-postgresql',
        }),
      );

      // Assess
      expect(fake.cluster('naive-restore')?.EngineVersion).toBe(FAKE_DEFAULT_AURORA_VERSION);
      expect(fake.cluster('naive-restore')?.EngineVersion).not.toBe(CLUSTER.EngineVersion);
    });
  });

  describe('swap', () => {
    beforeEach(() => {
      seed();
    });

    it('renames the original cluster aside, then the restored cluster into place; instances keep their identifiers', async () => {
      // Prepare
      await restoreReady();
      fake.clearCalls();

      // Act
      const status = await swapUntilComplete();

      // Assess
      expect(status).toEqual({ phase: 'complete', complete: true });
      expect(fake.calls('ModifyDBCluster')).toEqual([
        { DBClusterIdentifier: O, NewDBClusterIdentifier: A, ApplyImmediately: true },
        { DBClusterIdentifier: R, NewDBClusterIdentifier: O, ApplyImmediately: true },
      ]);
      expect(fake.identifiers().clusters).toEqual([A, O].sort());
      expect(fake.data(O)).toBe('before the release');
      expect(fake.data(A)).toBe('after the release');
      expect(
        fake
          .clusterInstances(O)
          .map((db) => db.DBInstanceIdentifier)
          .sort(),
      ).toEqual([`${R}-reader-1`, `${R}-writer`].sort());
      expect(
        fake
          .clusterInstances(A)
          .map((db) => db.DBInstanceIdentifier)
          .sort(),
      ).toEqual([READER, WRITER].sort());
      expect(fake.cluster(O)?.Endpoint).toBe(`${O}.cluster-cfake.us-east-1.rds.amazonaws.com`);
      expect(await gateway.describeTarget()).toMatchObject({ identifier: O, available: true });
    });

    it('waits, without asking twice, while RDS lists a cluster rename as pending before the status says renaming', async () => {
      // Prepare
      fake.restore();
      fake = new FakeRds({ renameLagTicks: 4 });
      seed();
      gateway = new RdsClusterSnapshotGateway({ clusterIdentifier: O, client: fake.client });
      await restoreReady();

      // Act
      const status = await swapUntilComplete();

      // Assess
      expect(status.complete).toBe(true);
      expect(fake.calls('ModifyDBCluster').filter((c) => 'NewDBClusterIdentifier' in c)).toEqual([
        { DBClusterIdentifier: O, NewDBClusterIdentifier: A, ApplyImmediately: true },
        { DBClusterIdentifier: R, NewDBClusterIdentifier: O, ApplyImmediately: true },
      ]);
    });

    it('does not rename anything while an instance of the restored cluster is still creating', async () => {
      // Prepare
      await snapshotReady();
      await gateway.restoreSnapshot({
        snapshotId: SNAPSHOT,
        originalIdentifier: O,
        restoredIdentifier: R,
        executionId: EXECUTION,
        tags: TAGS,
      });
      fake.settle();
      await gateway.describeRestore(R);
      fake.setInstanceStatus(`${R}-reader-1`, 'creating');

      // Act
      const status = await gateway.swap({ originalIdentifier: O, restoredIdentifier: R, asideIdentifier: A });

      // Assess
      expect(status).toEqual({ phase: 'not-started', complete: false });
      expect(fake.calls('ModifyDBCluster')).toEqual([]);
    });
  });

  describe('faults', () => {
    type Scenario =
      | 'describeTarget'
      | 'createSnapshot'
      | 'describeSnapshot'
      | 'restoreSnapshot'
      | 'createInstances'
      | 'clusterSettings'
      | 'swapFirst'
      | 'swapSecond';
    type Outcome = { error: string; message?: RegExp | string } | { resolves: unknown };

    beforeEach(() => {
      seed();
    });

    async function arrange(scenario: Scenario): Promise<() => Promise<unknown>> {
      const request = { originalIdentifier: O, restoredIdentifier: R, asideIdentifier: A };
      const restore = () =>
        gateway.restoreSnapshot({
          snapshotId: SNAPSHOT,
          originalIdentifier: O,
          restoredIdentifier: R,
          executionId: EXECUTION,
          tags: TAGS,
        });
      switch (scenario) {
        case 'describeTarget':
          return () => gateway.describeTarget();
        case 'createSnapshot':
          return () => gateway.createSnapshot({ snapshotId: SNAPSHOT, executionId: EXECUTION, tags: TAGS });
        case 'describeSnapshot':
          await snapshotReady();
          return () => gateway.describeSnapshot(SNAPSHOT);
        case 'restoreSnapshot':
          await snapshotReady();
          return restore;
        case 'createInstances':
          await snapshotReady();
          await restore();
          fake.settle();
          return () => gateway.describeRestore(R);
        case 'clusterSettings':
          await snapshotReady();
          await restore();
          fake.settle();
          await gateway.describeRestore(R);
          fake.settle();
          return () => gateway.describeRestore(R);
        case 'swapFirst':
          await restoreReady();
          return () => gateway.swap(request);
        case 'swapSecond':
          await restoreReady();
          await gateway.swap(request);
          fake.settle();
          return () => gateway.swap(request);
      }
    }

    const rows: [Scenario, Operation, FaultKind, Outcome][] = [
      [
        'describeTarget',
        'DescribeDBClusters',
        'throttling',
        { error: 'TransientFault', message: /throttled/ },
      ],
      [
        'describeTarget',
        'DescribeDBClusters',
        'not-found',
        { error: 'TargetNotAvailable', message: 'does not exist' },
      ],
      ['describeTarget', 'DescribeDBClusters', 'server-error', { error: 'TransientFault' }],
      ['describeTarget', 'DescribeDBClusters', 'network', { error: 'TransientFault' }],
      ['describeTarget', 'DescribeDBInstances', 'throttling', { error: 'TransientFault' }],
      [
        'describeTarget',
        'DescribeDBInstances',
        'access-denied',
        { error: 'TargetNotAvailable', message: 'rds:DescribeDBInstances' },
      ],
      [
        'createSnapshot',
        'CreateDBClusterSnapshot',
        'throttling',
        { error: 'TransientFault', message: `CreateDBClusterSnapshot on ${O} was throttled` },
      ],
      [
        'createSnapshot',
        'CreateDBClusterSnapshot',
        'not-found',
        { error: 'TargetNotAvailable', message: `${O} does not exist` },
      ],
      [
        'createSnapshot',
        'CreateDBClusterSnapshot',
        'invalid-state',
        { error: 'TargetNotAvailable', message: 'does not accept a snapshot' },
      ],
      [
        'createSnapshot',
        'CreateDBClusterSnapshot',
        'quota-exceeded',
        { error: 'SnapshotQuotaExceeded', message: /delete-db-cluster-snapshot.*Service Quotas/ },
      ],
      ['createSnapshot', 'CreateDBClusterSnapshot', 'timeout', { error: 'TransientFault' }],
      [
        'createSnapshot',
        'CreateDBClusterSnapshot',
        'access-denied',
        { error: 'SnapshotFailed', message: 'rds:CreateDBClusterSnapshot' },
      ],
      ['describeSnapshot', 'DescribeDBClusterSnapshots', 'throttling', { error: 'TransientFault' }],
      ['describeSnapshot', 'DescribeDBClusterSnapshots', 'not-found', { resolves: undefined }],
      ['describeSnapshot', 'DescribeDBClusterSnapshots', 'network', { error: 'TransientFault' }],
      ['restoreSnapshot', 'DescribeDBClusters', 'throttling', { error: 'TransientFault' }],
      ['restoreSnapshot', 'RestoreDBClusterFromSnapshot', 'throttling', { error: 'TransientFault' }],
      [
        'restoreSnapshot',
        'RestoreDBClusterFromSnapshot',
        'not-found',
        { error: 'RestoreFailed', message: `snapshot ${SNAPSHOT} does not exist` },
      ],
      [
        'restoreSnapshot',
        'RestoreDBClusterFromSnapshot',
        'invalid-state',
        { error: 'RestoreFailed', message: `snapshot ${SNAPSHOT} is not available` },
      ],
      [
        'restoreSnapshot',
        'RestoreDBClusterFromSnapshot',
        'quota-exceeded',
        { error: 'RestoreFailed', message: /cluster quota.*The original orders-cluster is untouched/ },
      ],
      [
        'restoreSnapshot',
        'RestoreDBClusterFromSnapshot',
        'already-exists',
        { error: 'RestoreFailed', message: `the identifier ${R} is taken` },
      ],
      ['restoreSnapshot', 'RestoreDBClusterFromSnapshot', 'network', { error: 'TransientFault' }],
      ['createInstances', 'DescribeDBInstances', 'throttling', { error: 'TransientFault' }],
      [
        'createInstances',
        'CreateDBInstance',
        'throttling',
        { error: 'TransientFault', message: `${R}-writer` },
      ],
      [
        'createInstances',
        'CreateDBInstance',
        'invalid-state',
        {
          resolves: {
            identifier: R,
            status: 'restoring',
            rawStatus: 'available, waiting to create its instances',
          },
        },
      ],
      [
        'createInstances',
        'CreateDBInstance',
        'not-found',
        { error: 'RestoreFailed', message: `the restored cluster ${R} does not exist any more` },
      ],
      [
        'createInstances',
        'CreateDBInstance',
        'quota-exceeded',
        { error: 'RestoreFailed', message: /instance quota.*aws rds create-db-instance/ },
      ],
      ['createInstances', 'CreateDBInstance', 'timeout', { error: 'TransientFault' }],
      ['clusterSettings', 'ModifyDBCluster', 'throttling', { error: 'TransientFault' }],
      [
        'clusterSettings',
        'ModifyDBCluster',
        'invalid-state',
        { resolves: { identifier: R, status: 'restoring', rawStatus: 'available, settings pending' } },
      ],
      [
        'clusterSettings',
        'ModifyDBCluster',
        'not-found',
        {
          error: 'RestoreFailed',
          message: /PreferredMaintenanceWindow, EnableHttpEndpoint.*The original orders-cluster is untouched/,
        },
      ],
      ['swapFirst', 'DescribeDBClusters', 'throttling', { error: 'TransientFault' }],
      ['swapFirst', 'DescribeDBInstances', 'network', { error: 'TransientFault' }],
      [
        'swapFirst',
        'ModifyDBCluster',
        'throttling',
        { error: 'TransientFault', message: `rename ${O} to ${A}` },
      ],
      [
        'swapFirst',
        'ModifyDBCluster',
        'invalid-state',
        { error: 'SwapFailed', message: /Nothing was renamed; the original is untouched/ },
      ],
      [
        'swapFirst',
        'ModifyDBCluster',
        'not-found',
        { error: 'SwapFailed', message: `Renaming Aurora cluster ${O} to ${A} failed` },
      ],
      ['swapFirst', 'ModifyDBCluster', 'timeout', { error: 'TransientFault' }],
      [
        'swapSecond',
        'ModifyDBCluster',
        'throttling',
        { error: 'TransientFault', message: `rename ${R} to ${O}` },
      ],
      [
        'swapSecond',
        'ModifyDBCluster',
        'invalid-state',
        {
          error: 'SwapFailed',
          message: `aws rds modify-db-cluster --db-cluster-identifier ${A} --new-db-cluster-identifier ${O} --apply-immediately`,
        },
      ],
      [
        'swapSecond',
        'ModifyDBCluster',
        'not-found',
        { error: 'SwapFailed', message: `refused to rename the restored copy ${R} to ${O}` },
      ],
      ['swapSecond', 'ModifyDBCluster', 'network', { error: 'TransientFault' }],
    ];

    const table = rows.map(
      ([scenario, operation, fault, outcome]) =>
        [scenario, operation, fault, 'error' in outcome ? outcome.error : 'a result', outcome] as const,
    );

    it.each(table)('%s: %s answering %s gives %s', async (scenario, operation, fault, _, outcome) => {
      // Prepare
      const act = await arrange(scenario);
      fake.failNext(operation, fault);

      // Act
      const attempt = act();

      // Assess
      if ('resolves' in outcome) {
        await expect(attempt).resolves.toEqual(outcome.resolves);
      } else {
        await expect(attempt).rejects.toMatchObject({ name: outcome.error });
        if (outcome.message) await expect(attempt).rejects.toThrow(outcome.message);
      }
    });

    it('names both clusters, their states and the recovery command when the second rename fails', async () => {
      // Prepare
      const act = await arrange('swapSecond');
      fake.failNext('ModifyDBCluster', 'invalid-state');

      // Act
      const error = (await act().catch((e: unknown) => e)) as Error & { details: Record<string, unknown> };

      // Assess
      expect(error.name).toBe('SwapFailed');
      expect(error.message).toContain(`Now: ${O} does not exist; ${R} is available; ${A} is available.`);
      expect(error.details).toMatchObject({ original: null, restored: 'available', aside: 'available' });
      expect(fake.identifiers().clusters).toEqual([A, R].sort());
    });
  });
});
