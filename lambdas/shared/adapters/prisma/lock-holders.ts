/**
 * Who blocks a migration that hit its `lock_timeout`, named from `pg_locks` / `pg_stat_activity`.
 */
import type { Migration } from '../../contract/ports.js';
import { analyzeRelease } from '../../domain/release-analysis.js';
import { type ConnectionTarget, openClient } from '../postgres/client.js';

/** PostgreSQL's `lock_not_available`: a `lock_timeout` was hit. */
export const LOCK_NOT_AVAILABLE = '55P03';

/**
 * Who holds locks on the tables the failed migration needed, for a lock timeout: process id, application,
 * client address, state and how long their transaction has been open (never their query: it may hold row
 * values). Read on a fresh connection; '' when nothing can be said.
 */
export async function lockHolders(
  target: ConnectionTarget,
  schema: string | undefined,
  migration: Migration,
): Promise<string> {
  try {
    const tables = analyzeRelease([migration]).lockedTables;
    if (tables.length === 0) return '';
    const client = await openClient(target);
    try {
      if (schema !== undefined) await client.query(`SET search_path TO ${client.escapeIdentifier(schema)}`);
      const { rows } = await client.query<{
        pid: number;
        application_name: string;
        client_addr: string | null;
        state: string | null;
        xact_seconds: number | null;
        tables: string[];
      }>(
        `SELECT a.pid, a.application_name, host(a.client_addr) AS client_addr, a.state,
                extract(epoch FROM now() - a.xact_start)::int AS xact_seconds,
                array_agg(DISTINCT l.relation::regclass::text ORDER BY l.relation::regclass::text) AS tables
           FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.granted AND l.locktype = 'relation' AND a.pid <> pg_backend_pid()
            AND l.relation IN (SELECT to_regclass(t) FROM unnest($1::text[]) AS t WHERE to_regclass(t) IS NOT NULL)
          GROUP BY a.pid, a.application_name, a.client_addr, a.state, a.xact_start
          ORDER BY a.xact_start NULLS LAST`,
        [
          tables.map((table) =>
            table
              .split('.')
              .map((part) => client.escapeIdentifier(part))
              .join('.'),
          ),
        ],
      );
      if (rows.length === 0) return ' No other session holds a lock on its tables any more.';
      const sessions = rows.map(
        (row) =>
          `pid ${row.pid} (application "${row.application_name || 'unnamed'}", client ${row.client_addr ?? 'local socket'}, ` +
          `${row.state ?? 'unknown state'}, transaction open ${row.xact_seconds ?? '?'} s, holding ${row.tables.join(', ')})`,
      );
      return ` Blocked by: ${sessions.join('; ')}. End or wait for that session (SELECT pg_terminate_backend(pid)) and deploy again.`;
    } finally {
      await client.end().catch(() => undefined);
    }
  } catch {
    return '';
  }
}
