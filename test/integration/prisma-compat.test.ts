/**
 * Compatibility with Prisma itself: after OUR engine applied migrations, the REAL `prisma` CLI (7.10.1) must
 * see exactly what `prisma migrate deploy` would have left. The CLI needs its native schema engine, which it
 * cannot download offline: PRISMA_SCHEMA_ENGINE_BINARY points it at a helper speaking the native engine's
 * stdio protocol over our WebAssembly engine session (test/helpers/schema-engine-binary).
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeRelease } from '../../bin/sample/sample-app.js';
import { DirectoryMigrationSource } from '../../lambdas/shared/adapters/prisma/directory-migration-source.js';
import { PrismaMigrationEngine } from '../../lambdas/shared/adapters/prisma/migration-engine.js';
import { ErrorNames } from '../../lambdas/shared/contract/contract.js';
import { createDatabase, dropDatabase, withClient } from '../helpers/database.js';
import { PrismaCli } from '../helpers/prisma-cli.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SAMPLE = resolve(ROOT, 'prisma/migrations');

const created: string[] = [];
const cli = new PrismaCli();

beforeAll(async () => {
  await cli.prepare();
});

afterAll(async () => {
  for (const name of created) await dropDatabase(name);
  await cli.cleanup();
});

/** Runs the real Prisma CLI offline, telemetry off, against `url` and the migrations in `migrations`. */
function prisma(args: readonly string[], url: string, migrations: string) {
  return cli.run(args, url, migrations);
}

async function deployed(migrations: string, transactionMode: 'release' | 'per-migration') {
  const db = await createDatabase('compat');
  created.push(db.name);
  const engine = new PrismaMigrationEngine({ connectionString: db.url });
  const bundle = await new DirectoryMigrationSource(migrations).load();
  const outcome = await engine.applyPending(bundle, { transactionMode }).catch((error: unknown) => error);
  return { url: db.url, engine, bundle, outcome };
}

describe('Prisma CLI compatibility', () => {
  it('sees the sample migrations applied by our engine as up to date, with no schema difference', async () => {
    // Prepare
    const { url } = await deployed(SAMPLE, 'release');

    // Act
    const status = await prisma(['migrate', 'status'], url, SAMPLE);
    const diff = await prisma(
      ['migrate', 'diff', '--from-migrations', SAMPLE, '--to-config-datasource', '--exit-code'],
      url,
      SAMPLE,
    );

    // Assess
    expect(status, status.stderr).toMatchObject({ code: 0 });
    expect(status.stdout).toContain('5 migrations found');
    expect(status.stdout).toContain('Database schema is up to date!');
    expect(diff, diff.stderr).toMatchObject({ code: 0 });
    // Not just a silent exit: the engine really compared the two schemas.
    expect(diff.stdout).toContain('No difference detected');
  });

  it('reports a difference (exit code 2) once a column is added by hand', async () => {
    // Prepare
    const { url } = await deployed(SAMPLE, 'release');
    await withClient(url, (client) => client.query('ALTER TABLE "Task" ADD COLUMN "addedByHand" INTEGER'));

    // Act
    const diff = await prisma(
      ['migrate', 'diff', '--from-migrations', SAMPLE, '--to-config-datasource', '--exit-code'],
      url,
      SAMPLE,
    );

    // Assess
    expect(diff, diff.stderr).toMatchObject({ code: 2 });
    expect(diff.stdout).toContain('addedByHand');
  });

  it('sees a release applied in one transaction as up to date', async () => {
    // Prepare
    const release = await composeRelease('good');
    const { url, outcome } = await deployed(release, 'release');
    expect(outcome).toMatchObject({ transactionMode: 'release' });

    // Act
    const status = await prisma(['migrate', 'status'], url, release);

    // Assess
    expect(status, status.stderr).toMatchObject({ code: 0 });
    expect(status.stdout).toContain('8 migrations found');
    expect(status.stdout).toContain('Database schema is up to date!');
  });

  it('lets `prisma migrate resolve --rolled-back` clear the failed row our engine recorded', async () => {
    // Prepare
    const release = await composeRelease('fourth-fails');
    const { url, engine, bundle, outcome } = await deployed(release, 'per-migration');
    expect(outcome).toMatchObject({ name: ErrorNames.MigrationFailed });
    const blocked = await engine
      .applyPending(bundle, { transactionMode: 'per-migration' })
      .catch((e: Error) => e);
    expect(blocked).toMatchObject({ name: ErrorNames.MigrationHistoryBlocked });

    // Act
    const resolved = await prisma(
      ['migrate', 'resolve', '--rolled-back', '20250226090000_task_estimates'],
      url,
      release,
    );

    // Assess: Prisma accepted our row, and our engine is no longer blocked (the migration is still broken).
    expect(resolved, resolved.stderr).toMatchObject({ code: 0 });
    expect(resolved.stdout).toContain('marked as rolled back');
    const row = (await engine.readHistory()).find((r) => r.name === '20250226090000_task_estimates');
    expect(row?.rolledBackAt).not.toBeNull();
    const retried = await engine
      .applyPending(bundle, { transactionMode: 'per-migration' })
      .catch((e: Error) => e);
    expect(retried).toMatchObject({ name: ErrorNames.MigrationFailed });
  });
});
