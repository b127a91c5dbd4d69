/**
 * The lint's rule table: for each rule a noncompliant release (the rule fires, once), a compliant one (the safe
 * alternative, or a statement of the same kind that is safe) and a near miss (the same statement on a table or
 * column the release itself creates, or another shape the rule must not take for its own). Parsed with
 * PostgreSQL's own parser; the tables before the release are given as the catalog (the integration test reads them
 * from a real server).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Migration } from '../../lambdas/shared/contract/ports.js';
import { blockingMessage, judgeLint, lintRelease } from '../../lambdas/shared/domain/lint/lint.js';
import {
  DEFAULT_LINT_POLICY,
  type LintFinding,
  type LintRuleId,
  LintRuleIds,
  resolveLintPolicy,
} from '../../lambdas/shared/domain/lint/policy.js';
import { LINT_RULES, type SchemaCatalog } from '../../lambdas/shared/domain/lint/rules.js';
import { analyzeRelease } from '../../lambdas/shared/domain/release-analysis.js';
import { KEEP_STATEMENTS_UP_TO } from '../../lambdas/shared/domain/script-memory.js';

/** The database before the release: the sample app's tables, and a validated NOT NULL check on "Task"."title". */
const CATALOG: SchemaCatalog = {
  schema: 'public',
  tables: ['public.User', 'public.Task', 'public.Project'],
  notNullChecked: ['public.Task.title'],
};

function migration(name: string, sql: string): Migration {
  return { name, sql, checksum: '' };
}

/**
 * A release of one or more scripts (`m1`, `m2`, ...). Linted twice: with the statements the analysis kept (a small
 * release) and with them parsed again as the lint reads them (a release over `KEEP_STATEMENTS_UP_TO`): the same
 * findings.
 */
function lint(scripts: string | readonly string[], catalog: SchemaCatalog = CATALOG): LintFinding[] {
  const list = typeof scripts === 'string' ? [scripts] : scripts;
  const migrations = list.map((sql, index) => migration(`2025010${index + 1}000000_m${index + 1}`, sql));
  const [kept, reparsed] = [KEEP_STATEMENTS_UP_TO, 0].map((keepUpTo) => {
    const analysis = analyzeRelease(migrations, { keepStatementsUpTo: keepUpTo });
    return lintRelease({
      statements: analysis.statements ?? [],
      ...(analysis.enumValuesUsed ? { enumValuesUsed: analysis.enumValuesUsed } : {}),
      catalog,
    });
  });
  expect(reparsed).toEqual(kept);
  return kept ?? [];
}

const rulesOf = (findings: readonly LintFinding[]) => findings.map((finding) => finding.rule);

interface Case {
  readonly noncompliant: string | readonly string[];
  readonly compliant: string | readonly string[];
  readonly nearMiss: string | readonly string[];
}

const CASES: Record<LintRuleId, Case> = {
  'drop-table': {
    noncompliant: 'DROP TABLE "User";',
    compliant: 'DROP VIEW "UserSummary";',
    nearMiss: 'CREATE TABLE "Scratch" ("id" INTEGER); DROP TABLE "Scratch";',
  },
  'drop-column': {
    noncompliant: 'ALTER TABLE "User" DROP COLUMN "name";',
    compliant: 'ALTER TABLE "User" DROP CONSTRAINT "User_name_check";',
    nearMiss: 'ALTER TABLE "User" ADD COLUMN "tmp" TEXT; ALTER TABLE "User" DROP COLUMN "tmp";',
  },
  'rename-table': {
    noncompliant: 'ALTER TABLE "User" RENAME TO "Account";',
    compliant: 'ALTER INDEX "User_email_key" RENAME TO "User_mail_key";',
    nearMiss: 'CREATE TABLE "Draft" ("id" INTEGER); ALTER TABLE "Draft" RENAME TO "Post";',
  },
  'rename-column': {
    noncompliant: 'ALTER TABLE "User" RENAME COLUMN "name" TO "fullName";',
    compliant: 'ALTER TABLE "User" RENAME CONSTRAINT "User_pkey" TO "User_primary";',
    nearMiss:
      'ALTER TABLE "User" ADD COLUMN "nick" TEXT; ALTER TABLE "User" RENAME COLUMN "nick" TO "handle";',
  },
  'change-column-type': {
    noncompliant: 'ALTER TABLE "User" ALTER COLUMN "name" SET DATA TYPE VARCHAR(100);',
    compliant: `ALTER TABLE "User" ALTER COLUMN "name" SET DEFAULT 'anonymous';`,
    nearMiss:
      'ALTER TABLE "User" ADD COLUMN "age" INTEGER; ALTER TABLE "User" ALTER COLUMN "age" SET DATA TYPE BIGINT;',
  },
  'set-not-null': {
    noncompliant: 'ALTER TABLE "User" ALTER COLUMN "name" SET NOT NULL;',
    // The catalog has a validated CHECK ("title" IS NOT NULL): PostgreSQL 12+ skips the scan.
    compliant: 'ALTER TABLE "Task" ALTER COLUMN "title" SET NOT NULL;',
    // The sample release's pattern: a column the release adds, backfilled, then made required.
    nearMiss: [
      'ALTER TABLE "User" ADD COLUMN "firstName" TEXT;',
      `UPDATE "User" SET "firstName" = split_part("name", ' ', 1) WHERE "firstName" IS NULL;`,
      'ALTER TABLE "User" ALTER COLUMN "firstName" SET NOT NULL;',
    ],
  },
  'add-column-volatile-default': {
    noncompliant: 'ALTER TABLE "User" ADD COLUMN "token" UUID NOT NULL DEFAULT gen_random_uuid();',
    compliant: 'ALTER TABLE "User" ADD COLUMN "joinedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;',
    nearMiss:
      'CREATE TABLE "Session" ("id" INTEGER); ALTER TABLE "Session" ADD COLUMN "token" UUID DEFAULT gen_random_uuid();',
  },
  'create-index-non-concurrently': {
    noncompliant: 'CREATE INDEX "User_name_idx" ON "User"("name");',
    compliant: 'CREATE INDEX CONCURRENTLY "User_name_idx" ON "User"("name");',
    // Prisma's own output: the unique index right after the CREATE TABLE.
    nearMiss:
      'CREATE TABLE "Label" ("id" SERIAL NOT NULL, "name" TEXT NOT NULL, CONSTRAINT "Label_pkey" PRIMARY KEY ("id"));\n' +
      'CREATE UNIQUE INDEX "Label_name_key" ON "Label"("name");',
  },
  'add-foreign-key': {
    noncompliant:
      'ALTER TABLE "Task" ADD CONSTRAINT "Task_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "User"("id");',
    compliant:
      'ALTER TABLE "Task" ADD CONSTRAINT "Task_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "User"("id") NOT VALID;',
    // Prisma's own output: a new table's foreign key to an existing one.
    nearMiss:
      'CREATE TABLE "Note" ("id" SERIAL NOT NULL, "userId" INTEGER NOT NULL);\n' +
      'ALTER TABLE "Note" ADD CONSTRAINT "Note_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;',
  },
  'add-check-constraint': {
    noncompliant: 'ALTER TABLE "User" ADD CONSTRAINT "User_name_check" CHECK (length("name") > 0);',
    compliant: 'ALTER TABLE "User" ADD CONSTRAINT "User_name_check" CHECK (length("name") > 0) NOT VALID;',
    nearMiss:
      'CREATE TABLE "Price" ("amount" INTEGER); ALTER TABLE "Price" ADD CONSTRAINT "Price_check" CHECK ("amount" >= 0);',
  },
  'add-unique-constraint': {
    noncompliant: 'ALTER TABLE "User" ADD CONSTRAINT "User_name_key" UNIQUE ("name");',
    compliant: 'ALTER TABLE "User" ADD CONSTRAINT "User_name_key" UNIQUE USING INDEX "User_name_idx";',
    nearMiss:
      'CREATE TABLE "Tag" ("name" TEXT); ALTER TABLE "Tag" ADD CONSTRAINT "Tag_name_key" UNIQUE ("name");',
  },
  truncate: {
    noncompliant: 'TRUNCATE "Task";',
    compliant: 'DELETE FROM "Task" WHERE "projectId" IS NULL;',
    nearMiss: 'CREATE TABLE "Import" ("id" INTEGER); TRUNCATE "Import";',
  },
  'delete-without-where': {
    noncompliant: 'DELETE FROM "Task";',
    compliant: 'DELETE FROM "Task" WHERE "projectId" IS NULL;',
    nearMiss: 'CREATE TABLE "Import" ("id" INTEGER); INSERT INTO "Import" VALUES (1); DELETE FROM "Import";',
  },
  'update-without-where': {
    noncompliant: 'UPDATE "Task" SET "priority" = 0;',
    compliant: 'UPDATE "Task" SET "priority" = 0 WHERE "priority" IS NULL;',
    nearMiss: 'CREATE TABLE "Import" ("id" INTEGER, "seen" BOOLEAN); UPDATE "Import" SET "seen" = true;',
  },
  'enum-value-used-in-release': {
    noncompliant: [
      `ALTER TYPE "TaskStatus" ADD VALUE 'ARCHIVED';`,
      `UPDATE "Task" SET "status" = 'ARCHIVED' WHERE "dueAt" < now();`,
    ],
    compliant: `ALTER TYPE "TaskStatus" ADD VALUE 'ARCHIVED';`,
    // The value's text in the next migration, but not converted to the type.
    nearMiss: [`ALTER TYPE "TaskStatus" ADD VALUE 'ARCHIVED';`, `SELECT 'ARCHIVED' AS label;`],
  },
};

describe('LINT_RULES', () => {
  it('has one rule per id, each with what it matches, the risk and the safe alternative, and a default policy', () => {
    expect(LINT_RULES.map((rule) => rule.id)).toEqual([...LintRuleIds]);
    for (const rule of LINT_RULES) {
      expect(rule.matches.length, rule.id).toBeGreaterThan(20);
      expect(rule.risk.length, rule.id).toBeGreaterThan(40);
      expect(rule.safe.length, rule.id).toBeGreaterThan(30);
      expect(['block', 'warn'], rule.id).toContain(DEFAULT_LINT_POLICY[rule.id]);
    }
  });

  it('is documented in docs/lint.md as it is: each rule with its default, what it matches, its risk and alternative', () => {
    const doc = readFileSync('docs/lint.md', 'utf8');
    for (const rule of LINT_RULES) {
      expect(doc, rule.id).toContain(`| \`${rule.id}\` | ${DEFAULT_LINT_POLICY[rule.id]} |`);
      expect(doc, rule.id).toContain(`### \`${rule.id}\` (default: ${DEFAULT_LINT_POLICY[rule.id]})`);
      for (const text of [rule.matches, rule.risk, rule.safe]) expect(doc, rule.id).toContain(text);
    }
  });

  for (const id of LintRuleIds) {
    describe(id, () => {
      const cases = CASES[id];
      it('fires on the noncompliant release, once', () => {
        expect(rulesOf(lint(cases.noncompliant)).filter((rule) => rule === id)).toEqual([id]);
      });
      it('is silent on the compliant release', () => {
        expect(rulesOf(lint(cases.compliant))).not.toContain(id);
      });
      it('is silent on the near miss', () => {
        expect(rulesOf(lint(cases.nearMiss))).not.toContain(id);
      });
    });
  }
});

describe('lintRelease', () => {
  it("says where: the migration's file, and the line and column of the statement's first token after comments", () => {
    // Act
    const [finding] = lint(
      '-- Remove the old name.\n-- AlterTable\nSELECT 1;\n\n  /* why */ ALTER TABLE "User"\n  DROP COLUMN "name";\n',
    );
    // Assess
    expect(finding).toMatchObject({
      rule: 'drop-column',
      migration: '20250101000000_m1',
      file: '20250101000000_m1/migration.sql',
      line: 5,
      column: 13,
      statement: 'ALTER TABLE "User" DROP COLUMN "name"',
    });
    expect(finding?.message).toMatch(
      /^drop-column: column "name" of "User"\. .+ Instead: Expand and contract/,
    );
  });

  it('counts columns in characters after a multibyte comment (libpg_query reports byte offsets)', () => {
    const [finding] = lint('SELECT 1; /* überall — ünïcödé */ TRUNCATE "Task";');
    expect(finding).toMatchObject({ rule: 'truncate', line: 1, column: 35 });
  });

  it('follows a table through a rename: the new name of an existing table is still an existing table', () => {
    const findings = lint(
      'ALTER TABLE "Task" RENAME TO "Todo"; CREATE INDEX "Todo_title_idx" ON "Todo"("title");',
    );
    expect(rulesOf(findings)).toEqual(['rename-table', 'create-index-non-concurrently']);
  });

  it('takes unqualified names in the catalog schema, and qualified names as written', () => {
    const catalog: SchemaCatalog = { schema: 'app', tables: ['app.User', 'audit.User'], notNullChecked: [] };
    expect(rulesOf(lint('DROP TABLE "User";', catalog))).toEqual(['drop-table']);
    expect(rulesOf(lint('DROP TABLE "audit"."User";', catalog))).toEqual(['drop-table']);
    expect(rulesOf(lint('DROP TABLE "public"."User";', catalog))).toEqual([]);
  });

  it('treats a table dropped and created again in the release as new', () => {
    expect(
      rulesOf(lint('DROP TABLE "Project"; CREATE TABLE "Project" ("id" INTEGER); TRUNCATE "Project";')),
    ).toEqual(['drop-table']);
  });

  it('finds a serial column and a stored generated column added to an existing table', () => {
    const findings = lint(
      'ALTER TABLE "User" ADD COLUMN "seq" SERIAL, ADD COLUMN "upper" TEXT GENERATED ALWAYS AS (upper("name")) STORED;',
    );
    expect(findings.map((finding) => finding.message.split('.')[0])).toEqual([
      'add-column-volatile-default: column "seq" of "User" (its type serial defaults to nextval())',
      'add-column-volatile-default: column "upper" of "User" (it is a stored generated column)',
    ]);
  });

  it('finds nothing in the first releases of the sample app (every table is new)', () => {
    const empty: SchemaCatalog = { schema: 'public', tables: [], notNullChecked: [] };
    expect(
      lint(
        [
          'CREATE TABLE "User" ("id" SERIAL NOT NULL, "email" TEXT NOT NULL, CONSTRAINT "User_pkey" PRIMARY KEY ("id"));\nCREATE UNIQUE INDEX "User_email_key" ON "User"("email");',
          'CREATE TABLE "Task" ("id" SERIAL NOT NULL, "userId" INTEGER);\nCREATE INDEX "Task_userId_idx" ON "Task"("userId");\nALTER TABLE "Task" ADD CONSTRAINT "Task_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id");',
        ],
        empty,
      ),
    ).toEqual([]);
  });
});

describe('judgeLint', () => {
  const findings = lint([
    'DROP TABLE "Project";',
    'ALTER TABLE "User" DROP COLUMN "name"; UPDATE "Task" SET "priority" = 0;',
  ]);
  const [m1, m2] = ['20250101000000_m1', '20250102000000_m2'];

  it('blocks what the policy blocks, shows what it warns of, and keeps quiet about what is off', () => {
    // Act
    const judged = judgeLint(
      findings,
      resolveLintPolicy({ 'drop-column': 'warn', 'update-without-where': 'off' }),
      [],
    );
    // Assess
    expect(rulesOf(judged.blocking)).toEqual(['drop-table']);
    expect(rulesOf(judged.result.warnings)).toEqual(['drop-column']);
    expect(judged.result.acknowledged).toEqual([]);
    expect(judged.stale).toEqual([]);
    expect(blockingMessage(judged.blocking)).toMatch(
      /20250101000000_m1\/migration.sql:1:1 drop-table: table "Project"\. .*"acknowledge": \[\{ "rule": "drop-table", "migration": "20250101000000_m1", "reason": "\.\.\." \}\]/,
    );
  });

  it('blocks a DROP COLUMN by default, and warns of the UPDATE without WHERE', () => {
    const judged = judgeLint(findings, DEFAULT_LINT_POLICY, []);
    expect(rulesOf(judged.blocking)).toEqual(['drop-table', 'drop-column']);
    expect(rulesOf(judged.result.warnings)).toEqual(['update-without-where']);
    expect(blockingMessage(judged.blocking)).toContain(
      '(needed: drop-table in 20250101000000_m1, drop-column in 20250102000000_m2)',
    );
  });

  it('lets acknowledged blocking findings through, with their reasons, and only those', () => {
    const reason = 'Project was replaced by Workspace in release 41; its data was exported.';
    const copied = 'name was copied into firstName first';
    const judged = judgeLint(findings, DEFAULT_LINT_POLICY, [{ rule: 'drop-table', migration: m1, reason }]);
    expect(rulesOf(judged.blocking)).toEqual(['drop-column']);
    const both = judgeLint(findings, DEFAULT_LINT_POLICY, [
      { rule: 'drop-table', migration: m1, reason },
      { rule: 'drop-column', migration: m2, reason: copied },
    ]);
    expect(both.blocking).toEqual([]);
    expect(both.result.acknowledged).toEqual([
      expect.objectContaining({ rule: 'drop-table', migration: m1, reason }),
      expect.objectContaining({ rule: 'drop-column', migration: m2, reason: copied }),
    ]);
  });

  it('reports an acknowledgement that matches no finding: wrong rule, wrong migration, or a rule turned off', () => {
    const reason = 'a reason that is long enough';
    const judged = judgeLint(
      findings,
      resolveLintPolicy({ 'update-without-where': 'off' }),
      [
        { rule: 'drop-table', migration: m2, reason },
        { rule: 'truncate', migration: m1, reason },
        { rule: 'update-without-where', migration: m2, reason },
        { rule: 'drop-column', migration: m2, reason },
      ],
      new Set([m2]),
    );
    expect(judged.stale.map((stale) => [stale.index, stale.applied])).toEqual([
      [0, true],
      [1, false],
      [2, true],
    ]);
    expect(rulesOf(judged.blocking)).toEqual(['drop-table']);
  });
});
