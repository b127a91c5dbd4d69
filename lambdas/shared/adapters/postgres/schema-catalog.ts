/**
 * What the lint needs of the database before the release, in one query on the catalog: the schema unqualified names
 * resolve to, every table of the database's own schemas, and the columns a validated `CHECK (column IS NOT NULL)`
 * covers. Names only: never a row of a table.
 */
import type pg from 'pg';
import type { SchemaCatalog } from '../../domain/lint/rules.js';

const CATALOG_QUERY = `
  WITH own AS (
    SELECT oid, nspname FROM pg_namespace
     WHERE nspname <> 'information_schema' AND nspname NOT LIKE 'pg\\_%'
  )
  SELECT coalesce(current_schema(), 'public') AS schema,
         coalesce((SELECT array_agg(own.nspname || '.' || c.relname ORDER BY own.nspname, c.relname)
                     FROM pg_class c JOIN own ON own.oid = c.relnamespace
                    WHERE c.relkind IN ('r', 'p')), '{}') AS tables,
         coalesce((SELECT array_agg(own.nspname || '.' || c.relname || '.' || a.attname
                                   ORDER BY own.nspname, c.relname, a.attname)
                     FROM pg_constraint k
                     JOIN pg_class c ON c.oid = k.conrelid
                     JOIN own ON own.oid = c.relnamespace
                     JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
                    WHERE k.contype = 'c' AND k.convalidated AND cardinality(k.conkey) = 1
                      AND pg_get_constraintdef(k.oid) = format('CHECK ((%s IS NOT NULL))', quote_ident(a.attname))),
                  '{}') AS not_null_checked`;

/** Reads the catalog on `client` (its search path decides the schema of unqualified names). */
export async function readSchemaCatalog(client: pg.Client): Promise<SchemaCatalog> {
  const { rows } = await client.query<{ schema: string; tables: string[]; not_null_checked: string[] }>(
    CATALOG_QUERY,
  );
  const row = rows[0];
  return {
    schema: row?.schema ?? 'public',
    tables: row?.tables ?? [],
    notNullChecked: row?.not_null_checked ?? [],
  };
}
