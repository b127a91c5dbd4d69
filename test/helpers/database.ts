/**
 * Per-test databases on the server of the run (see global-setup.ts).
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { inject } from 'vitest';
import { withSampleAcknowledgements } from '../../bin/sample/release-input.js';
import { applyFirstMigrations, createSampleDatabase } from '../../bin/sample/sample-app.js';
import { urlWithDatabase, withClient } from '../../lambdas/shared/adapters/postgres/connection.js';
import { sanitizeIdentifierPart } from '../../lambdas/shared/domain/identifiers.js';

/** Runs `fn` with a client connected to database `url`, and closes it. */
export { withClient };

export function adminUrl(): string {
  return inject('adminDatabaseUrl');
}

/** The URL of database `name` on the test server. */
export function urlFor(name: string): string {
  return urlWithDatabase(adminUrl(), name);
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/** Runs `fn` with a client connected to the admin database, and closes it. */
export async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  return await withClient(adminUrl(), fn);
}

/** Creates a fresh, empty database and returns its name and URL. */
export async function createDatabase(prefix = 'test'): Promise<{ name: string; url: string }> {
  const name = uniqueName(prefix);
  await withAdmin((client) => client.query(`CREATE DATABASE "${name}"`));
  return { name, url: urlFor(name) };
}

export async function dropDatabase(name: string): Promise<void> {
  await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

/**
 * Drops each database and every database named after it (`<name>-premigration-...`, `-restored-`,
 * `-rolledback-`: its snapshots and rollback copies, named as identifiers: lower case, `_` as `-`).
 */
export async function dropDatabasesAndCopies(names: readonly string[]): Promise<void> {
  await withAdmin(async (client) => {
    for (const name of names) {
      const { rows } = await client.query<{ datname: string }>(
        'SELECT datname FROM pg_database WHERE datname LIKE $1',
        [`${sanitizeIdentifierPart(name)}-%`],
      );
      for (const row of rows) await dropDatabase(row.datname);
    }
  });
  for (const name of names) await dropDatabase(name);
}

/**
 * A new database of the sample application at its previous release (its first migrations, with data), or with
 * every sample migration applied (`allMigrations`). Its name goes into `created`, for the file's cleanup.
 */
export async function sampleDatabase(
  prefix: string,
  created: string[],
  allMigrations = false,
): Promise<{ name: string; url: string }> {
  const name = uniqueName(prefix);
  created.push(name);
  const url = urlFor(name);
  await createSampleDatabase(url, name, 'prisma/migrations');
  if (allMigrations) await applyFirstMigrations(url, 'prisma/migrations', Number.MAX_SAFE_INTEGER);
  return { name, url };
}

/**
 * The execution input of a run that deploys the sample release (`20250122090000_split_user_name` pending, as on a
 * `sampleDatabase` at its previous release): `input` with the sample's acknowledgements
 * (`SAMPLE_ACKNOWLEDGEMENTS`, bin/sample/release-input.ts), as `npm start` sends it. Without them the default lint
 * policy refuses the release (`drop-column`).
 */
export function sampleRelease(input: Record<string, unknown> = {}): Record<string, unknown> {
  return withSampleAcknowledgements(input);
}
