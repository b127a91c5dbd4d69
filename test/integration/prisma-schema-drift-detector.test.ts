import { afterAll, describe, expect, it } from 'vitest';
import { PgHealthProbe } from '../../lambdas/shared/adapters/postgres/health-probe.js';
import { DirectoryMigrationSource } from '../../lambdas/shared/adapters/prisma/directory-migration-source.js';
import { PrismaMigrationEngine } from '../../lambdas/shared/adapters/prisma/migration-engine.js';
import { PrismaSchemaDriftDetector } from '../../lambdas/shared/adapters/prisma/schema-drift-detector.js';
import { createDatabase, dropDatabase, withAdmin, withClient } from '../helpers/database.js';

const SAMPLE = 'prisma/migrations';
const created: string[] = [];

afterAll(async () => {
  for (const name of created) await dropDatabase(name);
});

async function migratedDatabase(): Promise<{ name: string; url: string; names: string[] }> {
  const db = await createDatabase('drift');
  created.push(db.name);
  const bundle = await new DirectoryMigrationSource(SAMPLE).load();
  const engine = new PrismaMigrationEngine({ connectionString: db.url });
  try {
    await engine.applyPending(bundle, { transactionMode: 'release' });
  } finally {
    await engine.close();
  }
  return { ...db, names: bundle.migrations.map((m) => m.name) };
}

/** The temporary shadow databases the engine creates for a diff (`prisma_migrate_shadow_db_<uuid>`). */
async function shadowDatabases(): Promise<string[]> {
  return await withAdmin(async (client) =>
    (
      await client.query<{ datname: string }>(
        "SELECT datname FROM pg_database WHERE datname LIKE 'prisma\\_migrate\\_shadow\\_db\\_%'",
      )
    ).rows.map((row) => row.datname),
  );
}

describe('PrismaSchemaDriftDetector', () => {
  it('finds no drift when the schema is what the migrations produce, and drops its shadow database', async () => {
    const db = await migratedDatabase();
    const detector = new PrismaSchemaDriftDetector({
      connection: db.url,
      source: new DirectoryMigrationSource(SAMPLE),
    });
    const before = new Set(await shadowDatabases());
    await expect(detector.diff(db.names)).resolves.toEqual({ inSync: true, script: expect.any(String) });
    // Another test file may be diffing at the same time: wait for its shadow databases to go, never for ours.
    await expect
      .poll(async () => (await shadowDatabases()).filter((name) => !before.has(name)), { timeout: 5000 })
      .toEqual([]);
  });

  it('reports a column added by hand, with the SQL of the difference, through the health probe', async () => {
    const db = await migratedDatabase();
    await withClient(db.url, (client) => client.query('ALTER TABLE "Task" ADD COLUMN "addedByHand" integer'));
    const probe = new PgHealthProbe({
      connection: db.url,
      drift: new PrismaSchemaDriftDetector({
        connection: db.url,
        source: new DirectoryMigrationSource(SAMPLE),
      }),
    });
    const report = await probe.check({ migrations: db.names });
    expect(report.healthy).toBe(false);
    expect(report.checks.find((c) => c.name === 'schema matches the migrations')).toMatchObject({
      ok: false,
      detail: expect.stringContaining('addedByHand'),
    });
  });

  it('compares with the named migrations only (the history before a failed release)', async () => {
    const db = await migratedDatabase();
    const detector = new PrismaSchemaDriftDetector({
      connection: db.url,
      source: new DirectoryMigrationSource(SAMPLE),
    });
    const result = await detector.diff(db.names.slice(0, 3));
    expect(result.inSync).toBe(false);
    expect(result.script).toContain('priority');
  });
});
