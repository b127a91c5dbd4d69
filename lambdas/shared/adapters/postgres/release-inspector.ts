/**
 * `ReleaseInspector` over `pg`: ends the apply step's own migration session (found by its
 * `application_name`), reads `_prisma_migrations`, and marks rows rolled back, each on a fresh connection.
 */
import type { AppliedMigration } from '../../contract/contract.js';
import { ReleaseOutcomeUnknownError } from '../../contract/errors.js';
import type { ReleaseInspector } from '../../contract/ports.js';
import { readPrismaHistory } from '../prisma/history.js';
import { type ConnectionSettings, withClient } from './connection.js';

export interface PgReleaseInspectorOptions {
  readonly connection: ConnectionSettings;
  /** Pause between two looks at `pg_stat_activity` while waiting for a session to end. @default 200 ms */
  readonly pollMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class PgReleaseInspector implements ReleaseInspector {
  constructor(private readonly options: PgReleaseInspectorOptions) {}

  async endSessions(applicationName: string, timeoutMs: number): Promise<number> {
    return await withClient(this.options.connection, async (client) => {
      const sessions = async () =>
        (
          await client.query<{ pid: number }>(
            `SELECT pid FROM pg_stat_activity
              WHERE application_name = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
            [applicationName],
          )
        ).rows.map((row) => row.pid);
      const found = await sessions();
      if (found.length === 0) return 0;
      // pg_terminate_backend rolls back the session's transaction and releases its locks.
      await client.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [found]);
      const deadline = Date.now() + timeoutMs;
      let left = await sessions();
      while (left.length > 0) {
        if (Date.now() > deadline) {
          throw new ReleaseOutcomeUnknownError(
            `The migration session of the failed apply step (application_name ${applicationName}, pid ` +
              `${left.join(', ')}) did not end within ${Math.round(timeoutMs / 1000)} s of being terminated, so ` +
              'what the release committed cannot be read yet. Nothing was restored. Look at it in ' +
              'pg_stat_activity, end it (SELECT pg_terminate_backend(pid)), then read _prisma_migrations.',
            { details: { applicationName, pids: left } },
          );
        }
        await sleep(this.options.pollMs ?? 200);
        left = await sessions();
      }
      return found.length;
    });
  }

  async readHistory(): Promise<readonly AppliedMigration[]> {
    return await withClient(this.options.connection, (client) => readPrismaHistory(client));
  }

  async markRolledBack(migrations: readonly string[]): Promise<void> {
    if (migrations.length === 0) return;
    // What `prisma migrate resolve --rolled-back` does to the failed rows of a migration.
    await withClient(this.options.connection, (client) =>
      client.query(
        `UPDATE _prisma_migrations SET rolled_back_at = now()
          WHERE migration_name = ANY($1::text[]) AND finished_at IS NULL AND rolled_back_at IS NULL`,
        [[...migrations]],
      ),
    );
  }
}
