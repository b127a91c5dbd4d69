/**
 * A digest of a database's contents: every table's row count and a hash of its rows (in a stable order),
 * plus the schema's columns. Two databases with equal digests hold the same data: this is how the demos
 * and the tests prove "exactly as before".
 */
import pg from 'pg';
import { withClient } from '../../lambdas/shared/adapters/postgres/connection.js';

export interface TableDigest {
  readonly rows: number;
  readonly hash: string;
}

export interface DatabaseDigest {
  readonly tables: Readonly<Record<string, TableDigest>>;
  /** `table.column type nullable default`, sorted. */
  readonly columns: readonly string[];
  /** Index and constraint definitions, sorted. */
  readonly indexes: readonly string[];
}

export async function digestDatabase(url: string): Promise<DatabaseDigest> {
  return await withClient(url, async (client) => {
    const tables = await client.query<{ schema: string; name: string }>(
      `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
       WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
       ORDER BY 1, 2`,
    );
    const digests: Record<string, TableDigest> = {};
    for (const { schema, name } of tables.rows) {
      const qualified = `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(name)}`;
      const result = await client.query<{ rows: string; hash: string | null }>(
        `SELECT count(*) AS rows, md5(string_agg(t::text, E'\\n' ORDER BY t::text)) AS hash FROM ${qualified} t`,
      );
      const row = result.rows[0];
      digests[`${schema}.${name}`] = { rows: Number(row?.rows ?? 0), hash: row?.hash ?? '' };
    }
    const columns = await client.query<{ line: string }>(
      `SELECT table_schema || '.' || table_name || '.' || column_name || ' ' || data_type || ' ' ||
              is_nullable || ' ' || coalesce(column_default, '') AS line
       FROM information_schema.columns WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
       ORDER BY 1`,
    );
    const indexes = await client.query<{ line: string }>(
      `SELECT schemaname || '.' || indexname || ' ' || indexdef AS line FROM pg_indexes
       WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
       UNION ALL
       SELECT conrelid::regclass::text || '.' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
       WHERE connamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
       ORDER BY 1`,
    );
    return {
      tables: digests,
      columns: columns.rows.map((r) => r.line),
      indexes: indexes.rows.map((r) => r.line),
    };
  });
}
