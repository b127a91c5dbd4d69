/**
 * A fingerprint of a database's schema: one SHA-256 over a canonical text of its catalog (relations, columns,
 * constraints, indexes, types, sequences, views, extensions and comments) in the given schemas, read in one
 * query with `search_path` set to `pg_catalog`, so every name is qualified and two databases of one server give
 * the same text exactly when their schemas are the same.
 *
 * It covers everything Prisma's schema describer compares (and more: column order, comments, invalid indexes),
 * so equal fingerprints mean Prisma's diff of the two would be empty; different ones mean nothing by themselves
 * (the engine's diff then decides, and says what differs). OIDs, sizes, statistics and data are left out, and
 * so is Prisma's own `_prisma_migrations`, as its diff leaves it out.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';

/** The canonical lines of the schema, sorted (with `COLLATE "C"`, the same in every database). */
const CATALOG_TEXT = `
WITH ns AS (SELECT oid, nspname FROM pg_namespace WHERE nspname = ANY ($1::text[])),
rel AS (
  SELECT c.oid, quote_ident(ns.nspname) || '.' || quote_ident(c.relname) AS name, c.relkind, c.relpersistence,
         c.relispartition, c.relpartbound, c.relrowsecurity, c.relforcerowsecurity
    FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c') AND c.relname <> '_prisma_migrations'
),
typ AS (
  SELECT t.oid, quote_ident(ns.nspname) || '.' || quote_ident(t.typname) AS name, t.typtype, t.typbasetype,
         t.typtypmod, t.typnotnull, t.typdefault
    FROM pg_type t JOIN ns ON ns.oid = t.typnamespace
   WHERE t.typtype IN ('e', 'd', 'r', 'm')
),
line AS (
  SELECT 'rel ' || name || ' ' || relkind::text || relpersistence::text
         || CASE WHEN relispartition THEN ' partition of ' || coalesce(pg_get_expr(relpartbound, oid), '') ELSE '' END
         || CASE WHEN relrowsecurity THEN ' rls' ELSE '' END
         || CASE WHEN relforcerowsecurity THEN ' force-rls' ELSE '' END AS text
    FROM rel
  UNION ALL
  SELECT 'col ' || rel.name || ' ' || lpad(row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum)::text, 5, '0')
         || ' ' || quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
         || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
         || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
         || CASE WHEN a.attidentity <> '' THEN ' identity ' || a.attidentity::text ELSE '' END
         || CASE WHEN a.attgenerated <> '' THEN ' generated ' || a.attgenerated::text ELSE '' END
         || coalesce(' collate ' || quote_ident(co.collname), '')
    FROM pg_attribute a
    JOIN rel ON rel.oid = a.attrelid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    LEFT JOIN pg_collation co ON co.oid = a.attcollation
   WHERE a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 'con ' || coalesce(rel.name, typ.name) || ' ' || quote_ident(c.conname) || ' ' || c.contype::text || ' '
         || pg_get_constraintdef(c.oid, true)
         || CASE WHEN c.condeferrable THEN ' deferrable' ELSE '' END
         || CASE WHEN c.condeferred THEN ' deferred' ELSE '' END
         || CASE WHEN NOT c.convalidated THEN ' not valid' ELSE '' END
    FROM pg_constraint c
    LEFT JOIN rel ON rel.oid = c.conrelid
    LEFT JOIN typ ON typ.oid = c.contypid
   WHERE rel.oid IS NOT NULL OR typ.oid IS NOT NULL
  UNION ALL
  SELECT 'idx ' || rel.name || ' ' || pg_get_indexdef(i.indexrelid)
         || CASE WHEN NOT i.indisvalid THEN ' invalid' ELSE '' END
         || CASE WHEN i.indisclustered THEN ' clustered' ELSE '' END
         || CASE WHEN i.indisreplident THEN ' replica identity' ELSE '' END
    FROM pg_index i JOIN rel ON rel.oid = i.indrelid
  UNION ALL
  SELECT 'typ ' || typ.name || ' ' || typ.typtype::text
         || CASE WHEN typ.typtype = 'e' THEN ' ' || (SELECT string_agg(quote_literal(e.enumlabel), ',' ORDER BY e.enumsortorder)
                                                      FROM pg_enum e WHERE e.enumtypid = typ.oid)
                 WHEN typ.typtype = 'd' THEN ' ' || format_type(typ.typbasetype, typ.typtypmod)
                      || CASE WHEN typ.typnotnull THEN ' not null' ELSE '' END || coalesce(' default ' || typ.typdefault, '')
                 ELSE '' END
    FROM typ
  UNION ALL
  SELECT 'seq ' || rel.name || ' ' || format_type(s.seqtypid, NULL) || ' ' || s.seqstart::text || ' ' || s.seqincrement::text
         || ' ' || s.seqmin::text || ' ' || s.seqmax::text || ' ' || s.seqcache::text || CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END
    FROM pg_sequence s JOIN rel ON rel.oid = s.seqrelid
  UNION ALL
  SELECT 'view ' || rel.name || ' ' || pg_get_viewdef(rel.oid, true) FROM rel WHERE rel.relkind IN ('v', 'm')
  UNION ALL
  SELECT 'ext ' || quote_ident(x.extname) || ' ' || x.extversion || ' ' || quote_ident(ns.nspname)
    FROM pg_extension x JOIN ns ON ns.oid = x.extnamespace
  UNION ALL
  SELECT 'comment ' || rel.name || ' ' || ds.objsubid::text || ' ' || ds.description
    FROM pg_description ds JOIN rel ON rel.oid = ds.objoid AND ds.classoid = 'pg_class'::regclass
)
SELECT coalesce(string_agg(text, E'\\n' ORDER BY text COLLATE "C"), '') AS catalog FROM line`;

/** The schemas of `client`'s database that are not PostgreSQL's own and hold a relation or a type, sorted. */
export async function userSchemas(client: pg.Client): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT n.nspname AS name FROM pg_namespace n
      WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
        AND (EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = n.oid)
             OR EXISTS (SELECT 1 FROM pg_type t WHERE t.typnamespace = n.oid))
      ORDER BY n.nspname COLLATE "C"`,
  );
  return rows.map((row) => row.name);
}

/** The canonical text of the schemas' catalog (what the fingerprint hashes; for messages and tests). */
export async function catalogText(client: pg.Client, schemas: readonly string[]): Promise<string> {
  // Every name qualified, whatever the session's search path: `SET LOCAL` inside a transaction of its own.
  await client.query('BEGIN READ ONLY');
  try {
    await client.query('SET LOCAL search_path = pg_catalog');
    const { rows } = await client.query<{ catalog: string }>(CATALOG_TEXT, [[...schemas]]);
    return rows[0]?.catalog ?? '';
  } finally {
    await client.query('COMMIT').catch(() => undefined);
  }
}

/** SHA-256 (hex) of the schemas' canonical catalog text. */
export async function schemaFingerprint(client: pg.Client, schemas: readonly string[]): Promise<string> {
  return createHash('sha256')
    .update(await catalogText(client, schemas))
    .digest('hex');
}
