/**
 * Who holds Prisma's migration advisory lock. Prisma's schema engine takes it with
 * `SELECT pg_advisory_lock(72707369)` (read from the engine itself) for the whole of `migrate deploy`; a bigint key
 * shows in `pg_locks` as `locktype = 'advisory'`, `classid` = its high 32 bits (0), `objid` = its low 32 bits
 * (72707369), `objsubid = 1` (a two-integer key has `objsubid = 2`), in the current database.
 */
import type { MigrationLockHolder, MigrationLockInspector } from '../../contract/ports.js';
import { type ConnectionSettings, withClient } from './connection.js';

/** The key of Prisma's migration advisory lock. */
export const PRISMA_MIGRATION_LOCK_KEY = 72707369;

/** How long `end` waits for each ended session to go (`pg_terminate_backend(pid, timeout)`). */
const END_TIMEOUT_MS = 5_000;

export interface PgMigrationLockOptions {
  readonly connection: ConnectionSettings;
}

export class PgMigrationLock implements MigrationLockInspector {
  constructor(private readonly options: PgMigrationLockOptions) {}

  async holders(): Promise<readonly MigrationLockHolder[]> {
    return await withClient(this.options.connection, async (client) => {
      const { rows } = await client.query<{
        pid: number;
        application_name: string | null;
        client_addr: string | null;
        state: string | null;
        state_seconds: number | null;
        connected_seconds: number | null;
      }>(
        `SELECT l.pid, a.application_name, host(a.client_addr) AS client_addr, a.state,
                extract(epoch FROM now() - a.state_change)::int AS state_seconds,
                extract(epoch FROM now() - a.backend_start)::int AS connected_seconds
           FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND l.granted
            AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND l.classid = 0 AND l.objid = $1::oid AND l.objsubid = 1
            AND l.pid <> pg_backend_pid()
          ORDER BY l.pid`,
        [PRISMA_MIGRATION_LOCK_KEY],
      );
      return rows.map((row) => ({
        pid: row.pid,
        applicationName: row.application_name ?? '',
        ...(row.client_addr === null ? {} : { clientAddress: row.client_addr }),
        ...(row.state === null ? {} : { state: row.state }),
        ...(row.state_seconds === null ? {} : { stateSeconds: row.state_seconds }),
        ...(row.connected_seconds === null ? {} : { connectedSeconds: row.connected_seconds }),
      }));
    });
  }

  async end(pids: readonly number[]): Promise<readonly { pid: number; ended: boolean; message?: string }[]> {
    return await withClient(this.options.connection, async (client) => {
      const results: { pid: number; ended: boolean; message?: string }[] = [];
      for (const pid of pids) {
        try {
          const { rows } = await client.query<{ ended: boolean }>(
            'SELECT pg_terminate_backend($1, $2) AS ended',
            [pid, END_TIMEOUT_MS],
          );
          results.push({ pid, ended: rows[0]?.ended === true });
        } catch (error) {
          // Not allowed (another role's session without pg_signal_backend), or the session went meanwhile.
          results.push({ pid, ended: false, message: (error as Error).message });
        }
      }
      return results;
    });
  }
}
