/**
 * `ApplyOptions.resolve` on the real engine and PostgreSQL: the failed row is marked through Prisma's own
 * `markMigrationApplied` / `markMigrationRolledBack` on the run's session, inside the release transaction in
 * `release` mode (a failed release rolls the mark back with it), and never on a history that changed since preflight.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DirectoryMigrationSource } from '../../lambdas/shared/adapters/prisma/directory-migration-source.js';
import { PrismaMigrationEngine } from '../../lambdas/shared/adapters/prisma/migration-engine.js';
import { ErrorNames } from '../../lambdas/shared/contract/contract.js';
import { createDatabase, dropDatabase, withClient } from '../helpers/database.js';
import { migrationsDirectory, removeMigrationDirectories } from '../helpers/migrations.js';

const created: string[] = [];

afterAll(async () => {
  for (const name of created) await dropDatabase(name);
  await removeMigrationDirectories();
});

const TABLE = '20250101000000_table';
const UNIQUE = '20250102000000_unique_code';
const NEXT = '20250103000000_next';

const TABLE_SQL =
  'CREATE TABLE "Item" ("id" INTEGER PRIMARY KEY, "code" TEXT);\n' +
  "INSERT INTO \"Item\" VALUES (1, 'a'), (2, 'a');\n";
/** Fails on the data (two rows share a code); an empty database replays it. */
const UNIQUE_SQL = 'CREATE UNIQUE INDEX "Item_code_key" ON "Item"("code");\n';
const NEXT_SQL = 'ALTER TABLE "Item" ADD COLUMN "note" TEXT;\n';
const NEXT_FAILS_SQL = 'ALTER TABLE "Item" ADD COLUMN "note" TEXT;\nSELECT 1 / 0;\n';

/** A database where a per-migration deploy of TABLE and UNIQUE left UNIQUE's row failed. */
async function failedDatabase() {
  const db = await createDatabase('resolve');
  created.push(db.name);
  const engine = new PrismaMigrationEngine({ connectionString: db.url });
  const first = await new DirectoryMigrationSource(
    await migrationsDirectory([
      [TABLE, TABLE_SQL],
      [UNIQUE, UNIQUE_SQL],
    ]),
  ).load();
  const failed = await engine
    .applyPending(first, { transactionMode: 'per-migration' })
    .catch((e: Error) => e);
  expect(failed).toMatchObject({ name: ErrorNames.MigrationFailed });
  return { ...db, engine };
}

async function release(next: string) {
  return await new DirectoryMigrationSource(
    await migrationsDirectory([
      [TABLE, TABLE_SQL],
      [UNIQUE, UNIQUE_SQL],
      [NEXT, next],
    ]),
  ).load();
}

async function rowsOf(url: string, migration: string) {
  return await withClient(
    url,
    async (client) =>
      (
        await client.query<{ finished: boolean; rolled_back: boolean }>(
          `SELECT finished_at IS NOT NULL AS finished, rolled_back_at IS NOT NULL AS rolled_back
           FROM _prisma_migrations WHERE migration_name = $1 ORDER BY started_at`,
          [migration],
        )
      ).rows,
  );
}

const completeByHand = (url: string) =>
  withClient(url, (client) =>
    client.query(
      `UPDATE "Item" SET "code" = 'c' || "id"; CREATE UNIQUE INDEX "Item_code_key" ON "Item"("code");`,
    ),
  );

describe('resolving a failed migration in the apply run', () => {
  it('rolls the mark back with a release that fails, leaving the row failed as it was', async () => {
    // Prepare
    const db = await failedDatabase();
    await completeByHand(db.url);

    // Act
    const error = await db.engine
      .applyPending(await release(NEXT_FAILS_SQL), {
        transactionMode: 'release',
        resolve: [{ migration: UNIQUE, as: 'applied' }],
      })
      .catch((e: Error) => e);

    // Assess
    expect(error).toMatchObject({ name: ErrorNames.MigrationFailedDatabaseUnchanged });
    expect(await rowsOf(db.url, UNIQUE)).toEqual([{ finished: false, rolled_back: false }]);
    expect(await rowsOf(db.url, NEXT)).toEqual([]);
  }, 60_000);

  it('marks it applied in the release transaction, applies the rest, and finds it done when run again', async () => {
    // Prepare
    const db = await failedDatabase();
    await completeByHand(db.url);
    const bundle = await release(NEXT_SQL);

    // Act
    const first = await db.engine.applyPending(bundle, {
      transactionMode: 'release',
      resolve: [{ migration: UNIQUE, as: 'applied' }],
    });
    const again = await db.engine.applyPending(bundle, {
      transactionMode: 'release',
      resolve: [{ migration: UNIQUE, as: 'applied' }],
    });

    // Assess
    expect(first).toMatchObject({
      applied: [NEXT],
      resolved: [{ migration: UNIQUE, as: 'applied', how: 'marked' }],
    });
    expect(await rowsOf(db.url, UNIQUE)).toEqual([
      { finished: false, rolled_back: true },
      { finished: true, rolled_back: false },
    ]);
    expect(again).toMatchObject({
      applied: [],
      resolved: [{ migration: UNIQUE, as: 'applied', how: 'found' }],
    });
  }, 60_000);

  it('marks it rolled back per migration, then applies it again', async () => {
    // Prepare: the data is repaired so that the migration itself succeeds this time.
    const db = await failedDatabase();
    await withClient(db.url, (client) => client.query(`UPDATE "Item" SET "code" = 'c' || "id"`));

    // Act
    const outcome = await db.engine.applyPending(await release(NEXT_SQL), {
      transactionMode: 'per-migration',
      resolve: [{ migration: UNIQUE, as: 'rolled-back' }],
    });

    // Assess
    expect(outcome).toMatchObject({
      applied: [UNIQUE, NEXT],
      resolved: [{ migration: UNIQUE, as: 'rolled-back', how: 'marked' }],
    });
    expect(await rowsOf(db.url, UNIQUE)).toEqual([
      { finished: false, rolled_back: true },
      { finished: true, rolled_back: false },
    ]);
  }, 60_000);

  it('refuses, marking and applying nothing, when the history changed after preflight', async () => {
    // Prepare: someone deletes the failed row between preflight and the apply step.
    const db = await failedDatabase();
    await completeByHand(db.url);
    await withClient(db.url, (client) =>
      client.query('DELETE FROM _prisma_migrations WHERE migration_name = $1', [UNIQUE]),
    );

    // Act
    const error = await db.engine
      .applyPending(await release(NEXT_SQL), {
        transactionMode: 'release',
        resolve: [{ migration: UNIQUE, as: 'applied' }],
      })
      .catch((e: Error) => e);

    // Assess
    expect(error).toMatchObject({ name: ErrorNames.MigrationHistoryBlocked });
    expect((error as Error).message).toContain('the history changed after preflight read it');
    expect(await rowsOf(db.url, UNIQUE)).toEqual([]);
    expect(await rowsOf(db.url, NEXT)).toEqual([]);
  }, 60_000);
});
