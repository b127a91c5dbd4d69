/**
 * Both RDS gateways on the stateful fake RDS: the SnapshotGateway contract, then the scenarios (and the fault
 * matrix rows) that are the same on both, one table-driven describe over the two. What only one gateway does
 * is tested in its own file.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { RdsClusterSnapshotGateway } from '../../lambdas/shared/adapters/rds/cluster.js';
import { RdsInstanceSnapshotGateway } from '../../lambdas/shared/adapters/rds/instance.js';
import {
  describeSnapshotGatewayContract,
  type SnapshotGatewayContractFixture,
} from '../contract/snapshot-gateway.contract.js';
import { FakeRds } from '../helpers/fake-rds.js';
import {
  CLUSTER_KIND,
  EXECUTION,
  type FaultRow,
  faultMatrix,
  type GatewayKind,
  INSTANCE,
  OTHER_EXECUTION,
  SHARED_ARRANGEMENTS,
  TAG_LIST,
  TAGS,
  useGateway,
} from '../helpers/rds-gateways.js';

function fixtureOn(
  fake: FakeRds,
  gateway: RdsInstanceSnapshotGateway | RdsClusterSnapshotGateway,
): SnapshotGatewayContractFixture {
  return {
    gateway,
    advance: async () => fake.tick(),
    teardown: async () => fake.restore(),
    data: {
      read: async (identifier) => fake.data(identifier),
      write: async (identifier, value) => fake.setData(identifier, value),
    },
  };
}

describeSnapshotGatewayContract('RdsInstanceSnapshotGateway on the fake RDS', async () => {
  const fake = new FakeRds();
  fake.addInstance({
    DBInstanceIdentifier: 'app-db',
    DBInstanceClass: 'db.m6g.large',
    StorageType: 'gp3',
    AllocatedStorage: 100,
  });
  return fixtureOn(
    fake,
    new RdsInstanceSnapshotGateway({ instanceIdentifier: 'app-db', client: fake.client }),
  );
});

describeSnapshotGatewayContract('RdsClusterSnapshotGateway on the fake RDS', async () => {
  const fake = new FakeRds();
  fake.addCluster(
    {
      DBClusterIdentifier: 'app-cluster',
      ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 8 },
    },
    [
      { DBInstanceIdentifier: 'app-cluster-writer', DBInstanceClass: 'db.r6g.large', PromotionTier: 0 },
      { DBInstanceIdentifier: 'app-cluster-reader', DBInstanceClass: 'db.serverless', PromotionTier: 1 },
    ],
  );
  return fixtureOn(
    fake,
    new RdsClusterSnapshotGateway({ clusterIdentifier: 'app-cluster', client: fake.client }),
  );
});

// ---------------------------------------------------------------------------------------------------------
// The scenarios that are the same on both gateways: one table-driven describe over both.

/** The fault rows whose scenario is the same on both gateways (each gateway's own stay in its file). */
function sharedFaultRows(k: GatewayKind): FaultRow[] {
  const { O, R, A, SNAPSHOT, ops } = k;
  return [
    ['describeTarget', ops.describe, 'throttling', { error: 'TransientFault', message: /throttled/ }],
    ['describeTarget', ops.describe, 'not-found', { error: 'TargetNotAvailable', message: 'does not exist' }],
    ['describeTarget', ops.describe, 'server-error', { error: 'TransientFault' }],
    ['describeTarget', ops.describe, 'timeout', { error: 'TransientFault' }],
    ['describeTarget', ops.describe, 'network', { error: 'TransientFault' }],
    [
      'describeTarget',
      ops.describe,
      'access-denied',
      { error: 'TargetNotAvailable', message: `rds:${ops.describe}` },
    ],
    [
      'createSnapshot',
      ops.createSnapshot,
      'throttling',
      { error: 'TransientFault', message: `${ops.createSnapshot} on ${O} was throttled` },
    ],
    [
      'createSnapshot',
      ops.createSnapshot,
      'not-found',
      { error: 'TargetNotAvailable', message: `${O} does not exist` },
    ],
    [
      'createSnapshot',
      ops.createSnapshot,
      'invalid-state',
      { error: 'TargetNotAvailable', message: 'does not accept a snapshot' },
    ],
    [
      'createSnapshot',
      ops.createSnapshot,
      'quota-exceeded',
      { error: 'SnapshotQuotaExceeded', message: new RegExp(`${k.deleteSnapshot}.*Service Quotas`) },
    ],
    ['createSnapshot', ops.createSnapshot, 'timeout', { error: 'TransientFault' }],
    ['createSnapshot', ops.createSnapshot, 'network', { error: 'TransientFault' }],
    [
      'createSnapshot',
      ops.createSnapshot,
      'access-denied',
      { error: 'SnapshotFailed', message: `rds:${ops.createSnapshot}` },
    ],
    ['describeSnapshot', ops.describeSnapshots, 'throttling', { error: 'TransientFault' }],
    ['describeSnapshot', ops.describeSnapshots, 'not-found', { resolves: undefined }],
    ['describeSnapshot', ops.describeSnapshots, 'network', { error: 'TransientFault' }],
    ['restoreSnapshot', ops.describe, 'throttling', { error: 'TransientFault' }],
    [
      'restoreSnapshot',
      ops.describe,
      'access-denied',
      { error: 'RestoreFailed', message: `rds:${ops.describe}` },
    ],
    ['restoreSnapshot', ops.restore, 'throttling', { error: 'TransientFault' }],
    [
      'restoreSnapshot',
      ops.restore,
      'not-found',
      { error: 'RestoreFailed', message: `snapshot ${SNAPSHOT} does not exist` },
    ],
    [
      'restoreSnapshot',
      ops.restore,
      'invalid-state',
      { error: 'RestoreFailed', message: `snapshot ${SNAPSHOT} is not available` },
    ],
    [
      'restoreSnapshot',
      ops.restore,
      'quota-exceeded',
      { error: 'RestoreFailed', message: new RegExp(`${k.kind} quota.*The original ${O} is untouched`) },
    ],
    [
      'restoreSnapshot',
      ops.restore,
      'already-exists',
      { error: 'RestoreFailed', message: `the identifier ${R} is taken` },
    ],
    ['restoreSnapshot', ops.restore, 'timeout', { error: 'TransientFault' }],
    ['restoreSnapshot', ops.restore, 'network', { error: 'TransientFault' }],
    ['swapFirst', ops.describe, 'throttling', { error: 'TransientFault' }],
    ['swapFirst', ops.describe, 'timeout', { error: 'TransientFault' }],
    ['swapFirst', ops.modify, 'throttling', { error: 'TransientFault', message: `rename ${O} to ${A}` }],
    [
      'swapFirst',
      ops.modify,
      'invalid-state',
      { error: 'SwapFailed', message: /Nothing was renamed; the original is untouched/ },
    ],
    [
      'swapFirst',
      ops.modify,
      'not-found',
      { error: 'SwapFailed', message: `Renaming ${k.resource} ${O} to ${A} failed` },
    ],
    ['swapFirst', ops.modify, 'already-exists', { error: 'SwapFailed', message: /Nothing was renamed/ }],
    ['swapFirst', ops.modify, 'timeout', { error: 'TransientFault' }],
    ['swapFirst', ops.modify, 'network', { error: 'TransientFault' }],
    ['swapSecond', ops.describe, 'throttling', { error: 'TransientFault' }],
    ['swapSecond', ops.modify, 'throttling', { error: 'TransientFault', message: `rename ${R} to ${O}` }],
    [
      'swapSecond',
      ops.modify,
      'invalid-state',
      {
        error: 'SwapFailed',
        message: `aws rds modify-db-${k.kind} --db-${k.kind}-identifier ${A} --new-db-${k.kind}-identifier ${O} --apply-immediately`,
      },
    ],
    [
      'swapSecond',
      ops.modify,
      'not-found',
      {
        error: 'SwapFailed',
        message: [
          `refused to rename the restored copy ${R} to ${O}`,
          `the original ${k.resource} was renamed to ${A}`,
        ],
      },
    ],
    ['swapSecond', ops.modify, 'timeout', { error: 'TransientFault' }],
    ['swapSecond', ops.modify, 'network', { error: 'TransientFault' }],
  ];
}

describe.each([
  [INSTANCE.name, INSTANCE],
  [CLUSTER_KIND.name, CLUSTER_KIND],
] as const)('%s', (_, k) => {
  const h = useGateway(k);
  const { O, R, A, SNAPSHOT, ops } = k;

  describe('createSnapshot', () => {
    beforeEach(() => {
      k.seed(h.fake);
    });

    it(`calls ${k.ops.createSnapshot} with the id, the target and the tags as an RDS tag list`, async () => {
      // Act
      const started = await h.gateway.createSnapshot({
        snapshotId: SNAPSHOT,
        executionId: EXECUTION,
        tags: TAGS,
      });

      // Assess
      expect(h.fake.calls(ops.createSnapshot)).toEqual([
        { [k.snapshotKey]: SNAPSHOT, [k.idKey]: O, Tags: TAG_LIST },
      ]);
      expect(started).toEqual({
        snapshotId: SNAPSHOT,
        sourceIdentifier: O,
        status: 'creating',
        rawStatus: 'creating',
        tags: { ...TAGS, 'migration-execution': EXECUTION },
      });
    });

    it(`tags a pre-migration snapshot with its release (${k.ops.createSnapshot} Tags), as the create-snapshot core asks`, async () => {
      // Act
      await h.gateway.createSnapshot({
        snapshotId: SNAPSHOT,
        executionId: EXECUTION,
        tags: { ...TAGS, 'migration-release': 'v2', 'snapshot-kind': 'pre-migration' },
      });

      // Assess
      const [call] = h.fake.calls(ops.createSnapshot) as { Tags?: unknown }[];
      expect(call?.Tags).toEqual(
        expect.arrayContaining([
          { Key: 'migration-release', Value: 'v2' },
          { Key: 'migration-execution', Value: EXECUTION },
        ]),
      );
    });

    it('adopts the snapshot when it already exists from the same target', async () => {
      // Prepare
      await h.snapshotReady();

      // Act
      const adopted = await h.gateway.createSnapshot({
        snapshotId: SNAPSHOT,
        executionId: EXECUTION,
        tags: TAGS,
      });

      // Assess
      expect(adopted).toMatchObject({ snapshotId: SNAPSHOT, sourceIdentifier: O, status: 'available' });
      expect(h.fake.mutations()).toEqual([ops.createSnapshot, ops.createSnapshot]);
    });

    it('refuses, without adopting it, a snapshot with that id that another execution took, naming it', async () => {
      // Prepare
      await h.snapshotReady(OTHER_EXECUTION);
      h.fake.clearCalls();

      // Act
      const attempt = h.gateway.createSnapshot({ snapshotId: SNAPSHOT, executionId: EXECUTION, tags: TAGS });

      // Assess
      await expect(attempt).rejects.toMatchObject({
        name: 'SnapshotFailed',
        details: { snapshotId: SNAPSHOT, executionId: EXECUTION, createdBy: OTHER_EXECUTION },
      });
      await expect(attempt).rejects.toThrow(
        `${k.snapshotNoun} ${SNAPSHOT} of ${O} already exists but was taken by execution ${OTHER_EXECUTION}, not by this execution ${EXECUTION}`,
      );
      await expect(attempt).rejects.toThrow(/Nothing was applied and the database was not touched/);
      expect(h.fake.operations()).toEqual([ops.createSnapshot, ops.describeSnapshots]);
      expect(h.fake.calls(ops.createSnapshot)).toEqual([
        { [k.snapshotKey]: SNAPSHOT, [k.idKey]: O, Tags: TAG_LIST },
      ]);
      expect(h.fake.calls(ops.describeSnapshots)).toEqual([{ [k.snapshotKey]: SNAPSHOT }]);
      expect(k.snapshotTags(h.fake, SNAPSHOT)).toContainEqual({
        Key: 'migration-execution',
        Value: OTHER_EXECUTION,
      });
    });

    it('refuses a snapshot with that id that carries no execution tag (taken by hand)', async () => {
      // Prepare: RDS copies the target's tags, which name no execution.
      await k.snapshotByHand(h.fake, SNAPSHOT);
      h.fake.settle();
      h.fake.clearCalls();

      // Act
      const attempt = h.gateway.createSnapshot({ snapshotId: SNAPSHOT, executionId: EXECUTION, tags: TAGS });

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'SnapshotFailed' });
      await expect(attempt).rejects.toThrow(
        'was taken by an unknown execution (it has no migration-execution tag), not by this execution',
      );
      expect(h.fake.operations()).toEqual([ops.createSnapshot, ops.describeSnapshots]);
    });

    it('fails when a snapshot with that id exists from another target, naming both', async () => {
      // Prepare
      k.addPlain(h.fake, `billing-${k.kind === 'instance' ? 'db' : 'cluster'}`);
      const other = k.gateway(h.fake, `billing-${k.kind === 'instance' ? 'db' : 'cluster'}`);
      await other.createSnapshot({ snapshotId: SNAPSHOT, executionId: EXECUTION, tags: {} });

      // Act
      const attempt = h.gateway.createSnapshot({ snapshotId: SNAPSHOT, executionId: EXECUTION, tags: TAGS });

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'SnapshotFailed' });
      await expect(attempt).rejects.toThrow(
        new RegExp(`taken of ${k.resource} billing-${k.kind === 'instance' ? 'db' : 'cluster'}, not of ${O}`),
      );
    });

    it('fails with SnapshotQuotaExceeded when the account has 100 manual snapshots, saying how to free or raise it', async () => {
      // Prepare
      h.reset({ snapshotQuota: 0 });

      // Act
      const attempt = h.gateway.createSnapshot({ snapshotId: SNAPSHOT, executionId: EXECUTION, tags: TAGS });

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'SnapshotQuotaExceeded' });
      await expect(attempt).rejects.toThrow(
        new RegExp(`100 by default.*${k.deleteSnapshot}.*Service Quotas`),
      );
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
      k.seed(h.fake);
      await h.gateway.createSnapshot({ snapshotId: SNAPSHOT, executionId: EXECUTION, tags: TAGS });
      h.fake.setSnapshotStatus(SNAPSHOT, raw);

      // Act
      const description = await h.gateway.describeSnapshot(SNAPSHOT);

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
      k.seed(h.fake);
    });

    it('adopts its own restore when retried, without a second restore call', async () => {
      // Prepare
      await h.snapshotReady();
      await h.gateway.restoreSnapshot(h.restoreRequest());
      const before = h.fake.operations().length;

      // Act
      const retried = await h.gateway.restoreSnapshot(h.restoreRequest());

      // Assess
      expect(retried).toMatchObject({ identifier: R, status: 'restoring' });
      expect(h.fake.calls(ops.restore)).toHaveLength(1);
      expect(h.fake.operations().slice(before)).toEqual([ops.describe]);
    });

    it('refuses, without a restore call, a copy under the temporary identifier that another execution restored', async () => {
      // Prepare
      await h.snapshotReady();
      await h.gateway.restoreSnapshot(h.restoreRequest(OTHER_EXECUTION));
      h.fake.clearCalls();

      // Act
      const attempt = h.gateway.restoreSnapshot(h.restoreRequest());

      // Assess
      await expect(attempt).rejects.toMatchObject({
        name: 'RestoreFailed',
        details: { restoredIdentifier: R, executionId: EXECUTION, createdBy: OTHER_EXECUTION },
      });
      await expect(attempt).rejects.toThrow(
        `was not restored from that snapshot by this execution ${EXECUTION} (it was restored from it by execution ${OTHER_EXECUTION}). The original ${O} is untouched.`,
      );
      expect(h.fake.operations()).toEqual([ops.describe]);
      expect(h.fake.calls(ops.describe)).toEqual([{ [k.idKey]: R }]);
    });

    it('fails when the temporary identifier is taken by a database this workflow did not restore', async () => {
      // Prepare
      await h.snapshotReady();
      k.addPlain(h.fake, R);

      // Act
      const attempt = h.gateway.restoreSnapshot(h.restoreRequest());

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'RestoreFailed' });
      await expect(attempt).rejects.toThrow(`an ${k.resource} ${R} already exists`);
      expect(h.fake.calls(ops.restore)).toHaveLength(0);
    });

    it('fails when the original does not exist, since its settings cannot be read', async () => {
      // Prepare
      await h.snapshotReady();

      // Act
      const attempt = h.gateway.restoreSnapshot({ ...h.restoreRequest(), originalIdentifier: 'gone-db' });

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'RestoreFailed' });
      await expect(attempt).rejects.toThrow(`the original ${k.resource} gone-db does not exist`);
    });
  });

  describe('swap', () => {
    beforeEach(() => {
      k.seed(h.fake);
    });

    it('renames the original aside, then the restored copy into place, each with ApplyImmediately', async () => {
      // Prepare
      await h.restoreReady();
      h.fake.clearCalls();

      // Act
      const status = await h.swapUntilComplete();

      // Assess
      expect(status).toEqual({ phase: 'complete', complete: true });
      expect(h.fake.calls(ops.modify)).toEqual(h.renames());
      expect(k.identifiers(h.fake)).toEqual([O, A].sort());
      expect(h.fake.data(O)).toBe('before the release');
      expect(h.fake.data(A)).toBe('after the release');
    });

    it('waits, without asking twice, while RDS lists a rename as pending before the status says renaming', async () => {
      // Prepare
      h.reset({ renameLagTicks: 4 });
      await h.restoreReady();

      // Act
      const status = await h.swapUntilComplete();

      // Assess
      expect(status.complete).toBe(true);
      expect(h.fake.calls(ops.modify).filter((c) => k.newIdKey in c)).toEqual(h.renames());
    });
  });

  describe('faults', () => {
    beforeEach(() => {
      k.seed(h.fake);
    });

    faultMatrix(h, sharedFaultRows(k), SHARED_ARRANGEMENTS);

    it('names all three identifiers and their states when the second rename fails', async () => {
      // Prepare
      const act = await SHARED_ARRANGEMENTS.swapSecond(h);
      h.fake.failNext(ops.modify, 'invalid-state');

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
          restored: 'available',
          aside: 'available',
        },
      });
      expect((error as Error).message).toContain(
        `Now: ${O} does not exist; ${R} is available; ${A} is available.`,
      );
      expect(k.identifiers(h.fake)).toEqual([A, R].sort());
    });

    it('completes the swap when retried after a transient fault on the second rename', async () => {
      // Prepare
      const act = await SHARED_ARRANGEMENTS.swapSecond(h);
      h.fake.failNext(ops.modify, 'throttling');
      await expect(act()).rejects.toMatchObject({ name: 'TransientFault' });

      // Act
      const status = await h.swapUntilComplete();

      // Assess
      expect(status.complete).toBe(true);
      expect(k.identifiers(h.fake)).toEqual([O, A].sort());
    });
  });
});
