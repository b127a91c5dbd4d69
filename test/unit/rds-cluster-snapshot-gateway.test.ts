import { type DBCluster, type DBInstance, RestoreDBClusterFromSnapshotCommand } from '@aws-sdk/client-rds';
import { beforeEach, describe, expect, it } from 'vitest';
import type { RdsClusterSnapshotGateway } from '../../lambdas/shared/adapters/rds/cluster.js';
import { FAKE_DEFAULT_AURORA_VERSION } from '../helpers/fake-rds.js';
import {
  afterOneDescribe,
  CLUSTER,
  CLUSTER_KIND,
  describeFaults,
  EXECUTION,
  type FaultRow,
  IAM,
  KMS,
  pick,
  READER_INSTANCE,
  RESTORED_AVAILABLE,
  SHARED_ARRANGEMENTS,
  type SharedScenario,
  useGateway,
  WRITER_INSTANCE,
} from '../helpers/rds-gateways.js';

/** What only the cluster gateway does; what both do is in rds-snapshot-gateways.test.ts. */
const { O, R, A, SNAPSHOT } = CLUSTER_KIND;
const WRITER = WRITER_INSTANCE.DBInstanceIdentifier;
const READER = READER_INSTANCE.DBInstanceIdentifier;

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

describe('RdsClusterSnapshotGateway', () => {
  const h = useGateway<RdsClusterSnapshotGateway>(CLUSTER_KIND);
  const seed = () => CLUSTER_KIND.seed(h.fake);
  const memberIds = (cluster: string) =>
    h.fake
      .clusterInstances(cluster)
      .map((db) => db.DBInstanceIdentifier)
      .sort();

  describe('describeTarget', () => {
    it('reports an available cluster with a serving writer as available', async () => {
      // Prepare
      seed();

      // Act
      const target = await h.gateway.describeTarget();

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
        h.fake.setClusterStatus(O, status);

        // Act
        const target = await h.gateway.describeTarget();

        // Assess
        expect(target).toEqual({ identifier: O, status, available: false, engine: 'aurora-postgresql' });
      },
    );

    it('reports a cluster whose writer is rebooting as not available, naming the writer', async () => {
      // Prepare
      seed();
      h.fake.setInstanceStatus(WRITER, 'rebooting');

      // Act
      const target = await h.gateway.describeTarget();

      // Assess
      expect(target).toMatchObject({ available: false, status: `available, writer ${WRITER} rebooting` });
    });

    it('fails when the cluster does not exist, naming it', async () => {
      // Act
      const attempt = h.gateway.describeTarget();

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'TargetNotAvailable' });
      await expect(attempt).rejects.toThrow(`Aurora cluster ${O} does not exist`);
    });
  });

  describe('restore', () => {
    beforeEach(() => {
      seed();
    });

    it('passes every cluster setting of the original to RestoreDBClusterFromSnapshot (engine version included)', async () => {
      // Prepare
      await h.snapshotReady();

      // Act
      const started = await h.gateway.restoreSnapshot(h.restoreRequest());

      // Assess
      expect(started).toEqual({ identifier: R, status: 'restoring', rawStatus: 'creating' });
      expect(h.fake.calls('RestoreDBClusterFromSnapshot')).toEqual([
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
            { Key: 'retention-class', Value: 'pre-migration' },
            { Key: 'migration-execution', Value: EXECUTION },
            { Key: 'prisma-migration-orchestrator:restore-id', Value: R },
            { Key: 'prisma-migration-orchestrator:restore-of', Value: O },
            { Key: 'prisma-migration-orchestrator:restored-from', Value: SNAPSHOT },
          ],
        },
      ]);
      expect(h.fake.clusterInstances(R)).toEqual([]);
    });

    it('creates one instance per original instance, writer first, provisioned and Serverless v2, with their settings', async () => {
      // Act
      const seen = await h.restoreReady();

      // Assess
      const ours = [
        { Key: 'managed-by', Value: 'prisma-migration-orchestrator' },
        { Key: 'release', Value: 'release-42' },
        { Key: 'retention-class', Value: 'pre-migration' },
        { Key: 'migration-execution', Value: EXECUTION },
      ];
      expect(h.fake.calls('CreateDBInstance')).toEqual([
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
      expect(h.fake.calls('ModifyDBCluster')).toEqual([
        {
          DBClusterIdentifier: R,
          ApplyImmediately: true,
          PreferredMaintenanceWindow: 'wed:04:00-wed:04:30',
          EnableHttpEndpoint: true,
        },
      ]);
      expect(seen.filter((d) => d.status === 'restoring').length).toBeGreaterThan(1);
      expect(seen.at(-1)).toMatchObject({ identifier: R, status: 'available' });
      expect(pick(h.fake.cluster(R), CLUSTER_CARRIED)).toEqual(pick(h.fake.cluster(O), CLUSTER_CARRIED));
      const restoredMembers = h.fake.cluster(R)?.DBClusterMembers ?? [];
      expect(restoredMembers.map((m) => [m.DBInstanceIdentifier, m.IsClusterWriter])).toEqual([
        [`${R}-writer`, true],
        [`${R}-reader-1`, false],
      ]);
      expect(pick(h.fake.instance(`${R}-writer`), INSTANCE_CARRIED)).toEqual(
        pick(h.fake.instance(WRITER), INSTANCE_CARRIED),
      );
      expect(pick(h.fake.instance(`${R}-reader-1`), INSTANCE_CARRIED)).toEqual(
        pick(h.fake.instance(READER), INSTANCE_CARRIED),
      );
    });

    it('reports restoring, not available, while the restored cluster has no instance yet', async () => {
      // Prepare
      await h.snapshotReady();
      await h.gateway.restoreSnapshot(h.restoreRequest());
      h.fake.settle();

      // Act
      const first = await h.gateway.describeRestore(R);

      // Assess
      expect(h.fake.cluster(R)?.Status).toBe('available');
      expect(first).toMatchObject({ identifier: R, status: 'restoring' });
      expect(first?.rawStatus).toContain(`creating instances ${R}-writer, ${R}-reader-1`);
    });

    it('does not create an instance twice when describeRestore is retried', async () => {
      // Prepare
      await h.snapshotReady();
      await h.gateway.restoreSnapshot(h.restoreRequest());
      h.fake.settle();
      h.fake.failNext('CreateDBInstance', 'throttling', {
        when: (input) => input.DBInstanceIdentifier === `${R}-reader-1`,
      });
      await expect(h.gateway.describeRestore(R)).rejects.toMatchObject({ name: 'TransientFault' });

      // Act
      const retried = await h.gateway.describeRestore(R);

      // Assess
      expect(retried?.status).toBe('restoring');
      expect(h.fake.calls('CreateDBInstance').map((c) => c.DBInstanceIdentifier)).toEqual([
        `${R}-writer`,
        `${R}-reader-1`,
        `${R}-reader-1`,
      ]);
      expect(memberIds(R)).toEqual([`${R}-reader-1`, `${R}-writer`].sort());
    });

    it('reports failed when one restored instance fails, naming it', async () => {
      // Prepare
      await h.snapshotReady();
      await h.gateway.restoreSnapshot(h.restoreRequest());
      h.fake.settle();
      await h.gateway.describeRestore(R);
      h.fake.settle();
      h.fake.setInstanceStatus(`${R}-reader-1`, 'insufficient-capacity');

      // Act
      const description = await h.gateway.describeRestore(R);

      // Assess
      expect(description).toEqual({
        identifier: R,
        status: 'failed',
        rawStatus: `available, instance ${R}-reader-1 insufficient-capacity`,
      });
    });

    it('shows why the engine version is passed: without it RDS restores under the region default version', async () => {
      // Prepare
      await h.snapshotReady();

      // Act
      await h.fake.client.send(
        new RestoreDBClusterFromSnapshotCommand({
          DBClusterIdentifier: 'naive-restore',
          SnapshotIdentifier: SNAPSHOT,
          Engine: 'aurora-postgresql',
        }),
      );

      // Assess
      expect(h.fake.cluster('naive-restore')?.EngineVersion).toBe(FAKE_DEFAULT_AURORA_VERSION);
      expect(h.fake.cluster('naive-restore')?.EngineVersion).not.toBe(CLUSTER.EngineVersion);
    });
  });

  describe('swap', () => {
    beforeEach(() => {
      seed();
    });

    it('keeps the instances of both clusters under their identifiers, and the endpoint follows the cluster', async () => {
      // Prepare
      await h.restoreReady();

      // Act
      await h.swapUntilComplete();

      // Assess

      expect(memberIds(O)).toEqual([`${R}-reader-1`, `${R}-writer`].sort());
      expect(memberIds(A)).toEqual([READER, WRITER].sort());
      expect(h.fake.cluster(O)?.Endpoint).toBe(`${O}.cluster-cfake.us-east-1.rds.amazonaws.com`);
      expect(await h.gateway.describeTarget()).toMatchObject({ identifier: O, available: true });
    });

    it('does not rename anything while an instance of the restored cluster is still creating', async () => {
      // Prepare
      await h.snapshotReady();
      await h.gateway.restoreSnapshot(h.restoreRequest());
      h.fake.settle();
      await h.gateway.describeRestore(R);
      h.fake.setInstanceStatus(`${R}-reader-1`, 'creating');

      // Act
      const status = await h.gateway.swap(h.swapRequest);

      // Assess
      expect(status).toEqual({ phase: 'not-started', complete: false });
      expect(h.fake.calls('ModifyDBCluster')).toEqual([]);
    });
  });

  /** The fault rows of the cluster's own calls: its instances, the instances it creates, its settings. */
  const rows: FaultRow<SharedScenario | 'createInstances' | 'clusterSettings'>[] = [
    ['describeTarget', 'DescribeDBInstances', 'throttling', { error: 'TransientFault' }],
    [
      'describeTarget',
      'DescribeDBInstances',
      'access-denied',
      { error: 'TargetNotAvailable', message: 'rds:DescribeDBInstances' },
    ],

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
    ['swapFirst', 'DescribeDBInstances', 'network', { error: 'TransientFault' }],
  ];

  describeFaults(h, rows, {
    ...SHARED_ARRANGEMENTS,
    // Restored and available: the next describeRestore creates the instances.
    createInstances: RESTORED_AVAILABLE,
    // The instances are created: the next call requests the cluster settings.
    clusterSettings: afterOneDescribe(RESTORED_AVAILABLE),
  });
});
