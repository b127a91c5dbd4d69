/**
 * What the command line tells an operator at the end of a failed release, as a user runs it (a separate
 * process): the alarm matches what happened to the data.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runLocal } from '../../lib/local/runner.js';
import { createDatabase, dropDatabase, withAdmin } from '../helpers/database.js';

const ROOT = resolve(import.meta.dirname, '../..');
const databases: string[] = [];
const directories: string[] = [];

async function migrations(list: [string, string][]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cli-outcomes-'));
  directories.push(dir);
  await writeFile(join(dir, 'migration_lock.toml'), 'provider = "postgresql"\n');
  for (const [name, sql] of list) {
    await mkdir(join(dir, name));
    await writeFile(join(dir, name, 'migration.sql'), sql);
  }
  return dir;
}

function cli(args: string[], databaseUrl: string): Promise<{ code: number; stdout: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'bin/cli.ts', 'run', ...args],
      { cwd: ROOT, env: { ...process.env, DATABASE_URL: databaseUrl }, timeout: 120_000 },
      (error, stdout) => done({ code: error ? Number(error.code) : 0, stdout }),
    );
  });
}

afterAll(async () => {
  for (const dir of directories) await rm(dir, { recursive: true, force: true });
  await withAdmin(async (client) => {
    for (const name of databases) {
      const { rows } = await client.query<{ datname: string }>(
        'SELECT datname FROM pg_database WHERE datname LIKE $1',
        [`${name.replaceAll('_', '-')}%`],
      );
      for (const row of rows) await dropDatabase(row.datname);
    }
  });
  for (const name of databases) await dropDatabase(name);
});

describe('the end of a failed release without a snapshot', () => {
  it('says the release committed part of itself and nothing was restored, not that a rollback did not complete', async () => {
    // Prepare
    const db = await createDatabase('cli_outcomes');
    databases.push(db.name);
    const base: [string, string] = ['20250101000000_base', 'CREATE TABLE "A" ("id" INTEGER);\n'];
    expect((await runLocal({ databaseUrl: db.url, migrationsDir: await migrations([base]) })).outcome).toBe(
      'succeeded',
    );
    const release = await migrations([
      base,
      ['20250201000000_b', 'CREATE TABLE "B" ("id" INTEGER);\n'],
      ['20250202000000_fails', 'SELECT 1/0;\n'],
    ]);

    // Act
    const result = await cli(
      [
        '--migrations',
        release,
        '--transaction-mode',
        'per-migration',
        '--input',
        JSON.stringify({ skipSnapshot: { reason: 'disposable preview environment' } }),
      ],
      db.url,
    );

    // Assess
    expect(result.code).toBe(3);
    expect(result.stdout).toContain(
      'the release committed part of itself, then failed, and no snapshot was taken',
    );
    expect(result.stdout).toContain('Committed by this release before it failed: 20250201000000_b');
    expect(result.stdout).not.toContain('the rollback did not complete');
  });
});
