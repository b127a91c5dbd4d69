/**
 * What the command line tells an operator at the end of a failed release, as a user runs it (a separate
 * process): the alarm matches what happened to the data.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { runLocal } from '../../lib/local/runner.js';
import { type CliRun, runCli } from '../helpers/cli.js';
import { createDatabase, dropDatabasesAndCopies } from '../helpers/database.js';
import { migrationsDirectory, removeMigrationDirectories } from '../helpers/migrations.js';

const databases: string[] = [];

function cli(args: string[], databaseUrl: string): Promise<CliRun> {
  return runCli(['run', ...args], { env: { DATABASE_URL: databaseUrl }, timeoutMs: 120_000 });
}

afterAll(async () => {
  await removeMigrationDirectories();
  await dropDatabasesAndCopies(databases);
});

describe('the end of a failed release without a snapshot', () => {
  it('says the release committed part of itself and nothing was restored, not that a rollback did not complete', async () => {
    // Prepare
    const db = await createDatabase('cli_outcomes');
    databases.push(db.name);
    const base: [string, string] = ['20250101000000_base', 'CREATE TABLE "A" ("id" INTEGER);\n'];
    expect(
      (await runLocal({ databaseUrl: db.url, migrationsDir: await migrationsDirectory([base]) })).outcome,
    ).toBe('succeeded');
    const release = await migrationsDirectory([
      base,
      ['20250201000000_b', 'CREATE TABLE "B" ("id" INTEGER);\n'],
      ['20250202000000_fails', 'SELECT 1/0;\n'],
    ]);

    // Act
    const result = await cli(
      [
        '--migrations',
        release,
        '--transaction-mode',
        'per-migration',
        '--input',
        JSON.stringify({ skipSnapshot: { reason: 'disposable preview environment' } }),
      ],
      db.url,
    );

    // Assess
    expect(result.code).toBe(3);
    expect(result.stdout).toContain(
      'the release committed part of itself, then failed, and no snapshot was taken',
    );
    expect(result.stdout).toContain('Committed by this release before it failed: 20250201000000_b');
    expect(result.stdout).not.toContain('the rollback did not complete');
  });
});
