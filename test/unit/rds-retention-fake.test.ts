/**
 * Both RDS gateways' retention calls on the stateful fake RDS: what the fake lists, deletes and counts agrees
 * with what the gateways ask and expect (list -> delete -> list), automated and hand-taken snapshots are never
 * listed nor deleted, and the quota's `Used` follows the manual snapshots.
 */
import { describe, expect, it } from 'vitest';
import { FAKE_EPOCH, FAKE_TICK_MS } from '../helpers/fake-rds.js';
import { CLUSTER_KIND, INSTANCE, managedTags, useGateway } from '../helpers/rds-gateways.js';

const ANOTHER_EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:orchestrator:backup-2030-01-02';

describe.each([INSTANCE, CLUSTER_KIND])('$name retention on the fake RDS', (k) => {
  const h = useGateway(k);

  /**
   * Takes managed snapshot `id` of the target through the gateway, one tick after the previous one, and lets
   * it become available (the instance is backing up meanwhile) unless `settle` is false.
   */
  async function managed(
    id: string,
    kind: 'backup' | 'pre-migration' | undefined,
    { settle = true, executionId = ANOTHER_EXECUTION } = {},
  ) {
    h.fake.tick();
    await h.gateway.createSnapshot({
      snapshotId: id,
      executionId,
      tags: managedTags(k.O, kind, executionId),
    });
    if (settle) h.fake.settle();
  }

  /** Hand-taken, automated and another orchestrator's snapshots of the target, and one of another database. */
  async function foreign(): Promise<{ automated: string }> {
    k.addPlain(h.fake, 'billing-db');
    const asTags = (record: Record<string, string>) =>
      Object.entries(record).map(([Key, Value]) => ({ Key, Value }));
    // An instance takes one snapshot at a time: each settles before the next.
    await k.snapshotByHand(h.fake, 'by-hand');
    h.fake.settle();
    await k.snapshotByHand(
      h.fake,
      'other-stack',
      asTags({ 'managed-by': 'another-orchestrator', 'source-identifier': k.O }),
    );
    h.fake.settle();
    await k.snapshotByHand(
      h.fake,
      'billing-managed',
      asTags(managedTags('billing-db', 'backup')),
      'billing-db',
    );
    h.fake.settle();
    const automated = h.fake.addAutomatedSnapshot(k.O, { tags: asTags(managedTags(k.O, 'backup')) });
    return { automated };
  }

  it('lists, deletes, then lists again: only the managed snapshots of the target, oldest first', async () => {
    // Prepare
    k.seed(h.fake);
    await managed('backup-1', 'backup');
    await managed('premigration-1', 'pre-migration');
    await managed('backup-2', 'backup');
    const { automated } = await foreign();
    h.fake.settle();

    // Act
    const before = await h.gateway.listManagedSnapshots();
    const deleted = await h.gateway.deleteSnapshot('backup-1');
    const after = await h.gateway.listManagedSnapshots();

    // Assess
    expect(before.map((s) => [s.snapshotId, s.kind, s.status])).toEqual([
      ['backup-1', 'backup', 'available'],
      ['premigration-1', 'pre-migration', 'available'],
      ['backup-2', 'backup', 'available'],
    ]);
    expect(before[0]?.createdAt).toBe(new Date(FAKE_EPOCH + FAKE_TICK_MS).toISOString());
    expect(deleted).toBe(true);
    expect(after.map((s) => s.snapshotId)).toEqual(['premigration-1', 'backup-2']);
    expect(k.hasSnapshot(h.fake, 'backup-1')).toBe(false);
    for (const id of ['by-hand', 'other-stack', 'billing-managed', automated]) {
      expect(k.hasSnapshot(h.fake, id)).toBe(true);
    }
  });

  it('never deletes an automated, hand-taken, another orchestrator’s or another database’s snapshot', async () => {
    // Prepare
    k.seed(h.fake);
    const { automated } = await foreign();
    h.fake.settle();
    h.fake.clearCalls();

    // Act
    const answers = await Promise.all(
      ['by-hand', 'other-stack', 'billing-managed', automated, 'never-existed'].map((id) =>
        h.gateway.deleteSnapshot(id),
      ),
    );

    // Assess
    expect(answers).toEqual([false, false, false, false, false]);
    expect(h.fake.mutations()).toEqual([]);
    expect(await h.gateway.listManagedSnapshots()).toEqual([]);
  });

  it('lists every page, passing the marker back', async () => {
    // Prepare
    h.reset({ pageSize: 2 });
    for (let i = 1; i <= 5; i++) await managed(`backup-${i}`, 'backup');
    h.fake.settle();
    h.fake.clearCalls();

    // Act
    const listed = await h.gateway.listManagedSnapshots();

    // Assess
    expect(listed.map((s) => s.snapshotId)).toEqual([
      'backup-1',
      'backup-2',
      'backup-3',
      'backup-4',
      'backup-5',
    ]);
    expect(h.fake.calls(k.ops.describeSnapshots)).toEqual([
      { [k.idKey]: k.O, SnapshotType: 'manual' },
      { [k.idKey]: k.O, SnapshotType: 'manual', Marker: 'fake-marker-2' },
      { [k.idKey]: k.O, SnapshotType: 'manual', Marker: 'fake-marker-4' },
    ]);
  });

  it('lists a snapshot being created without a creation time, last; deleting it fails and keeps it', async () => {
    // Prepare
    h.reset({ ticksPerStatus: 20 });
    await managed('backup-1', 'backup');
    await managed('backup-2', 'backup', { settle: false });

    // Act
    const listed = await h.gateway.listManagedSnapshots();
    const attempt = h.gateway.deleteSnapshot('backup-2');

    // Assess
    expect(listed.map((s) => s.snapshotId)).toEqual(['backup-1', 'backup-2']);
    expect(listed[1]?.status).toBe('creating');
    expect(listed[1]).not.toHaveProperty('createdAt');
    await expect(attempt).rejects.toMatchObject({
      name: 'RetentionFailed',
      details: { snapshotId: 'backup-2' },
    });
    expect(k.hasSnapshot(h.fake, 'backup-2')).toBe(true);
  });

  it('answers false when the snapshot is deleted by someone else between the describe and the delete', async () => {
    // Prepare
    k.seed(h.fake);
    await managed('backup-1', 'backup');
    h.fake.settle();
    h.fake.failNext(k.ops.deleteSnapshot, 'not-found');

    // Act
    const deleted = await h.gateway.deleteSnapshot('backup-1');

    // Assess
    expect(deleted).toBe(false);
  });

  it('reports the quota with the manual snapshots of the account, automated ones not counted', async () => {
    // Prepare
    h.reset({ snapshotQuota: 120, manualSnapshotsElsewhere: 30 });
    await managed('backup-1', 'backup');
    await managed('backup-2', 'backup');
    h.fake.addAutomatedSnapshot(k.O);
    h.fake.settle();

    // Act
    const before = await h.gateway.snapshotQuota();
    await h.gateway.deleteSnapshot('backup-1');
    const after = await h.gateway.snapshotQuota();

    // Assess
    expect(before).toEqual({ used: 32, max: 120 });
    expect(after).toEqual({ used: 31, max: 120 });
    expect(h.fake.calls('DescribeAccountAttributes')).toEqual([{}, {}]);
  });

  it('refuses a snapshot with SnapshotQuotaExceeded once the account quota is used up elsewhere', async () => {
    // Prepare
    h.reset({ snapshotQuota: 10, manualSnapshotsElsewhere: 10 });

    // Act
    const attempt = h.gateway.createSnapshot({
      snapshotId: 'backup-1',
      executionId: ANOTHER_EXECUTION,
      tags: managedTags(k.O, 'backup'),
    });

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'SnapshotQuotaExceeded' });
  });

  it('has no quota when the account attributes do not report it', async () => {
    h.reset({ reportsSnapshotQuotas: false });
    await expect(h.gateway.snapshotQuota()).resolves.toBeUndefined();
  });

  it('reports a throttled listing as a transient fault', async () => {
    k.seed(h.fake);
    h.fake.failNext(k.ops.describeSnapshots, 'throttling');
    await expect(h.gateway.listManagedSnapshots()).rejects.toMatchObject({ name: 'TransientFault' });
  });

  it('names the missing permission when the delete is denied', async () => {
    k.seed(h.fake);
    await managed('backup-1', 'backup');
    h.fake.settle();
    h.fake.failNext(k.ops.deleteSnapshot, 'access-denied');
    await expect(h.gateway.deleteSnapshot('backup-1')).rejects.toThrow(`rds:${k.ops.deleteSnapshot}`);
    expect(k.hasSnapshot(h.fake, 'backup-1')).toBe(true);
  });
});
