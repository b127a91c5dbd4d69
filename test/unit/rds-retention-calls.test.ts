/**
 * The RDS gateways' retention calls (listManagedSnapshots, deleteSnapshot, snapshotQuota) at the SDK edge:
 * the exact commands and inputs, what is kept out of the listing and refused by the delete, and the faults
 * RDS really answers, each shaped as the SDK throws it. One table-driven describe over the two gateways.
 */
import {
  type DBClusterSnapshot,
  DBClusterSnapshotNotFoundFault,
  type DBSnapshot,
  DBSnapshotNotFoundFault,
  DeleteDBClusterSnapshotCommand,
  DeleteDBSnapshotCommand,
  DescribeAccountAttributesCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
  InvalidDBClusterSnapshotStateFault,
  InvalidDBSnapshotStateFault,
  RDSClient,
  RDSServiceException,
  type Tag,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { RdsClusterSnapshotGateway } from '../../lambdas/shared/adapters/rds/cluster.js';
import { RdsInstanceSnapshotGateway } from '../../lambdas/shared/adapters/rds/instance.js';
import { ErrorNames } from '../../lambdas/shared/contract/contract.js';
import type { SnapshotGateway } from '../../lambdas/shared/contract/ports.js';

const rds = mockClient(RDSClient);
beforeEach(() => rds.reset());

const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:orchestrator:backup-2030-01-01';
const meta = (httpStatusCode: number) => ({
  httpStatusCode,
  requestId: 'req-1',
  attempts: 1,
  totalRetryDelay: 0,
});
const throttling = () =>
  new RDSServiceException({
    name: 'Throttling',
    $fault: 'client',
    $metadata: meta(400),
    message: 'Rate exceeded',
  });
const serverError = () =>
  new RDSServiceException({
    name: 'InternalFailure',
    $fault: 'server',
    $metadata: meta(500),
    message: 'An internal error has occurred.',
  });
const accessDenied = (action: string) =>
  new RDSServiceException({
    name: 'AccessDenied',
    $fault: 'client',
    $metadata: meta(403),
    message: `User: arn:aws:sts::123456789012:assumed-role/fn is not authorized to perform: rds:${action}`,
  });

function tags(record: Record<string, string>): Tag[] {
  return Object.entries(record).map(([Key, Value]) => ({ Key, Value }));
}

function ours(source: string, kind?: string, managedBy = 'prisma-migration-orchestrator'): Tag[] {
  return tags({
    'managed-by': managedBy,
    'migration-execution': EXECUTION,
    'source-identifier': source,
    ...(kind ? { 'snapshot-kind': kind } : {}),
  });
}

interface SnapshotFields {
  readonly id: string;
  readonly source?: string;
  readonly type?: string;
  readonly status?: string;
  readonly at?: string;
  readonly size?: number;
  readonly tags?: Tag[];
}

/** One gateway as these tests drive it: its commands, input keys, faults and the snapshots RDS describes. */
interface Kind {
  readonly name: string;
  readonly target: string;
  readonly gateway: (options?: { managedBy?: string }) => SnapshotGateway;
  readonly describe: typeof DescribeDBSnapshotsCommand | typeof DescribeDBClusterSnapshotsCommand;
  /** Typed as the instance's: the mock's overloads take one command class, not a union of two. */
  readonly delete: typeof DeleteDBSnapshotCommand;
  readonly targetKey: 'DBInstanceIdentifier' | 'DBClusterIdentifier';
  readonly snapshotKey: 'DBSnapshotIdentifier' | 'DBClusterSnapshotIdentifier';
  readonly describeAction: string;
  readonly deleteAction: string;
  readonly quota: 'ManualSnapshots' | 'ManualClusterSnapshots';
  readonly otherQuota: 'ManualSnapshots' | 'ManualClusterSnapshots';
  readonly notFound: () => Error;
  readonly invalidState: () => Error;
  /** A describe answer listing these snapshots. */
  page(snapshots: readonly SnapshotFields[], marker?: string): Record<string, unknown>;
}

const INSTANCE: Kind = {
  name: 'RdsInstanceSnapshotGateway',
  target: 'orders-db',
  gateway: (options = {}) =>
    new RdsInstanceSnapshotGateway({
      instanceIdentifier: 'orders-db',
      client: new RDSClient({}),
      ...options,
    }),
  describe: DescribeDBSnapshotsCommand,
  delete: DeleteDBSnapshotCommand,
  targetKey: 'DBInstanceIdentifier',
  snapshotKey: 'DBSnapshotIdentifier',
  describeAction: 'DescribeDBSnapshots',
  deleteAction: 'DeleteDBSnapshot',
  quota: 'ManualSnapshots',
  otherQuota: 'ManualClusterSnapshots',
  notFound: () =>
    new DBSnapshotNotFoundFault({ message: 'DBSnapshot gone not found.', $metadata: meta(404) }),
  invalidState: () =>
    new InvalidDBSnapshotStateFault({
      message: 'Cannot delete the snapshot because it is in use.',
      $metadata: meta(400),
    }),
  page: (snapshots, marker) => ({
    DBSnapshots: snapshots.map(
      (s): DBSnapshot => ({
        DBSnapshotIdentifier: s.id,
        DBInstanceIdentifier: s.source ?? 'orders-db',
        SnapshotType: s.type ?? 'manual',
        Status: s.status ?? 'available',
        ...(s.at ? { SnapshotCreateTime: new Date(s.at) } : {}),
        AllocatedStorage: s.size ?? 500,
        TagList: s.tags ?? [],
      }),
    ),
    ...(marker ? { Marker: marker } : {}),
  }),
};

const CLUSTER: Kind = {
  name: 'RdsClusterSnapshotGateway',
  target: 'orders-cluster',
  gateway: (options = {}) =>
    new RdsClusterSnapshotGateway({
      clusterIdentifier: 'orders-cluster',
      client: new RDSClient({}),
      ...options,
    }),
  describe: DescribeDBClusterSnapshotsCommand,
  delete: DeleteDBClusterSnapshotCommand as unknown as typeof DeleteDBSnapshotCommand,
  targetKey: 'DBClusterIdentifier',
  snapshotKey: 'DBClusterSnapshotIdentifier',
  describeAction: 'DescribeDBClusterSnapshots',
  deleteAction: 'DeleteDBClusterSnapshot',
  quota: 'ManualClusterSnapshots',
  otherQuota: 'ManualSnapshots',
  notFound: () =>
    new DBClusterSnapshotNotFoundFault({
      message: 'DBClusterSnapshot gone not found.',
      $metadata: meta(404),
    }),
  invalidState: () =>
    new InvalidDBClusterSnapshotStateFault({
      message: 'Cannot delete the cluster snapshot because it is in use.',
      $metadata: meta(400),
    }),
  page: (snapshots, marker) => ({
    DBClusterSnapshots: snapshots.map(
      (s): DBClusterSnapshot => ({
        DBClusterSnapshotIdentifier: s.id,
        DBClusterIdentifier: s.source ?? 'orders-cluster',
        SnapshotType: s.type ?? 'manual',
        Status: s.status ?? 'available',
        ...(s.at ? { SnapshotCreateTime: new Date(s.at) } : {}),
        AllocatedStorage: s.size ?? 1,
        TagList: s.tags ?? [],
      }),
    ),
    ...(marker ? { Marker: marker } : {}),
  }),
};

describe.each([INSTANCE, CLUSTER])('$name retention calls', (k) => {
  // The mock's `on(command, input)` matches on a partial input: each test asserts the exact inputs itself.
  const describeCalls = () => rds.commandCalls(k.describe).map((call) => call.args[0].input);
  const deleteCalls = () => rds.commandCalls(k.delete).map((call) => call.args[0].input);

  describe('listManagedSnapshots', () => {
    it('asks for the manual snapshots of the target, every page, passing the Marker back', async () => {
      // Prepare
      rds
        .on(k.describe)
        .resolvesOnce(
          k.page([{ id: 'b1', at: '2030-01-01T03:00:00Z', tags: ours(k.target, 'backup') }], 'page-2'),
        )
        .resolvesOnce(k.page([{ id: 'b2', at: '2030-01-02T03:00:00Z', tags: ours(k.target, 'backup') }]));

      // Act
      const listed = await k.gateway().listManagedSnapshots();

      // Assess
      expect(describeCalls()).toEqual([
        { [k.targetKey]: k.target, SnapshotType: 'manual' },
        { [k.targetKey]: k.target, SnapshotType: 'manual', Marker: 'page-2' },
      ]);
      expect(listed.map((s) => s.snapshotId)).toEqual(['b1', 'b2']);
    });

    it("keeps only snapshots tagged managed-by ours and source-identifier the target: never automated, hand-taken or another's", async () => {
      // Prepare
      rds.on(k.describe).resolves(
        k.page([
          { id: 'ours', at: '2030-01-01T00:00:00Z', tags: ours(k.target, 'backup') },
          { id: 'by-hand', at: '2030-01-01T00:00:00Z', tags: tags({ team: 'orders' }) },
          { id: 'untagged', at: '2030-01-01T00:00:00Z' },
          { id: 'other-stack', tags: ours(k.target, 'backup', 'another-orchestrator') },
          { id: 'other-source-tag', tags: ours('billing-db', 'backup') },
          { id: 'only-managed-by', tags: tags({ 'managed-by': 'prisma-migration-orchestrator' }) },
          { id: 'rds:orders-2030-01-01-03-00', type: 'automated', tags: ours(k.target, 'backup') },
          { id: 'shared-in', type: 'shared', tags: ours(k.target, 'backup') },
          { id: 'of-another-db', source: 'billing-db', tags: ours(k.target, 'backup') },
        ]),
      );

      // Act
      const listed = await k.gateway().listManagedSnapshots();

      // Assess
      expect(listed.map((s) => s.snapshotId)).toEqual(['ours']);
    });

    it("lists another orchestrator's snapshots only under its own managed-by value", async () => {
      // Prepare
      rds.on(k.describe).resolves(
        k.page([
          { id: 'default-stack', at: '2030-01-01T00:00:00Z', tags: ours(k.target, 'backup') },
          {
            id: 'staging-stack',
            at: '2030-01-01T00:00:00Z',
            tags: ours(k.target, 'backup', 'staging-orchestrator'),
          },
        ]),
      );

      // Act
      const listed = await k.gateway({ managedBy: 'staging-orchestrator' }).listManagedSnapshots();

      // Assess
      expect(listed.map((s) => s.snapshotId)).toEqual(['staging-stack']);
    });

    it('carries the release and execution tags of a pre-migration snapshot (what the retry guard reads)', async () => {
      // Prepare
      rds.on(k.describe).resolves(
        k.page([
          {
            id: 'premigration-1',
            at: '2030-01-01T00:00:00Z',
            tags: [...ours(k.target, 'pre-migration'), { Key: 'migration-release', Value: 'v2' }],
          },
        ]),
      );

      // Act
      const [listed] = await k.gateway().listManagedSnapshots();

      // Assess
      expect(listed).toMatchObject({
        snapshotId: 'premigration-1',
        kind: 'pre-migration',
        tags: { 'migration-release': 'v2', 'migration-execution': EXECUTION },
      });
    });

    it('maps kind, creation time, status and size, oldest first, those still being created last', async () => {
      // Prepare: RDS promises no order.
      rds.on(k.describe).resolves(
        k.page([
          { id: 'creating', status: 'creating', tags: ours(k.target, 'backup') },
          { id: 'newer', at: '2030-02-01T03:00:00Z', size: 120, tags: ours(k.target, 'pre-migration') },
          { id: 'older', at: '2030-01-01T03:00:00Z', size: 100, tags: ours(k.target, 'backup') },
          { id: 'before-kinds', at: '2029-12-01T03:00:00Z', size: 90, tags: ours(k.target) },
        ]),
      );

      // Act
      const listed = await k.gateway().listManagedSnapshots();

      // Assess
      expect(listed).toEqual([
        {
          snapshotId: 'before-kinds',
          name: 'before-kinds',
          tags: Object.fromEntries(ours(k.target).map((t) => [t.Key, t.Value])),
          kind: 'pre-migration',
          createdAt: '2029-12-01T03:00:00.000Z',
          status: 'available',
          sizeGiB: 90,
        },
        expect.objectContaining({
          snapshotId: 'older',
          kind: 'backup',
          createdAt: '2030-01-01T03:00:00.000Z',
          sizeGiB: 100,
        }),
        expect.objectContaining({ snapshotId: 'newer', kind: 'pre-migration', sizeGiB: 120 }),
        expect.objectContaining({ snapshotId: 'creating', kind: 'backup', status: 'creating' }),
      ]);
      expect(listed[3]).not.toHaveProperty('createdAt');
    });

    it('stops, with SnapshotFailed, a listing whose marker comes back (it would never end)', async () => {
      rds.on(k.describe).resolves(k.page([{ id: 'b1', tags: ours(k.target, 'backup') }], 'page-2'));
      await expect(k.gateway().listManagedSnapshots()).rejects.toMatchObject({
        name: ErrorNames.SnapshotFailed,
        message: expect.stringContaining('page marker page-2 twice'),
      });
      expect(describeCalls()).toHaveLength(2);
    });

    it('reports throttling and 5xx answers as transient faults', async () => {
      rds.on(k.describe).rejectsOnce(throttling()).rejectsOnce(serverError());
      await expect(k.gateway().listManagedSnapshots()).rejects.toMatchObject({
        name: ErrorNames.TransientFault,
      });
      await expect(k.gateway().listManagedSnapshots()).rejects.toMatchObject({
        name: ErrorNames.TransientFault,
      });
    });

    it('fails when access is denied, naming the missing permission', async () => {
      rds.on(k.describe).rejects(accessDenied(k.describeAction));
      await expect(k.gateway().listManagedSnapshots()).rejects.toMatchObject({
        name: ErrorNames.SnapshotFailed,
        message: expect.stringContaining(`rds:${k.describeAction}`),
      });
    });
  });

  describe('deleteSnapshot', () => {
    it('describes the snapshot again, then deletes it when it is ours', async () => {
      // Prepare
      rds
        .on(k.describe)
        .resolves(k.page([{ id: 'b1', at: '2030-01-01T00:00:00Z', tags: ours(k.target, 'backup') }]));
      rds.on(k.delete).resolves({});

      // Act
      const deleted = await k.gateway().deleteSnapshot('b1');

      // Assess
      expect(deleted).toBe(true);
      expect(describeCalls()).toEqual([{ [k.snapshotKey]: 'b1' }]);
      expect(deleteCalls()).toEqual([{ [k.snapshotKey]: 'b1' }]);
      const order = rds.calls().map((call) => call.args[0].constructor.name);
      expect(order).toEqual([k.describe.name, k.delete.name]);
    });

    it.each<[string, SnapshotFields]>([
      ['hand-taken, untagged', { id: 's', tags: [] }],
      ['hand-taken, tagged by its team', { id: 's', tags: tags({ team: 'orders' }) }],
      ["another orchestrator's", { id: 's', tags: ours('orders-x', 'backup', 'another-orchestrator') }],
      ['tagged as of another database', { id: 's', tags: ours('billing-db', 'backup') }],
      ['of another database', { id: 's', source: 'billing-db', tags: ours('orders-db', 'backup') }],
      ['automated', { id: 's', type: 'automated', tags: ours('orders-db', 'backup') }],
      ['shared from another account', { id: 's', type: 'shared', tags: ours('orders-db', 'backup') }],
    ])('refuses, deleting nothing, a snapshot that is %s', async (_, fields) => {
      // Prepare: tags name the instance target; the cluster's own rows rename it.
      const retagged = (fields.tags ?? []).map((t) =>
        t.Key === 'source-identifier' && t.Value === 'orders-db' ? { ...t, Value: k.target } : t,
      );
      rds.on(k.describe).resolves(k.page([{ ...fields, tags: retagged }]));
      rds.on(k.delete).resolves({});

      // Act
      const deleted = await k.gateway().deleteSnapshot('s');

      // Assess
      expect(deleted).toBe(false);
      expect(deleteCalls()).toEqual([]);
    });

    it('returns false, deleting nothing, when the snapshot does not exist', async () => {
      rds.on(k.describe).rejects(k.notFound());
      rds.on(k.delete).resolves({});
      await expect(k.gateway().deleteSnapshot('gone')).resolves.toBe(false);
      expect(deleteCalls()).toEqual([]);
    });

    it('returns false when the snapshot was deleted by someone else between the describe and the delete', async () => {
      rds.on(k.describe).resolves(k.page([{ id: 'b1', tags: ours(k.target, 'backup') }]));
      rds.on(k.delete).rejects(k.notFound());
      await expect(k.gateway().deleteSnapshot('b1')).resolves.toBe(false);
    });

    it('fails with RetentionFailed naming the snapshot when RDS refuses its state (in use by a restore or copy)', async () => {
      rds.on(k.describe).resolves(k.page([{ id: 'b1', tags: ours(k.target, 'backup') }]));
      rds.on(k.delete).rejects(k.invalidState());
      const attempt = k.gateway().deleteSnapshot('b1');
      await expect(attempt).rejects.toMatchObject({
        name: ErrorNames.RetentionFailed,
        details: { snapshotId: 'b1' },
      });
      await expect(attempt).rejects.toThrow(
        /b1 of .* cannot be deleted in its current state \(available: Cannot delete/,
      );
    });

    it('reports a throttled describe or delete as a transient fault', async () => {
      rds
        .on(k.describe)
        .rejectsOnce(throttling())
        .resolves(k.page([{ id: 'b1', tags: ours(k.target, 'backup') }]));
      rds.on(k.delete).rejects(serverError());
      await expect(k.gateway().deleteSnapshot('b1')).rejects.toMatchObject({
        name: ErrorNames.TransientFault,
      });
      await expect(k.gateway().deleteSnapshot('b1')).rejects.toMatchObject({
        name: ErrorNames.TransientFault,
      });
    });

    it('fails when access is denied, naming the missing permission', async () => {
      rds.on(k.describe).resolves(k.page([{ id: 'b1', tags: ours(k.target, 'backup') }]));
      rds.on(k.delete).rejects(accessDenied(k.deleteAction));
      await expect(k.gateway().deleteSnapshot('b1')).rejects.toMatchObject({
        name: ErrorNames.RetentionFailed,
        message: expect.stringContaining(`rds:${k.deleteAction}`),
      });
    });
  });

  describe('snapshotQuota', () => {
    const attributes = {
      AccountQuotas: [
        { AccountQuotaName: 'DBInstances', Used: 4, Max: 40 },
        { AccountQuotaName: k.otherQuota, Used: 7, Max: 100 },
        { AccountQuotaName: k.quota, Used: 83, Max: 150 },
      ],
    };

    it(`reads ${k.quota} from DescribeAccountAttributes`, async () => {
      // Prepare
      rds.on(DescribeAccountAttributesCommand).resolves(attributes);

      // Act
      const quota = await k.gateway().snapshotQuota();

      // Assess
      expect(quota).toEqual({ used: 83, max: 150 });
      expect(rds.commandCalls(DescribeAccountAttributesCommand).map((c) => c.args[0].input)).toEqual([{}]);
    });

    it(`is undefined when RDS does not report ${k.quota}`, async () => {
      rds
        .on(DescribeAccountAttributesCommand)
        .resolves({ AccountQuotas: attributes.AccountQuotas.filter((q) => q.AccountQuotaName !== k.quota) });
      await expect(k.gateway().snapshotQuota()).resolves.toBeUndefined();
    });

    it('reports throttling as a transient fault', async () => {
      rds.on(DescribeAccountAttributesCommand).rejects(throttling());
      await expect(k.gateway().snapshotQuota()).rejects.toMatchObject({ name: ErrorNames.TransientFault });
    });

    it('fails when access is denied, naming rds:DescribeAccountAttributes', async () => {
      rds.on(DescribeAccountAttributesCommand).rejects(accessDenied('DescribeAccountAttributes'));
      await expect(k.gateway().snapshotQuota()).rejects.toMatchObject({
        name: ErrorNames.SnapshotFailed,
        message: expect.stringContaining('rds:DescribeAccountAttributes'),
      });
    });
  });
});
