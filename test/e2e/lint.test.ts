/**
 * The lint's policy and acknowledgements end to end: the synthesized workflow through the local runner against real
 * PostgreSQL, on the sample app at its previous release, whose pending release drops "User"."name" (after copying
 * it), backfills without WHERE and indexes an existing table.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestDatabase } from '../../bin/sample/database-digest.js';
import { OutcomeErrors } from '../../lambdas/shared/contract/contract.js';
import { ExecutionReportSchema } from '../../lambdas/shared/contract/report-schema.js';
import { requirePlan } from '../../lambdas/shared/contract/state.js';
import { runLocal } from '../../lib/local/runner.js';
import { dropDatabase, sampleDatabase, withAdmin, withClient } from '../helpers/database.js';

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
  it('stops a release with a blocking DROP COLUMN in preflight: no snapshot taken, the database unchanged', async () => {
    // Prepare
    const db = await sampleDatabase('lint_block', created);
    const before = await digestDatabase(db.url);
    const history = await appliedMigrations(db.url);
    // Act
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: SAMPLE,
      lintPolicy: { 'drop-column': 'block' },
      reportsDir: false,
    });
    // Assess
    expect(result.outcome).toBe('preflight-refused');
    expect(result.error?.name).toBe(OutcomeErrors.PreflightRefused);
    expect(result.error?.cause).toContain(
      `${SPLIT}/migration.sql:12:1 drop-column: column \\"name\\" of \\"User\\"`,
    );
    expect(result.error?.cause).toContain(`\\"rule\\": \\"drop-column\\", \\"migration\\": \\"${SPLIT}\\"`);
    expect(result.path).not.toContain('Create the snapshot');
    expect(await copiesOf(db.name)).toEqual([]);
    expect(await digestDatabase(db.url)).toEqual(before);
    expect(await appliedMigrations(db.url)).toEqual(history);
  });

  it('runs the same release when the input acknowledges the finding, and the report records the acknowledgement', async () => {
    // Prepare
    const db = await sampleDatabase('lint_ack', created);
    const reason = 'name is copied into firstName and lastName by the same migration first';
    // Act
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: SAMPLE,
      lintPolicy: { 'drop-column': 'block' },
      input: { release: 'v2', acknowledge: [{ rule: 'drop-column', migration: SPLIT, reason }] },
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

  it('shows warn findings in the plan of a dry run, with their file, line and column', async () => {
    // Prepare
    const db = await sampleDatabase('lint_warn', created);
    // Act
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: SAMPLE,
      input: { dryRun: true },
      reportsDir: false,
    });
    // Assess
    expect(result.outcome).toBe('dry-run');
    const plan = requirePlan(result.state, 'test');
    expect(plan.lint?.warnings.map((finding) => `${finding.rule} ${finding.file}:${finding.line}`)).toEqual([
      `update-without-where ${SPLIT}/migration.sql:7`,
      `drop-column ${SPLIT}/migration.sql:12`,
      'create-index-non-concurrently 20250129090000_task_priority/migration.sql:8',
    ]);
    expect(plan.warnings.filter((warning) => warning.startsWith('Lint (warn): '))).toHaveLength(3);
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
      input: {
        acknowledge: [{ rule: 'drop-table', migration: SPLIT, reason: 'left over from an earlier release' }],
      },
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
