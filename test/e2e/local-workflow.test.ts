/**
 * The whole workflow, from the synthesized definition, through the local runner, against real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestDatabase } from '../../bin/sample/database-digest.js';
import { composeRelease } from '../../bin/sample/sample-app.js';
import { PostgresExecutionGuard } from '../../lambdas/shared/adapters/postgres/execution-guard.js';
import { PostgresSnapshotGateway } from '../../lambdas/shared/adapters/postgres/snapshot-gateway.js';
import { OutcomeErrors, StateNames } from '../../lambdas/shared/contract/contract.js';
import { SnapshotFailedError } from '../../lambdas/shared/contract/errors.js';
import { requirePlan } from '../../lambdas/shared/contract/state.js';
import { type LocalRunResult, runLocal } from '../../lib/local/runner.js';
import {
  dropDatabase,
  sampleDatabase,
  sampleRelease,
  urlFor,
  withAdmin,
  withClient,
} from '../helpers/database.js';

/** The release plan of a migrate run. */
const releasePlan = (result: LocalRunResult) => requirePlan(result.state, 'test');

const SAMPLE = 'prisma/migrations';
let FAILING = '';
const created: string[] = [];

async function migrationNames(url: string): Promise<string[]> {
  return await withClient(url, async (client) =>
    (
      await client.query<{ migration_name: string }>(
        'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL ORDER BY migration_name',
      )
    ).rows.map((row) => row.migration_name),
  );
}

async function databasesLike(fragment: string): Promise<string[]> {
  return await withAdmin(async (client) =>
    (
      await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [
        `%${fragment}%`,
      ])
    ).rows.map((row) => row.datname),
  );
}

beforeAll(async () => {
  FAILING = await composeRelease('failing');
});

afterAll(async () => {
  for (const name of created) {
    for (const db of await databasesLike(name.replaceAll('_', '-'))) await dropDatabase(db);
    await dropDatabase(name);
  }
});

describe('the local workflow', () => {
  describe('a successful release, then a second run', () => {
    let db: { name: string; url: string };
    beforeAll(async () => {
      db = await sampleDatabase('e2e_ok', created);
    });

    it('applies the pending migrations through snapshot, apply and verify, preserving the data', async () => {
      // Prepare
      const before = await withClient(db.url, (c) =>
        c.query<{ name: string }>('SELECT name FROM "User" ORDER BY id'),
      );

      // Act
      const result = await runLocal({
        databaseUrl: db.url,
        migrationsDir: SAMPLE,
        input: sampleRelease({ release: 'v1.1.0' }),
      });

      // Assess
      expect(result.outcome).toBe('succeeded');
      expect(result.exitCode).toBe(0);
      expect(result.path).toEqual([
        StateNames.start,
        StateNames.preflight,
        StateNames.operation,
        StateNames.anythingToApply,
        StateNames.snapshotRequested,
        StateNames.createSnapshot,
        StateNames.waitForSnapshot,
        StateNames.checkSnapshot,
        StateNames.snapshotReady,
        StateNames.applyMigrations,
        StateNames.verifyHealth,
        StateNames.succeeded,
      ]);
      expect(result.state.apply?.applied).toEqual([
        '20250122090000_split_user_name',
        '20250129090000_task_priority',
      ]);
      expect(result.state.snapshot?.status).toBe('available');
      expect(result.state.health?.checks).toContainEqual(
        expect.objectContaining({ name: 'schema matches the migrations', ok: true }),
      );
      const after = await withClient(db.url, (c) =>
        c.query<{ name: string }>(
          `SELECT trim("firstName" || ' ' || coalesce("lastName", '')) AS name FROM "User" ORDER BY id`,
        ),
      );
      expect(after.rows).toEqual(before.rows);
      expect(await databasesLike(`${db.name.replaceAll('_', '-')}-premigration`)).toHaveLength(1);
    });

    it('finds nothing to do on the second run, without a snapshot', async () => {
      const result = await runLocal({ databaseUrl: db.url, migrationsDir: SAMPLE });
      expect(result.outcome).toBe('nothing-to-do');
      expect(result.exitCode).toBe(0);
      expect(result.path).toEqual([
        StateNames.start,
        StateNames.preflight,
        StateNames.operation,
        StateNames.anythingToApply,
        StateNames.nothingToDo,
      ]);
    });
  });

  it('rolls back a failed migration (per-migration mode): restored, swapped in, data identical, failed database kept aside', async () => {
    // Prepare
    const db = await sampleDatabase('e2e_rb', created, true);
    const before = await digestDatabase(db.url);

    // Act
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: FAILING,
      transactionMode: 'per-migration',
    });

    // Assess
    expect(result.outcome).toBe('migration-rolled-back');
    expect(result.exitCode).toBe(2);
    expect(result.error?.name).toBe(OutcomeErrors.MigrationRolledBack);
    expect(result.error?.cause).toContain('MigrationFailed');
    expect(result.path).toEqual(
      expect.arrayContaining([
        StateNames.applyMigrations,
        StateNames.restoreSnapshot,
        StateNames.checkRestore,
        StateNames.swap,
        StateNames.verifyRollbackHealth,
        StateNames.rolledBack,
      ]),
    );
    expect(result.path).not.toContain(StateNames.verifyHealth);
    expect(await digestDatabase(db.url)).toEqual(before);
    expect(result.state.rollbackHealth?.checks).toContainEqual(
      expect.objectContaining({ name: 'schema matches the migrations', ok: true }),
    );
    const aside = result.state.swap?.asideIdentifier ?? '';
    expect(await databasesLike(aside)).toEqual([aside]);
    expect((await migrationNames(urlFor(aside))).length).toBeGreaterThan(
      (await migrationNames(db.url)).length,
    );
  });

  it('rolls back when the health check fails after the release', async () => {
    const db = await sampleDatabase('e2e_hc', created);
    const before = await digestDatabase(db.url);
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: SAMPLE,
      input: sampleRelease(),
      healthChecks: [
        {
          name: 'the app still reads "User"."name"',
          sql: `SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'User' AND column_name = 'name')`,
        },
      ],
    });
    expect(result.outcome).toBe('migration-rolled-back');
    expect(result.error?.cause).toContain('HealthCheckFailed');
    expect(result.path).toEqual(
      expect.arrayContaining([
        StateNames.verifyHealth,
        StateNames.restoreSnapshot,
        StateNames.verifyRollbackHealth,
      ]),
    );
    expect(await digestDatabase(db.url)).toEqual(before);
  });

  it('ends with nothing applied when the snapshot fails', async () => {
    const db = await sampleDatabase('e2e_sf', created);
    const before = await digestDatabase(db.url);
    const real = new PostgresSnapshotGateway({ serverUrl: db.url, databaseName: db.name });
    const failing = Object.assign(Object.create(real) as PostgresSnapshotGateway, {
      createSnapshot: async () => {
        throw new SnapshotFailedError('the snapshot quota is exhausted (simulated)');
      },
    });
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: SAMPLE,
      input: sampleRelease(),
      adapters: { gateway: failing },
    });
    expect(result.outcome).toBe('snapshot-failed');
    expect(result.exitCode).toBe(4);
    expect(result.path).not.toContain(StateNames.applyMigrations);
    expect(await digestDatabase(db.url)).toEqual(before);
  });

  it('refuses a history with a failed row before any snapshot, naming the row', async () => {
    const db = await sampleDatabase('e2e_p3009', created);
    await withClient(db.url, (c) =>
      c.query(
        `UPDATE _prisma_migrations SET finished_at = NULL, logs = 'boom' WHERE migration_name = '20250115090000_add_comments'`,
      ),
    );
    const result = await runLocal({ databaseUrl: db.url, migrationsDir: SAMPLE, input: sampleRelease() });
    expect(result.outcome).toBe('preflight-refused');
    expect(result.exitCode).toBe(1);
    expect(result.error?.cause).toContain('20250115090000_add_comments');
    expect(result.path).not.toContain(StateNames.createSnapshot);
  });

  it('refuses an unreachable database without attempting a snapshot', async () => {
    const result = await runLocal({
      databaseUrl: 'postgres://nobody:secret-pw@127.0.0.1:1/nowhere',
      migrationsDir: SAMPLE,
    });
    expect(result.outcome).toBe('preflight-refused');
    expect(result.error?.cause).toContain('DatabaseUnreachable');
    expect(result.error?.cause).not.toContain('secret-pw');
    expect(result.path).not.toContain(StateNames.createSnapshot);
  });

  it('plans without applying on a dry run', async () => {
    const db = await sampleDatabase('e2e_dry', created);
    const before = await digestDatabase(db.url);
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: SAMPLE,
      input: sampleRelease({ dryRun: true }),
    });
    expect(result.outcome).toBe('dry-run');
    expect(result.exitCode).toBe(0);
    expect(releasePlan(result).pending).toEqual([
      '20250122090000_split_user_name',
      '20250129090000_task_priority',
    ]);
    expect(result.path).not.toContain(StateNames.createSnapshot);
    // Nothing is verified after a dry run: only the schema before the release is expected (the drift baseline's).
    expect(releasePlan(result).expectedSchemas).toHaveLength(1);
    expect(await digestDatabase(db.url)).toEqual(before);
  });

  it('refuses a second run on the same database while the first holds it, before any snapshot', async () => {
    const db = await sampleDatabase('e2e_lock', created);
    const first = await PostgresExecutionGuard.acquire(db.url, db.name);
    try {
      const result = await runLocal({ databaseUrl: db.url, migrationsDir: SAMPLE, input: sampleRelease() });
      expect(result.outcome).toBe('preflight-refused');
      expect(result.error?.cause).toContain('ConcurrentExecution');
      expect(result.path).not.toContain(StateNames.createSnapshot);
    } finally {
      await first.release();
    }
  });

  it('refuses bad input, naming the field', async () => {
    const db = await sampleDatabase('e2e_input', created);
    const result = await runLocal({ databaseUrl: db.url, migrationsDir: SAMPLE, input: { release: 42 } });
    expect(result.outcome).toBe('preflight-refused');
    expect(result.error?.cause).toContain('input.release');
  });

  it('refuses a migrations directory that is not in Prisma layout', async () => {
    const db = await sampleDatabase('e2e_dir', created);
    const result = await runLocal({ databaseUrl: db.url, migrationsDir: 'prisma' });
    expect(result.outcome).toBe('preflight-refused');
    expect(result.error?.cause).toContain('MigrationsInvalid');
  });

  it('ends loudly when a release without a snapshot fails: nothing to restore, exit code 3', async () => {
    const db = await sampleDatabase('e2e_nosnap', created, true);
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: FAILING,
      transactionMode: 'per-migration',
      input: { skipSnapshot: { reason: 'throwaway preview database' } },
    });
    expect(result.outcome).toBe('failed-without-snapshot');
    expect(result.exitCode).toBe(3);
    expect(result.path).not.toContain(StateNames.createSnapshot);
    expect(result.path).not.toContain(StateNames.restoreSnapshot);
    expect(result.path).toContain(StateNames.failedWithoutSnapshot);
  });

  describe('all-or-nothing releases (five migrations, the fourth fails)', () => {
    let fourthFails = '';
    beforeAll(async () => {
      fourthFails = await composeRelease('fourth-fails');
    });

    it('ends a failed release in one transaction with the database unchanged and no restore', async () => {
      // Prepare
      const db = await sampleDatabase('e2e_tx', created, true);
      const before = await digestDatabase(db.url);

      // Act
      const result = await runLocal({ databaseUrl: db.url, migrationsDir: fourthFails });

      // Assess
      expect(releasePlan(result).pending).toHaveLength(5);
      expect(releasePlan(result).transactionMode).toBe('release');
      expect(result.outcome).toBe('release-failed-unchanged');
      expect(result.exitCode).toBe(5);
      expect(result.error?.cause).toContain('20250226090000_task_estimates');
      expect(result.path.slice(-2)).toEqual([StateNames.applyMigrations, StateNames.releaseFailedUnchanged]);
      expect(result.path).not.toContain(StateNames.restoreSnapshot);
      expect(await digestDatabase(db.url)).toEqual(before);
    });

    it('takes the restore branch in per-migration mode and ends identical too', async () => {
      const db = await sampleDatabase('e2e_pm', created, true);
      const before = await digestDatabase(db.url);
      const result = await runLocal({
        databaseUrl: db.url,
        migrationsDir: fourthFails,
        input: { transactionMode: 'per-migration' },
      });
      expect(releasePlan(result).transactionMode).toBe('per-migration');
      expect(result.outcome).toBe('migration-rolled-back');
      expect(result.path).toContain(StateNames.restoreSnapshot);
      expect(await digestDatabase(db.url)).toEqual(before);
    });
  });

  it('falls back to per-migration mode for a release with CREATE INDEX CONCURRENTLY, and says so', async () => {
    const db = await sampleDatabase('e2e_cic', created, true);
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: await composeRelease('concurrent-index'),
    });
    expect(result.outcome).toBe('succeeded');
    expect(releasePlan(result).transactionMode).toBe('per-migration');
    expect(releasePlan(result).transactionFallbackReason).toMatch(/CREATE INDEX CONCURRENTLY/i);
    expect(result.state.plan?.warnings.join(' ')).toContain('cannot run in one transaction');
    expect(result.state.apply?.transactionMode).toBe('per-migration');
    expect(releasePlan(result).lockedTables.length).toBeGreaterThan(0);
  });
});
