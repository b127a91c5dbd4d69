import { CreateDBSnapshotCommand, type DBInstance } from '@aws-sdk/client-rds';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RdsInstanceSnapshotGateway } from '../../lambdas/shared/adapters/rds/instance.js';
import type { RestoreDescription } from '../../lambdas/shared/ports.js';
import { FakeRds, type FaultKind, type Operation } from '../helpers/fake-rds.js';

const O = 'orders-db';
const R = 'orders-db-restored-1a2b3c4d';
const A = 'orders-db-rolledback-20300101t000000z';
const SNAPSHOT = 'orders-db-premigration-release-42';
const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:orchestrator:release-42';
/** An earlier execution whose name cleaned to the same identifier (`Release.42`). */
const OTHER_EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:orchestrator:Release.42';
const TAGS = {
  'managed-by': 'prisma-migration-orchestrator',
  release: 'release-42',
  'retention-class': 'pre-migration',
};
const ACCOUNT_ARN = 'arn:aws:iam::123456789012';
const KMS = 'arn:aws:kms:us-east-1:123456789012:key';

/** An original with a non-default value for every setting that matters, so a forgotten one fails a test. */
const ORIGINAL: DBInstance & { DBInstanceIdentifier: string } = {
  DBInstanceIdentifier: O,
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
  MonitoringRoleArn: `${ACCOUNT_ARN}:role/rds-monitoring`,
  PerformanceInsightsEnabled: true,
  PerformanceInsightsKMSKeyId: `${KMS}/insights`,
  PerformanceInsightsRetentionPeriod: 731,
  DatabaseInsightsMode: 'advanced',
  AssociatedRoles: [
    { RoleArn: `${ACCOUNT_ARN}:role/orders-s3-import`, FeatureName: 's3Import', Status: 'ACTIVE' },
  ],
  TagList: [
    { Key: 'team', Value: 'orders' },
    { Key: 'aws:cloudformation:stack-name', Value: 'orders-stack' },
    { Key: 'prisma-migration-orchestrator:restore-id', Value: 'from-an-earlier-rollback' },
    { Key: 'release', Value: 'release-41' },
  ],
};

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

function pick(db: DBInstance | undefined, keys: readonly (keyof DBInstance)[]) {
  return Object.fromEntries(keys.map((key) => [key, db?.[key]]));
}

describe('RdsInstanceSnapshotGateway', () => {
  let fake: FakeRds;
  let gateway: RdsInstanceSnapshotGateway;

  beforeEach(() => {
    fake = new FakeRds();
    gateway = new RdsInstanceSnapshotGateway({ instanceIdentifier: O, client: fake.client });
  });

  afterEach(() => {
    fake.restore();
  });

  async function snapshotReady(): Promise<void> {
    await gateway.createSnapshot({ snapshotId: SNAPSHOT, executionId: EXECUTION, tags: TAGS });
    fake.settle();
  }

  /** Snapshot, then the release changes the data, then the restore until it settles. */
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
      if (description === undefined) throw new Error('restored copy vanished');
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
        fake.addInstance({ ...ORIGINAL, DBInstanceStatus: status });

        // Act
        const target = await gateway.describeTarget();

        // Assess
        expect(target).toEqual({ identifier: O, status, available, engine: 'postgres' });
      },
    );

    it('fails when the instance belongs to an Aurora cluster, naming the cluster to configure', async () => {
      // Prepare
      fake.addInstance({
        DBInstanceIdentifier: O,
        Engine: 'aurora-postgresql',
        DBClusterIdentifier: 'orders-cluster',
      });

      // Act
      const attempt = gateway.describeTarget();

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'TargetNotAvailable' });
      await expect(attempt).rejects.toThrow(/member of Aurora cluster orders-cluster/);
    });

    it('fails when the instance does not exist, naming it', async () => {
      // Act
      const attempt = gateway.describeTarget();

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'TargetNotAvailable' });
      await expect(attempt).rejects.toThrow(`RDS DB instance ${O} does not exist`);
    });
  });

  describe('createSnapshot', () => {
    beforeEach(() => {
      fake.addInstance(ORIGINAL);
    });

    it('calls CreateDBSnapshot with the id, the instance and the tags as an RDS tag list', async () => {
      // Act
      const started = await gateway.createSnapshot({
        snapshotId: SNAPSHOT,
        executionId: EXECUTION,
        tags: TAGS,
      });

      // Assess
      expect(fake.calls('CreateDBSnapshot')).toEqual([
        {
          DBSnapshotIdentifier: SNAPSHOT,
          DBInstanceIdentifier: O,
          Tags: [
            { Key: 'managed-by', Value: 'prisma-migration-orchestrator' },
            { Key: 'release', Value: 'release-42' },
            { Key: 'retention-class', Value: 'pre-migration' },
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

    it('adopts the snapshot when it already exists from the same instance', async () => {
      // Prepare
      await gateway.createSnapshot({ snapshotId: SNAPSHOT, executionId: EXECUTION, tags: TAGS });
      fake.settle();

      // Act
      const adopted = await gateway.createSnapshot({
        snapshotId: SNAPSHOT,
        executionId: EXECUTION,
        tags: TAGS,
      });

      // Assess
      expect(adopted).toMatchObject({ snapshotId: SNAPSHOT, sourceIdentifier: O, status: 'available' });
      expect(fake.mutations()).toEqual(['CreateDBSnapshot', 'CreateDBSnapshot']);
    });

    it('refuses, without adopting it, a snapshot with that id that another execution took, naming it', async () => {
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
        `Snapshot ${SNAPSHOT} of ${O} already exists but was taken by execution ${OTHER_EXECUTION}, not by this execution ${EXECUTION}`,
      );
      await expect(attempt).rejects.toThrow(/Nothing was applied and the database was not touched/);
      expect(fake.operations()).toEqual(['CreateDBSnapshot', 'DescribeDBSnapshots']);
      expect(fake.calls('CreateDBSnapshot')).toEqual([
        {
          DBSnapshotIdentifier: SNAPSHOT,
          DBInstanceIdentifier: O,
          Tags: [
            { Key: 'managed-by', Value: 'prisma-migration-orchestrator' },
            { Key: 'release', Value: 'release-42' },
            { Key: 'retention-class', Value: 'pre-migration' },
            { Key: 'migration-execution', Value: EXECUTION },
          ],
        },
      ]);
      expect(fake.calls('DescribeDBSnapshots')).toEqual([{ DBSnapshotIdentifier: SNAPSHOT }]);
      expect(fake.snapshot(SNAPSHOT)?.TagList).toContainEqual({
        Key: 'migration-execution',
        Value: OTHER_EXECUTION,
      });
    });

    it('refuses a snapshot with that id that carries no execution tag (taken by hand)', async () => {
      // Prepare: RDS copies the instance's tags, which name no execution.
      await fake.client.send(
        new CreateDBSnapshotCommand({ DBSnapshotIdentifier: SNAPSHOT, DBInstanceIdentifier: O }),
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
      expect(fake.operations()).toEqual(['CreateDBSnapshot', 'DescribeDBSnapshots']);
    });

    it('fails when a snapshot with that id exists from another instance, naming both', async () => {
      // Prepare
      fake.addInstance({ DBInstanceIdentifier: 'billing-db' });
      const other = new RdsInstanceSnapshotGateway({ instanceIdentifier: 'billing-db', client: fake.client });
      await other.createSnapshot({ snapshotId: SNAPSHOT, executionId: EXECUTION, tags: {} });

      // Act
      const attempt = gateway.createSnapshot({ snapshotId: SNAPSHOT, executionId: EXECUTION, tags: TAGS });

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'SnapshotFailed' });
      await expect(attempt).rejects.toThrow(/taken of RDS DB instance billing-db, not of orders-db/);
    });

    it('fails with SnapshotQuotaExceeded when the account has 100 manual snapshots, saying how to free or raise it', async () => {
      // Prepare
      const full = new FakeRds({ snapshotQuota: 0 });
      full.addInstance(ORIGINAL);
      const onFull = new RdsInstanceSnapshotGateway({ instanceIdentifier: O, client: full.client });

      // Act
      const attempt = onFull.createSnapshot({ snapshotId: SNAPSHOT, executionId: EXECUTION, tags: TAGS });

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'SnapshotQuotaExceeded' });
      await expect(attempt).rejects.toThrow(/100 by default.*delete-db-snapshot.*Service Quotas/);
      full.restore();
    });

    it('refuses with TargetNotAvailable when the instance is backing up (RDS answers InvalidDBInstanceState)', async () => {
      // Prepare
      fake.setInstanceStatus(O, 'backing-up');

      // Act
      const attempt = gateway.createSnapshot({ snapshotId: SNAPSHOT, executionId: EXECUTION, tags: TAGS });

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'TargetNotAvailable' });
      await expect(attempt).rejects.toThrow(/orders-db does not accept a snapshot/);
    });
  });

  describe('describeSnapshot', () => {
    it.each([
      ['creating', 'creating'],
      ['pending', 'creating'],
      ['available', 'available'],
      ['failed', 'failed'],
      ['incompatible-restore', 'failed'],
      ['deleting', 'failed'],
      ['deleted', 'failed'],
    ])('maps the RDS status %s to %s and keeps the word', async (raw, status) => {
      // Prepare
      fake.addInstance(ORIGINAL);
      await gateway.createSnapshot({ snapshotId: SNAPSHOT, executionId: EXECUTION, tags: TAGS });
      fake.setSnapshotStatus(SNAPSHOT, raw);

      // Act
      const description = await gateway.describeSnapshot(SNAPSHOT);

      // Assess
      expect(description).toMatchObject({
        snapshotId: SNAPSHOT,
        status,
        rawStatus: raw,
        sourceIdentifier: O,
      });
    });
  });

  describe('restoreSnapshot', () => {
    beforeEach(() => {
      fake.addInstance(ORIGINAL);
    });

    it('passes every setting of the original that the restore API accepts', async () => {
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
      expect(fake.calls('RestoreDBInstanceFromDBSnapshot')).toEqual([
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
      // Prepare
      fake.addInstance({ ...ORIGINAL, DBInstanceIdentifier: 'multi-az-db', MultiAZ: true });
      const multiAz = new RdsInstanceSnapshotGateway({
        instanceIdentifier: 'multi-az-db',
        client: fake.client,
      });
      await multiAz.createSnapshot({ snapshotId: 'multi-az-snapshot', executionId: EXECUTION, tags: {} });
      fake.settle();

      // Act
      await multiAz.restoreSnapshot({
        snapshotId: 'multi-az-snapshot',
        originalIdentifier: 'multi-az-db',
        restoredIdentifier: 'multi-az-db-restored',
        executionId: EXECUTION,
        tags: {},
      });

      // Assess
      const [input] = fake.calls('RestoreDBInstanceFromDBSnapshot');
      expect(input).toMatchObject({ MultiAZ: true });
      expect(input).not.toHaveProperty('AvailabilityZone');
      expect(fake.instance('multi-az-db-restored')?.MultiAZ).toBe(true);
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
      // Prepare
      fake.addInstance({ ...ORIGINAL, DBInstanceIdentifier: 'storage-db', ...storage });
      const onStorage = new RdsInstanceSnapshotGateway({
        instanceIdentifier: 'storage-db',
        client: fake.client,
      });
      await onStorage.createSnapshot({ snapshotId: 'storage-snapshot', executionId: EXECUTION, tags: {} });
      fake.settle();

      // Act
      await onStorage.restoreSnapshot({
        snapshotId: 'storage-snapshot',
        originalIdentifier: 'storage-db',
        restoredIdentifier: 'storage-db-restored',
        executionId: EXECUTION,
        tags: {},
      });

      // Assess
      const [input] = fake.calls('RestoreDBInstanceFromDBSnapshot');
      expect({ Iops: input?.Iops, StorageThroughput: input?.StorageThroughput }).toEqual({
        Iops: undefined,
        StorageThroughput: undefined,
        ...expected,
      });
      expect(fake.instance('storage-db-restored')?.StorageType).toBe(storage.StorageType);
    });

    it('adopts its own restore when retried, without a second restore call', async () => {
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

      // Act
      const retried = await gateway.restoreSnapshot(request);

      // Assess
      expect(retried).toMatchObject({ identifier: R, status: 'restoring' });
      expect(fake.calls('RestoreDBInstanceFromDBSnapshot')).toHaveLength(1);
    });

    it('refuses, without a restore call, a copy under the temporary identifier that another execution restored', async () => {
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
      expect(fake.operations()).toEqual(['DescribeDBInstances']);
      expect(fake.calls('DescribeDBInstances')).toEqual([{ DBInstanceIdentifier: R }]);
    });

    it('fails when the temporary identifier is taken by an instance this workflow did not restore', async () => {
      // Prepare
      await snapshotReady();
      fake.addInstance({ DBInstanceIdentifier: R });

      // Act
      const attempt = gateway.restoreSnapshot({
        snapshotId: SNAPSHOT,
        originalIdentifier: O,
        restoredIdentifier: R,
        executionId: EXECUTION,
        tags: TAGS,
      });

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'RestoreFailed' });
      await expect(attempt).rejects.toThrow(`an RDS DB instance ${R} already exists`);
      expect(fake.calls('RestoreDBInstanceFromDBSnapshot')).toHaveLength(0);
    });

    it('fails when the original does not exist, since its settings cannot be read', async () => {
      // Prepare
      await snapshotReady();

      // Act
      const attempt = gateway.restoreSnapshot({
        snapshotId: SNAPSHOT,
        originalIdentifier: 'gone-db',
        restoredIdentifier: R,
        executionId: EXECUTION,
        tags: TAGS,
      });

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'RestoreFailed' });
      await expect(attempt).rejects.toThrow('the original RDS DB instance gone-db does not exist');
    });
  });

  describe('describeRestore', () => {
    beforeEach(() => {
      fake.addInstance(ORIGINAL);
    });

    it('applies what the restore API does not accept with one ModifyDBInstance, and reports restoring until it is in place', async () => {
      // Act
      const seen = await restoreReady();

      // Assess
      expect(fake.calls('ModifyDBInstance')).toEqual([
        {
          DBInstanceIdentifier: R,
          ApplyImmediately: true,
          MonitoringInterval: 15,
          MonitoringRoleArn: `${ACCOUNT_ARN}:role/rds-monitoring`,
          PreferredMaintenanceWindow: 'tue:09:00-tue:09:30',
          MaxAllocatedStorage: 1000,
          EnablePerformanceInsights: true,
          PerformanceInsightsKMSKeyId: `${KMS}/insights`,
          PerformanceInsightsRetentionPeriod: 731,
          DatabaseInsightsMode: 'advanced',
        },
      ]);
      expect(fake.calls('AddRoleToDBInstance')).toEqual([
        { DBInstanceIdentifier: R, RoleArn: `${ACCOUNT_ARN}:role/orders-s3-import`, FeatureName: 's3Import' },
      ]);
      expect(seen.map((d) => d.status)).toContain('restoring');
      expect(seen.at(-1)).toMatchObject({ identifier: R, status: 'available' });
      const restored = fake.instance(R);
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
      fake.addInstance({ DBInstanceIdentifier: 'plain-db' });
      const plain = new RdsInstanceSnapshotGateway({ instanceIdentifier: 'plain-db', client: fake.client });
      await plain.createSnapshot({ snapshotId: 'plain-snapshot', executionId: EXECUTION, tags: {} });
      fake.settle();
      await plain.restoreSnapshot({
        snapshotId: 'plain-snapshot',
        originalIdentifier: 'plain-db',
        restoredIdentifier: 'plain-db-restored',
        executionId: EXECUTION,
        tags: {},
      });
      fake.settle();
      fake.setInstanceStatus('plain-db-restored', 'backing-up');

      // Act
      const description = await plain.describeRestore('plain-db-restored');

      // Assess
      expect(description).toEqual({
        identifier: 'plain-db-restored',
        status: 'available',
        rawStatus: 'backing-up',
      });
      expect(fake.calls('ModifyDBInstance')).toEqual([]);
    });

    it.each([
      ['creating', 'restoring'],
      ['modifying', 'restoring'],
      ['incompatible-parameters', 'failed'],
      ['inaccessible-encryption-credentials', 'failed'],
      ['failed', 'failed'],
    ])('maps a restored copy that is %s to %s', async (raw, status) => {
      // Prepare
      await snapshotReady();
      await gateway.restoreSnapshot({
        snapshotId: SNAPSHOT,
        originalIdentifier: O,
        restoredIdentifier: R,
        executionId: EXECUTION,
        tags: TAGS,
      });
      fake.setInstanceStatus(R, raw);

      // Act
      const description = await gateway.describeRestore(R);

      // Assess
      expect(description).toEqual({ identifier: R, status, rawStatus: raw });
    });

    it('stops requesting a setting that never shows up after three attempts, and reports available', async () => {
      // Prepare
      fake.restore();
      fake = new FakeRds({ ignoredModifications: ['PreferredMaintenanceWindow'] });
      fake.addInstance(ORIGINAL);
      gateway = new RdsInstanceSnapshotGateway({ instanceIdentifier: O, client: fake.client });

      // Act
      const seen = await restoreReady();

      // Assess
      expect(seen.at(-1)?.status).toBe('available');
      expect(fake.calls('AddRoleToDBInstance')).toHaveLength(1);
      expect(fake.calls('ModifyDBInstance')).toHaveLength(2);
      expect(fake.calls('ModifyDBInstance').map((c) => c.PreferredMaintenanceWindow)).toEqual([
        'tue:09:00-tue:09:30',
        'tue:09:00-tue:09:30',
      ]);
      expect(fake.instance(R)?.MonitoringInterval).toBe(15);
    });
  });

  describe('swap', () => {
    beforeEach(() => {
      fake.addInstance(ORIGINAL, 'before the release');
    });

    it('renames the original aside, then the restored copy into place, each with ApplyImmediately', async () => {
      // Prepare
      await restoreReady();
      fake.clearCalls();

      // Act
      const status = await swapUntilComplete();

      // Assess
      expect(status).toEqual({ phase: 'complete', complete: true });
      expect(fake.calls('ModifyDBInstance')).toEqual([
        { DBInstanceIdentifier: O, NewDBInstanceIdentifier: A, ApplyImmediately: true },
        { DBInstanceIdentifier: R, NewDBInstanceIdentifier: O, ApplyImmediately: true },
      ]);
      expect(fake.identifiers().instances).toEqual([O, A].sort());
      expect(fake.data(O)).toBe('before the release');
      expect(fake.data(A)).toBe('after the release');
      expect(fake.instance(O)?.Endpoint?.Address).toBe(`${O}.cfake.us-east-1.rds.amazonaws.com`);
    });

    it('reports not-started, then original-renamed once the aside identifier serves, then complete', async () => {
      // Prepare
      await restoreReady();
      const request = { originalIdentifier: O, restoredIdentifier: R, asideIdentifier: A };
      const seen: { phase: string; identifiers: string[] }[] = [];

      // Act
      for (let i = 0; i < 50; i++) {
        const status = await gateway.swap(request);
        seen.push({ phase: status.phase, identifiers: fake.identifiers().instances });
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
      expect(fake.instance(A)?.DBInstanceStatus).toBe('available');
    });

    it('waits, without asking twice, while RDS lists a rename as pending before the status says renaming', async () => {
      // Prepare
      fake.restore();
      fake = new FakeRds({ renameLagTicks: 4 });
      fake.addInstance(ORIGINAL);
      gateway = new RdsInstanceSnapshotGateway({ instanceIdentifier: O, client: fake.client });
      await restoreReady();

      // Act
      const status = await swapUntilComplete();

      // Assess
      expect(status.complete).toBe(true);
      expect(fake.calls('ModifyDBInstance').filter((c) => 'NewDBInstanceIdentifier' in c)).toEqual([
        { DBInstanceIdentifier: O, NewDBInstanceIdentifier: A, ApplyImmediately: true },
        { DBInstanceIdentifier: R, NewDBInstanceIdentifier: O, ApplyImmediately: true },
      ]);
    });

    it('goes on when the original kept aside settles in a stuck state (storage-full): it is kept as it is', async () => {
      // Prepare
      await restoreReady();
      const request = { originalIdentifier: O, restoredIdentifier: R, asideIdentifier: A };
      await gateway.swap(request);
      fake.settle();
      fake.setInstanceStatus(A, 'storage-full');

      // Act
      const status = await swapUntilComplete();

      // Assess
      expect(status.complete).toBe(true);
      expect(fake.instance(A)?.DBInstanceStatus).toBe('storage-full');
      expect(fake.data(O)).toBe('before the release');
    });

    it('does not rename anything while the restored copy is not usable yet', async () => {
      // Prepare
      await snapshotReady();
      await gateway.restoreSnapshot({
        snapshotId: SNAPSHOT,
        originalIdentifier: O,
        restoredIdentifier: R,
        executionId: EXECUTION,
        tags: TAGS,
      });
      fake.setInstanceStatus(R, 'creating');

      // Act
      const status = await gateway.swap({ originalIdentifier: O, restoredIdentifier: R, asideIdentifier: A });

      // Assess
      expect(status).toEqual({ phase: 'not-started', complete: false });
      expect(fake.calls('ModifyDBInstance')).toEqual([]);
    });

    it('goes on after a crash between the two renames (a new gateway finds where it stands)', async () => {
      // Prepare
      await restoreReady();
      const request = { originalIdentifier: O, restoredIdentifier: R, asideIdentifier: A };
      await gateway.swap(request);
      fake.settle();

      // Act
      const resumed = new RdsInstanceSnapshotGateway({ instanceIdentifier: O, client: fake.client });
      let status = await resumed.swap(request);
      for (let i = 0; i < 50 && !status.complete; i++) status = await resumed.swap(request);

      // Assess
      expect(status.complete).toBe(true);
      expect(fake.calls('ModifyDBInstance').filter((c) => 'NewDBInstanceIdentifier' in c)).toHaveLength(2);
    });

    it('fails when the aside identifier is taken, renaming nothing', async () => {
      // Prepare
      await restoreReady();
      fake.addInstance({ DBInstanceIdentifier: A });

      // Act
      const attempt = gateway.swap({ originalIdentifier: O, restoredIdentifier: R, asideIdentifier: A });

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'SwapFailed' });
      await expect(attempt).rejects.toThrow(/already taken.*Nothing was renamed/);
      expect(fake.calls('ModifyDBInstance').filter((c) => 'NewDBInstanceIdentifier' in c)).toEqual([]);
    });

    it('fails when the restored copy vanished after the original was renamed, naming both and the command that puts it back', async () => {
      // Prepare
      await restoreReady();
      const request = { originalIdentifier: O, restoredIdentifier: R, asideIdentifier: A };
      await gateway.swap(request);
      fake.settle();
      fake.deleteInstance(R);

      // Act
      const attempt = gateway.swap(request);

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'SwapFailed' });
      await expect(attempt).rejects.toThrow(
        `aws rds modify-db-instance --db-instance-identifier ${A} --new-db-instance-identifier ${O} --apply-immediately`,
      );
      await expect(attempt).rejects.toThrow(`the restored copy ${R} does not exist`);
    });
  });

  describe('faults', () => {
    type Scenario =
      | 'describeTarget'
      | 'createSnapshot'
      | 'describeSnapshot'
      | 'restoreSnapshot'
      | 'describeRestoreRoles'
      | 'describeRestore'
      | 'swapFirst'
      | 'swapSecond';
    type Outcome = { error: string; message?: RegExp | string } | { resolves: unknown };

    beforeEach(() => {
      fake.addInstance(ORIGINAL);
    });

    /** Brings the fake to the point where `scenario` runs its call, and returns the call. */
    async function arrange(scenario: Scenario): Promise<() => Promise<unknown>> {
      const request = { originalIdentifier: O, restoredIdentifier: R, asideIdentifier: A };
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
          return () =>
            gateway.restoreSnapshot({
              snapshotId: SNAPSHOT,
              originalIdentifier: O,
              restoredIdentifier: R,
              executionId: EXECUTION,
              tags: TAGS,
            });
        case 'describeRestoreRoles':
          await snapshotReady();
          await gateway.restoreSnapshot({
            snapshotId: SNAPSHOT,
            originalIdentifier: O,
            restoredIdentifier: R,
            executionId: EXECUTION,
            tags: TAGS,
          });
          fake.settle();
          return () => gateway.describeRestore(R);
        case 'describeRestore':
          // The roles are in place: the next call requests the settings.
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
        'DescribeDBInstances',
        'throttling',
        { error: 'TransientFault', message: /throttled/ },
      ],
      [
        'describeTarget',
        'DescribeDBInstances',
        'not-found',
        { error: 'TargetNotAvailable', message: 'does not exist' },
      ],
      ['describeTarget', 'DescribeDBInstances', 'server-error', { error: 'TransientFault' }],
      ['describeTarget', 'DescribeDBInstances', 'timeout', { error: 'TransientFault' }],
      ['describeTarget', 'DescribeDBInstances', 'network', { error: 'TransientFault' }],
      [
        'describeTarget',
        'DescribeDBInstances',
        'access-denied',
        { error: 'TargetNotAvailable', message: 'rds:DescribeDBInstances' },
      ],
      [
        'createSnapshot',
        'CreateDBSnapshot',
        'throttling',
        { error: 'TransientFault', message: /CreateDBSnapshot on orders-db was throttled/ },
      ],
      [
        'createSnapshot',
        'CreateDBSnapshot',
        'not-found',
        { error: 'TargetNotAvailable', message: 'orders-db does not exist' },
      ],
      [
        'createSnapshot',
        'CreateDBSnapshot',
        'invalid-state',
        { error: 'TargetNotAvailable', message: 'does not accept a snapshot' },
      ],
      [
        'createSnapshot',
        'CreateDBSnapshot',
        'quota-exceeded',
        { error: 'SnapshotQuotaExceeded', message: /Service Quotas/ },
      ],
      ['createSnapshot', 'CreateDBSnapshot', 'timeout', { error: 'TransientFault' }],
      ['createSnapshot', 'CreateDBSnapshot', 'network', { error: 'TransientFault' }],
      [
        'createSnapshot',
        'CreateDBSnapshot',
        'access-denied',
        { error: 'SnapshotFailed', message: 'rds:CreateDBSnapshot' },
      ],
      ['describeSnapshot', 'DescribeDBSnapshots', 'throttling', { error: 'TransientFault' }],
      ['describeSnapshot', 'DescribeDBSnapshots', 'not-found', { resolves: undefined }],
      ['describeSnapshot', 'DescribeDBSnapshots', 'network', { error: 'TransientFault' }],
      ['restoreSnapshot', 'DescribeDBInstances', 'throttling', { error: 'TransientFault' }],
      [
        'restoreSnapshot',
        'DescribeDBInstances',
        'access-denied',
        { error: 'RestoreFailed', message: 'rds:DescribeDBInstances' },
      ],
      ['restoreSnapshot', 'RestoreDBInstanceFromDBSnapshot', 'throttling', { error: 'TransientFault' }],
      [
        'restoreSnapshot',
        'RestoreDBInstanceFromDBSnapshot',
        'not-found',
        { error: 'RestoreFailed', message: `snapshot ${SNAPSHOT} does not exist` },
      ],
      [
        'restoreSnapshot',
        'RestoreDBInstanceFromDBSnapshot',
        'invalid-state',
        { error: 'RestoreFailed', message: `snapshot ${SNAPSHOT} is not available` },
      ],
      [
        'restoreSnapshot',
        'RestoreDBInstanceFromDBSnapshot',
        'quota-exceeded',
        { error: 'RestoreFailed', message: /instance quota.*The original orders-db is untouched/ },
      ],
      [
        'restoreSnapshot',
        'RestoreDBInstanceFromDBSnapshot',
        'already-exists',
        { error: 'RestoreFailed', message: `the identifier ${R} is taken` },
      ],
      ['restoreSnapshot', 'RestoreDBInstanceFromDBSnapshot', 'timeout', { error: 'TransientFault' }],
      ['restoreSnapshot', 'RestoreDBInstanceFromDBSnapshot', 'network', { error: 'TransientFault' }],
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
      ['swapFirst', 'DescribeDBInstances', 'throttling', { error: 'TransientFault' }],
      ['swapFirst', 'DescribeDBInstances', 'timeout', { error: 'TransientFault' }],
      [
        'swapFirst',
        'ModifyDBInstance',
        'throttling',
        { error: 'TransientFault', message: `rename ${O} to ${A}` },
      ],
      [
        'swapFirst',
        'ModifyDBInstance',
        'invalid-state',
        { error: 'SwapFailed', message: /Nothing was renamed; the original is untouched/ },
      ],
      [
        'swapFirst',
        'ModifyDBInstance',
        'not-found',
        { error: 'SwapFailed', message: `Renaming RDS DB instance ${O} to ${A} failed` },
      ],
      [
        'swapFirst',
        'ModifyDBInstance',
        'already-exists',
        { error: 'SwapFailed', message: /Nothing was renamed/ },
      ],
      ['swapFirst', 'ModifyDBInstance', 'network', { error: 'TransientFault' }],
      ['swapSecond', 'DescribeDBInstances', 'throttling', { error: 'TransientFault' }],
      [
        'swapSecond',
        'ModifyDBInstance',
        'throttling',
        { error: 'TransientFault', message: `rename ${R} to ${O}` },
      ],
      [
        'swapSecond',
        'ModifyDBInstance',
        'invalid-state',
        {
          error: 'SwapFailed',
          message: `aws rds modify-db-instance --db-instance-identifier ${A} --new-db-instance-identifier ${O} --apply-immediately`,
        },
      ],
      [
        'swapSecond',
        'ModifyDBInstance',
        'not-found',
        { error: 'SwapFailed', message: `the original RDS DB instance was renamed to ${A}` },
      ],
      ['swapSecond', 'ModifyDBInstance', 'timeout', { error: 'TransientFault' }],
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

    it('names all three identifiers and their states when the second rename fails', async () => {
      // Prepare
      const act = await arrange('swapSecond');
      fake.failNext('ModifyDBInstance', 'invalid-state');

      // Act
      const error = await act().catch((e: unknown) => e as Error & { details: Record<string, unknown> });

      // Assess
      expect(error).toMatchObject({
        name: 'SwapFailed',
        details: {
          originalIdentifier: O,
          restoredIdentifier: R,
          asideIdentifier: A,
          original: null,
          aside: 'available',
        },
      });
      expect((error as Error).message).toContain(
        `Now: ${O} does not exist; ${R} is available; ${A} is available.`,
      );
      expect(fake.identifiers().instances).toEqual([A, R].sort());
    });

    it('completes the swap when retried after a transient fault on the second rename', async () => {
      // Prepare
      const act = await arrange('swapSecond');
      fake.failNext('ModifyDBInstance', 'throttling');
      await expect(act()).rejects.toMatchObject({ name: 'TransientFault' });

      // Act
      const status = await swapUntilComplete();

      // Assess
      expect(status.complete).toBe(true);
      expect(fake.identifiers().instances).toEqual([O, A].sort());
    });
  });
});
