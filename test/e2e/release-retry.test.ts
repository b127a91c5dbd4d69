/**
 * The retry guard end to end, through the local runner against real PostgreSQL: a release that failed and was
 * rolled back is not run again by a retried execution (preflight refuses, naming the first execution), `rerun`
 * runs it deliberately, and the applied release run once more has nothing to do.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresSnapshotGateway } from '../../lambdas/shared/adapters/postgres/snapshot-gateway.js';
import { OutcomeErrors, StateNames, TagKeys } from '../../lambdas/shared/contract/contract.js';
import { LOCAL_MANAGED_BY, runLocal } from '../../lib/local/runner.js';
import { createDatabase, dropDatabasesAndCopies, withClient } from '../helpers/database.js';
import { migrationsDirectory, removeMigrationDirectories } from '../helpers/migrations.js';

const created: string[] = [];

afterAll(async () => {
  await dropDatabasesAndCopies(created);
  await removeMigrationDirectories();
});

const MIGRATIONS = [
  ['20250101000000_orders', 'CREATE TABLE "Order" (id integer PRIMARY KEY);'],
  ['20250102000000_order_total', 'ALTER TABLE "Order" ADD COLUMN total integer;'],
] as const;

/** A check the release fails (it looks for a column the release does not add): the release is rolled back. */
const FAILING_CHECK = {
  name: 'the app reads "Order"."currency"',
  sql: `SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'Order' AND column_name = 'currency')`,
};

/** The refusal's step error, as the Fail state's cause carries it (the Lambda error JSON). */
function refusalOf(result: { error?: { cause: string } }): { errorType: string; errorMessage: string } {
  return JSON.parse(result.error?.cause ?? '{}');
}

async function appliedMigrations(url: string): Promise<string[]> {
  return await withClient(url, async (client) => {
    // Restored to before the release, the empty database has no _prisma_migrations yet.
    const table = await client.query<{ t: string | null }>(
      `SELECT to_regclass('_prisma_migrations')::text AS t`,
    );
    if (table.rows[0]?.t === null) return [];
    const rows = await client.query<{ migration_name: string }>(
      'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY 1',
    );
    return rows.rows.map((row) => row.migration_name);
  });
}

describe('a retried release (local runner)', () => {
  it('refuses to run a rolled-back release again, runs it with rerun, then has nothing to do', async () => {
    // Prepare
    const db = await createDatabase('h5_retry');
    created.push(db.name);
    const migrationsDir = await migrationsDirectory(MIGRATIONS);
    const common = { databaseUrl: db.url, migrationsDir, reportsDir: false as const };

    // Act 1: the release fails its health check and is rolled back.
    const first = await runLocal({
      ...common,
      input: { release: 'v2' },
      executionName: 'h5-retry-first',
      healthChecks: [FAILING_CHECK],
    });
    // Assess 1
    expect(first.outcome).toBe('migration-rolled-back');
    expect(await appliedMigrations(db.url)).toEqual([]);
    const gateway = new PostgresSnapshotGateway({
      serverUrl: db.url,
      databaseName: db.name,
      managedBy: LOCAL_MANAGED_BY,
    });
    expect((await gateway.listManagedSnapshots()).map((s) => [s.tags[TagKeys.release], s.outcome])).toEqual([
      ['v2', 'migration-rolled-back'],
    ]);

    // Act 2: the same release started again (a retried pipeline action: a new execution).
    const retried = await runLocal({ ...common, input: { release: 'v2' }, executionName: 'h5-retry-second' });
    // Assess 2: refused before anything was touched, naming the first execution and the way to re-run it.
    expect(retried.outcome).toBe('preflight-refused');
    expect(retried.error?.name).toBe(OutcomeErrors.PreflightRefused);
    const refusal = refusalOf(retried);
    expect(refusal.errorType).toBe('MigrationHistoryBlocked');
    expect(refusal.errorMessage).toContain('Release v2 already ran');
    expect(refusal.errorMessage).toContain('execution h5-retry-first');
    expect(refusal.errorMessage).toContain('it did not succeed: migration-rolled-back');
    expect(refusal.errorMessage).toContain('"rerun": "h5-retry-first"');
    expect(refusal.errorMessage).toContain('Nothing was touched');
    expect(retried.path).not.toContain(StateNames.createSnapshot);
    expect(await appliedMigrations(db.url)).toEqual([]);

    // Act 3: a rerun naming another execution is refused; naming the first one runs the release.
    const wrong = await runLocal({
      ...common,
      input: { release: 'v2', rerun: 'h5-retry-second' },
      executionName: 'h5-retry-wrong',
    });
    const rerun = await runLocal({
      ...common,
      input: { release: 'v2', rerun: 'h5-retry-first' },
      executionName: 'h5-retry-rerun',
    });
    // Assess 3
    expect(wrong.outcome).toBe('preflight-refused');
    expect(refusalOf(wrong)).toMatchObject({ errorType: 'InvalidInput' });
    expect(refusalOf(wrong).errorMessage).toContain('input.rerun: names execution "h5-retry-second"');
    expect(rerun.outcome).toBe('succeeded');
    expect(rerun.state.plan?.warnings).toContain(
      'This execution runs release v2 again (rerun), after execution h5-retry-first: it did not succeed: ' +
        'migration-rolled-back (migration failed and was rolled back: the snapshot was restored and swapped into place).',
    );
    expect(await appliedMigrations(db.url)).toEqual(MIGRATIONS.map(([name]) => name));

    // Act 4: the applied release, started once more.
    const again = await runLocal({ ...common, input: { release: 'v2' }, executionName: 'h5-retry-again' });
    // Assess 4
    expect(again.outcome).toBe('nothing-to-do');
    expect(again.exitCode).toBe(0);
  });

  it('refuses a retry after the release failed with the database unchanged, as on AWS, and runs it with rerun', async () => {
    // Prepare: the release's second migration fails, and in release mode nothing of it commits.
    const db = await createDatabase('h5_retry_unchanged');
    created.push(db.name);
    const failing = await migrationsDirectory([MIGRATIONS[0], ['20250102000000_fails', 'SELECT 1/0;']]);
    const fixed = await migrationsDirectory(MIGRATIONS);
    const common = { databaseUrl: db.url, reportsDir: false as const };

    // Act 1
    const first = await runLocal({
      ...common,
      migrationsDir: failing,
      input: { release: 'v3' },
      executionName: 'h5-unchanged-first',
    });
    // Assess 1: nothing applied; the attempt's snapshot is kept with its outcome, as the RDS snapshot is on AWS.
    expect(first.outcome).toBe('release-failed-unchanged');
    expect(await appliedMigrations(db.url)).toEqual([]);
    const gateway = new PostgresSnapshotGateway({
      serverUrl: db.url,
      databaseName: db.name,
      managedBy: LOCAL_MANAGED_BY,
    });
    expect((await gateway.listManagedSnapshots()).map((s) => [s.tags[TagKeys.release], s.outcome])).toEqual([
      ['v3', 'release-failed-unchanged'],
    ]);

    // Act 2: the same release retried, then deliberately re-run with the fixed migrations.
    const retried = await runLocal({
      ...common,
      migrationsDir: fixed,
      input: { release: 'v3' },
      executionName: 'h5-unchanged-retry',
    });
    const rerun = await runLocal({
      ...common,
      migrationsDir: fixed,
      input: { release: 'v3', rerun: 'h5-unchanged-first' },
      executionName: 'h5-unchanged-rerun',
    });

    // Assess 2
    expect(retried.outcome).toBe('preflight-refused');
    expect(refusalOf(retried).errorMessage).toContain('execution h5-unchanged-first');
    expect(rerun.outcome).toBe('succeeded');
    expect(await appliedMigrations(db.url)).toEqual(MIGRATIONS.map(([name]) => name));
  });
});
