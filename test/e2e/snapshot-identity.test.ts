/**
 * The snapshot a rollback restores is the one its own execution took, through the local runner on real
 * PostgreSQL: two executions whose names clean to the same identifier (`Release.1`, `release-1`) each take
 * their own snapshot, so rolling back the second never brings back the first one's database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeRelease, createSampleDatabase } from '../../bin/sample/sample-app.js';
import { TagKeys } from '../../lambdas/shared/contract/contract.js';
import { runLocal } from '../../lib/local/runner.js';
import {
  adminUrl,
  dropDatabase,
  sampleRelease,
  uniqueName,
  urlFor,
  withAdmin,
  withClient,
} from '../helpers/database.js';

const SAMPLE = 'prisma/migrations';
const LATE_USER = 'written.after.release.1@example.com';

async function databasesLike(fragment: string): Promise<string[]> {
  return await withAdmin(async (client) =>
    (
      await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [
        `%${fragment}%`,
      ])
    ).rows.map((row) => row.datname),
  );
}

async function finishedMigrations(url: string): Promise<string[]> {
  return await withClient(url, async (client) =>
    (
      await client.query<{ migration_name: string }>(
        'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL ORDER BY migration_name',
      )
    ).rows.map((row) => row.migration_name),
  );
}

async function usersWithEmail(url: string, email: string): Promise<number> {
  return await withClient(
    url,
    async (client) => (await client.query('SELECT 1 FROM "User" WHERE email = $1', [email])).rowCount ?? 0,
  );
}

async function executionTagOf(snapshot: string): Promise<string | undefined> {
  return await withAdmin(async (client) => {
    const { rows } = await client.query<{ comment: string | null }>(
      `SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1`,
      [snapshot],
    );
    const comment = rows[0]?.comment;
    return comment
      ? (JSON.parse(comment) as { tags: Record<string, string> }).tags[TagKeys.execution]
      : undefined;
  });
}

describe('the snapshot a rollback restores', () => {
  const name = uniqueName('e2e_identity');
  const url = urlFor(name);
  let failing = '';

  beforeAll(async () => {
    failing = await composeRelease('failing');
    await createSampleDatabase(adminUrl(), name, SAMPLE);
  });

  afterAll(async () => {
    for (const db of await databasesLike(name.replaceAll('_', '-'))) await dropDatabase(db);
    await dropDatabase(name);
  });

  it('is the one its own execution took, even after an execution whose name cleans alike (Release.1, release-1)', async () => {
    // Prepare: Release.1 succeeds, then the application writes a row.
    const first = await runLocal({
      databaseUrl: url,
      migrationsDir: SAMPLE,
      input: sampleRelease(),
      executionName: 'Release.1',
    });
    expect(first.outcome).toBe('succeeded');
    await withClient(url, (client) =>
      client.query(`INSERT INTO "User" (email, "firstName") VALUES ($1, 'Late')`, [LATE_USER]),
    );
    const afterFirst = await finishedMigrations(url);

    // Act: release-1 fails after committing some of its migrations, and is rolled back.
    const second = await runLocal({
      databaseUrl: url,
      migrationsDir: failing,
      transactionMode: 'per-migration',
      executionName: 'release-1',
    });

    // Assess: each execution took its own snapshot, and the rollback restored release-1's: the row written
    // after Release.1 is there, and so are Release.1's migrations.
    expect(await usersWithEmail(url, LATE_USER)).toBe(1);
    expect(await finishedMigrations(url)).toEqual(afterFirst);
    const firstSnapshot = first.state.snapshot?.snapshotId ?? '';
    const secondSnapshot = second.state.snapshot?.snapshotId ?? '';
    expect(secondSnapshot).not.toBe(firstSnapshot);
    expect(second.state.restore?.snapshotId).toBe(secondSnapshot);
    expect(await executionTagOf(firstSnapshot)).toBe(first.state.execution.id);
    expect(await executionTagOf(secondSnapshot)).toBe(second.state.execution.id);
    expect(second.outcome).toBe('migration-rolled-back');
  });
});
