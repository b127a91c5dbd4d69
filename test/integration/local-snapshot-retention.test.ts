import { afterAll, describe, expect, it } from 'vitest';
import { databaseNameFor } from '../../lambdas/shared/adapters/postgres/snapshot-gateway.js';
import { sanitizeIdentifierPart } from '../../lambdas/shared/domain/identifiers.js';
import { runLocal } from '../../lib/local/runner.js';
import { createDatabase, dropDatabasesAndCopies, withAdmin } from '../helpers/database.js';
import { migrationsDirectory, removeMigrationDirectories } from '../helpers/migrations.js';

const databases: string[] = [];

/** The databases whose name starts with the target's identifier and `-<kind>-`. */
async function copiesOf(
  database: string,
  kind: 'premigration' | 'rolledback' | 'restored',
): Promise<string[]> {
  return await withAdmin(async (client) =>
    (
      await client.query<{ datname: string }>(
        'SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY datname',
        [`${sanitizeIdentifierPart(database)}-${kind}-%`],
      )
    ).rows.map((row) => row.datname),
  );
}

async function target(prefix: string): Promise<{ name: string; url: string }> {
  const db = await createDatabase(prefix);
  databases.push(db.name);
  return db;
}

const migration = (n: number): [string, string] => [
  `2025010${n}000000_m${n}`,
  `CREATE TABLE "T${n}" ("id" INTEGER);\n`,
];

afterAll(async () => {
  await removeMigrationDirectories();
  await dropDatabasesAndCopies(databases);
});

describe('local snapshot retention', { timeout: 240_000 }, () => {
  it('drops its own snapshot when a release without a release label failed and nothing of it committed', async () => {
    // Prepare
    const db = await target('retention_unchanged');
    const release = await migrationsDirectory([migration(1), ['20250109000000_fails', 'SELECT 1/0;\n']]);

    // Act
    const result = await runLocal({ databaseUrl: db.url, migrationsDir: release });

    // Assess
    expect(result.outcome).toBe('release-failed-unchanged');
    expect(result.state.snapshot?.snapshotId).toBeDefined();
    expect(result.snapshots?.dropped).toBe(result.state.snapshot?.snapshotId);
    expect(await copiesOf(db.name, 'premigration')).toEqual([]);
  });

  it('keeps the snapshots of the newest N successful releases and drops the older ones', async () => {
    // Prepare
    const db = await target('retention_keep');
    const keep = 2;
    const taken: string[] = [];

    // Act: N + 2 successful releases, each adding one migration
    for (let n = 1; n <= keep + 2; n++) {
      const list = Array.from({ length: n }, (_, i) => migration(i + 1));
      const result = await runLocal({
        databaseUrl: db.url,
        migrationsDir: await migrationsDirectory(list),
        keepSnapshots: keep,
      });
      expect(result.outcome).toBe('succeeded');
      taken.push(databaseNameFor(result.state.snapshot?.snapshotId ?? ''));
    }

    // Assess
    expect(await copiesOf(db.name, 'premigration')).toEqual(taken.slice(-keep).sort());
  });

  it('never drops a snapshot-like database that this tool did not make', async () => {
    // Prepare: same name pattern, but no metadata, or someone else's comment
    const db = await target('retention_foreign');
    const prefix = sanitizeIdentifierPart(db.name);
    const plain = `${prefix}-premigration-by-hand-1`;
    const commented = `${prefix}-premigration-by-hand-2`;
    await withAdmin(async (client) => {
      await client.query(`CREATE DATABASE "${plain}"`);
      await client.query(`CREATE DATABASE "${commented}"`);
      await client.query(
        `COMMENT ON DATABASE "${commented}" IS '{"note":"taken by hand before the upgrade"}'`,
      );
    });

    // Act: two successful releases keeping one snapshot
    for (const list of [[migration(1)], [migration(1), migration(2)]]) {
      const result = await runLocal({
        databaseUrl: db.url,
        migrationsDir: await migrationsDirectory(list),
        keepSnapshots: 1,
      });
      expect(result.outcome).toBe('succeeded');
    }

    // Assess
    const left = await copiesOf(db.name, 'premigration');
    expect(left).toContain(plain);
    expect(left).toContain(commented);
    expect(left).toHaveLength(3);
  });

  it('lists the databases kept aside by rollbacks with the command that drops them, and never drops them', async () => {
    // Prepare: a release that commits its first migration, then fails: rolled back, the original kept aside
    const db = await target('retention_aside');
    const failing = await migrationsDirectory([
      migration(1),
      migration(2),
      ['20250109000000_fails', 'SELECT 1/0;\n'],
    ]);
    const rolledBack = await runLocal({
      databaseUrl: db.url,
      migrationsDir: failing,
      transactionMode: 'per-migration',
      keepSnapshots: 0,
    });
    expect(rolledBack.outcome).toBe('migration-rolled-back');
    const aside = rolledBack.state.swap?.asideIdentifier ?? '';

    // Act: a later successful release, keeping no snapshot at all
    const next = await runLocal({
      databaseUrl: db.url,
      migrationsDir: await migrationsDirectory([migration(1)]),
      keepSnapshots: 0,
    });

    // Assess
    expect(next.outcome).toBe('succeeded');
    expect(rolledBack.keptAside).toEqual([{ name: aside, dropCommand: `DROP DATABASE "${aside}"` }]);
    expect(next.keptAside).toEqual([{ name: aside, dropCommand: `DROP DATABASE "${aside}"` }]);
    expect(await copiesOf(db.name, 'rolledback')).toEqual([aside]);
    // The rolled-back release's snapshot is not a success's: retention leaves it; the success's is pruned (0 kept).
    expect(await copiesOf(db.name, 'premigration')).toEqual([
      databaseNameFor(rolledBack.state.snapshot?.snapshotId ?? ''),
    ]);
  });
});
