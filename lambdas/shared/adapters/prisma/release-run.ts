/**
 * One `applyPending` run: what happened (the run state the error translation reads), and the release
 * transaction's control (a savepoint per migration script, the final COMMIT).
 */
import type pg from 'pg';
import type { AppliedMigration, MigrationTiming, TransactionMode } from '../../contract/contract.js';
import {
  MigrationFailedDatabaseUnchangedError,
  MigrationFailedError,
  messageOf,
} from '../../contract/errors.js';
import type { Migration } from '../../contract/ports.js';
import type { ScriptFailure } from './engine-failures.js';

/** What happened during one `applyPending` run. */
export interface RunState {
  mode: TransactionMode;
  fallbackReason?: string;
  history: readonly AppliedMigration[];
  pending: readonly Migration[];
  /** Migrations whose script completed in this run (committed, or pending the release COMMIT). */
  readonly completed: string[];
  /** How long each completed migration's script ran, in `completed`'s order. */
  readonly timings: MigrationTiming[];
  /** The migration the engine is applying, from its log. */
  current?: string;
  failure?: ScriptFailure;
}

const SAVEPOINT = 'prisma_migration';

/**
 * Runs one migration script inside the release transaction: `SAVEPOINT`, the script, `RELEASE SAVEPOINT`; on an
 * error `ROLLBACK TO SAVEPOINT` first, so the engine can record the failure in its row (the whole release is
 * rolled back afterwards).
 */
export async function runInSavepoint(client: pg.Client, script: string): Promise<void> {
  await client.query(`SAVEPOINT ${SAVEPOINT}`);
  try {
    await client.query(script);
  } catch (error) {
    await client.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`).catch(() => undefined);
    throw error;
  }
  await client.query(`RELEASE SAVEPOINT ${SAVEPOINT}`);
}

/** Commits the release transaction, or says how it failed: refused by PostgreSQL, or the connection lost. */
export async function commitRelease(client: pg.Client, state: RunState): Promise<void> {
  try {
    await client.query('COMMIT');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const last = state.completed.at(-1) ?? 'the release';
    if (typeof code === 'string') {
      // PostgreSQL refused the COMMIT (a deferred constraint, a serialization failure) and rolled back.
      throw new MigrationFailedDatabaseUnchangedError(
        `The release transaction failed at COMMIT with PostgreSQL error ${code}: ${messageOf(error)}. ` +
          'PostgreSQL rolled it back (often a deferred constraint).',
        { cause: error, details: { migration: last, code, message: messageOf(error), applied: [] } },
      );
    }
    throw new MigrationFailedError(
      `The connection was lost while committing the release transaction (${messageOf(error)}): whether ` +
        'PostgreSQL committed it cannot be told from here.',
      {
        cause: error,
        details: { migration: last, message: messageOf(error), applied: [...state.completed] },
      },
    );
  }
}

/** The pending migrations of `history`'s database, in the bundle's order. */
export function pendingOf(
  migrations: readonly Migration[],
  history: readonly AppliedMigration[],
): Migration[] {
  const applied = new Set(
    history.filter((row) => row.finishedAt !== null && row.rolledBackAt === null).map((row) => row.name),
  );
  return migrations.filter((migration) => !applied.has(migration.name));
}
