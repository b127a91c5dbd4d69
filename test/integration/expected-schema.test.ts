/**
 * Expected schemas (computed once, in preflight, by replaying the migrations in a temporary database) let a drift
 * check that finds the schema as expected answer without a replay; anything else still goes to Prisma's engine,
 * which decides. The property that keeps this safe: every difference the engine sees changes the fingerprint.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { generateCorpus, writeCorpus } from '../../bench/corpus.js';
import { catalogText } from '../../lambdas/shared/adapters/postgres/schema-fingerprint.js';
import { DirectoryMigrationSource } from '../../lambdas/shared/adapters/prisma/directory-migration-source.js';
import { PrismaMigrationEngine } from '../../lambdas/shared/adapters/prisma/migration-engine.js';
import { PrismaSchemaDriftDetector } from '../../lambdas/shared/adapters/prisma/schema-drift-detector.js';
import { shadowDatabasesOfThisProcess } from '../../lambdas/shared/adapters/prisma/shadow-database.js';
import {
  createDatabase,
  dropDatabase,
  uniqueName,
  urlFor,
  withAdmin,
  withClient,
} from '../helpers/database.js';
import { migrationsDirectory, removeMigrationDirectories } from '../helpers/migrations.js';

const SAMPLE = 'prisma/migrations';
const created: string[] = [];

afterAll(async () => {
  for (const name of created) await dropDatabase(name);
  await removeMigrationDirectories();
});

/** A database with every migration of `dir` applied; the URL may name a schema (`?schema=`). */
async function migrated(
  dir: string,
  schema?: string,
): Promise<{ name: string; url: string; names: string[] }> {
  const db = await createDatabase('expected');
  created.push(db.name);
  const url = schema ? `${db.url}?schema=${schema}` : db.url;
  const bundle = await new DirectoryMigrationSource(dir).load();
  await new PrismaMigrationEngine({ connectionString: url }).applyPending(bundle, {
    transactionMode: 'release',
  });
  return { name: db.name, url, names: bundle.migrations.map((m) => m.name) };
}

/** A copy of database `name` (a template clone: faster than applying the migrations again). */
async function copyOf(name: string): Promise<string> {
  const copy = uniqueName('expected');
  await withAdmin((client) => client.query(`CREATE DATABASE "${copy}" TEMPLATE "${name}"`));
  created.push(copy);
  return urlFor(copy);
}

async function corpusDirectory(count: number): Promise<string> {
  const dir = await migrationsDirectory([]);
  await writeCorpus(dir, generateCorpus(count));
  return dir;
}

describe('expected schemas', () => {
  it('match the live schema after the release, so the drift check needs no replay; the temporary database is dropped', async () => {
    for (const dir of [SAMPLE, await corpusDirectory(80)]) {
      // Prepare: the migrations before the release (all but the last 3) and after it
      const db = await migrated(dir);
      const detector = new PrismaSchemaDriftDetector({
        connection: db.url,
        source: new DirectoryMigrationSource(dir),
      });

      // Act
      const expected = await detector.expectedSchemas([db.names.slice(0, -3), db.names]);
      const after = await detector.diff(db.names, expected);

      // Assess
      expect(expected, dir).toHaveLength(2);
      expect(expected[0]?.fingerprint).not.toBe(expected[1]?.fingerprint);
      expect(expected[1]?.schemas).toEqual(['public']);
      expect(after, dir).toEqual({ inSync: true, script: '', by: 'fingerprint' });
      // Only this process's temporary databases (other test files share the server): each dropped, none left.
      expect([...shadowDatabasesOfThisProcess]).toEqual([]);
    }
  });

  it('are never used for another set of migrations', async () => {
    // Prepare
    const db = await migrated(SAMPLE);
    const detector = new PrismaSchemaDriftDetector({
      connection: db.url,
      source: new DirectoryMigrationSource(SAMPLE),
    });
    const expected = await detector.expectedSchemas([db.names.slice(0, -1)]);

    // Act: the live schema has every migration; the expected schema is of all but the last
    const result = await detector.diff(db.names, expected);

    // Assess: the engine decided (and found the live schema in sync with all of them)
    expect(result.by).toBeUndefined();
    expect(result.inSync).toBe(true);
  });

  it('leave every difference Prisma sees to the engine: each change by hand changes the fingerprint', async () => {
    const changes = [
      'ALTER TABLE "Task" ADD COLUMN "addedByHand" integer',
      'ALTER TABLE "Task" ALTER COLUMN "title" DROP NOT NULL',
      `ALTER TABLE "Task" ALTER COLUMN "title" SET DEFAULT 'untitled'`,
      'ALTER TABLE "Task" ALTER COLUMN "title" TYPE varchar(500)',
      'DROP INDEX "User_email_key"',
      'CREATE INDEX "byHand" ON "Task" ("title")',
      `ALTER TYPE "TaskStatus" ADD VALUE 'ARCHIVED'`,
      'ALTER TABLE "Comment" DROP CONSTRAINT "Comment_taskId_fkey"',
      'ALTER TABLE "Comment" ADD CONSTRAINT "Comment_taskId_fkey" FOREIGN KEY ("taskId") REFERENCES "Task"("id")',
      'CREATE TABLE "ByHand" ("id" integer PRIMARY KEY)',
      'ALTER TABLE "Task" RENAME COLUMN "title" TO "name"',
    ];
    const detector = (url: string) =>
      new PrismaSchemaDriftDetector({ connection: url, source: new DirectoryMigrationSource(SAMPLE) });
    const reference = await migrated(SAMPLE);
    const expected = await detector(reference.url).expectedSchemas([reference.names]);
    expect(expected).toHaveLength(1);
    const pristine = await withClient(reference.url, (client) => catalogText(client, ['public']));
    for (const change of changes) {
      // Prepare
      const db = { url: await copyOf(reference.name), names: reference.names };
      // The FK re-created without its actions: drop the original first (the second change of that pair)
      if (change.startsWith('ALTER TABLE "Comment" ADD')) {
        await withClient(db.url, (client) =>
          client.query('ALTER TABLE "Comment" DROP CONSTRAINT "Comment_taskId_fkey"'),
        );
      }
      await withClient(db.url, (client) => client.query(change));

      // Act
      const result = await detector(db.url).diff(db.names, expected);
      const text = await withClient(db.url, (client) => catalogText(client, ['public']));

      // Assess: the engine saw the difference, and so did the fingerprint
      expect(result.by, change).toBeUndefined();
      expect(result.inSync, change).toBe(false);
      expect(text, change).not.toBe(pristine);
    }
  });

  it('cover the schema a Prisma URL names, and leave out a set that does not replay on an empty database', async () => {
    // Prepare: the sample app in schema "app"; a second history whose last migration needs rows
    const db = await migrated(SAMPLE, 'app');
    const detector = new PrismaSchemaDriftDetector({
      connection: db.url,
      source: new DirectoryMigrationSource(SAMPLE),
    });
    const needsRows = await migrationsDirectory([
      ['20260101000000_table', 'CREATE TABLE "t" ("id" integer);'],
      [
        '20260101000001_needs_rows',
        `DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM "t") THEN RAISE EXCEPTION 'no rows'; END IF; END $$;`,
      ],
    ]);
    const other = new PrismaSchemaDriftDetector({
      connection: db.url,
      source: new DirectoryMigrationSource(needsRows),
    });

    // A table in public, which the migrations of schema "app" do not manage
    await withClient(db.url, (client) => client.query('CREATE TABLE public."unmanaged" ("id" integer)'));

    // Act
    const expected = await detector.expectedSchemas([db.names]);
    const result = await detector.diff(db.names, expected);
    const partial = await other.expectedSchemas([
      ['20260101000000_table'],
      ['20260101000000_table', '20260101000001_needs_rows'],
    ]);

    // Assess
    expect(expected[0]?.schemas).toEqual(['app']);
    expect(result).toEqual({ inSync: true, script: '', by: 'fingerprint' });
    expect(partial).toHaveLength(1);
  });
});
