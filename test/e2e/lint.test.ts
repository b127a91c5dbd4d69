/**
 * The lint's policy and acknowledgements end to end: the synthesized workflow through the local runner against real
 * PostgreSQL, on the sample app at its previous release, whose pending release drops "User"."name" (after copying
 * it), backfills without WHERE and indexes an existing table. The drop blocks by default: the sample's own input
 * acknowledges it (`SAMPLE_ACKNOWLEDGEMENTS`, bin/sample/release-input.ts).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestDatabase } from '../../bin/sample/database-digest.js';
import { SAMPLE_ACKNOWLEDGEMENTS } from '../../bin/sample/release-input.js';
import { OutcomeErrors } from '../../lambdas/shared/contract/contract.js';
import { ExecutionReportSchema } from '../../lambdas/shared/contract/report-schema.js';
import { requirePlan } from '../../lambdas/shared/contract/state.js';
import { runLocal } from '../../lib/local/runner.js';
import { dropDatabase, sampleDatabase, sampleRelease, withAdmin, withClient } from '../helpers/database.js';

const SAMPLE = 'prisma/migrations';
const SPLIT = '20250122090000_split_user_name';
const created: string[] = [];
let reportsDir = '';

async function appliedMigrations(url: string): Promise<string[]> {
  return await withClient(url, async (client) =>
    (
      await client.query<{ migration_name: string }>(
        'SELECT migration_name FROM _prisma_migrations ORDER BY migration_name',
      )
    ).rows.map((row) => row.migration_name),
  );
}

/** Every database of the server named after `name` (its snapshots and copies), the database itself excluded. */
async function copiesOf(name: string): Promise<string[]> {
  return await withAdmin(async (client) =>
    (
      await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [
        `${name.replaceAll('_', '-')}-%`,
      ])
    ).rows.map((row) => row.datname),
  );
}

beforeAll(() => {
  reportsDir = mkdtempSync(join(tmpdir(), 'orchestrator-lint-reports-'));
});

afterAll(async () => {
  for (const name of created) {
    for (const copy of await copiesOf(name)) await dropDatabase(copy);
    await dropDatabase(name);
  }
});

describe('the lint through the local workflow', () => {
  it('stops the sample release without its acknowledgement under the default policy: no snapshot, the database unchanged', async () => {
    // Prepare
    const db = await sampleDatabase('lint_block', created);
    const before = await digestDatabase(db.url);
    const history = await appliedMigrations(db.url);
    // Act: the default policy, and an input that acknowledges nothing.
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: SAMPLE,
      input: { release: 'v2' },
      reportsDir: false,
    });
    // Assess: refused before the first statement, naming the rule, the migration, file:line:column and the
    // acknowledgement that would let it through.
    expect(result.outcome).toBe('preflight-refused');
    expect(result.exitCode).toBe(1);
    expect(result.error?.name).toBe(OutcomeErrors.PreflightRefused);
    expect(result.error?.cause).toContain('MigrationsInvalid');
    expect(result.error?.cause).toContain(
      `${SPLIT}/migration.sql:12:1 drop-column: column \\"name\\" of \\"User\\"`,
    );
    expect(result.error?.cause).toContain(`\\"rule\\": \\"drop-column\\", \\"migration\\": \\"${SPLIT}\\"`);
    expect(result.error?.cause).toContain(`(needed: drop-column in ${SPLIT})`);
    expect(result.path).not.toContain('Create the snapshot');
    expect(result.path).not.toContain('Apply pending migrations');
    expect(await copiesOf(db.name)).toEqual([]);
    expect(await digestDatabase(db.url)).toEqual(before);
    expect(await appliedMigrations(db.url)).toEqual(history);
  });

  it("runs the same release with the sample's acknowledgement, and the report records it", async () => {
    // Prepare
    const db = await sampleDatabase('lint_ack', created);
    const reason = 'name copied into firstName and lastName by the same migration before the drop';
    expect(SAMPLE_ACKNOWLEDGEMENTS).toEqual([{ rule: 'drop-column', migration: SPLIT, reason }]);
    // Act
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: SAMPLE,
      input: sampleRelease({ release: 'v2' }),
      reportsDir,
    });
    // Assess
    expect(result.outcome).toBe('succeeded');
    expect(requirePlan(result.state, 'test').lint?.acknowledged).toEqual([
      expect.objectContaining({ rule: 'drop-column', migration: SPLIT, line: 12, column: 1, reason }),
    ]);
    const report = ExecutionReportSchema.parse(JSON.parse(readFileSync(result.reportFile ?? '', 'utf8')));
    expect(report.outcome.succeeded).toBe(true);
    expect(report.lint?.acknowledged).toEqual([
      expect.objectContaining({
        rule: 'drop-column',
        migration: SPLIT,
        file: `${SPLIT}/migration.sql`,
        reason,
      }),
    ]);
  });

  it('shows warn findings and acknowledged ones in the plan of a dry run, with their file, line and column', async () => {
    // Prepare
    const db = await sampleDatabase('lint_warn', created);
    // Act
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: SAMPLE,
      input: sampleRelease({ dryRun: true }),
      reportsDir: false,
    });
    // Assess
    expect(result.outcome).toBe('dry-run');
    const plan = requirePlan(result.state, 'test');
    expect(plan.lint?.warnings.map((finding) => `${finding.rule} ${finding.file}:${finding.line}`)).toEqual([
      `update-without-where ${SPLIT}/migration.sql:7`,
      'create-index-non-concurrently 20250129090000_task_priority/migration.sql:8',
    ]);
    expect(
      plan.lint?.acknowledged.map((finding) => `${finding.rule} ${finding.file}:${finding.line}`),
    ).toEqual([`drop-column ${SPLIT}/migration.sql:12`]);
    expect(plan.warnings.filter((warning) => warning.startsWith('Lint (warn): '))).toHaveLength(2);
  });

  it("warns of the DROP COLUMN instead when the policy says 'drop-column': 'warn'", async () => {
    // Prepare
    const db = await sampleDatabase('lint_dcwarn', created);
    // Act
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: SAMPLE,
      input: { dryRun: true },
      lintPolicy: { 'drop-column': 'warn' },
      reportsDir: false,
    });
    // Assess
    expect(result.outcome).toBe('dry-run');
    expect(requirePlan(result.state, 'test').lint?.warnings.map((finding) => finding.rule)).toEqual([
      'update-without-where',
      'drop-column',
      'create-index-non-concurrently',
    ]);
  });

  it('says nothing of rules turned off', async () => {
    // Prepare
    const db = await sampleDatabase('lint_off', created);
    // Act
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: SAMPLE,
      input: { dryRun: true },
      lintPolicy: {
        'drop-column': 'off',
        'update-without-where': 'off',
        'create-index-non-concurrently': 'off',
      },
      reportsDir: false,
    });
    // Assess
    expect(result.outcome).toBe('dry-run');
    const plan = requirePlan(result.state, 'test');
    expect(plan.lint).toEqual({ warnings: [], acknowledged: [] });
    expect(plan.warnings.filter((warning) => warning.includes('Lint'))).toEqual([]);
  });

  it('refuses an acknowledgement that matches no finding, naming it, and touches nothing', async () => {
    // Prepare
    const db = await sampleDatabase('lint_stale', created);
    const before = await digestDatabase(db.url);
    // Act
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: SAMPLE,
      input: sampleRelease({
        acknowledge: [{ rule: 'drop-table', migration: SPLIT, reason: 'left over from an earlier release' }],
      }),
      reportsDir: false,
    });
    // Assess
    expect(result.outcome).toBe('preflight-refused');
    expect(result.error?.cause).toContain(
      `input.acknowledge[0]: drop-table in ${SPLIT} matches no finding of the lint`,
    );
    expect(await digestDatabase(db.url)).toEqual(before);
    expect(await copiesOf(db.name)).toEqual([]);
  });
});
