/**
 * The whole workflow through the local runner with the stateful RDS fake standing in for AWS: the real
 * migration engine works on a real PostgreSQL database, while snapshots, restores and the identifier swap go
 * through `RdsInstanceSnapshotGateway` / `RdsClusterSnapshotGateway` against the fake RDS API. The fake's data
 * marker stands for the database contents, so the rollback health check can tell which data serves where.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { applyFirstMigrations, composeRelease, createSampleDatabase } from '../../bin/sample/sample-app.js';
import { PrismaMigrationEngine } from '../../lambdas/shared/adapters/prisma/migration-engine.js';
import { RdsClusterSnapshotGateway } from '../../lambdas/shared/adapters/rds/cluster.js';
import { RdsInstanceSnapshotGateway } from '../../lambdas/shared/adapters/rds/instance.js';
import { StateNames } from '../../lambdas/shared/contract/contract.js';
import type { HealthProbe, MigrationEngine, SnapshotGateway } from '../../lambdas/shared/contract/ports.js';
import { runLocal } from '../../lib/local/runner.js';
import { dropDatabase, uniqueName, urlFor } from '../helpers/database.js';
import { FakeRds } from '../helpers/fake-rds.js';

const created: string[] = [];
let fake: FakeRds | undefined;

afterEach(() => fake?.restore());
afterAll(async () => {
  for (const name of created) await dropDatabase(name);
});

async function sampleDatabase(allMigrations: boolean): Promise<string> {
  const name = uniqueName('e2e_rds');
  created.push(name);
  const url = urlFor(name);
  await createSampleDatabase(url, name, 'prisma/migrations');
  if (allMigrations) await applyFirstMigrations(url, 'prisma/migrations', Number.MAX_SAFE_INTEGER);
  return url;
}

/** Marks the fake's data as changed by the release before the real engine applies it. */
function markingEngine(url: string, rds: FakeRds, target: string): () => MigrationEngine {
  return () => {
    const engine = new PrismaMigrationEngine({ connectionString: url });
    return {
      readHistory: () => engine.readHistory(),
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
      return new RdsInstanceSnapshotGateway({ instanceIdentifier: 'orders-db', client: rds.client });
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
      return new RdsClusterSnapshotGateway({ clusterIdentifier: 'orders-cluster', client: rds.client });
    },
  },
];

describe.each(cases)('the workflow on the fake RDS ($kind)', ({ target, setup }) => {
  it('succeeds: waits for the snapshot over several describes, applies, verifies', async () => {
    fake = new FakeRds();
    const gateway = setup(fake);
    fake.setData(target, 'before the release');
    const url = await sampleDatabase(false);

    const result = await runLocal({
      databaseUrl: url,
      migrationsDir: 'prisma/migrations',
      input: { release: 'git-abc123' },
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
    const url = await sampleDatabase(true);

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
