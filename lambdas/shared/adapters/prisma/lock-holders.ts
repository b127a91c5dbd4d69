/**
 * Who blocks a migration that hit its `lock_timeout`, named from `pg_locks` / `pg_stat_activity`.
 */
import { deparseSync, parseSync } from 'pgsql-parser';
import type { Migration } from '../../contract/ports.js';
import { analyzeRelease } from '../../domain/release-analysis.js';
import { type ConnectionTarget, openClient } from '../postgres/client.js';

/** How much of a blocker's redacted query a message shows. */
const QUERY_CHARACTERS = 80;

/** Statements whose text, once every constant is replaced by a parameter, holds no value: shown redacted. */
const SHOWN: ReadonlySet<string> = new Set([
  'SelectStmt',
  'InsertStmt',
  'UpdateStmt',
  'DeleteStmt',
  'MergeStmt',
  'TransactionStmt',
  'LockStmt',
]);

/** `value` with every constant (`A_Const`: numbers, strings, booleans, NULL) replaced by `$1`, `$2`, ... */
function withoutConstants(value: unknown, counter: { n: number }): unknown {
  if (Array.isArray(value)) return value.map((item) => withoutConstants(item, counter));
  if (value === null || typeof value !== 'object') return value;
  if ('A_Const' in value) {
    counter.n += 1;
    return { ParamRef: { number: counter.n } };
  }
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => [key, withoutConstants(child, counter)]),
  );
}

/** `AlterTableStmt` -> `ALTER TABLE`. */
function commandOf(type: string): string {
  return type
    .replace(/Stmt$/, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toUpperCase();
}

/**
 * The first characters of a blocker's last query with no value in them: parsed with PostgreSQL's parser, every
 * constant replaced by a parameter (`WHERE id = $1`), comments dropped; statements that may carry values
 * elsewhere (function bodies, `DO` blocks, `COMMENT ... IS`, `COPY` options) are named by their command only
 * (`CREATE FUNCTION`). A query that does not parse (cut short by `track_activity_query_size`, hidden from this
 * role) is not shown at all.
 */
export function redactedQuery(query: string | null): string {
  if (query === null || query.trim() === '') return 'no query';
  try {
    const parsed = parseSync(query) as { stmts?: { stmt?: Record<string, unknown> }[] };
    const parts = (parsed.stmts ?? []).flatMap(({ stmt }) => {
      if (stmt === undefined) return [];
      const type = Object.keys(stmt)[0] ?? '';
      if (!SHOWN.has(type)) return [commandOf(type)];
      return [deparseSync(withoutConstants(stmt, { n: 0 }) as never)];
    });
    const text = parts.join('; ').replace(/\s+/g, ' ').trim();
    if (text === '') return 'no query';
    return text.length > QUERY_CHARACTERS ? `${text.slice(0, QUERY_CHARACTERS - 3)}...` : text;
  } catch {
    return 'query not shown (it could not be parsed, so its values could not be redacted)';
  }
}

/**
 * Who holds locks on the tables the failed migration needed, for a lock timeout: process id, application,
 * client address, state, how long their transaction has been open, and the first characters of their last
 * query with every value replaced by a parameter (`redactedQuery`; never their data). Read on a fresh
 * connection; '' when nothing can be said.
 */
export async function lockHolders(
  target: ConnectionTarget,
  schema: string | undefined,
  migration: Migration,
): Promise<string> {
  try {
    const tables = analyzeRelease([migration], { keepStatementsUpTo: 0 }).lockedTables;
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
        query: string | null;
        tables: string[];
      }>(
        `SELECT a.pid, a.application_name, host(a.client_addr) AS client_addr, a.state, a.query,
                extract(epoch FROM now() - a.xact_start)::int AS xact_seconds,
                array_agg(DISTINCT l.relation::regclass::text ORDER BY l.relation::regclass::text) AS tables
           FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.granted AND l.locktype = 'relation' AND a.pid <> pg_backend_pid()
            AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND l.relation IN (SELECT to_regclass(t) FROM unnest($1::text[]) AS t WHERE to_regclass(t) IS NOT NULL)
          GROUP BY a.pid, a.application_name, a.client_addr, a.state, a.query, a.xact_start
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
          `${row.state ?? 'unknown state'}, transaction open ${row.xact_seconds ?? '?'} s, holding ${row.tables.join(', ')}, ` +
          `last query: ${redactedQuery(row.query)})`,
      );
      return ` Blocked by: ${sessions.join('; ')}. End or wait for that session (SELECT pg_terminate_backend(pid)) and deploy again.`;
    } finally {
      await client.end().catch(() => undefined);
    }
  } catch {
    return '';
  }
}
