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
 *
 * All of it is one simple query: `SAVEPOINT`, the held writes if any (the engine's bookkeeping writes held until
 * this script, see `held-bookkeeping.ts`), the script, `RELEASE SAVEPOINT`, in one round trip instead of five. A
 * failure then rolls back to the savepoint, before the held writes, and sends them again on their own: the engine
 * finds what it would have found without holding them (the earlier rows written, the script undone). A PostgreSQL
 * error's `position` is made relative to the script again.
 */
export async function runInSavepoint(client: pg.Client, script: string, held?: string): Promise<void> {
  const lead = held === undefined ? `SAVEPOINT ${SAVEPOINT};\n` : `SAVEPOINT ${SAVEPOINT};\n${held};\n`;
  try {
    // The newline ends a `--` comment on the script's last line.
    await client.query(`${lead}${script}\n;RELEASE SAVEPOINT ${SAVEPOINT}`);
  } catch (error) {
    relativeTo(error, lead);
    try {
      await client.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`);
    } catch {
      // The query did not parse as a whole, so nothing of it ran, not even the SAVEPOINT: the transaction is
      // aborted, the engine's next write fails, and the release is rolled back with this script's error.
      throw error;
    }
    // The held writes again, alone; if they fail, their error is the one to report.
    if (held !== undefined) await client.query(held);
    throw error;
  }
}

/**
 * Runs one migration script outside a release transaction (per-migration mode), after `held`: the INSERT of its
 * row, held to travel with it when the script can run in a transaction. Both are then one simple query, one
 * implicit transaction: the row and the script's effects commit together, or neither does. A failure sends the
 * INSERT again on its own, so the engine finds its row as it would have (then records the failure in it); a
 * crash during the script leaves no row for a script that left nothing either, where Prisma leaves a failed row.
 */
export async function runAutocommit(script: string, client: pg.Client, held?: string): Promise<void> {
  if (held === undefined) {
    await client.query(script);
    return;
  }
  const lead = `${held};\n`;
  try {
    await client.query(`${lead}${script}`);
  } catch (error) {
    relativeTo(error, lead);
    await client.query(held);
    throw error;
  }
}

/** Makes a PostgreSQL error's `position` (1-based characters of the query) relative to what follows `lead`. */
function relativeTo(error: unknown, lead: string): void {
  const e = error as { position?: unknown } | null;
  if (e === null || typeof e !== 'object' || typeof e.position !== 'string') return;
  const position = Number(e.position) - [...lead].length;
  if (Number.isInteger(position) && position >= 1) e.position = String(position);
  else delete e.position;
}

/**
 * Commits the release transaction, after the bookkeeping writes still held (the last migration's), or says how it
 * failed: refused by PostgreSQL, or the connection lost.
 */
export async function commitRelease(client: pg.Client, state: RunState, held?: string): Promise<void> {
  if (held !== undefined) {
    try {
      await client.query(held);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw new MigrationFailedDatabaseUnchangedError(
        `Every migration of the release ran, but writing their rows to _prisma_migrations failed: ` +
          `${messageOf(error)}. The release transaction was rolled back.`,
        {
          cause: error,
          details: {
            migration: state.completed.at(-1) ?? 'the release',
            message: messageOf(error),
            applied: [],
          },
        },
      );
    }
  }
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
