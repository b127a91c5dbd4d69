import { describe, expect, it } from 'vitest';
import { driftBaseline, driftStatements, judgeDrift } from '../../lambdas/shared/domain/drift.js';

/** What Prisma's engine prints for a table created by hand (as `migrate diff --script` does). */
const AUDIT_LOG = `-- CreateTable
CREATE TABLE "public"."audit_log" (
    "id" SERIAL NOT NULL,
    "what" TEXT,

    CONSTRAINT "audit_log_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "audit_at" ON "public"."audit_log"("at" ASC);
`;
const ADDED_COLUMN = `-- AlterTable
ALTER TABLE "public"."Order" ADD COLUMN     "audit_log" TEXT;
`;
const ANALYTICS = `-- CreateTable
CREATE TABLE "analytics"."events" ("id" INTEGER);
`;
const warn = { policy: 'warn', ignore: [] } as const;

describe('driftStatements', () => {
  it("splits Prisma's diff script into statements, without comments, whitespace folded", () => {
    expect(driftStatements(AUDIT_LOG)).toEqual([
      'CREATE TABLE "public"."audit_log" ( "id" SERIAL NOT NULL, "what" TEXT, CONSTRAINT "audit_log_pkey" PRIMARY KEY ("id") )',
      'CREATE INDEX "audit_at" ON "public"."audit_log"("at" ASC)',
    ]);
    expect(driftStatements('')).toEqual([]);
  });
});

describe('judgeDrift', () => {
  it('counts drift that was there before the release as pre-existing, not introduced', () => {
    const baseline = driftBaseline(AUDIT_LOG, warn);
    const judged = judgeDrift(AUDIT_LOG, warn, baseline);
    expect(judged.introduced).toEqual([]);
    expect(judged.preexisting).toHaveLength(2);
  });

  it('counts only the new differences as introduced by the release', () => {
    const judged = judgeDrift(AUDIT_LOG + ADDED_COLUMN, warn, driftBaseline(AUDIT_LOG, warn));
    expect(judged.introduced).toEqual(['ALTER TABLE "public"."Order" ADD COLUMN "audit_log" TEXT']);
  });

  it('counts every difference as introduced when no baseline was measured', () => {
    expect(judgeDrift(AUDIT_LOG, warn, undefined).introduced).toHaveLength(2);
  });

  it('leaves out ignored tables (bare or schema-qualified) and whole schemas, and nothing else', () => {
    const script = AUDIT_LOG + ADDED_COLUMN + ANALYTICS;
    for (const ignore of [
      ['audit_log', 'analytics.*'],
      ['public.audit_log', '"analytics".*'],
    ]) {
      const judged = judgeDrift(script, { policy: 'fail', ignore }, undefined);
      // A column that happens to be named like an ignored table is still drift.
      expect(judged.introduced).toEqual(['ALTER TABLE "public"."Order" ADD COLUMN "audit_log" TEXT']);
      expect(judged.ignoredCount).toBe(3);
    }
  });
});

describe('the ignore list', () => {
  it('matches qualified table names only, never two words that a space separates', () => {
    // `"id" INTEGER` is not the table "id"."integer".
    const judged = judgeDrift(ANALYTICS, { policy: 'fail', ignore: ['integer'] }, undefined);
    expect(judged.introduced).toHaveLength(1);
  });
});
