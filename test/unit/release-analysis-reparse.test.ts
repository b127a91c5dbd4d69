/**
 * The release analysis keeps a small release's parsed statements for the lint, and parses a large one's again,
 * statement by statement, when the lint reads them (`KEEP_STATEMENTS_UP_TO`). Over the real public histories of
 * `test/fixtures/corpus`, each released whole, both give the same statements and the same lint findings.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DirectoryMigrationSource } from '../../lambdas/shared/adapters/prisma/directory-migration-source.js';
import { lintRelease } from '../../lambdas/shared/domain/lint/lint.js';
import { analyzeRelease } from '../../lambdas/shared/domain/release-analysis.js';
import { KEEP_STATEMENTS_UP_TO } from '../../lambdas/shared/domain/script-memory.js';

const CORPUS = resolve(import.meta.dirname, '../fixtures/corpus');
const HISTORIES = ['civitai', 'langfuse', 'trigger-dev', 'supplement'];

describe('a release analysed with its statements kept or parsed again', () => {
  it.each(HISTORIES)(
    'gives the same statements and lint findings for the whole %s history',
    async (history) => {
      const { migrations } = await new DirectoryMigrationSource(
        resolve(CORPUS, history, 'migrations'),
      ).load();
      const sql = migrations.reduce((sum, migration) => sum + migration.sql.length, 0);
      expect(sql).toBeLessThanOrEqual(KEEP_STATEMENTS_UP_TO);
      const kept = analyzeRelease(migrations);
      const reparsed = analyzeRelease(migrations, { keepStatementsUpTo: 0 });
      expect(Array.isArray(kept.statements)).toBe(true);
      expect(Array.isArray(reparsed.statements)).toBe(false);
      const { statements: keptStatements, ...keptVerdicts } = kept;
      const { statements: reparsedStatements, ...reparsedVerdicts } = reparsed;
      expect(reparsedVerdicts).toEqual(keptVerdicts);
      const list = [...(reparsedStatements ?? [])];
      expect(list.length).toBeGreaterThan(migrations.length);
      expect(list).toEqual(keptStatements);
      const catalog = { schema: 'public', tables: [], notNullChecked: [] };
      const lint = (statements: typeof list | Iterable<(typeof list)[number]>) =>
        lintRelease({ statements, enumValuesUsed: kept.enumValuesUsed ?? [], catalog });
      const findings = lint(keptStatements ?? []);
      expect(findings.length).toBeGreaterThan(0);
      // Read twice: each reading parses the scripts again.
      expect(lint(reparsedStatements ?? [])).toEqual(findings);
      expect(lint(reparsedStatements ?? [])).toEqual(findings);
    },
  );
});
