/**
 * Reading `_prisma_migrations` (the engine's bookkeeping table) with plain SQL, for the engine's preflight
 * reads and the health probe.
 */
import type pg from 'pg';
import type { AppliedMigration } from '../../contract/contract.js';

/** Rows of `_prisma_migrations`, oldest first, or none when the table does not exist. */
export async function readPrismaHistory(client: pg.Client): Promise<AppliedMigration[]> {
  const exists = await client.query<{ present: boolean }>(
    "SELECT to_regclass('_prisma_migrations') IS NOT NULL AS present",
  );
  if (!exists.rows[0]?.present) return [];
  const { rows } = await client.query<{
    migration_name: string;
    checksum: string;
    finished_at: Date | null;
    rolled_back_at: Date | null;
    started_at: Date;
    applied_steps_count: number;
    logs: string | null;
  }>(
    `SELECT migration_name, checksum, finished_at, rolled_back_at, started_at, applied_steps_count, logs
       FROM _prisma_migrations ORDER BY started_at, migration_name`,
  );
  return rows.map((row) => ({
    name: row.migration_name,
    checksum: row.checksum,
    finishedAt: row.finished_at?.toISOString() ?? null,
    rolledBackAt: row.rolled_back_at?.toISOString() ?? null,
    startedAt: row.started_at.toISOString(),
    appliedStepsCount: row.applied_steps_count,
    logs: row.logs,
  }));
}
