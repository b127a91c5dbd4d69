/**
 * The whole workflow through the local runner with the stateful RDS fake standing in for AWS: the real
 * migration engine works on a real PostgreSQL database, while snapshots, restores and the identifier swap go
 * through `RdsInstanceSnapshotGateway` / `RdsClusterSnapshotGateway` against the fake RDS API. The fake's data
 * marker stands for the database contents, so the rollback health check can tell which data serves where.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { composeRelease } from '../../bin/sample/sample-app.js';
import { PrismaMigrationEngine } from '../../lambdas/shared/adapters/prisma/migration-engine.js';
import { RdsClusterSnapshotGateway } from '../../lambdas/shared/adapters/rds/cluster.js';
import { RdsInstanceSnapshotGateway } from '../../lambdas/shared/adapters/rds/instance.js';
import { ErrorNames, OutcomeErrors, StateNames, TagKeys } from '../../lambdas/shared/contract/contract.js';
import type { HealthProbe, MigrationEngine, SnapshotGateway } from '../../lambdas/shared/contract/ports.js';
import { LOCAL_MANAGED_BY, runLocal } from '../../lib/local/runner.js';
import { dropDatabase, sampleDatabase, sampleRelease } from '../helpers/database.js';
import { FakeRds } from '../helpers/fake-rds.js';

const created: string[] = [];
let fake: FakeRds | undefined;

afterEach(() => fake?.restore());
afterAll(async () => {
  for (const name of created) await dropDatabase(name);
});

/** Marks the fake's data as changed by the release before the real engine applies it. */
function markingEngine(url: string, rds: FakeRds, target: string): () => MigrationEngine {
  return () => {
    const engine = new PrismaMigrationEngine({ connectionString: url });
    return {
      readHistory: () => engine.readHistory(),
      readSchemaCatalog: () => engine.readSchemaCatalog(),
      applyPending: async (bundle, options) => {
        rds.setData(target, 'after the failed release');
        return await engine.applyPending(bundle, options);
      },
      close: () => engine.close(),
    };
  };
}

/** Healthy when the database serving under the target identifier holds `expected`. */
function markerProbe(rds: FakeRds, target: string, expected: string): HealthProbe {
  return {
    check: async () => {
      const ok = rds.data(target) === expected;
      return {
        healthy: ok,
        checks: [{ name: 'data marker', ok, detail: `${target} holds ${rds.data(target)}` }],
      };
    },
  };
}

const cases: { kind: string; target: string; setup: (rds: FakeRds) => SnapshotGateway }[] = [
  {
    kind: 'RDS instance',
    target: 'orders-db',
    setup: (rds) => {
      rds.addInstance({
        DBInstanceIdentifier: 'orders-db',
        DBInstanceClass: 'db.m6g.large',
        MultiAZ: true,
        StorageType: 'gp3',
        AllocatedStorage: 100,
      });
      return new RdsInstanceSnapshotGateway({
        instanceIdentifier: 'orders-db',
        client: rds.client,
        managedBy: LOCAL_MANAGED_BY,
      });
    },
  },
  {
    kind: 'Aurora cluster',
    target: 'orders-cluster',
    setup: (rds) => {
      rds.addCluster(
        {
          DBClusterIdentifier: 'orders-cluster',
          ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 8 },
        },
        [
          {
            DBInstanceIdentifier: 'orders-cluster-writer',
            DBInstanceClass: 'db.r6g.large',
            PromotionTier: 0,
          },
          {
            DBInstanceIdentifier: 'orders-cluster-reader',
            DBInstanceClass: 'db.serverless',
            PromotionTier: 1,
          },
        ],
      );
      return new RdsClusterSnapshotGateway({
        clusterIdentifier: 'orders-cluster',
        client: rds.client,
        managedBy: LOCAL_MANAGED_BY,
      });
    },
  },
];

describe.each(cases)('the workflow on the fake RDS ($kind)', ({ target, setup }) => {
  it('succeeds: waits for the snapshot over several describes, applies, verifies', async () => {
    fake = new FakeRds();
    const gateway = setup(fake);
    fake.setData(target, 'before the release');
    const url = (await sampleDatabase('e2e_rds', created, false)).url;

    const result = await runLocal({
      databaseUrl: url,
      migrationsDir: 'prisma/migrations',
      input: sampleRelease({ release: 'git-abc123' }),
      settings: { targetIdentifier: target },
      adapters: { gateway },
    });

    expect(result.outcome).toBe('succeeded');
    expect(result.path.filter((s) => s === StateNames.checkSnapshot).length).toBeGreaterThan(1);
    expect(result.state.apply?.applied).toHaveLength(2);
    const snapshotId = result.state.snapshot?.snapshotId ?? '';
    const snapshot = fake.snapshot(snapshotId) ?? fake.clusterSnapshot(snapshotId);
    expect(snapshot?.TagList).toEqual(
      expect.arrayContaining([{ Key: 'migration-release', Value: 'git-abc123' }]),
    );
  });

  it('rolls back a failed migration: restored under a temporary id, original renamed aside, restored renamed in', async () => {
    fake = new FakeRds();
    const gateway = setup(fake);
    fake.setData(target, 'before the release');
    const url = (await sampleDatabase('e2e_rds', created, true)).url;

    const result = await runLocal({
      databaseUrl: url,
      migrationsDir: await composeRelease('failing'),
      transactionMode: 'per-migration',
      settings: { targetIdentifier: target },
      adapters: {
        gateway,
        engine: markingEngine(url, fake, target),
        probe: markerProbe(fake, target, 'before the release'),
      },
    });

    expect(result.outcome).toBe('migration-rolled-back');
    expect(result.exitCode).toBe(2);
    const swap = result.state.swap;
    expect(swap?.complete).toBe(true);
    expect(swap?.asideIdentifier).toMatch(new RegExp(`^${target}-rolledback-\\d{8}t\\d{6}z$`));
    expect(fake.data(target)).toBe('before the release');
    expect(fake.data(swap?.asideIdentifier ?? '')).toBe('after the failed release');
    const ids = fake.identifiers();
    expect([...ids.instances, ...ids.clusters]).not.toContain(swap?.restoredIdentifier);
    expect(result.path).toEqual(
      expect.arrayContaining([
        StateNames.waitForRestore,
        StateNames.swapDone,
        StateNames.verifyRollbackHealth,
      ]),
    );
  });
});

describe.each(cases)('backups and restores on the fake RDS ($kind)', ({ target, setup }) => {
  /** A clock the runner and the fake share: snapshots are taken, and retention runs, at its time. */
  function sharedClock(start: string) {
    let now = Date.parse(start);
    return { now: () => new Date(now), advanceDays: (days: number) => (now += days * 86_400_000) };
  }

  it('takes daily backups and keeps what the policy keeps, never an automated snapshot', async () => {
    // Prepare
    const clock = sharedClock('2030-03-01T02:00:00.000Z');
    fake = new FakeRds({ clock: clock.now });
    const gateway = setup(fake);
    const automated = fake.addAutomatedSnapshot(target);
    const url = (await sampleDatabase('e2e_rds', created, false)).url;
    const backup = async () =>
      await runLocal({
        databaseUrl: url,
        migrationsDir: 'prisma/migrations',
        input: { mode: 'backup' },
        settings: { targetIdentifier: target },
        retention: { daily: 3, weekly: 0, monthly: 0 },
        adapters: { gateway, clock },
      });
    // Act
    const results = [];
    for (let day = 0; day < 6; day += 1) {
      results.push(await backup());
      clock.advanceDays(1);
    }
    // Assess
    for (const result of results) expect(result.outcome).toBe('backup-taken');
    const taken = results.map((r) => r.state.snapshot?.snapshotId ?? '');
    expect(taken.every((id) => id.startsWith(`${target}-backup-`))).toBe(true);
    const left = (await gateway.listManagedSnapshots()).map((s) => s.snapshotId);
    expect(left).toEqual(taken.slice(-3));
    expect(results.at(-1)?.state.retention?.deleted.map((d) => d.snapshotId)).toEqual([taken[2]]);
    expect(fake.snapshot(automated) ?? fake.clusterSnapshot(automated)).toBeDefined();
    const tags = (await gateway.listManagedSnapshots()).at(-1)?.tags ?? {};
    expect(tags).toMatchObject({
      [TagKeys.kind]: 'backup',
      [TagKeys.retention]: 'gfs-3d-0w-0m',
      [TagKeys.source]: target,
      [TagKeys.managedBy]: LOCAL_MANAGED_BY,
    });
    expect(results[0]?.path).not.toContain(StateNames.applyMigrations);
  });

  /** The target backed up ("at the backup"), then written to a day later ("written after the backup"). */
  async function backedUpTarget() {
    const clock = sharedClock('2030-03-01T02:00:00.000Z');
    const rds = new FakeRds({ clock: clock.now });
    fake = rds;
    const gateway = setup(rds);
    rds.setData(target, 'at the backup');
    const url = (await sampleDatabase('e2e_rds', created, false)).url;
    const common = {
      databaseUrl: url,
      migrationsDir: 'prisma/migrations',
      settings: { targetIdentifier: target },
    };
    const backup = await runLocal({ ...common, input: { mode: 'backup' }, adapters: { gateway, clock } });
    clock.advanceDays(1);
    rds.setData(target, 'written after the backup');
    return { clock, gateway, common, backup, rds };
  }

  it('restores the latest backup next to the original and swaps it in', async () => {
    // Prepare
    const { clock, gateway, common, backup, rds } = await backedUpTarget();
    // Act
    const result = await runLocal({
      ...common,
      input: { mode: 'restore', snapshot: 'latest', confirm: target },
      adapters: { gateway, clock, probe: markerProbe(rds, target, 'at the backup') },
    });
    // Assess
    expect(backup.outcome).toBe('backup-taken');
    expect(result.outcome).toBe('backup-restored');
    expect(result.exitCode).toBe(0);
    expect(result.state.restore?.snapshotId).toBe(backup.state.snapshot?.snapshotId);
    expect(rds.data(target)).toBe('at the backup');
    expect(rds.data(result.state.swap?.asideIdentifier ?? '')).toBe('written after the backup');
    expect(result.state.rollbackHealth?.summary).toMatch(/^Restored: /);
    expect(result.path).not.toContain(StateNames.createSnapshot);
  });

  it('ends a requested restore the API refuses as BackupRestoreFailed, the original serving as it was', async () => {
    // Prepare: a backup, then the restore call denied (a role without rds:RestoreDBInstanceFromDBSnapshot)
    const { clock, gateway, common, rds } = await backedUpTarget();
    const restoreCall = target.endsWith('cluster')
      ? 'RestoreDBClusterFromSnapshot'
      : 'RestoreDBInstanceFromDBSnapshot';
    rds.failNext(restoreCall, 'access-denied');

    // Act
    const result = await runLocal({
      ...common,
      input: { mode: 'restore', snapshot: 'latest', confirm: target },
      adapters: { gateway, clock },
    });

    // Assess
    expect(result.outcome).toBe('restore-failed');
    expect(result.exitCode).toBe(8);
    expect(result.error?.name).toBe(OutcomeErrors.BackupRestoreFailed);
    expect(result.path.at(-1)).toBe(StateNames.backupRestoreFailed);
    expect(result.error?.cause).not.toMatch(/failed release/);
    expect(rds.data(target)).toBe('written after the backup');
    expect(result.state.swap).toBeUndefined();
  });

  it('refuses a backup at the manual snapshot quota, taking nothing', async () => {
    // Prepare
    fake = new FakeRds({ snapshotQuota: 5, manualSnapshotsElsewhere: 5 });
    const gateway = setup(fake);
    const url = (await sampleDatabase('e2e_rds', created, false)).url;
    // Act
    const result = await runLocal({
      databaseUrl: url,
      migrationsDir: 'prisma/migrations',
      input: { mode: 'backup' },
      settings: { targetIdentifier: target },
      adapters: { gateway },
    });
    // Assess
    expect(result.outcome).toBe('snapshot-failed');
    expect(result.error?.cause).toContain(ErrorNames.SnapshotQuotaExceeded);
    expect(result.error?.cause).toMatch(/quota is reached \(5 of 5\)/);
    expect(await gateway.listManagedSnapshots()).toEqual([]);
  });
});
