/**
 * A release from a bundle file, through the local runner and the synthesized workflow, against real PostgreSQL:
 * the sample's migrations packed with `pack`, named by the input (`migrations: { s3Uri: "file:///...", sha256 }`)
 * while the run's migrations directory does not even exist, so only the bundle can be what is applied.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestDatabase } from '../../bin/sample/database-digest.js';
import { DirectoryMigrationSource } from '../../lambdas/shared/adapters/prisma/directory-migration-source.js';
import { packMigrations } from '../../lambdas/shared/adapters/release-bundle/zip-writer.js';
import { OutcomeErrors, StateNames } from '../../lambdas/shared/contract/contract.js';
import { requirePlan } from '../../lambdas/shared/contract/state.js';
import { runLocal } from '../../lib/local/runner.js';
import { dropDatabasesAndCopies, sampleDatabase, sampleRelease, withClient } from '../helpers/database.js';

const SAMPLE = 'prisma/migrations';
const created: string[] = [];
let scratch = '';
let bundleFile = '';
let sha256 = '';
/** Where no migrations directory exists: the runner must not need one when the input names a bundle. */
let noDirectory = '';

async function finishedMigrations(url: string): Promise<string[]> {
  return await withClient(url, async (client) =>
    (
      await client.query<{ migration_name: string; checksum: string }>(
        'SELECT migration_name, checksum FROM _prisma_migrations WHERE finished_at IS NOT NULL ORDER BY 1',
      )
    ).rows.map((row) => `${row.migration_name} ${row.checksum}`),
  );
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'bundle-e2e-'));
  const packed = await packMigrations(SAMPLE);
  bundleFile = join(scratch, 'release.zip');
  await writeFile(bundleFile, packed.zip);
  sha256 = packed.sha256;
  noDirectory = join(scratch, 'no-such-migrations');
});

afterAll(async () => {
  await dropDatabasesAndCopies(created);
  await rm(scratch, { recursive: true, force: true });
});

describe('a release from a bundle file (local runner)', () => {
  it('applies the bundle, and its plan says the source', async () => {
    // Prepare
    const db = await sampleDatabase('e2e_bundle_ok', created);
    const uri = pathToFileURL(bundleFile).href;

    // Act
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: noDirectory,
      input: sampleRelease({ release: 'v1.1.0', migrations: { s3Uri: uri, sha256 } }),
    });

    // Assess
    expect(result.error).toBeUndefined();
    expect(result.outcome).toBe('succeeded');
    const plan = requirePlan(result.state, 'test');
    expect(plan.migrationSource).toBe(`${uri} (sha256 ${sha256.slice(0, 12)}…)`);
    expect(plan.pending.length).toBeGreaterThan(0);
    const expected = (await new DirectoryMigrationSource(SAMPLE).load()).migrations;
    expect(await finishedMigrations(db.url)).toEqual(expected.map((m) => `${m.name} ${m.checksum}`));
  });

  it('refuses a bundle whose digest does not match in preflight, touching nothing', async () => {
    // Prepare
    const db = await sampleDatabase('e2e_bundle_digest', created);
    const before = await digestDatabase(db.url);
    const history = await finishedMigrations(db.url);

    // Act
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: noDirectory,
      input: {
        release: 'v1.1.0',
        migrations: { s3Uri: pathToFileURL(bundleFile).href, sha256: 'f'.repeat(64) },
      },
    });

    // Assess
    expect(result.outcome).toBe('preflight-refused');
    expect(result.exitCode).toBe(1);
    expect(result.error?.name).toBe(OutcomeErrors.PreflightRefused);
    expect(result.error?.cause).toContain(`its sha256 is ${sha256}`);
    expect(result.error?.cause).toContain('Nothing was touched');
    expect(result.path).not.toContain(StateNames.createSnapshot);
    expect(await finishedMigrations(db.url)).toEqual(history);
    expect(await digestDatabase(db.url)).toEqual(before);
  });

  it('refuses an s3:// bundle locally, naming the fix', async () => {
    const db = await sampleDatabase('e2e_bundle_s3', created);
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: noDirectory,
      input: { migrations: { s3Uri: 's3://bundles-1/releases/r.zip', sha256 } },
    });
    expect(result.outcome).toBe('preflight-refused');
    expect(result.error?.cause).toContain('the local runner reads release bundles from files');
  });
});
