import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Migration } from '../../lambdas/shared/ports.js';
import {
  analyzeRelease,
  transactionFallbackReason,
  unparsableScriptsMessage,
} from '../../lambdas/shared/release-analysis.js';

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
        'CREATE INDEX CONCURRENTLY "Task_dueAt_idx" ON "Task"("dueAt");',
        'CREATE INDEX CONCURRENTLY',
      ],
      [
        'CREATE UNIQUE INDEX CONCURRENTLY',
        'CREATE UNIQUE INDEX CONCURRENTLY i ON t (a);',
        'CREATE INDEX CONCURRENTLY',
      ],
      [
        'DROP INDEX CONCURRENTLY',
        'DROP INDEX CONCURRENTLY IF EXISTS "Task_dueAt_idx";',
        'DROP INDEX CONCURRENTLY',
      ],
      ['REINDEX CONCURRENTLY', 'REINDEX INDEX CONCURRENTLY "Task_pkey";', 'REINDEX CONCURRENTLY'],
      ['VACUUM', 'VACUUM ANALYZE "Task";', 'VACUUM'],
      ['ALTER SYSTEM', "ALTER SYSTEM SET work_mem = '64MB';", 'ALTER SYSTEM'],
      ['CREATE DATABASE', 'CREATE DATABASE reporting;', 'CREATE DATABASE'],
      ['DROP DATABASE', 'DROP DATABASE reporting;', 'DROP DATABASE'],
      ['CREATE TABLESPACE', "CREATE TABLESPACE fast LOCATION '/ssd';", 'CREATE TABLESPACE'],
      ['DROP TABLESPACE', 'DROP TABLESPACE fast;', 'DROP TABLESPACE'],
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
      ['its own ROLLBACK', 'UPDATE "Task" SET "priority" = 0;\nROLLBACK;', 'own transaction (ROLLBACK)'],
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

    it('flags a new enum value that a later migration of the release uses', () => {
      const analysis = analyzeRelease([
        migration('20250301090000_add_status', `ALTER TYPE "TaskStatus" ADD VALUE 'BLOCKED';`),
        migration(
          '20250302090000_use_status',
          `UPDATE "Task" SET "status" = 'BLOCKED' WHERE "dueAt" IS NULL;`,
        ),
      ]);

      expect(analysis.nonTransactional).toEqual([
        {
          migration: '20250301090000_add_status',
          statement: `ALTER TYPE "TaskStatus" ADD VALUE 'BLOCKED'`,
          reason: expect.stringContaining('used later in the release (20250302090000_use_status)'),
        },
      ]);
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
      ['a plain CREATE INDEX', 'CREATE INDEX "Task_dueAt_idx" ON "Task"("dueAt");'],
      ['a plain DROP INDEX', 'DROP INDEX "Task_dueAt_idx";'],
      ['a plain REINDEX', 'REINDEX INDEX "Task_pkey";'],
      ['ANALYZE', 'ANALYZE "Task";'],
      ['savepoints', 'SAVEPOINT s1;\nUPDATE "Task" SET "priority" = 0;\nRELEASE SAVEPOINT s1;'],
      [
        'the word CONCURRENTLY inside a string',
        `COMMENT ON TABLE "Task" IS 'CREATE INDEX CONCURRENTLY later; VACUUM too';`,
      ],
      [
        'a $$ function body that mentions COMMIT',
        `CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'COMMIT;'; END; $$;`,
      ],
      ['a new enum value nobody uses in the release', `ALTER TYPE "TaskStatus" ADD VALUE 'BLOCKED';`],
    ])('accepts %s', (_case, sql) => {
      const analysis = analyzeRelease([migration('20250301090000_a', sql)]);

      expect(analysis.nonTransactional).toEqual([]);
      expect(transactionFallbackReason(analysis)).toBeUndefined();
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
