import { afterAll, describe, expect, it } from 'vitest';
import { PgHealthProbe } from '../../lambdas/shared/adapters/postgres/health-probe.js';
import { ErrorNames } from '../../lambdas/shared/contract/contract.js';
import { createDatabase, dropDatabase, withClient } from '../helpers/database.js';

const created: string[] = [];

async function databaseWithHistory(rows: { name: string; finished: boolean; rolledBack?: boolean }[]) {
  const db = await createDatabase('health');
  created.push(db.name);
  await withClient(db.url, async (client) => {
    await client.query(`CREATE TABLE _prisma_migrations (
      id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, finished_at timestamptz, migration_name varchar(255) NOT NULL,
      logs text, rolled_back_at timestamptz, started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count integer NOT NULL DEFAULT 0)`);
    for (const [i, row] of rows.entries()) {
      await client.query(
        `INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, rolled_back_at, started_at)
         VALUES ($1, 'c', $2, $3, $4, now() + $5 * interval '1 second')`,
        [String(i), row.finished ? new Date() : null, row.name, row.rolledBack ? new Date() : null, i],
      );
    }
    await client.query('CREATE TABLE widget (id int); INSERT INTO widget VALUES (1)');
  });
  return db;
}

afterAll(async () => {
  for (const name of created) await dropDatabase(name);
});

describe('PgHealthProbe', () => {
  it('is healthy when every expected migration finished and the user checks return true', async () => {
    const db = await databaseWithHistory([
      { name: 'a', finished: true },
      { name: 'b', finished: true },
    ]);
    const probe = new PgHealthProbe({
      connection: db.url,
      checks: [{ name: 'widgets exist', sql: 'SELECT count(*) > 0 FROM widget' }],
    });
    const report = await probe.check({ migrations: ['a', 'b'] });
    expect(report.healthy).toBe(true);
    expect(report.checks.map((c) => c.name)).toEqual([
      'connectivity',
      'no failed migrations',
      'history complete',
      'widgets exist',
    ]);
  });

  it('reports a failed row, a missing migration and a failing user check', async () => {
    const db = await databaseWithHistory([
      { name: 'a', finished: true },
      { name: 'b', finished: false },
    ]);
    const probe = new PgHealthProbe({
      connection: db.url,
      checks: [
        { name: 'no widgets', sql: 'SELECT count(*) = 0 FROM widget' },
        { name: 'broken', sql: 'SELECT * FROM missing_table' },
      ],
    });
    const report = await probe.check({ migrations: ['a', 'b', 'c'] });
    expect(report.healthy).toBe(false);
    const failed = Object.fromEntries(report.checks.filter((c) => !c.ok).map((c) => [c.name, c.detail]));
    expect(failed).toEqual({
      'no failed migrations': 'unfinished rows: b',
      'history complete': 'not finished: b, c',
      'no widgets': 'returned false, expected true',
      broken: expect.stringContaining('missing_table'),
    });
  });

  it('ignores rolled-back rows and flags migrations of the rolled-back release that are still recorded', async () => {
    const db = await databaseWithHistory([
      { name: 'a', finished: true },
      { name: 'x', finished: false, rolledBack: true },
      { name: 'new', finished: true },
    ]);
    const report = await new PgHealthProbe({ connection: db.url }).check({
      migrations: ['a'],
      absent: ['new'],
    });
    expect(report.checks.find((c) => c.name === 'no failed migrations')?.ok).toBe(true);
    expect(report.checks.find((c) => c.name === 'history as before the release')).toMatchObject({
      ok: false,
      detail: 'recorded although the release was rolled back: new',
    });
  });

  it('accepts, after a rollback, applied migrations that are not in the directory (deployed from elsewhere)', async () => {
    // Prepare: the restored database holds an older release plus a migration the directory does not have.
    const db = await databaseWithHistory([
      { name: 'a', finished: true },
      { name: 'hotfix_from_another_branch', finished: true },
    ]);

    // Act
    const report = await new PgHealthProbe({ connection: db.url }).check({
      migrations: ['a'],
      absent: ['b'],
    });

    // Assess
    expect(report.healthy).toBe(true);
  });

  it("reads the history and runs the checks in the schema the URL's ?schema= names, as Prisma's engine does", async () => {
    // Prepare: the release went into schema "app"; public has no _prisma_migrations at all.
    const db = await createDatabase('health_schema');
    created.push(db.name);
    await withClient(db.url, (client) =>
      client.query(`CREATE SCHEMA app;
        CREATE TABLE app._prisma_migrations (id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL,
          finished_at timestamptz, migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz,
          started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count integer NOT NULL DEFAULT 0);
        INSERT INTO app._prisma_migrations (id, checksum, finished_at, migration_name) VALUES ('1', 'c', now(), 'a');
        CREATE TABLE app.widget (id int); INSERT INTO app.widget VALUES (1);`),
    );
    const url = new URL(db.url);
    url.searchParams.set('schema', 'app');

    // Act
    const report = await new PgHealthProbe({
      connection: url.toString(),
      checks: [{ name: 'widgets exist', sql: 'SELECT count(*) > 0 FROM widget' }],
    }).check({ migrations: ['a'] });

    // Assess
    expect(report.healthy).toBe(true);
  });

  it('never shows the value a failing user check returned (it may be a table row)', async () => {
    const db = await databaseWithHistory([{ name: 'a', finished: true }]);
    await withClient(db.url, (client) =>
      client.query("CREATE TABLE person (email text); INSERT INTO person VALUES ('ada@example.com')"),
    );
    const report = await new PgHealthProbe({
      connection: db.url,
      checks: [{ name: 'leaky', sql: 'SELECT email FROM person' }],
    }).check({ migrations: ['a'] });
    expect(report.checks.find((c) => c.name === 'leaky')).toMatchObject({
      ok: false,
      detail: 'returned a string (not shown), expected true',
    });
    expect(JSON.stringify(report)).not.toContain('ada@example.com');
  });

  it('fails with DatabaseUnreachable, without the password, when the database cannot be reached', async () => {
    const probe = new PgHealthProbe({ connection: 'postgres://app:s3cret-pw@127.0.0.1:1/app' });
    const error = await probe.check({ migrations: [] }).catch((e: Error) => e);
    expect(error).toMatchObject({ name: ErrorNames.DatabaseUnreachable });
    expect((error as Error).message).toContain('127.0.0.1:1/app');
    expect((error as Error).message).not.toContain('s3cret-pw');
  });
});
