/**
 * Creating the target database of a first run: only when missing, tolerant of a concurrent run doing the same.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  createDatabaseIfMissing,
  createSampleDatabaseIfMissing,
  SAMPLE_MIGRATIONS_DIR,
} from '../../bin/sample/sample-app.js';
import { adminUrl, dropDatabase, uniqueName, urlFor, withAdmin, withClient } from '../helpers/database.js';

const created: string[] = [];

async function databasesNamed(name: string): Promise<string[]> {
  return await withAdmin(async (client) => {
    const result = await client.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname',
      [name],
    );
    return result.rows.map((row) => row.datname);
  });
}

afterAll(async () => {
  for (const name of created) {
    for (const database of await databasesNamed(name)) await dropDatabase(database);
  }
});

describe('createDatabaseIfMissing', () => {
  it('creates the database once when three runs ask at the same time, the others answering "exists"', async () => {
    // Prepare
    const name = uniqueName('create_race');
    created.push(name);

    // Act
    const results = await Promise.all([1, 2, 3].map(() => createDatabaseIfMissing(adminUrl(), name)));

    // Assess
    expect([...results].sort()).toEqual(['created', 'exists', 'exists']);
    expect(await databasesNamed(name)).toEqual([name]);
  });
});

describe('createSampleDatabaseIfMissing', () => {
  it('builds the sample database once when two runs ask at the same time, leaving no half-built copy', async () => {
    // Prepare
    const name = uniqueName('sample_race');
    created.push(name);

    // Act
    const results = await Promise.all(
      [1, 2].map(() => createSampleDatabaseIfMissing(adminUrl(), name, SAMPLE_MIGRATIONS_DIR)),
    );

    // Assess
    expect([...results].sort()).toEqual(['created', 'exists']);
    expect(await databasesNamed(name)).toEqual([name]);
    const users = await withClient(urlFor(name), (client) =>
      client.query('SELECT count(*)::int AS n FROM "User"'),
    );
    expect(users.rows[0]).toEqual({ n: 25 });
  });

  it('leaves an existing database as it is', async () => {
    // Prepare
    const name = uniqueName('sample_exists');
    created.push(name);
    await createDatabaseIfMissing(adminUrl(), name);

    // Act
    const result = await createSampleDatabaseIfMissing(adminUrl(), name, SAMPLE_MIGRATIONS_DIR);

    // Assess
    expect(result).toBe('exists');
    const tables = await withClient(urlFor(name), (client) =>
      client.query("SELECT 1 FROM information_schema.tables WHERE table_schema = 'public'"),
    );
    expect(tables.rowCount).toBe(0);
    expect(await databasesNamed(name)).toEqual([name]);
  });
});
