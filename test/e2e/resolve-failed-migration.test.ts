/**
 * Resolving a failed migration (P3009) through the input (`input.resolve`), end to end: a deploy outside the
 * workflow (Prisma's per-migration semantics) leaves a failed row in `_prisma_migrations`; the local runner, from the
 * synthesized definition, checks the schema evidence in preflight, marks the row through Prisma's engine after the
 * snapshot and deploys; the REAL `prisma migrate status` must then agree that the database is up to date.
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeRelease } from '../../bin/sample/sample-app.js';
import { DirectoryMigrationSource } from '../../lambdas/shared/adapters/prisma/directory-migration-source.js';
import { PrismaMigrationEngine } from '../../lambdas/shared/adapters/prisma/migration-engine.js';
import { ErrorNames, StateNames } from '../../lambdas/shared/contract/contract.js';
import { ExecutionReportSchema } from '../../lambdas/shared/contract/report-schema.js';
import { requirePlan } from '../../lambdas/shared/contract/state.js';
import { type LocalRunResult, runLocal } from '../../lib/local/runner.js';
import { type CliRun, runCli } from '../helpers/cli.js';
import { dropDatabasesAndCopies, sampleDatabase, withClient } from '../helpers/database.js';
import { PrismaCli } from '../helpers/prisma-cli.js';

const ESTIMATES = '20250226090000_task_estimates';
const ARCHIVED = '20250305090000_project_archived_at';
const CODES = '20250301090000_task_codes';
const CODES_ARCHIVED = '20250308090000_project_archived_at';
const REASON = 'checked the schema by hand after the failed deploy';

const created: string[] = [];
const directories: string[] = [];
const cli = new PrismaCli();
let reportsDir = '';

beforeAll(async () => {
  await cli.prepare();
  reportsDir = await mkdtemp(join(tmpdir(), 'resolve-reports-'));
  directories.push(reportsDir);
}, 120_000);

afterAll(async () => {
  await cli.cleanup();
  await dropDatabasesAndCopies(created);
  for (const dir of directories) await rm(dir, { recursive: true, force: true });
});

/** A copy of `from` with `changes` (`[migration, sql]`) written over or added. */
async function editedCopy(from: string, changes: readonly (readonly [string, string])[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'resolve-release-'));
  directories.push(dir);
  await cp(from, dir, { recursive: true });
  for (const [name, sql] of changes) {
    await mkdir(join(dir, name), { recursive: true });
    await writeFile(join(dir, name, 'migration.sql'), sql);
  }
  return dir;
}

/**
 * A database of the sample app with every sample migration applied, then `release` deployed migration by migration
 * as `prisma migrate deploy` does, outside the workflow: it fails and leaves a failed row.
 */
async function failedDeploy(prefix: string, release: string, failing: string) {
  const db = await sampleDatabase(prefix, created, true);
  const engine = new PrismaMigrationEngine({ connectionString: db.url });
  const bundle = await new DirectoryMigrationSource(release).load();
  const outcome = await engine
    .applyPending(bundle, { transactionMode: 'per-migration' })
    .catch((e: Error) => e);
  expect(outcome).toMatchObject({ name: ErrorNames.MigrationFailed });
  const failed = (await engine.readHistory()).filter((r) => r.finishedAt === null && r.rolledBackAt === null);
  expect(failed.map((r) => r.name)).toEqual([failing]);
  return db;
}

async function rowsOf(url: string, migration: string) {
  return await withClient(
    url,
    async (client) =>
      (
        await client.query<{ finished: boolean; rolled_back: boolean; applied_steps_count: number }>(
          `SELECT finished_at IS NOT NULL AS finished, rolled_back_at IS NOT NULL AS rolled_back, applied_steps_count
           FROM _prisma_migrations WHERE migration_name = $1 ORDER BY started_at`,
          [migration],
        )
      ).rows,
  );
}

async function reportOf(result: LocalRunResult) {
  expect(result.reportFile).toBeDefined();
  return ExecutionReportSchema.parse(JSON.parse(await readFile(result.reportFile as string, 'utf8')));
}

/** `npm start -- run <args>` as a user runs it: a separate process, its output and exit code. */
function startCli(args: string[], databaseUrl: string): Promise<CliRun> {
  return runCli(['run', ...args], { env: { DATABASE_URL: databaseUrl } });
}

/** The refusal's message (the cause is the Lambda error JSON). */
function causeOf(result: LocalRunResult): string {
  const cause = result.error?.cause ?? '';
  const parsed = JSON.parse(cause) as { errorType: string; errorMessage: string };
  return `${parsed.errorType}: ${parsed.errorMessage}`;
}

function resolveInput(migration: string, as: 'rolled-back' | 'applied', extra: Record<string, unknown> = {}) {
  return { release: `resolve-${as}`, resolve: [{ migration, as, reason: REASON }], ...extra };
}

describe('resolving a failed migration as rolled-back', () => {
  let db: { name: string; url: string };
  let fixed = '';

  beforeAll(async () => {
    const release = await composeRelease('fourth-fails');
    db = await failedDeploy('rs_rolled', release, ESTIMATES);
    // The corrected release: the same migration without the statement that failed (its row is not applied, so its
    // file may change).
    const original = await readFile(join(release, ESTIMATES, 'migration.sql'), 'utf8');
    const corrected = original.replace(/UPDATE "Task" SET "estimate" = 1;/, '');
    expect(corrected).not.toBe(original);
    fixed = await editedCopy(release, [[ESTIMATES, corrected]]);
  }, 180_000);

  it('refuses while the database holds what the failed migration left, showing the difference', async () => {
    // Prepare: what a script that could not run in one transaction would have left behind.
    await withClient(db.url, (client) =>
      client.query(
        'CREATE TABLE "TaskEstimate" ("taskId" INTEGER NOT NULL, "points" INTEGER NOT NULL, ' +
          'CONSTRAINT "TaskEstimate_pkey" PRIMARY KEY ("taskId"))',
      ),
    );

    // Act
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: fixed,
      input: resolveInput(ESTIMATES, 'rolled-back'),
      reportsDir: false,
    });

    // Assess: refused in preflight, before any snapshot, the row still failed.
    expect(result.outcome).toBe('preflight-refused');
    expect(causeOf(result)).toContain(ErrorNames.MigrationHistoryBlocked);
    expect(causeOf(result)).toContain(`input.resolve[0]: ${ESTIMATES} cannot be resolved as rolled-back`);
    expect(causeOf(result)).toContain('"TaskEstimate"');
    // Prisma's diff compares schemas, never data: the other resolution is offered only with that caveat.
    expect(causeOf(result)).toContain('if it also made its data changes, resolve it as applied instead');
    expect(causeOf(result)).toContain('Nothing was touched');
    expect(result.path).not.toContain(StateNames.createSnapshot);
    expect(await rowsOf(db.url, ESTIMATES)).toEqual([
      { finished: false, rolled_back: false, applied_steps_count: 0 },
    ]);
  }, 180_000);

  it('marks the row rolled back after the snapshot, applies the corrected migration, and Prisma agrees', async () => {
    // Prepare: the user undoes what the failed migration left.
    await withClient(db.url, (client) => client.query('DROP TABLE "TaskEstimate"'));

    // Act
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: fixed,
      input: resolveInput(ESTIMATES, 'rolled-back'),
      reportsDir,
    });

    // Assess
    expect(result.outcome, result.error?.cause).toBe('succeeded');
    const plan = requirePlan(result.state, 'test');
    expect(plan.resolve).toEqual([
      expect.objectContaining({
        migration: ESTIMATES,
        as: 'rolled-back',
        reason: REASON,
        evidence: expect.objectContaining({
          matches: true,
          differences: [],
          comparedWith: { count: 8, last: '20250219090000_comment_edited_at' },
        }),
      }),
    ]);
    expect(plan.pending).toEqual([ESTIMATES, ARCHIVED]);
    expect(result.path.indexOf(StateNames.createSnapshot)).toBeLessThan(
      result.path.indexOf(StateNames.applyMigrations),
    );
    expect(result.state.apply?.resolved).toEqual([
      { migration: ESTIMATES, as: 'rolled-back', how: 'marked' },
    ]);
    expect(result.state.apply?.applied).toEqual([ESTIMATES, ARCHIVED]);
    // The old row rolled back (kept as Prisma keeps it), the corrected migration applied in a new one.
    expect(await rowsOf(db.url, ESTIMATES)).toEqual([
      { finished: false, rolled_back: true, applied_steps_count: 0 },
      { finished: true, rolled_back: false, applied_steps_count: 1 },
    ]);
    const status = await cli.run(['migrate', 'status'], db.url, fixed);
    expect(status, status.stderr).toMatchObject({ code: 0 });
    expect(status.stdout).toContain('Database schema is up to date!');
    const report = await reportOf(result);
    expect(report.migrations?.resolved).toEqual([
      expect.objectContaining({ migration: ESTIMATES, as: 'rolled-back', reason: REASON, how: 'marked' }),
    ]);
  }, 240_000);
});

describe('resolving a failed migration as applied', () => {
  let db: { name: string; url: string };
  let release = '';

  beforeAll(async () => {
    // Fails on the data (every task gets the same code), not on the schema: an empty database replays it.
    release = await editedCopy('prisma/migrations', [
      [
        CODES,
        'ALTER TABLE "Task" ADD COLUMN "code" TEXT;\nUPDATE "Task" SET "code" = \'T\';\n' +
          'CREATE UNIQUE INDEX "Task_code_key" ON "Task"("code");\n',
      ],
      [CODES_ARCHIVED, 'ALTER TABLE "Project" ADD COLUMN "archivedAt" TIMESTAMP(3);\n'],
    ]);
    db = await failedDeploy('rs_applied', release, CODES);
  }, 180_000);

  it('refuses while the migration is not complete, showing the difference and the resolution that matches', async () => {
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: release,
      input: resolveInput(CODES, 'applied'),
      reportsDir: false,
    });

    expect(result.outcome).toBe('preflight-refused');
    expect(causeOf(result)).toContain(`input.resolve[0]: ${CODES} cannot be resolved as applied`);
    expect(causeOf(result)).toMatch(/DROP INDEX|"code"/);
    expect(causeOf(result)).toContain('resolve it as rolled-back instead');
    expect(causeOf(result)).toContain('Nothing was touched');
    expect(result.path).not.toContain(StateNames.createSnapshot);
    expect(await rowsOf(db.url, CODES)).toEqual([
      { finished: false, rolled_back: false, applied_steps_count: 0 },
    ]);
  }, 180_000);

  it('refuses a migration that is not the failed one, naming the field and the failed migration', async () => {
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: release,
      input: resolveInput(CODES_ARCHIVED, 'rolled-back'),
      reportsDir: false,
    });

    expect(result.outcome).toBe('preflight-refused');
    expect(causeOf(result)).toContain(ErrorNames.InvalidInput);
    expect(causeOf(result)).toContain(
      `input.resolve[0].migration: "${CODES_ARCHIVED}" is not the failed migration: the failed migration in ` +
        `_prisma_migrations of database ${db.name} is ${CODES} (${CODES_ARCHIVED} has no row); name that one.`,
    );
  }, 180_000);

  it('refuses when the schema evidence cannot be computed (no drift check), naming the fix', async () => {
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: release,
      input: resolveInput(CODES, 'applied'),
      checkSchemaDrift: false,
      reportsDir: false,
    });

    expect(result.outcome).toBe('preflight-refused');
    expect(causeOf(result)).toContain('input.resolve[0]: resolving');
    expect(causeOf(result)).toContain('checkSchemaDrift');
  }, 180_000);

  it('without a resolution, refuses as before and names the input that resolves it', async () => {
    const result = await runLocal({ databaseUrl: db.url, migrationsDir: release, reportsDir: false });

    expect(result.outcome).toBe('preflight-refused');
    expect(causeOf(result)).toContain(ErrorNames.MigrationHistoryBlocked);
    expect(causeOf(result)).toContain(`"resolve": [{ "migration": "${CODES}"`);
  }, 180_000);

  it('shows the resolution and its evidence in the plan of a dry run once the migration was completed by hand', async () => {
    // Prepare: the user completes the migration with unique codes.
    await withClient(db.url, (client) =>
      client.query(
        'ALTER TABLE "Task" ADD COLUMN "code" TEXT; UPDATE "Task" SET "code" = \'T-\' || "id"; ' +
          'CREATE UNIQUE INDEX "Task_code_key" ON "Task"("code");',
      ),
    );

    // Act
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: release,
      input: resolveInput(CODES, 'applied', { dryRun: true }),
      reportsDir: false,
    });

    // Assess
    expect(result.outcome).toBe('dry-run');
    const plan = requirePlan(result.state, 'test');
    expect(plan.resolve).toEqual([
      expect.objectContaining({
        migration: CODES,
        as: 'applied',
        evidence: {
          comparedWith: { count: 6, last: CODES },
          matches: true,
          differences: [],
          ignoredCount: 0,
        },
      }),
    ]);
    expect(plan.applied).toContain(CODES);
    expect(plan.pending).toEqual([CODES_ARCHIVED]);
    expect(await rowsOf(db.url, CODES)).toEqual([
      { finished: false, rolled_back: false, applied_steps_count: 0 },
    ]);
  }, 180_000);

  it('takes the resolution from the command line (--input) and prints it with its evidence', async () => {
    // Act
    const input = JSON.stringify(resolveInput(CODES, 'applied', { dryRun: true }));
    const result = await startCli(['--migrations', release, '--input', input], db.url);

    // Assess
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(
      `resolve:    ${CODES} as applied: ${REASON} (evidence: the schema matches the 6 migrations up to and ` +
        'including it)',
    );
    expect(await rowsOf(db.url, CODES)).toEqual([
      { finished: false, rolled_back: false, applied_steps_count: 0 },
    ]);
  }, 180_000);

  it('marks it applied after the snapshot, applies the next migration, and Prisma agrees', async () => {
    // Act
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: release,
      input: resolveInput(CODES, 'applied'),
      transactionMode: 'per-migration',
      reportsDir,
    });

    // Assess
    expect(result.outcome, result.error?.cause).toBe('succeeded');
    expect(result.state.apply?.resolved).toEqual([{ migration: CODES, as: 'applied', how: 'marked' }]);
    expect(result.state.apply?.applied).toEqual([CODES_ARCHIVED]);
    expect((await rowsOf(db.url, CODES)).map((r) => [r.finished, r.rolled_back])).toEqual([
      [false, true],
      [true, false],
    ]);
    // The codes the user wrote are kept: the mark ran nothing.
    const codes = await withClient(db.url, (client) =>
      client.query<{ n: string }>(`SELECT count(*) AS n FROM "Task" WHERE "code" = 'T-' || "id"`),
    );
    expect(Number(codes.rows[0]?.n)).toBeGreaterThan(1);
    const status = await cli.run(['migrate', 'status'], db.url, release);
    expect(status, status.stderr).toMatchObject({ code: 0 });
    expect(status.stdout).toContain('Database schema is up to date!');
    const report = await reportOf(result);
    expect(report.migrations?.resolved?.[0]).toMatchObject({
      migration: CODES,
      as: 'applied',
      how: 'marked',
      evidence: { matches: true, comparedWith: { last: CODES } },
    });
  }, 240_000);

  it('refuses a resolution once nothing is failed any more', async () => {
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: release,
      input: resolveInput(CODES, 'applied'),
      reportsDir: false,
    });

    expect(result.outcome).toBe('preflight-refused');
    expect(causeOf(result)).toContain(
      `input.resolve[0].migration: "${CODES}" is not the failed migration: _prisma_migrations in database ` +
        `${db.name} has no failed migration (${CODES} is applied): nothing blocks the deploy; remove resolve.`,
    );
  }, 180_000);

  it('refuses an input without a reason before reading the database', async () => {
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: release,
      input: { resolve: [{ migration: CODES, as: 'applied' }] },
      reportsDir: false,
    });

    expect(result.outcome).toBe('preflight-refused');
    expect(causeOf(result)).toContain('input.resolve.0.reason');
  }, 60_000);
});

describe('a release that resolved a failed migration and then failed', () => {
  it('is rolled back to the snapshot, whose failed row is the one from before the release, not a failed rollback', async () => {
    // Prepare: the failed migration completed by hand; the release's last migration fails after the one before it
    // committed (per-migration mode), so the snapshot is restored.
    const release = await editedCopy('prisma/migrations', [
      [
        CODES,
        'ALTER TABLE "Task" ADD COLUMN "code" TEXT;\nUPDATE "Task" SET "code" = \'T\';\n' +
          'CREATE UNIQUE INDEX "Task_code_key" ON "Task"("code");\n',
      ],
      [CODES_ARCHIVED, 'ALTER TABLE "Project" ADD COLUMN "archivedAt" TIMESTAMP(3);\n'],
    ]);
    const db = await failedDeploy('rs_rollback', release, CODES);
    await withClient(db.url, (client) =>
      client.query(
        'ALTER TABLE "Task" ADD COLUMN "code" TEXT; UPDATE "Task" SET "code" = \'T-\' || "id"; ' +
          'CREATE UNIQUE INDEX "Task_code_key" ON "Task"("code");',
      ),
    );
    const failing = await editedCopy(release, [['20250309090000_fails', 'SELECT 1 / 0;\n']]);

    // Act
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: failing,
      input: resolveInput(CODES, 'applied'),
      transactionMode: 'per-migration',
      reportsDir,
    });

    // Assess: restored and healthy; the restored history holds the failed row as it was before the release.
    expect(result.outcome, result.error?.cause).toBe('migration-rolled-back');
    expect(result.state.rollbackHealth?.healthy).toBe(true);
    expect(result.state.rollbackHealth?.checks).toContainEqual(
      expect.objectContaining({
        name: 'no failed migrations',
        ok: true,
        detail: `only the failed row of ${CODES}, which was there before the release (the restored history)`,
      }),
    );
    expect(await rowsOf(db.url, CODES)).toEqual([
      { finished: false, rolled_back: false, applied_steps_count: 0 },
    ]);
    const report = await reportOf(result);
    expect(report.migrations?.resolved?.[0]).toMatchObject({ migration: CODES, how: 'not-reported' });
  }, 300_000);
});
