/**
 * The execution guard of local runs: a PostgreSQL advisory lock per target database, taken on the server's
 * `postgres` database for the whole run, so two local runs (two CI jobs, two terminals) against one database
 * never interleave. Its key space (two int4 keys) is distinct from Prisma's migration lock (one bigint key).
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { ExecutionGuard } from '../../contract/ports.js';
import { connect, urlWithDatabase } from './connection.js';

/** 'morc': the first key of every lock this guard takes. */
const NAMESPACE = 0x6d6f7263;

function keyOf(databaseName: string): number {
  return createHash('sha256').update(databaseName).digest().readInt32BE(0);
}

export class PostgresExecutionGuard implements ExecutionGuard {
  private constructor(
    private readonly client: pg.Client,
    private readonly databaseName: string,
    private readonly held: boolean,
  ) {}

  /** Tries to take the lock of `databaseName` on the server of `serverUrl`; never waits. */
  static async acquire(serverUrl: string, databaseName: string): Promise<PostgresExecutionGuard> {
    const client = await connect(urlWithDatabase(serverUrl, 'postgres'));
    try {
      await client.query(
        `SET application_name = 'migration-orchestrator: ${databaseName.replaceAll("'", "''")}'`,
      );
      const result = await client.query<{ held: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS held', [
        NAMESPACE,
        keyOf(databaseName),
      ]);
      return new PostgresExecutionGuard(client, databaseName, result.rows[0]?.held === true);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  get acquired(): boolean {
    return this.held;
  }

  async othersRunning(): Promise<readonly string[]> {
    if (this.held) return [];
    const holders = await this.client.query<{ pid: number; since: Date | null; client: string | null }>(
      `SELECT l.pid, a.backend_start AS since, a.client_addr::text AS client
       FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
       WHERE l.locktype = 'advisory' AND l.classid = $1::oid AND l.objid = $2::oid AND l.objsubid = 2 AND l.granted`,
      [NAMESPACE, keyOf(this.databaseName) >>> 0],
    );
    if (holders.rows.length === 0)
      return [`another local run on ${this.databaseName} (it has just ended: retry)`];
    return holders.rows.map(
      (row) =>
        `a local run on ${this.databaseName} (server session ${row.pid}, connected ${row.since?.toISOString() ?? '?'}` +
        `${row.client ? ` from ${row.client}` : ''})`,
    );
  }

  /** Releases the lock (closing the session releases it too). */
  async release(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}
