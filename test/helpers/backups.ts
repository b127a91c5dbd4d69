/**
 * Backups through the local runner, for the tests of backups and retention: a database under test, a backup run
 * at a given instant (the runner's test clock), and the server's databases named like a pattern.
 */
import { type LocalRunOptions, type LocalRunResult, runLocal } from '../../lib/local/runner.js';
import { withAdmin } from './database.js';

export interface Db {
  readonly name: string;
  readonly url: string;
}

/** The server's databases whose name is LIKE `pattern`, sorted. */
export async function databasesLike(pattern: string): Promise<string[]> {
  return await withAdmin(async (client) =>
    (
      await client.query<{ datname: string }>(
        'SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY datname',
        [pattern],
      )
    ).rows.map((row) => row.datname),
  );
}

/** One `backup` execution of `db` at the instant `at`, with days in Europe/Berlin. */
export function backupRun(db: Db, at: Date, options: Partial<LocalRunOptions> = {}): Promise<LocalRunResult> {
  return runLocal({
    databaseUrl: db.url,
    migrationsDir: 'prisma/migrations',
    input: { mode: 'backup' },
    retention: { timeZone: 'Europe/Berlin' },
    adapters: { clock: { now: () => at } },
    ...options,
  });
}
