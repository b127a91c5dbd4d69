/**
 * What the lint knows of the database before the release, read from a real PostgreSQL catalog
 * (`PrismaMigrationEngine.readSchemaCatalog`), and the distinction it makes with it: a table that existed before
 * the release against one the release creates, and a validated NOT NULL check against one that is NOT VALID.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrismaMigrationEngine } from '../../lambdas/shared/adapters/prisma/migration-engine.js';
import { lintRelease } from '../../lambdas/shared/domain/lint/lint.js';
import { analyzeRelease } from '../../lambdas/shared/domain/release-analysis.js';
import { createDatabase, dropDatabase, withClient } from '../helpers/database.js';

let db: { name: string; url: string };

beforeAll(async () => {
  db = await createDatabase('lint_catalog');
  await withClient(db.url, (client) =>
    client.query(`
      CREATE TABLE "User" ("id" SERIAL PRIMARY KEY, "name" TEXT);
      CREATE TABLE "Task" ("id" SERIAL PRIMARY KEY, "title" TEXT, "bodyText" TEXT);
      ALTER TABLE "Task" ADD CONSTRAINT "Task_title_nn" CHECK ("title" IS NOT NULL);
      ALTER TABLE "Task" ADD CONSTRAINT "Task_bodyText_nn" CHECK ("bodyText" IS NOT NULL) NOT VALID;
      ALTER TABLE "Task" VALIDATE CONSTRAINT "Task_bodyText_nn";
      CREATE TABLE "Project" ("id" SERIAL PRIMARY KEY, "owner" TEXT);
      ALTER TABLE "Project" ADD CONSTRAINT "Project_owner_nn" CHECK ("owner" IS NOT NULL) NOT VALID;
      ALTER TABLE "Project" ADD CONSTRAINT "Project_owner_len" CHECK (length("owner") > 0);
      CREATE TABLE "Measure" ("at" DATE NOT NULL) PARTITION BY RANGE ("at");
      CREATE VIEW "UserNames" AS SELECT "name" FROM "User";
      CREATE SCHEMA "audit";
      CREATE TABLE "audit"."Event" ("id" SERIAL PRIMARY KEY);
      INSERT INTO "User" ("name") VALUES ('a row the catalog read must never return');
    `),
  );
});

afterAll(async () => {
  await dropDatabase(db.name);
});

describe('PrismaMigrationEngine.readSchemaCatalog', () => {
  it('lists the tables of every own schema, and only the columns a validated CHECK (column IS NOT NULL) covers', async () => {
    // Act
    const catalog = await new PrismaMigrationEngine({ connectionString: db.url }).readSchemaCatalog();
    // Assess
    expect(catalog.schema).toBe('public');
    expect(catalog.tables).toEqual([
      'audit.Event',
      'public.Measure',
      'public.Project',
      'public.Task',
      'public.User',
    ]);
    expect(catalog.notNullChecked).toEqual(['public.Task.bodyText', 'public.Task.title']);
    expect(JSON.stringify(catalog)).not.toContain('never return');
  });

  it("resolves unqualified names in the connection's schema (?schema=)", async () => {
    const catalog = await new PrismaMigrationEngine({
      connectionString: `${db.url}?schema=audit`,
    }).readSchemaCatalog();
    expect(catalog.schema).toBe('audit');
  });
});

describe('the lint with the catalog of a real database', () => {
  it('flags the existing table and column, never the ones the release creates', async () => {
    // Prepare
    const catalog = await new PrismaMigrationEngine({ connectionString: db.url }).readSchemaCatalog();
    const analysis = analyzeRelease([
      {
        name: '20250301000000_labels',
        checksum: '',
        sql: [
          'CREATE TABLE "Label" ("id" SERIAL NOT NULL, "name" TEXT NOT NULL, CONSTRAINT "Label_pkey" PRIMARY KEY ("id"));',
          'CREATE UNIQUE INDEX "Label_name_key" ON "Label"("name");',
          'CREATE INDEX "User_name_idx" ON "User"("name");',
          'CREATE INDEX "Event_id_idx" ON "audit"."Event"("id");',
          'ALTER TABLE "Task" ALTER COLUMN "title" SET NOT NULL;',
          'ALTER TABLE "Task" ALTER COLUMN "bodyText" SET NOT NULL;',
          'ALTER TABLE "Project" ALTER COLUMN "owner" SET NOT NULL;',
          'ALTER TABLE "Label" ALTER COLUMN "name" SET NOT NULL;',
        ].join('\n'),
      },
    ]);
    // Act
    const findings = lintRelease({ statements: analysis.statements ?? [], catalog });
    // Assess
    expect(findings.map((finding) => `${finding.rule}:${finding.line}`)).toEqual([
      'create-index-non-concurrently:3',
      'create-index-non-concurrently:4',
      'set-not-null:7',
    ]);
  });

  it('agrees with PostgreSQL: SET NOT NULL skips the scan for the validated check, not for the NOT VALID one', async () => {
    // PostgreSQL says at DEBUG1 when a constraint spares it the scan (the ground the rule stands on).
    await withClient(db.url, async (client) => {
      const notices: string[] = [];
      client.on('notice', (notice) => notices.push(notice.message ?? ''));
      await client.query('BEGIN');
      await client.query('SET LOCAL client_min_messages = debug1');
      await client.query('ALTER TABLE "Task" ALTER COLUMN "title" SET NOT NULL');
      await client.query('ALTER TABLE "Project" ALTER COLUMN "owner" SET NOT NULL');
      await client.query('ROLLBACK');
      const spared = notices.filter((message) =>
        message.includes('sufficient to prove that it does not contain nulls'),
      );
      expect(spared).toHaveLength(1);
      expect(spared[0]).toContain('Task.title');
    });
  });
});
