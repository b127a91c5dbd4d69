/**
 * Prisma's schema engine on real schemas, against a real PostgreSQL server and the real engine: catalog
 * columns of PostgreSQL's internal `"char"` type (a CHECK constraint used to make the describer panic).
 */
import { resolve } from 'node:path';
import { ColumnTypeEnum } from '@prisma/driver-adapter-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { DirectoryMigrationSource } from '../../lambdas/shared/adapters/directory-migration-source.js';
import { PgHealthProbe } from '../../lambdas/shared/adapters/pg-health-probe.js';
import { PinnedMigrationAdapterFactory } from '../../lambdas/shared/adapters/prisma/migration-driver-adapter.js';
import { connectionTarget, openClient } from '../../lambdas/shared/adapters/prisma/pg-connection.js';
import { PrismaMigrationEngine } from '../../lambdas/shared/adapters/prisma-migration-engine.js';
import { PrismaSchemaDriftDetector } from '../../lambdas/shared/adapters/prisma-schema-drift-detector.js';
import type { MigrationBundle } from '../../lambdas/shared/ports.js';
import { createDatabase, dropDatabase, withClient } from '../helpers/database.js';

const FIXTURE = resolve(import.meta.dirname, '../fixtures/engine-robustness');
const MIGRATIONS = resolve(FIXTURE, 'migrations');

const created: string[] = [];

afterAll(async () => {
  for (const name of created) await dropDatabase(name);
});

async function database(prefix: string): Promise<{ name: string; url: string }> {
  const db = await createDatabase(prefix);
  created.push(db.name);
  return db;
}

async function catalogBundle(): Promise<MigrationBundle> {
  return await new DirectoryMigrationSource(MIGRATIONS).load();
}

/** A database with every catalog object of the fixture, applied by our engine. */
async function catalogDatabase(): Promise<{ name: string; url: string; names: string[] }> {
  const db = await database('robust');
  const bundle = await catalogBundle();
  const engine = new PrismaMigrationEngine({ connectionString: db.url });
  await engine.applyPending(bundle, { transactionMode: 'release' });
  return { ...db, names: bundle.migrations.map((m) => m.name) };
}

describe('the engine on a schema with every kind of catalog object', () => {
  it('applies migrations with CHECK constraints, foreign key actions, identity and generated columns, partial and expression indexes, views, a trigger, a domain, enums, an owned sequence, comments and a second schema', async () => {
    const db = await catalogDatabase();
    const counts = await withClient(db.url, async (client) => {
      const { rows } = await client.query<Record<string, number>>(
        `SELECT
           (SELECT count(*)::int FROM pg_constraint
              WHERE contype = 'c' AND connamespace::regnamespace::text IN ('public', 'reporting')) AS checks,
           (SELECT count(*)::int FROM pg_constraint WHERE contype = 'f') AS foreign_keys,
           (SELECT count(*)::int FROM pg_attribute WHERE attidentity <> '' AND attnum > 0) AS identities,
           (SELECT count(*)::int FROM pg_attribute WHERE attgenerated <> '' AND attnum > 0) AS generated,
           (SELECT count(*)::int FROM pg_class WHERE relkind = 'm') AS materialized_views,
           (SELECT count(*)::int FROM pg_trigger WHERE NOT tgisinternal) AS triggers,
           (SELECT count(*)::int FROM _prisma_migrations WHERE finished_at IS NOT NULL) AS applied`,
      );
      return rows[0];
    });
    expect(counts).toEqual({
      checks: 5, // 4 on tables, 1 on the domain
      foreign_keys: 3,
      identities: 3,
      generated: 1,
      materialized_views: 1,
      triggers: 1,
      applied: 2,
    });
  });

  it('reports the database in sync with the migrations that created it, without panicking on its CHECK constraints', async () => {
    const db = await catalogDatabase();
    const detector = new PrismaSchemaDriftDetector({
      connection: db.url,
      source: new DirectoryMigrationSource(MIGRATIONS),
    });
    await expect(detector.diff(db.names)).resolves.toEqual({ inSync: true, script: expect.any(String) });
  });

  it('passes the health check "schema matches the migrations" on that database', async () => {
    const db = await catalogDatabase();
    const probe = new PgHealthProbe({
      connection: db.url,
      drift: new PrismaSchemaDriftDetector({
        connection: db.url,
        source: new DirectoryMigrationSource(MIGRATIONS),
      }),
    });
    const report = await probe.check({ migrations: db.names });
    expect(report.checks.find((c) => c.name === 'schema matches the migrations')).toMatchObject({
      ok: true,
    });
  });

  it('reports a foreign key action changed by hand as drift (it reads confdeltype, a "char" column)', async () => {
    const db = await catalogDatabase();
    await withClient(db.url, (client) =>
      client.query(
        `ALTER TABLE "Invoice" DROP CONSTRAINT "Invoice_customerId_fkey",
           ADD CONSTRAINT "Invoice_customerId_fkey" FOREIGN KEY ("customerId") REFERENCES "Customer"("id")
           ON DELETE RESTRICT ON UPDATE RESTRICT`,
      ),
    );
    const engine = new PrismaMigrationEngine({ connectionString: db.url });
    const result = await engine.diffAgainstMigrations(await catalogBundle());
    expect(result.inSync).toBe(false);
    expect(result.script).toContain('ON DELETE RESTRICT');
  });

  it('reports every "char" catalog column as a Character column holding its one-character value', async () => {
    const db = await catalogDatabase();
    const client = await openClient(connectionTarget(db.url));
    try {
      const factory = new PinnedMigrationAdapterFactory({ client, target: connectionTarget(db.url) });
      const adapter = await factory.connect();
      const result = await adapter.queryRaw({
        sql: `SELECT c.relkind, a.attidentity, a.attgenerated, k.contype, k.confdeltype, k.confupdtype,
                     k.confmatchtype, p.prokind, t.typtype, 'x'::text AS plain
                FROM pg_class c
                JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'fullName'
                JOIN pg_constraint k ON k.conname = 'Invoice_customerId_fkey'
                JOIN pg_proc p ON p.proname = 'touch_updated_at'
                JOIN pg_type t ON t.typname = 'Percent'
               WHERE c.relname = 'Customer'`,
        args: [],
        argTypes: [],
      });
      expect(result.columnTypes).toEqual([
        ...Array<number>(9).fill(ColumnTypeEnum.Character),
        ColumnTypeEnum.Text,
      ]);
      expect(result.rows).toEqual([['r', '', 's', 'f', 'c', 'r', 's', 'f', 'd', 'x']]);
    } finally {
      await client.end();
    }
  });
});
