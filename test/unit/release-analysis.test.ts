import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Migration } from '../../lambdas/shared/contract/ports.js';
import {
  analyzeRelease,
  transactionFallbackReason,
  unparsableScriptsMessage,
} from '../../lambdas/shared/domain/release-analysis.js';

function migration(name: string, sql: string): Migration {
  return { name, sql, checksum: '' };
}

async function sampleMigrations(): Promise<Migration[]> {
  const dir = 'prisma/migrations';
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  return Promise.all(
    names
      .sort()
      .map(async (name) => migration(name, await readFile(join(dir, name, 'migration.sql'), 'utf8'))),
  );
}

describe('analyzeRelease', () => {
  it('finds nothing non-transactional in the sample migrations and lists the tables they lock', async () => {
    const analysis = analyzeRelease(await sampleMigrations());

    expect(analysis.nonTransactional).toEqual([]);
    expect(analysis.lockedTables).toEqual(['Comment', 'Project', 'Task', 'User']);
    expect(transactionFallbackReason(analysis)).toBeUndefined();
  });

  describe('Noncompliance: statements that cannot run inside a transaction block', () => {
    it.each([
      [
        'CREATE INDEX CONCURRENTLY',
        '-- CreateIndex\nCREATE INDEX CONCURRENTLY "Task_dueAt_idx" ON "Task"("dueAt");',
        'CREATE INDEX CONCURRENTLY',
      ],
      [
        'CREATE UNIQUE INDEX CONCURRENTLY',
        'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "User_email_key" ON "User"("email");',
        'CREATE INDEX CONCURRENTLY',
      ],
      [
        'DROP INDEX CONCURRENTLY',
        '-- DropIndex\nDROP INDEX CONCURRENTLY IF EXISTS "Task_dueAt_idx";',
        'DROP INDEX CONCURRENTLY',
      ],
      ['REINDEX INDEX CONCURRENTLY', 'REINDEX INDEX CONCURRENTLY "Task_pkey";', 'REINDEX CONCURRENTLY'],
      ['REINDEX (CONCURRENTLY) TABLE', 'REINDEX (CONCURRENTLY) TABLE "Task";', 'REINDEX CONCURRENTLY'],
      ['REINDEX DATABASE', 'REINDEX DATABASE app;', 'REINDEX SYSTEM/DATABASE'],
      ['REINDEX SYSTEM', 'REINDEX SYSTEM app;', 'REINDEX SYSTEM/DATABASE'],
      ['VACUUM', 'VACUUM ANALYZE "Task";', 'VACUUM'],
      ['VACUUM (FULL)', 'VACUUM (FULL, VERBOSE) "Task";', 'VACUUM'],
      ['ALTER SYSTEM', "ALTER SYSTEM SET work_mem = '64MB';", 'ALTER SYSTEM'],
      ['CREATE DATABASE', 'CREATE DATABASE reporting;', 'CREATE DATABASE'],
      ['DROP DATABASE', 'DROP DATABASE IF EXISTS reporting;', 'DROP DATABASE'],
      ['CREATE TABLESPACE', "CREATE TABLESPACE fast LOCATION '/ssd';", 'CREATE TABLESPACE'],
      ['DROP TABLESPACE', 'DROP TABLESPACE fast;', 'DROP TABLESPACE'],
      [
        'CREATE SUBSCRIPTION',
        "CREATE SUBSCRIPTION audit CONNECTION 'host=replica dbname=app' PUBLICATION audit_pub;",
        'CREATE/DROP SUBSCRIPTION',
      ],
      ['DROP SUBSCRIPTION', 'DROP SUBSCRIPTION audit;', 'CREATE/DROP SUBSCRIPTION'],
      [
        'DETACH PARTITION CONCURRENTLY',
        'ALTER TABLE events DETACH PARTITION events_2024 CONCURRENTLY;',
        'DETACH PARTITION',
      ],
      [
        'its own BEGIN/COMMIT',
        'BEGIN;\nUPDATE "Task" SET "priority" = 0;\nCOMMIT;',
        'own transaction (BEGIN)',
      ],
      [
        'its own START TRANSACTION',
        'START TRANSACTION ISOLATION LEVEL SERIALIZABLE;\nUPDATE "Task" SET "priority" = 0;\nEND;',
        'own transaction (START TRANSACTION)',
      ],
      ['its own COMMIT', 'UPDATE "Task" SET "priority" = 0;\nCOMMIT;', 'own transaction (COMMIT)'],
      ['its own ROLLBACK', 'UPDATE "Task" SET "priority" = 0;\nROLLBACK;', 'own transaction (ROLLBACK)'],
      ['PREPARE TRANSACTION', "PREPARE TRANSACTION 'release-42';", 'own transaction (PREPARE TRANSACTION)'],
      ['COMMIT PREPARED', "COMMIT PREPARED 'release-42';", 'own transaction (COMMIT PREPARED)'],
      ['ROLLBACK PREPARED', "ROLLBACK PREPARED 'release-42';", 'own transaction (ROLLBACK PREPARED)'],
    ])('flags %s', (_case, sql, reason) => {
      const analysis = analyzeRelease([
        migration('20250301090000_a', '-- a comment\nSELECT 1;'),
        migration('20250302090000_b', sql),
      ]);

      expect(analysis.nonTransactional[0]).toMatchObject({
        migration: '20250302090000_b',
        reason: expect.stringContaining(reason),
      });
      expect(transactionFallbackReason(analysis)).toContain('20250302090000_b');
    });

    it('flags a new enum value that a later migration sets on a column of a table the release did not create', () => {
      const analysis = analyzeRelease([
        migration('20250301090000_add_status', `-- AlterEnum\nALTER TYPE "TaskStatus" ADD VALUE 'BLOCKED';`),
        migration(
          '20250302090000_use_status',
          `UPDATE "Task" SET "status" = 'BLOCKED' WHERE "dueAt" IS NULL;`,
        ),
      ]);

      expect(analysis.nonTransactional).toEqual([
        {
          migration: '20250301090000_add_status',
          statement: `ALTER TYPE "TaskStatus" ADD VALUE 'BLOCKED'`,
          atomicMigration: true,
          reason: expect.stringContaining(
            `used later in the release (20250302090000_use_status: "UPDATE "Task" SET "status" = 'BLOCKED'`,
          ),
        },
      ]);
      expect(analysis.nonTransactional[0]?.reason).toContain('taken to be TaskStatus');
    });

    it.each([
      ['a cast to the type', `SELECT count(*) FROM "User" WHERE "role" = 'EMAIL'::"Role";`],
      ['a cast to the schema-qualified type', `SELECT 'EMAIL'::"public"."Role";`],
      ['an array cast', `SELECT ARRAY['EMAIL', 'USER']::"Role"[];`],
      ['an array literal cast', `SELECT '{USER,EMAIL}'::"Role"[];`],
      [
        'SET DEFAULT on a column of a table the release did not create (Prisma, @default changed)',
        `-- AlterTable\nALTER TABLE "User" ALTER COLUMN "role" SET DEFAULT 'EMAIL';`,
      ],
      [
        'a new table whose column of that type defaults to it (Prisma, CreateTable)',
        `-- CreateTable\nCREATE TABLE "Invite" (\n    "id" TEXT NOT NULL,\n    "role" "Role" NOT NULL DEFAULT 'EMAIL',\n\n    CONSTRAINT "Invite_pkey" PRIMARY KEY ("id")\n);`,
      ],
      [
        'a new list column of that type (Prisma, Role[] with a default)',
        `ALTER TABLE "Team" ADD COLUMN "roles" "Role"[] DEFAULT ARRAY['EMAIL']::"Role"[];`,
      ],
      [
        'an UPDATE of a column the release gave that type',
        `ALTER TABLE "Team" ADD COLUMN "defaultRole" "Role";\nUPDATE "Team" SET "defaultRole" = 'EMAIL';`,
      ],
      [
        'an INSERT into a column of a table the release created',
        `CREATE TABLE "Seat" ("id" INTEGER, "role" "Role");\nINSERT INTO "Seat" ("id", "role") VALUES (1, 'USER'), (2, 'EMAIL');`,
      ],
      [
        'an INSERT ... SELECT into such a column',
        `CREATE TABLE "Seat" ("id" INTEGER, "role" "Role");\nINSERT INTO "Seat" ("id", "role") SELECT 1, 'EMAIL';`,
      ],
      [
        'an upsert that sets such a column',
        `CREATE TABLE "Seat" ("id" INTEGER PRIMARY KEY, "role" "Role");\nINSERT INTO "Seat" ("id") VALUES (1) ON CONFLICT ("id") DO UPDATE SET "role" = 'EMAIL';`,
      ],
      [
        'an IN list compared with such a column, through an alias',
        `ALTER TABLE "Team" ADD COLUMN "defaultRole" "Role";\nDELETE FROM "Team" t WHERE t."defaultRole" IN ('USER', 'EMAIL');`,
      ],
      [
        'ANY of an array literal compared with such a column',
        `ALTER TABLE "Team" ADD COLUMN "defaultRole" "Role";\nDELETE FROM "Team" WHERE "defaultRole" = ANY('{USER,EMAIL}');`,
      ],
      [
        'a comparison with a column whose type the release does not show',
        `DELETE FROM "Membership" WHERE 'EMAIL' = "role";`,
      ],
      [
        'CASE on such a column',
        `ALTER TABLE "Team" ADD COLUMN "defaultRole" "Role";\nSELECT CASE "defaultRole" WHEN 'EMAIL' THEN 1 ELSE 0 END FROM "Team";`,
      ],
      [
        'COALESCE into such a column',
        `ALTER TABLE "Team" ADD COLUMN "defaultRole" "Role";\nUPDATE "Team" SET "defaultRole" = COALESCE("defaultRole", 'EMAIL');`,
      ],
      [
        'a column that the release changed to that type',
        `ALTER TABLE "Legacy" ALTER COLUMN "kind" TYPE "Role" USING ("kind"::"Role");\nALTER TABLE "Legacy" ALTER COLUMN "kind" SET DEFAULT 'EMAIL';`,
      ],
    ])('flags a new enum value used later in the release through %s', (_case, sql) => {
      const analysis = analyzeRelease([
        migration('20250301090000_add_role', `-- AlterEnum\nALTER TYPE "Role" ADD VALUE 'EMAIL';`),
        migration('20250302090000_use_role', sql),
      ]);

      expect(analysis.nonTransactional).toEqual([
        {
          migration: '20250301090000_add_role',
          statement: `ALTER TYPE "Role" ADD VALUE 'EMAIL'`,
          atomicMigration: true,
          reason: expect.stringContaining(
            `the enum value 'EMAIL' added to Role is used later in the release (20250302090000_use_role`,
          ),
        },
      ]);
      expect(transactionFallbackReason(analysis)).toContain('20250301090000_add_role');
    });

    it('flags a value added to a type created earlier in the same release (PostgreSQL refuses that too)', () => {
      const analysis = analyzeRelease([
        migration('20250301090000_channel', `CREATE TYPE "Channel" AS ENUM ('SMS');`),
        migration('20250302090000_add_email', `ALTER TYPE "Channel" ADD VALUE 'EMAIL';`),
        migration(
          '20250303090000_contact',
          `CREATE TABLE "Contact" ("id" TEXT NOT NULL, "channel" "Channel" NOT NULL DEFAULT 'EMAIL');`,
        ),
      ]);

      expect(analysis.nonTransactional).toEqual([
        expect.objectContaining({ migration: '20250302090000_add_email' }),
      ]);
    });

    it('follows a type renamed after the value was added', () => {
      const analysis = analyzeRelease([
        migration('20250301090000_add_role', `ALTER TYPE "Role" ADD VALUE 'EMAIL';`),
        migration('20250302090000_rename', `ALTER TYPE "Role" RENAME TO "UserRole";`),
        migration('20250303090000_use', `SELECT 'EMAIL'::"UserRole";`),
      ]);

      expect(analysis.nonTransactional).toEqual([
        expect.objectContaining({ migration: '20250301090000_add_role' }),
      ]);
    });

    it('flags each new value once, at the first later use', () => {
      const analysis = analyzeRelease([
        migration('20250301090000_add_role', `ALTER TYPE "Role" ADD VALUE 'EMAIL';`),
        migration('20250302090000_use', `SELECT 'EMAIL'::"Role";\nSELECT 'EMAIL'::"Role";`),
        migration('20250303090000_use_again', `SELECT 'EMAIL'::"Role";`),
      ]);

      expect(analysis.nonTransactional).toHaveLength(1);
      expect(analysis.nonTransactional[0]?.reason).toContain('(20250302090000_use:');
    });
  });

  describe('unparsable scripts: refused, never a reason to fall back', () => {
    it('reports a script PostgreSQL cannot parse with its line, column and the parser message, not as a fallback', () => {
      const analysis = analyzeRelease([
        migration('20250301090000_ok', 'ALTER TABLE "Task" ADD COLUMN "x" INTEGER;'),
        migration(
          '20250302090000_typo',
          'ALTER TABLE "Task" ADD COLUMN "y" INTEGER;\n  ALTR TABLE "Task" DROP COLUMN "x";',
        ),
      ]);

      expect(analysis.unparsable).toEqual([
        {
          migration: '20250302090000_typo',
          line: 2,
          column: 3,
          message: 'syntax error at or near "ALTR"',
          excerpt: 'ALTR TABLE "Task" DROP COLUMN "x";',
        },
      ]);
      expect(analysis.nonTransactional).toEqual([]);
      expect(transactionFallbackReason(analysis)).toBeUndefined();
      expect(unparsableScriptsMessage(analysis, 'prisma/migrations')).toContain(
        '20250302090000_typo/migration.sql line 2, column 3: syntax error at or near "ALTR"',
      );
    });

    it.each([
      ['accented text on an earlier line', '-- tâche réglée\nSELEC 1;', 2, 1],
      ['accented text earlier on the same line', '/* é ü */ ALTR TABLE "Task";', 1, 11],
      ['an emoji (two UTF-16 units) earlier on the same line', '/* 📝 */ ALTR TABLE "Task";', 1, 9],
      ['CRLF line ends', 'SELECT 1;\r\nSELECT 2;\r\n  SELEC 3;', 3, 3],
      ['an error at the end of the script', 'SELECT 1;\nSELECT (1', 2, 10],
    ])('counts the position in characters with %s', (_case, sql, line, column) => {
      const analysis = analyzeRelease([migration('20250301090000_a', sql)]);

      expect(analysis.unparsable).toEqual([expect.objectContaining({ line, column })]);
    });

    it('says nothing when every script parses', () => {
      const analysis = analyzeRelease([migration('20250301090000_a', 'SELECT 1;')]);

      expect(analysis.unparsable).toEqual([]);
      expect(unparsableScriptsMessage(analysis, 'prisma/migrations')).toBeUndefined();
    });
  });

  describe('Compliance: statements a release transaction can hold', () => {
    it.each([
      ['a plain CREATE INDEX', '-- CreateIndex\nCREATE INDEX "Task_dueAt_idx" ON "Task"("dueAt");'],
      ['a plain CREATE UNIQUE INDEX', 'CREATE UNIQUE INDEX "User_email_key" ON "User"("email");'],
      ['a plain DROP INDEX', '-- DropIndex\nDROP INDEX "Task_dueAt_idx";'],
      ['a plain REINDEX', 'REINDEX INDEX "Task_pkey";'],
      ['REINDEX TABLE', 'REINDEX TABLE "Task";'],
      ['ANALYZE', 'ANALYZE "Task";'],
      ['SET LOCAL', "SET LOCAL work_mem = '64MB';"],
      ['ALTER DATABASE ... SET', "ALTER DATABASE app SET work_mem = '64MB';"],
      ['CREATE SCHEMA', 'CREATE SCHEMA IF NOT EXISTS "reporting";'],
      ['CREATE PUBLICATION', 'CREATE PUBLICATION audit_pub FOR TABLE "Task";'],
      ['ALTER TABLE ... SET TABLESPACE', 'ALTER TABLE "Task" SET TABLESPACE fast;'],
      ['DETACH PARTITION without CONCURRENTLY', 'ALTER TABLE events DETACH PARTITION events_2024;'],
      ['savepoints', 'SAVEPOINT s1;\nUPDATE "Task" SET "priority" = 0;\nRELEASE SAVEPOINT s1;'],
      [
        'the word CONCURRENTLY inside a string',
        `COMMENT ON TABLE "Task" IS 'CREATE INDEX CONCURRENTLY later; VACUUM too';`,
      ],
      [
        'the words CONCURRENTLY, VACUUM and COMMIT inside comments',
        `-- TODO: CREATE INDEX CONCURRENTLY "Task_dueAt_idx" ON "Task"("dueAt");\n/* VACUUM "Task"; COMMIT; */\nCREATE INDEX "Task_dueAt_idx" ON "Task"("dueAt");`,
      ],
      ['an index named concurrently', 'CREATE INDEX concurrently_idx ON "Task"("dueAt");'],
      [
        'a $$ function body that mentions COMMIT',
        `CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'COMMIT;'; END; $$;`,
      ],
      [
        'a DO block with BEGIN/END',
        `DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM "Task") THEN RAISE NOTICE 'empty'; END IF; END $$;`,
      ],
      ['a new enum value nobody uses in the release', `ALTER TYPE "TaskStatus" ADD VALUE 'BLOCKED';`],
    ])('accepts %s', (_case, sql) => {
      const analysis = analyzeRelease([migration('20250301090000_a', sql)]);

      expect(analysis.nonTransactional).toEqual([]);
      expect(transactionFallbackReason(analysis)).toBeUndefined();
    });

    it.each([
      ['a cast to another enum type', `SELECT count(*) FROM "Contact" WHERE "channel" = 'EMAIL'::"Channel";`],
      [
        'a new table whose column of another enum type defaults to it (the false positive seen on a real history)',
        `-- CreateTable\nCREATE TABLE "Notification" (\n    "id" TEXT NOT NULL,\n    "channel" "Channel" NOT NULL DEFAULT 'EMAIL',\n\n    CONSTRAINT "Notification_pkey" PRIMARY KEY ("id")\n);`,
      ],
      [
        'a column the release gave another enum type, set and compared',
        `ALTER TABLE "Contact" ADD COLUMN "channel" "Channel" NOT NULL DEFAULT 'EMAIL';\nUPDATE "Contact" SET "channel" = 'EMAIL' WHERE "channel" IN ('SMS', 'EMAIL');`,
      ],
      [
        'a column the release changed to another enum type, then defaulted',
        `ALTER TABLE "Contact" ALTER COLUMN "channel" TYPE "Channel" USING ("channel"::text::"Channel");\nALTER TABLE "Contact" ALTER COLUMN "channel" SET DEFAULT 'EMAIL';`,
      ],
      [
        'a text column the release created',
        `CREATE TABLE "Template" ("name" TEXT, "kind" VARCHAR(20));\nINSERT INTO "Template" ("name", "kind") VALUES ('welcome', 'EMAIL');`,
      ],
      ['a comparison with a cast to text', `SELECT count(*) FROM "User" WHERE "role"::text = 'EMAIL';`],
      ['a select list', `SELECT 'EMAIL' AS kind;`],
      ['a LIKE pattern', `SELECT count(*) FROM "User" WHERE "email" LIKE 'EMAIL';`],
      ['a comment on a column', `COMMENT ON COLUMN "User"."role" IS 'EMAIL';`],
      [
        'a function body, which CREATE FUNCTION does not execute',
        `CREATE FUNCTION is_email(r "Role") RETURNS boolean LANGUAGE sql AS $$ SELECT r = 'EMAIL'::"Role" $$;`,
      ],
    ])('does not count %s as a use of the new value', (_case, sql) => {
      const analysis = analyzeRelease([
        migration('20250301090000_add_role', `ALTER TYPE "Role" ADD VALUE 'EMAIL';`),
        migration('20250302090000_other', sql),
      ]);

      expect(analysis.nonTransactional).toEqual([]);
      expect(transactionFallbackReason(analysis)).toBeUndefined();
    });

    it('accepts a new enum value used only by a later release', () => {
      const thisRelease = analyzeRelease([
        migration('20250301090000_add_role', `ALTER TYPE "Role" ADD VALUE 'EMAIL';`),
      ]);
      const nextRelease = analyzeRelease([
        migration(
          '20250401090000_default_role',
          `ALTER TABLE "User" ALTER COLUMN "role" SET DEFAULT 'EMAIL';`,
        ),
      ]);

      expect(thisRelease.nonTransactional).toEqual([]);
      expect(nextRelease.nonTransactional).toEqual([]);
    });

    it('leaves a use in the migration that adds the value to PostgreSQL (it fails in any mode)', () => {
      const analysis = analyzeRelease([
        migration(
          '20250301090000_add_role',
          `ALTER TYPE "Role" ADD VALUE 'EMAIL';\nALTER TABLE "User" ALTER COLUMN "role" SET DEFAULT 'EMAIL';`,
        ),
      ]);

      expect(analysis.nonTransactional).toEqual([]);
    });

    it("accepts Prisma's enum dance: the values of the new type are committed with it, whatever it is renamed to", () => {
      const dance = `-- AlterEnum
CREATE TYPE "Role_new" AS ENUM ('USER', 'EMAIL');
ALTER TABLE "User" ALTER COLUMN "role" DROP DEFAULT;
ALTER TABLE "User" ALTER COLUMN "role" TYPE "Role_new" USING ("role"::text::"Role_new");
ALTER TYPE "Role" RENAME TO "Role_old";
ALTER TYPE "Role_new" RENAME TO "Role";
DROP TYPE "Role_old";
ALTER TABLE "User" ALTER COLUMN "role" SET DEFAULT 'EMAIL';
UPDATE "User" SET "role" = 'EMAIL' WHERE "role" = 'USER';`;
      const analysis = analyzeRelease([
        migration('20250301090000_add_role', `ALTER TYPE "Role" ADD VALUE 'EMAIL';`),
        migration('20250302090000_drop_admin', dance),
        migration('20250303090000_use', `SELECT 'EMAIL'::"Role";`),
      ]);

      expect(analysis.nonTransactional).toEqual([]);
    });

    it("flags Prisma's enum dance as written (its own BEGIN/COMMIT), and only for that", () => {
      const dance = `-- AlterEnum
BEGIN;
CREATE TYPE "Role_new" AS ENUM ('USER', 'EMAIL');
ALTER TABLE "User" ALTER COLUMN "role" TYPE "Role_new" USING ("role"::text::"Role_new");
ALTER TYPE "Role" RENAME TO "Role_old";
ALTER TYPE "Role_new" RENAME TO "Role";
DROP TYPE "Role_old";
COMMIT;`;
      const analysis = analyzeRelease([
        migration('20250301090000_add_role', `ALTER TYPE "Role" ADD VALUE 'EMAIL';`),
        migration('20250302090000_drop_admin', dance),
      ]);

      expect(analysis.nonTransactional.map((s) => s.reason)).toEqual([
        expect.stringContaining('own transaction (BEGIN)'),
        expect.stringContaining('own transaction (COMMIT)'),
      ]);
    });

    it('does not count a value added to the old type once the name belongs to a type created in the release', () => {
      const analysis = analyzeRelease([
        migration('20250301090000_add_role', `ALTER TYPE "Role" ADD VALUE 'EMAIL';`),
        migration(
          '20250302090000_replace',
          `DROP TYPE "Role";\nCREATE TYPE "Role" AS ENUM ('USER', 'EMAIL');`,
        ),
        migration('20250303090000_use', `SELECT 'EMAIL'::"Role";`),
      ]);

      expect(analysis.nonTransactional).toEqual([]);
    });

    it('notes a new enum value that the release does not use', () => {
      const analysis = analyzeRelease([
        migration('20250301090000_a', `ALTER TYPE "TaskStatus" ADD VALUE 'BLOCKED';`),
      ]);

      expect(analysis.notes).toEqual([expect.stringContaining(`adds the value 'BLOCKED' to TaskStatus`)]);
    });
  });

  describe('lockedTables', () => {
    it('lists the tables written, altered, indexed, dropped, truncated or referenced, as written, once, sorted', () => {
      const analysis = analyzeRelease([
        migration(
          '20250301090000_a',
          `ALTER TABLE "public"."Task" ADD COLUMN "x" INTEGER;
           CREATE INDEX "Task_x_idx" ON "Task"("x");
           UPDATE "Task" SET "x" = 1;
           CREATE TABLE "Note" ("id" SERIAL PRIMARY KEY, "taskId" INTEGER REFERENCES "Task"("id"));`,
        ),
        migration(
          '20250302090000_b',
          `DELETE FROM audit.events WHERE true;
           INSERT INTO "Label" ("name") VALUES ('x');
           TRUNCATE "Cache", staging.imports;
           DROP TABLE "Old", archive."Older";
           ALTER TABLE "Comment" ADD CONSTRAINT "Comment_noteId_fkey" FOREIGN KEY ("noteId") REFERENCES "Note"("id");
           WITH moved AS (UPDATE "Queue" SET "done" = true RETURNING "id") SELECT count(*) FROM moved;
           SELECT * FROM "OnlyRead";`,
        ),
      ]);

      expect(analysis.lockedTables).toEqual([
        'Cache',
        'Comment',
        'Label',
        'Note',
        'Old',
        'Queue',
        'Task',
        'archive.Older',
        'audit.events',
        'public.Task',
        'staging.imports',
      ]);
    });
  });
});
