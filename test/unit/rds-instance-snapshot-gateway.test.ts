import type { DBInstance } from '@aws-sdk/client-rds';
import { beforeEach, describe, expect, it } from 'vitest';
import type { RdsInstanceSnapshotGateway } from '../../lambdas/shared/adapters/rds/instance.js';
import type { SnapshotGateway } from '../../lambdas/shared/contract/ports.js';
import {
  afterOneDescribe,
  describeFaults,
  EXECUTION,
  type FaultRow,
  IAM,
  INSTANCE,
  KMS,
  ORIGINAL,
  pick,
  RESTORED_AVAILABLE,
  TAGS,
  useGateway,
} from '../helpers/rds-gateways.js';

/** What only the instance gateway does; what both do is in rds-snapshot-gateways.test.ts. */
const { O, R, A, SNAPSHOT } = INSTANCE;

/** The settings a restored copy must end with: the original's. */
const CARRIED: (keyof DBInstance)[] = [
  'DBInstanceClass',
  'AllocatedStorage',
  'MaxAllocatedStorage',
  'StorageType',
  'Iops',
  'StorageThroughput',
  'MultiAZ',
  'AvailabilityZone',
  'DBParameterGroups',
  'OptionGroupMemberships',
  'PubliclyAccessible',
  'IAMDatabaseAuthenticationEnabled',
  'DeletionProtection',
  'CopyTagsToSnapshot',
  'EnabledCloudwatchLogsExports',
  'CACertificateIdentifier',
  'AutoMinorVersionUpgrade',
  'BackupRetentionPeriod',
  'PreferredBackupWindow',
  'PreferredMaintenanceWindow',
  'NetworkType',
  'EngineLifecycleSupport',
  'StorageEncrypted',
  'KmsKeyId',
  'MonitoringInterval',
  'MonitoringRoleArn',
  'PerformanceInsightsEnabled',
  'PerformanceInsightsKMSKeyId',
  'PerformanceInsightsRetentionPeriod',
  'DatabaseInsightsMode',
];

describe('RdsInstanceSnapshotGateway', () => {
  const h = useGateway<RdsInstanceSnapshotGateway>(INSTANCE);

  /** Adds `db`, snapshots it and restores it as `<id>-restored` through a gateway of its own. */
  async function restoreCopyOf(db: DBInstance & { DBInstanceIdentifier: string }): Promise<SnapshotGateway> {
    const id = db.DBInstanceIdentifier;
    h.fake.addInstance(db);
    const own = INSTANCE.gateway(h.fake, id);
    await own.createSnapshot({ snapshotId: `${id}-snapshot`, executionId: EXECUTION, tags: {} });
    h.fake.settle();
    await own.restoreSnapshot({
      snapshotId: `${id}-snapshot`,
      originalIdentifier: id,
      restoredIdentifier: `${id}-restored`,
      executionId: EXECUTION,
      tags: {},
    });
    return own;
  }

  describe('describeTarget', () => {
    it.each([
      ['available', true],
      ['storage-optimization', true],
      ['backing-up', false],
      ['modifying', false],
      ['stopped', false],
    ])(
      'reports an instance that is %s as available=%s (CreateDBSnapshot needs available or storage-optimization)',
      async (status, available) => {
        // Prepare
        h.fake.addInstance({ ...ORIGINAL, DBInstanceStatus: status });

        // Act
        const target = await h.gateway.describeTarget();

        // Assess
        expect(target).toEqual({ identifier: O, status, available, engine: 'postgres' });
      },
    );

    it('fails when the instance belongs to an Aurora cluster, naming the cluster to configure', async () => {
      // Prepare
      h.fake.addInstance({
        DBInstanceIdentifier: O,
        Engine: 'aurora-postgresql',
        DBClusterIdentifier: 'orders-cluster',
      });

      // Act
      const attempt = h.gateway.describeTarget();

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'TargetNotAvailable' });
      await expect(attempt).rejects.toThrow(/member of Aurora cluster orders-cluster/);
    });

    it('fails when the instance does not exist, naming it', async () => {
      // Act
      const attempt = h.gateway.describeTarget();

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'TargetNotAvailable' });
      await expect(attempt).rejects.toThrow(`RDS DB instance ${O} does not exist`);
    });
  });

  describe('createSnapshot', () => {
    beforeEach(() => {
      h.fake.addInstance(ORIGINAL);
    });
    it('refuses with TargetNotAvailable when the instance is backing up (RDS answers InvalidDBInstanceState)', async () => {
      // Prepare
      h.fake.setInstanceStatus(O, 'backing-up');

      // Act
      const attempt = h.gateway.createSnapshot({ snapshotId: SNAPSHOT, executionId: EXECUTION, tags: TAGS });

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'TargetNotAvailable' });
      await expect(attempt).rejects.toThrow(/orders-db does not accept a snapshot/);
    });
  });

  describe('restoreSnapshot', () => {
    beforeEach(() => {
      h.fake.addInstance(ORIGINAL);
    });

    it('passes every setting of the original that the restore API accepts', async () => {
      // Prepare
      await h.snapshotReady();

      // Act
      const started = await h.gateway.restoreSnapshot(h.restoreRequest());

      // Assess
      expect(started).toEqual({ identifier: R, status: 'restoring', rawStatus: 'creating' });
      expect(h.fake.calls('RestoreDBInstanceFromDBSnapshot')).toEqual([
        {
          DBInstanceIdentifier: R,
          DBSnapshotIdentifier: SNAPSHOT,
          DBInstanceClass: 'db.r6g.xlarge',
          DBSubnetGroupName: 'orders-private',
          VpcSecurityGroupIds: ['sg-orders', 'sg-bastion'],
          DBParameterGroupName: 'orders-pg16',
          OptionGroupName: 'orders-options',
          MultiAZ: false,
          AvailabilityZone: 'us-east-1b',
          StorageType: 'gp3',
          AllocatedStorage: 500,
          Iops: 12000,
          StorageThroughput: 500,
          Port: 6543,
          PubliclyAccessible: true,
          EnableIAMDatabaseAuthentication: true,
          DeletionProtection: true,
          CopyTagsToSnapshot: true,
          EnableCloudwatchLogsExports: ['postgresql', 'upgrade'],
          CACertificateIdentifier: 'rds-ca-ecc384-g1',
          AutoMinorVersionUpgrade: false,
          BackupRetentionPeriod: 14,
          PreferredBackupWindow: '07:00-07:30',
          NetworkType: 'DUAL',
          EngineLifecycleSupport: 'open-source-rds-extended-support-disabled',
          Tags: [
            { Key: 'team', Value: 'orders' },
            { Key: 'release', Value: 'release-42' },
            { Key: 'managed-by', Value: 'prisma-migration-orchestrator' },
            { Key: 'retention-class', Value: 'pre-migration' },
            { Key: 'migration-execution', Value: EXECUTION },
            { Key: 'prisma-migration-orchestrator:restore-id', Value: R },
            { Key: 'prisma-migration-orchestrator:restore-of', Value: O },
            { Key: 'prisma-migration-orchestrator:restored-from', Value: SNAPSHOT },
          ],
        },
      ]);
    });

    it('passes Multi-AZ without an Availability Zone (RDS refuses both together)', async () => {
      // Act
      await restoreCopyOf({ ...ORIGINAL, DBInstanceIdentifier: 'multi-az-db', MultiAZ: true });

      // Assess
      const [input] = h.fake.calls('RestoreDBInstanceFromDBSnapshot');
      expect(input).toMatchObject({ MultiAZ: true });
      expect(input).not.toHaveProperty('AvailabilityZone');
      expect(h.fake.instance('multi-az-db-restored')?.MultiAZ).toBe(true);
    });

    it.each([
      [
        'gp3 under 400 GiB (baseline IOPS, not settable)',
        { StorageType: 'gp3', AllocatedStorage: 100, Iops: 3000, StorageThroughput: 125 },
        {},
      ],
      [
        'io1',
        { StorageType: 'io1', AllocatedStorage: 100, Iops: 5000, StorageThroughput: undefined },
        { Iops: 5000 },
      ],
      [
        'gp2',
        { StorageType: 'gp2', AllocatedStorage: 100, Iops: undefined, StorageThroughput: undefined },
        {},
      ],
    ] as const)('passes the storage settings RDS accepts for %s', async (_, storage, expected) => {
      // Act
      await restoreCopyOf({ ...ORIGINAL, DBInstanceIdentifier: 'storage-db', ...storage });

      // Assess
      const [input] = h.fake.calls('RestoreDBInstanceFromDBSnapshot');
      expect({ Iops: input?.Iops, StorageThroughput: input?.StorageThroughput }).toEqual({
        Iops: undefined,
        StorageThroughput: undefined,
        ...expected,
      });
      expect(h.fake.instance('storage-db-restored')?.StorageType).toBe(storage.StorageType);
    });
  });

  describe('describeRestore', () => {
    beforeEach(() => {
      h.fake.addInstance(ORIGINAL);
    });

    it('applies what the restore API does not accept with one ModifyDBInstance, and reports restoring until it is in place', async () => {
      // Act
      const seen = await h.restoreReady();

      // Assess
      expect(h.fake.calls('ModifyDBInstance')).toEqual([
        {
          DBInstanceIdentifier: R,
          ApplyImmediately: true,
          MonitoringInterval: 15,
          MonitoringRoleArn: `${IAM}:role/rds-monitoring`,
          PreferredMaintenanceWindow: 'tue:09:00-tue:09:30',
          MaxAllocatedStorage: 1000,
          EnablePerformanceInsights: true,
          PerformanceInsightsKMSKeyId: `${KMS}/insights`,
          PerformanceInsightsRetentionPeriod: 731,
          DatabaseInsightsMode: 'advanced',
        },
      ]);
      expect(h.fake.calls('AddRoleToDBInstance')).toEqual([
        { DBInstanceIdentifier: R, RoleArn: `${IAM}:role/orders-s3-import`, FeatureName: 's3Import' },
      ]);
      expect(seen.map((d) => d.status)).toContain('restoring');
      expect(seen.at(-1)).toMatchObject({ identifier: R, status: 'available' });
      const restored = h.fake.instance(R);
      expect(pick(restored, CARRIED)).toEqual(pick(ORIGINAL, CARRIED));
      expect(restored?.Endpoint?.Port).toBe(6543);
      expect(restored?.VpcSecurityGroups?.map((group) => group.VpcSecurityGroupId)).toEqual([
        'sg-orders',
        'sg-bastion',
      ]);
      expect(restored?.DBSubnetGroup?.DBSubnetGroupName).toBe('orders-private');
      expect(restored?.AssociatedRoles?.map((role) => role.FeatureName)).toEqual(['s3Import']);
    });

    it('reports a restored copy that is backing up as available (it serves meanwhile)', async () => {
      // Prepare
      const plain = await restoreCopyOf({ DBInstanceIdentifier: 'plain-db' });
      h.fake.settle();
      h.fake.setInstanceStatus('plain-db-restored', 'backing-up');

      // Act
      const description = await plain.describeRestore('plain-db-restored');

      // Assess
      expect(description).toEqual({
        identifier: 'plain-db-restored',
        status: 'available',
        rawStatus: 'backing-up',
      });
      expect(h.fake.calls('ModifyDBInstance')).toEqual([]);
    });

    it.each([
      ['creating', 'restoring'],
      ['modifying', 'restoring'],
      ['incompatible-parameters', 'failed'],
      ['inaccessible-encryption-credentials', 'failed'],
      ['failed', 'failed'],
    ])('maps a restored copy that is %s to %s', async (raw, status) => {
      // Prepare
      await h.snapshotReady();
      await h.gateway.restoreSnapshot(h.restoreRequest());
      h.fake.setInstanceStatus(R, raw);

      // Act
      const description = await h.gateway.describeRestore(R);

      // Assess
      expect(description).toEqual({ identifier: R, status, rawStatus: raw });
    });

    it('stops requesting a setting that never shows up after three attempts, and reports available', async () => {
      // Prepare
      h.reset({ ignoredModifications: ['PreferredMaintenanceWindow'] });

      // Act
      const seen = await h.restoreReady();

      // Assess
      expect(seen.at(-1)?.status).toBe('available');
      expect(h.fake.calls('AddRoleToDBInstance')).toHaveLength(1);
      expect(h.fake.calls('ModifyDBInstance')).toHaveLength(2);
      expect(h.fake.calls('ModifyDBInstance').map((c) => c.PreferredMaintenanceWindow)).toEqual([
        'tue:09:00-tue:09:30',
        'tue:09:00-tue:09:30',
      ]);
      expect(h.fake.instance(R)?.MonitoringInterval).toBe(15);
    });
  });

  describe('swap', () => {
    beforeEach(() => {
      INSTANCE.seed(h.fake);
    });

    it('serves the restored copy at the original endpoint address once swapped', async () => {
      // Prepare
      await h.restoreReady();

      // Act
      await h.swapUntilComplete();

      // Assess
      expect(h.fake.instance(O)?.Endpoint?.Address).toBe(`${O}.cfake.us-east-1.rds.amazonaws.com`);
    });

    it('reports not-started, then original-renamed once the aside identifier serves, then complete', async () => {
      // Prepare
      await h.restoreReady();
      const request = h.swapRequest;
      const seen: { phase: string; identifiers: string[] }[] = [];

      // Act
      for (let i = 0; i < 50; i++) {
        const status = await h.gateway.swap(request);
        seen.push({ phase: status.phase, identifiers: h.fake.identifiers().instances });
        if (status.complete) break;
      }

      // Assess
      const phases = seen.map((s) => s.phase);
      expect(phases.filter((phase, i) => phase !== phases[i - 1])).toEqual([
        'not-started',
        'original-renamed',
        'complete',
      ]);
      const firstRenamed = seen.find((s) => s.phase === 'original-renamed');
      expect(firstRenamed?.identifiers).toEqual([A, R].sort());
      expect(h.fake.instance(A)?.DBInstanceStatus).toBe('available');
    });

    it('goes on when the original kept aside settles in a stuck state (storage-full): it is kept as it is', async () => {
      // Prepare
      await h.restoreReady();
      const request = h.swapRequest;
      await h.gateway.swap(request);
      h.fake.settle();
      h.fake.setInstanceStatus(A, 'storage-full');

      // Act
      const status = await h.swapUntilComplete();

      // Assess
      expect(status.complete).toBe(true);
      expect(h.fake.instance(A)?.DBInstanceStatus).toBe('storage-full');
      expect(h.fake.data(O)).toBe('before the release');
    });

    it('does not rename anything while the restored copy is not usable yet', async () => {
      // Prepare
      await h.snapshotReady();
      await h.gateway.restoreSnapshot(h.restoreRequest());
      h.fake.setInstanceStatus(R, 'creating');

      // Act
      const status = await h.gateway.swap(h.swapRequest);

      // Assess
      expect(status).toEqual({ phase: 'not-started', complete: false });
      expect(h.fake.calls('ModifyDBInstance')).toEqual([]);
    });

    it('goes on after a crash between the two renames (a new gateway finds where it stands)', async () => {
      // Prepare
      await h.restoreReady();
      const request = h.swapRequest;
      await h.gateway.swap(request);
      h.fake.settle();

      // Act
      const resumed = INSTANCE.gateway(h.fake);
      let status = await resumed.swap(request);
      for (let i = 0; i < 50 && !status.complete; i++) status = await resumed.swap(request);

      // Assess
      expect(status.complete).toBe(true);
      expect(h.fake.calls('ModifyDBInstance').filter((c) => 'NewDBInstanceIdentifier' in c)).toHaveLength(2);
    });

    it('fails when the aside identifier is taken, renaming nothing', async () => {
      // Prepare
      await h.restoreReady();
      h.fake.addInstance({ DBInstanceIdentifier: A });

      // Act
      const attempt = h.gateway.swap(h.swapRequest);

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'SwapFailed' });
      await expect(attempt).rejects.toThrow(/already taken.*Nothing was renamed/);
      expect(h.fake.calls('ModifyDBInstance').filter((c) => 'NewDBInstanceIdentifier' in c)).toEqual([]);
    });

    it('fails when the restored copy vanished after the original was renamed, naming both and the command that puts it back', async () => {
      // Prepare
      await h.restoreReady();
      const request = h.swapRequest;
      await h.gateway.swap(request);
      h.fake.settle();
      h.fake.deleteInstance(R);

      // Act
      const attempt = h.gateway.swap(request);

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'SwapFailed' });
      await expect(attempt).rejects.toThrow(
        `aws rds modify-db-instance --db-instance-identifier ${A} --new-db-instance-identifier ${O} --apply-immediately`,
      );
      await expect(attempt).rejects.toThrow(`the restored copy ${R} does not exist`);
    });
  });

  /** The fault rows of the instance's own scenarios: the post-restore IAM roles and settings. */
  const rows: FaultRow<'describeRestoreRoles' | 'describeRestore'>[] = [
    [
      'describeRestoreRoles',
      'AddRoleToDBInstance',
      'throttling',
      { error: 'TransientFault', message: 'AddRoleToDBInstance' },
    ],
    [
      'describeRestoreRoles',
      'AddRoleToDBInstance',
      'invalid-state',
      { resolves: { identifier: R, status: 'restoring', rawStatus: 'available, settings pending' } },
    ],
    [
      'describeRestoreRoles',
      'AddRoleToDBInstance',
      'not-found',
      { error: 'RestoreFailed', message: /IAM roles s3Import/ },
    ],
    [
      'describeRestoreRoles',
      'AddRoleToDBInstance',
      'access-denied',
      { error: 'RestoreFailed', message: 'rds:AddRoleToDBInstance' },
    ],
    ['describeRestoreRoles', 'AddTagsToResource', 'network', { error: 'TransientFault' }],
    ['describeRestore', 'DescribeDBInstances', 'throttling', { error: 'TransientFault' }],
    ['describeRestore', 'DescribeDBInstances', 'not-found', { resolves: undefined }],
    ['describeRestore', 'ModifyDBInstance', 'throttling', { error: 'TransientFault' }],
    [
      'describeRestore',
      'ModifyDBInstance',
      'invalid-state',
      { resolves: { identifier: R, status: 'restoring', rawStatus: 'available, settings pending' } },
    ],
    [
      'describeRestore',
      'ModifyDBInstance',
      'not-found',
      { error: 'RestoreFailed', message: /MonitoringInterval.*The original orders-db is untouched/ },
    ],
    ['describeRestore', 'ModifyDBInstance', 'network', { error: 'TransientFault' }],
  ];

  describeFaults(h, rows, {
    // Restored and available: the next describeRestore requests the roles.
    describeRestoreRoles: RESTORED_AVAILABLE,
    // The roles are in place: the next call requests the settings.
    describeRestore: afterOneDescribe(RESTORED_AVAILABLE),
  });
});
