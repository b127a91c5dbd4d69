/**
 * The real-world corpus (issue 8): migration histories of public open-source Prisma projects, plus one
 * hand-written supplement for the features none of them has (test/fixtures/corpus/<name>/README.md names
 * each source, its commit and its license). Each history is deployed end to end by the local runner from a
 * "previous release" holding data, run again (nothing to do), hit by a failing release in both transaction
 * modes with every table compared, and finally checked by the real `prisma` CLI: up to date, no drift.
 */
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseDigest, digestDatabase } from '../../bin/sample/database-digest.js';
import { DirectoryMigrationSource } from '../../lambdas/shared/adapters/prisma/directory-migration-source.js';
import { PrismaMigrationEngine } from '../../lambdas/shared/adapters/prisma/migration-engine.js';
import { StateNames } from '../../lambdas/shared/contract/contract.js';
import { runLocal } from '../../lib/local/runner.js';
import { createDatabase, dropDatabase, urlFor, withAdmin, withClient } from '../helpers/database.js';
import { PrismaCli } from '../helpers/prisma-cli.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CORPUS = resolve(ROOT, 'test/fixtures/corpus');

interface CorpusFixture {
  /** The folder under test/fixtures/corpus. */
  readonly name: string;
  /** How many of the last migrations the workflow deploys (the earlier ones are the previous release). */
  readonly pending: number;
  /** Rows of the previous release, inserted before the workflow runs (they must survive the release). */
  readonly seed: string;
  /** A data change of the failing release, on the fixture's own tables. */
  readonly change: string;
}

const FIXTURES: readonly CorpusFixture[] = [
  {
    name: 'civitai',
    pending: 3,
    seed: `INSERT INTO "User" ("name", "email", "username") VALUES
             ('Ada Lovelace', 'ada@example.com', 'ada'), ('Grace Hopper', 'Grace@Example.com', 'grace');`,
    change: `UPDATE "User" SET "name" = upper("name");`,
  },
  {
    name: 'trigger-dev',
    pending: 3,
    seed: `INSERT INTO "Organization" ("id", "slug", "title", "updatedAt") VALUES
             ('org_ada', 'analytical-engines', 'Analytical Engines', TIMESTAMP '2024-09-01'),
             ('org_grace', 'compilers', 'Compilers Inc', TIMESTAMP '2024-09-02');
           INSERT INTO "triggerdotdev_events"."run_executions"
             ("organization_id", "project_id", "environment_id", "job_id", "run_id", "event_type")
           VALUES ('org_ada', 'proj_1', 'env_1', 'job_1', 'run_1', 1), ('org_grace', 'proj_2', 'env_2', 'job_2', 'run_2', 2);`,
    change: `UPDATE "Organization" SET "title" = upper("title");`,
  },
  {
    name: 'langfuse',
    pending: 3,
    seed: `INSERT INTO "users" ("id", "name", "email") VALUES
             ('user_ada', 'Ada Lovelace', 'ada@example.com'), ('user_grace', 'Grace Hopper', 'grace@example.com');`,
    change: `UPDATE "users" SET "name" = upper("name");`,
  },
  {
    name: 'supplement',
    pending: 3,
    seed: `
      INSERT INTO "Organization" ("id", "name", "slug") VALUES
        ('00000000-0000-4000-8000-000000000001', 'Analytical Engines', 'analytical-engines'),
        ('00000000-0000-4000-8000-000000000002', 'Compilers Inc', 'compilers');
      INSERT INTO "User" ("id", "email", "name", "role", "organizationId") VALUES
        ('00000000-0000-4000-8000-000000000011', 'Ada@Example.com', 'Ada Lovelace', 'ADMIN', '00000000-0000-4000-8000-000000000001'),
        ('00000000-0000-4000-8000-000000000012', 'grace@example.com', 'Grace Hopper', 'AGENT', '00000000-0000-4000-8000-000000000002');
      INSERT INTO "Ticket" ("subject", "body", "status", "priority", "organizationId", "requesterId", "createdAt")
      SELECT 'Ticket ' || g || ': ' || (ARRAY['printer on fire', 'outage in eu-west', 'invoice question'])[1 + g % 3],
             'Reported by phone.', (ARRAY['OPEN', 'PENDING', 'ON_HOLD', 'CLOSED']::"TicketStatus"[])[1 + g % 4],
             1 + g % 5, ('00000000-0000-4000-8000-00000000000' || (1 + g % 2))::uuid,
             ('00000000-0000-4000-8000-00000000001' || (1 + g % 2))::uuid, TIMESTAMP '2024-03-01' + g * INTERVAL '5 hours'
      FROM generate_series(1, 40) AS g;
      INSERT INTO "reporting"."ExportJob" ("organizationId", "rows") VALUES ('00000000-0000-4000-8000-000000000001', 40);
      REFRESH MATERIALIZED VIEW "reporting"."DailyTicketCount";`,
    change: `UPDATE "Ticket" SET "priority" = 2 WHERE "priority" = 3;`,
  },
];

/** The failing release added on top of each fixture: one valid migration, then one that fails at run time. */
function failingRelease(fixture: CorpusFixture): Record<string, string> {
  return {
    '29991231000000_corpus_release_audit': `-- CreateTable
CREATE TABLE "corpus_release_audit" (
    "id" SERIAL NOT NULL,
    "note" TEXT NOT NULL,
    "amount" INTEGER NOT NULL,

    CONSTRAINT "corpus_release_audit_pkey" PRIMARY KEY ("id")
);

INSERT INTO "corpus_release_audit" ("note", "amount") VALUES ('first', 1), ('second', 2);

${fixture.change}
`,
    '29991231000001_corpus_release_fails': `INSERT INTO "corpus_release_audit" ("note", "amount") VALUES ('third', 3);

-- Fails at run time (division by zero), after the statement above succeeded.
UPDATE "corpus_release_audit" SET "amount" = "amount" / ("amount" - "amount");
`,
  };
}

const created: string[] = [];
const temporary: string[] = [];
const cli = new PrismaCli();

beforeAll(async () => {
  await cli.prepare();
});

afterAll(async () => {
  for (const name of created) {
    for (const db of await databasesLike(name.replaceAll('_', '-'))) await dropDatabase(db);
    await dropDatabase(name);
  }
  for (const dir of temporary) await rm(dir, { recursive: true, force: true });
  await cli.cleanup();
});

async function databasesLike(fragment: string): Promise<string[]> {
  return await withAdmin(async (client) =>
    (
      await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [
        `%${fragment}%`,
      ])
    ).rows.map((row) => row.datname),
  );
}

async function migrationNames(dir: string): Promise<string[]> {
  return (await readdir(dir, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

/** A copy of `dir` in Prisma's layout holding only the migrations `keep` selects. */
async function copyOf(dir: string, keep: (names: string[]) => string[]): Promise<string> {
  const copy = await mkdtemp(join(tmpdir(), 'corpus-'));
  temporary.push(copy);
  await cp(join(dir, 'migration_lock.toml'), join(copy, 'migration_lock.toml'));
  for (const name of keep(await migrationNames(dir))) {
    await cp(join(dir, name), join(copy, name), { recursive: true });
  }
  return copy;
}

/** Runs the real Prisma CLI offline against `url`, its native engine replaced by our helper. */
function prisma(args: readonly string[], url: string, migrations: string) {
  return cli.run(args, url, migrations);
}

describe.each(FIXTURES)('the $name corpus', (fixture) => {
  const migrations = resolve(CORPUS, fixture.name, 'migrations');
  let all: string[] = [];
  let db: { name: string; url: string };
  let failing = '';

  beforeAll(async () => {
    all = await migrationNames(migrations);
    db = await createDatabase(`corpus_${fixture.name.replaceAll('-', '_')}`);
    created.push(db.name);
    failing = await copyOf(migrations, (names) => names);
    for (const [name, sql] of Object.entries(failingRelease(fixture))) {
      await mkdir(join(failing, name));
      await writeFile(join(failing, name, 'migration.sql'), sql);
    }
  });

  it('deploys the previous release (all but the last migrations) and its data', async () => {
    // Prepare
    const previous = await copyOf(migrations, (names) => names.slice(0, -fixture.pending));
    const engine = new PrismaMigrationEngine({ connectionString: db.url });

    // Act
    const outcome = await engine
      .applyPending(await new DirectoryMigrationSource(previous).load(), { transactionMode: 'per-migration' })
      .finally(() => engine.close());
    await withClient(db.url, (client) => client.query(fixture.seed));

    // Assess
    expect(outcome.applied).toEqual(all.slice(0, -fixture.pending));
  });

  it('deploys the rest through the local workflow', async () => {
    const result = await runLocal({ databaseUrl: db.url, migrationsDir: migrations });

    expect(result.error).toBeUndefined();
    expect(result.outcome).toBe('succeeded');
    expect(result.state.apply?.applied).toEqual(all.slice(-fixture.pending));
    expect(result.state.health?.checks).toContainEqual(
      expect.objectContaining({ name: 'schema matches the migrations', ok: true }),
    );
  });

  it('finds nothing to do on a second run', async () => {
    const result = await runLocal({ databaseUrl: db.url, migrationsDir: migrations });

    expect(result.error).toBeUndefined();
    expect(result.outcome).toBe('nothing-to-do');
  });

  it('leaves every table unchanged when a release fails inside its one transaction', async () => {
    // Prepare
    const before = await digestDatabase(db.url);
    const withRows = Object.entries(before.tables).filter(
      ([table, digest]) => table !== 'public._prisma_migrations' && digest.rows > 0,
    );
    expect(withRows.length, 'the previous release left data to compare').toBeGreaterThan(0);

    // Act
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: failing,
      transactionMode: 'release',
    });

    // Assess
    expect(result.outcome, result.error?.cause).toBe('release-failed-unchanged');
    expect(result.error?.cause).toContain('division by zero');
    expect(result.path).not.toContain(StateNames.restoreSnapshot);
    expectSameContents(await digestDatabase(db.url), before);
  });

  it('restores every table when a release fails migration by migration', async () => {
    // Prepare
    const before = await digestDatabase(db.url);

    // Act
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: failing,
      transactionMode: 'per-migration',
    });

    // Assess
    expect(result.outcome, result.error?.cause).toBe('migration-rolled-back');
    expect(result.error?.cause).toContain('division by zero');
    expect(result.path).toContain(StateNames.restoreSnapshot);
    expectSameContents(await digestDatabase(db.url), before);
    expect(result.state.rollbackHealth?.checks).toContainEqual(
      expect.objectContaining({ name: 'schema matches the migrations', ok: true }),
    );
    // The first migration of the failing release had committed: the database kept aside still holds it.
    const aside = result.state.swap?.asideIdentifier ?? '';
    const audit = await withClient(urlFor(aside), (client) =>
      client.query<{ note: string }>('SELECT "note" FROM "corpus_release_audit" ORDER BY "id"'),
    );
    expect(audit.rows).toEqual([{ note: 'first' }, { note: 'second' }]);
  });

  it('is up to date with no drift according to the prisma CLI', async () => {
    const [status, diff] = await Promise.all([
      prisma(['migrate', 'status'], db.url, migrations),
      prisma(
        ['migrate', 'diff', '--from-migrations', migrations, '--to-config-datasource', '--exit-code'],
        db.url,
        migrations,
      ),
    ]);

    expect(status, status.stderr).toMatchObject({ code: 0 });
    expect(status.stdout).toContain(`${all.length} migrations found`);
    expect(status.stdout).toContain('Database schema is up to date!');
    expect(diff, diff.stderr).toMatchObject({ code: 0 });
    expect(diff.stdout).toContain('No difference detected');
  });
});

/** Every table's rows, every column and every index and constraint as before. */
function expectSameContents(after: DatabaseDigest, before: DatabaseDigest): void {
  expect(after.tables).toEqual(before.tables);
  expect(after.columns).toEqual(before.columns);
  expect(after.indexes).toEqual(before.indexes);
}
