import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { composeRelease } from '../../bin/sample/sample-app.js';
import { DirectoryMigrationSource } from '../../lambdas/shared/adapters/prisma/directory-migration-source.js';
import { toEngineError } from '../../lambdas/shared/adapters/prisma/migration-driver-adapter.js';
import { PrismaMigrationEngine } from '../../lambdas/shared/adapters/prisma/migration-engine.js';
import { PrismaSchemaDriftDetector } from '../../lambdas/shared/adapters/prisma/schema-drift-detector.js';
import { ErrorNames } from '../../lambdas/shared/contract/contract.js';
import type { OrchestratorError } from '../../lambdas/shared/contract/errors.js';
import type { MigrationBundle } from '../../lambdas/shared/contract/ports.js';
import { migrationsDigest } from '../../lambdas/shared/domain/transaction-fallback.js';
import { freePort } from '../../lib/local/embedded-postgres.js';
import { createDatabase, dropDatabase, withClient } from '../helpers/database.js';
import { rejection } from '../helpers/fakes.js';
import { migrationsDirectory, removeMigrationDirectories } from '../helpers/migrations.js';

const SAMPLE = 'prisma/migrations';
const created: string[] = [];

afterAll(async () => {
  for (const name of created) await dropDatabase(name);
  await removeMigrationDirectories();
});

async function database(): Promise<string> {
  const db = await createDatabase('engine');
  created.push(db.name);
  return db.url;
}

function load(directory: string): Promise<MigrationBundle> {
  return new DirectoryMigrationSource(directory).load();
}

/** A database on which the sample app is deployed and used. */
async function sampleDatabaseWithData(): Promise<{ url: string; engine: PrismaMigrationEngine }> {
  const url = await database();
  const engine = new PrismaMigrationEngine({ connectionString: url });
  await engine.applyPending(await load(SAMPLE), { transactionMode: 'release' });
  await withClient(url, async (client) => {
    await client.query(`
      INSERT INTO "User" ("email", "firstName", "lastName") VALUES ('ada@example.com', 'Ada', 'Lovelace'), ('alan@example.com', 'Alan', NULL);
      INSERT INTO "Project" ("name", "ownerId") VALUES ('Engine', 1);
      INSERT INTO "Task" ("title", "projectId", "assigneeId", "priority") VALUES ('Notes', 1, 1, 0), ('Tables', 1, NULL, 1);
      INSERT INTO "Comment" ("body", "taskId", "authorId") VALUES ('First!', 1, 2);`);
  });
  return { url, engine };
}

/** Everything observable about a database: its schema (from the catalogs), every table's rows, the history. */
async function stateOf(url: string): Promise<Record<string, unknown>> {
  return await withClient(url, async (client: pg.Client) => {
    const rows = async (sql: string) => (await client.query(sql)).rows;
    const tables = await rows(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`,
    );
    const data: Record<string, unknown> = {};
    for (const { table_name: table } of tables as { table_name: string }[]) {
      data[table] = await rows(`SELECT * FROM "${table}" ORDER BY 1, 2`);
    }
    return {
      columns: await rows(
        `SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
          WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`,
      ),
      constraints: await rows(
        `SELECT conrelid::regclass::text AS table_name, conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
          WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2`,
      ),
      indexes: await rows(
        `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1`,
      ),
      types: await rows(
        `SELECT t.typname, e.enumlabel FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid ORDER BY 1, e.enumsortorder`,
      ),
      functions: await rows(
        `SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace ORDER BY 1`,
      ),
      sequences: await rows(
        `SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1`,
      ),
      data,
    };
  });
}

describe('PrismaMigrationEngine', () => {
  it('applies the sample migrations to an empty database with Prisma bookkeeping, then has nothing to apply', async () => {
    // Prepare
    const url = await database();
    const engine = new PrismaMigrationEngine({ connectionString: url });
    const bundle = await load(SAMPLE);
    expect(await engine.readHistory()).toEqual([]);

    // Act
    const first = await engine.applyPending(bundle, { transactionMode: 'release' });
    const second = await engine.applyPending(bundle, { transactionMode: 'release' });

    // Assess
    const names = bundle.migrations.map((m) => m.name);
    expect(first).toEqual({
      applied: names,
      transactionMode: 'release',
      timings: names.map((name) => ({ name, durationMs: expect.any(Number) })),
    });
    expect(second).toEqual({ applied: [], transactionMode: 'release', timings: [] });
    const history = await engine.readHistory();
    expect(history.map((row) => row.name)).toEqual(names);
    for (const row of history) {
      const bytes = await readFile(join(SAMPLE, row.name, 'migration.sql'));
      expect(row).toMatchObject({
        checksum: createHash('sha256').update(bytes).digest('hex'),
        rolledBackAt: null,
        appliedStepsCount: 1,
        logs: null,
      });
      expect(row.finishedAt).not.toBeNull();
    }
    const tables = await withClient(url, async (client) =>
      (await client.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).rows.map(
        (r: { tablename: string }) => r.tablename,
      ),
    );
    expect(tables).toEqual(['Comment', 'Project', 'Task', 'User', '_prisma_migrations']);
  });

  it('fails atomically per migration: the failing one leaves nothing behind, earlier ones stay, Prisma records it as failed', async () => {
    // Prepare
    const { url, engine } = await sampleDatabaseWithData();
    const release = await load(await composeRelease('fourth-fails'));
    const tasksBefore = await withClient(
      url,
      async (c) => (await c.query('SELECT * FROM "Task" ORDER BY id')).rows,
    );

    // Act
    const error = await rejection<OrchestratorError>(
      engine.applyPending(release, { transactionMode: 'per-migration' }),
    );

    // Assess
    expect(error.name).toBe(ErrorNames.MigrationFailed);
    expect(error.details).toMatchObject({
      migration: '20250226090000_task_estimates',
      code: '42703',
      message: 'column "estimate" of relation "Task" does not exist',
      applied: [
        '20250205090000_add_labels',
        '20250212090000_backfill_priority',
        '20250219090000_comment_edited_at',
      ],
    });
    expect(error.message).toContain('20250226090000_task_estimates');
    expect(error.message).toContain('42703');
    await withClient(url, async (client) => {
      const exists = async (name: string) =>
        (await client.query('SELECT to_regclass($1) IS NOT NULL AS present', [name])).rows[0].present;
      // The failing script's first statements (CREATE TABLE, INSERT) are not visible...
      expect(await exists('"TaskEstimate"')).toBe(false);
      // ...the three migrations before it are committed (including their data change)...
      expect(await exists('"Label"')).toBe(true);
      const tasks = (await client.query('SELECT id, priority FROM "Task" ORDER BY id')).rows;
      expect(tasks).toEqual(
        tasksBefore.map((t: { id: number; priority: number; assigneeId: number | null }) => ({
          id: t.id,
          priority: t.assigneeId === null ? t.priority + 1 : t.priority,
        })),
      );
      // ...and the one after it was not attempted.
      const archived = await client.query(
        `SELECT 1 FROM information_schema.columns WHERE table_name = 'Project' AND column_name = 'archivedAt'`,
      );
      expect(archived.rowCount).toBe(0);
    });
    const failedRow = (await engine.readHistory()).find(
      (row) => row.name === '20250226090000_task_estimates',
    );
    expect(failedRow).toMatchObject({ finishedAt: null, rolledBackAt: null, appliedStepsCount: 0 });
    expect(failedRow?.logs).toContain('estimate');

    // A failed row blocks the next deploy, as with `prisma migrate deploy` (P3009).
    const blocked = await rejection<OrchestratorError>(
      engine.applyPending(release, { transactionMode: 'per-migration' }),
    );
    expect(blocked.name).toBe(ErrorNames.MigrationHistoryBlocked);
    expect(blocked.details).toMatchObject({ code: 'P3009', failed: ['20250226090000_task_estimates'] });
    expect(blocked.message).toContain('prisma migrate resolve --rolled-back 20250226090000_task_estimates');
  });

  it('rolls the whole release back when its fourth migration fails: schema, data and history are unchanged', async () => {
    // Prepare
    const { url, engine } = await sampleDatabaseWithData();
    const release = await load(await composeRelease('fourth-fails'));
    const before = await stateOf(url);

    // Act
    const error = await rejection<OrchestratorError>(
      engine.applyPending(release, { transactionMode: 'release' }),
    );

    // Assess
    expect(error.name).toBe(ErrorNames.MigrationFailedDatabaseUnchanged);
    expect(error.details).toMatchObject({
      migration: '20250226090000_task_estimates',
      code: '42703',
      line: 13,
      applied: [],
      rolledBack: [
        '20250205090000_add_labels',
        '20250212090000_backfill_priority',
        '20250219090000_comment_edited_at',
      ],
    });
    expect(error.message).toContain('20250226090000_task_estimates');
    expect(error.message).toContain('42703');
    const after = await stateOf(url);
    expect(after).toEqual(before);
    // The release's own changes were made before the failure; none of them survived.
    expect(Object.keys(after.data as object)).not.toContain('Label');
  });

  it("times each migration's script in the order applied, inside the release transaction", async () => {
    // Prepare
    const url = await database();
    const engine = new PrismaMigrationEngine({ connectionString: url });
    const bundle = await load(
      await migrationsDirectory([
        ['20250101000000_orders', 'CREATE TABLE "Order" (id integer PRIMARY KEY);'],
        ['20250102000000_slow', 'SELECT pg_sleep(0.3);\nALTER TABLE "Order" ADD COLUMN total integer;'],
      ]),
    );

    // Act
    const outcome = await engine.applyPending(bundle, { transactionMode: 'release' });

    // Assess
    expect(outcome.transactionMode).toBe('release');
    expect(outcome.timings?.map((timing) => timing.name)).toEqual([
      '20250101000000_orders',
      '20250102000000_slow',
    ]);
    const [fast, slow] = outcome.timings ?? [];
    expect(slow?.durationMs).toBeGreaterThanOrEqual(290);
    expect(fast?.durationMs).toBeLessThan(slow?.durationMs ?? 0);
  });

  it('applies a release with $$ function bodies in one transaction (scripts are not split on semicolons)', async () => {
    // Prepare
    const { url, engine } = await sampleDatabaseWithData();
    const release = await load(await composeRelease('good'));

    // Act
    const outcome = await engine.applyPending(release, { transactionMode: 'release' });

    // Assess
    expect(outcome).toMatchObject({
      applied: ['20250205090000_add_labels', '20250212090000_task_updated_at', '20250219090000_seed_labels'],
      transactionMode: 'release',
    });
    await withClient(url, async (client) => {
      await client.query(`UPDATE "Task" SET "title" = 'Notes v2' WHERE id = 1`);
      const touched = await client.query(
        'SELECT "updatedAt" IS NOT NULL AS touched FROM "Task" WHERE id = 1',
      );
      expect(touched.rows[0].touched).toBe(true);
      expect((await client.query('SELECT name FROM "Label" ORDER BY name')).rows.map((r) => r.name)).toEqual([
        'bug',
        'chore',
        'feature',
      ]);
    });
    expect((await engine.readHistory()).every((row) => row.finishedAt !== null)).toBe(true);
  });

  it('falls back to one transaction per migration for CREATE INDEX CONCURRENTLY, and says so', async () => {
    // Prepare
    const { url, engine } = await sampleDatabaseWithData();
    const release = await load(await composeRelease('concurrent-index'));

    // Act
    const outcome = await engine.applyPending(release, { transactionMode: 'release' });

    // Assess
    expect(outcome).toMatchObject({
      applied: ['20250205090000_task_due_index', '20250212090000_task_updated_at'],
      transactionMode: 'per-migration',
      timings: [
        { name: '20250205090000_task_due_index', durationMs: expect.any(Number) },
        { name: '20250212090000_task_updated_at', durationMs: expect.any(Number) },
      ],
    });
    await withClient(url, async (client) => {
      const index = await client.query(
        `SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'Task_dueAt_idx'`,
      );
      expect(index.rows).toEqual([{ indisvalid: true }]);
      await client.query(`UPDATE "Task" SET "title" = 'Tables v2' WHERE id = 2`);
      const touched = await client.query(
        'SELECT "updatedAt" IS NOT NULL AS touched FROM "Task" WHERE id = 2',
      );
      expect(touched.rows[0].touched).toBe(true);
    });
  });

  it("takes preflight's verdicts for exactly the scripts it read, and parses again when they are not those", async () => {
    // Prepare: verdicts that say nothing is non-transactional, about a release with CREATE INDEX CONCURRENTLY
    const release = await load(await composeRelease('concurrent-index'));
    const pendingNames = ['20250205090000_task_due_index', '20250212090000_task_updated_at'];
    const pending = release.migrations.filter((m) => pendingNames.includes(m.name));
    const verdicts = (digest: string) => ({
      transactionMode: 'release' as const,
      verdicts: { digest, nonAtomic: [] },
    });
    const trusting = await sampleDatabaseWithData();
    const parsing = await sampleDatabaseWithData();

    // Act: the verdicts' digest is of these very scripts; then of the scripts with one changed
    const trusted = await rejection(
      trusting.engine.applyPending(release, verdicts(migrationsDigest(pending))),
    );
    const changed = pending.map((m, index) =>
      index === 0 ? { ...m, checksum: `${m.checksum.slice(1)}0` } : m,
    );
    const parsed = await parsing.engine.applyPending(release, verdicts(migrationsDigest(changed)));

    // Assess: trusted, the release ran in one transaction and PostgreSQL refused the index inside it: nothing
    // was applied (a wrong verdict fails safe). Not trusted, the scripts were parsed and the release fell back.
    expect((trusted as OrchestratorError).name).toBe(ErrorNames.MigrationFailedDatabaseUnchanged);
    expect(trusted.message).toContain('cannot run inside a transaction block');
    expect((await trusting.engine.readHistory()).filter((row) => pendingNames.includes(row.name))).toEqual(
      [],
    );
    expect(parsed).toMatchObject({ applied: pendingNames, transactionMode: 'per-migration' });
  });

  it('reports the database unchanged when PostgreSQL refuses the COMMIT (a deferred constraint)', async () => {
    // Prepare: every script succeeds; the deferred foreign key is only checked at COMMIT.
    const { url, engine } = await sampleDatabaseWithData();
    const sample = await load(SAMPLE);
    const sql = `CREATE TABLE "Tree" ("id" INTEGER PRIMARY KEY, "parentId" INTEGER REFERENCES "Tree"("id") DEFERRABLE INITIALLY DEFERRED);
INSERT INTO "Tree" VALUES (1, 99);`;
    const release: MigrationBundle = {
      ...sample,
      migrations: [
        ...sample.migrations,
        { name: '20250301090000_tree', sql, checksum: createHash('sha256').update(sql).digest('hex') },
      ],
    };
    const before = await stateOf(url);

    // Act
    const error = await rejection<OrchestratorError>(
      engine.applyPending(release, { transactionMode: 'release' }),
    );

    // Assess
    expect(error.name).toBe(ErrorNames.MigrationFailedDatabaseUnchanged);
    expect(error.details).toMatchObject({ code: '23503' });
    expect(error.message).toContain('COMMIT');
    expect(await stateOf(url)).toEqual(before);
  });

  it('gives up on a lock after lockTimeoutMs and leaves the database unchanged', async () => {
    // Prepare: the application holds a lock on "Task" that ALTER TABLE must wait for.
    const { url } = await sampleDatabaseWithData();
    const engine = new PrismaMigrationEngine({ connectionString: url, lockTimeoutMs: 300 });
    const release = await load(await composeRelease('good'));
    const before = await stateOf(url);

    // Act
    const error = await withClient(url, async (application) => {
      await application.query('BEGIN');
      await application.query('LOCK TABLE "Task" IN ACCESS SHARE MODE');
      try {
        return await rejection<OrchestratorError>(
          engine.applyPending(release, { transactionMode: 'release' }),
        );
      } finally {
        await application.query('ROLLBACK');
      }
    });

    // Assess
    expect(error.name).toBe(ErrorNames.MigrationFailedDatabaseUnchanged);
    expect(error.details).toMatchObject({ migration: '20250212090000_task_updated_at', code: '55P03' });
    expect(error.message).toContain('lock timeout');
    expect(await stateOf(url)).toEqual(before);
  });

  it('detects drift from the migrations through a shadow database (reading "char" catalog columns)', async () => {
    // Prepare: a dedicated shadow database, used twice (so it must be wiped after each use).
    const { url } = await sampleDatabaseWithData();
    const shadowUrl = await database();
    const sample = await load(SAMPLE);
    const detector = new PrismaSchemaDriftDetector({
      connection: url,
      shadowDatabaseUrl: shadowUrl,
      source: { load: async () => sample },
    });

    // Act
    const clean = await detector.diffBundle(sample);
    await withClient(url, (client) => client.query('ALTER TABLE "Task" ADD COLUMN "addedByHand" INTEGER'));
    const drifted = await detector.diffBundle(sample);

    // Assess
    expect(clean).toEqual({ inSync: true, script: expect.any(String) });
    expect(drifted.inSync).toBe(false);
    expect(drifted.script).toMatch(/ALTER TABLE "public"\."Task" ADD COLUMN\s+"addedByHand" INTEGER/);
    const shadowTables = await withClient(
      shadowUrl,
      async (c) =>
        (await c.query('SELECT tablename FROM pg_tables WHERE schemaname = $1', ['public'])).rowCount,
    );
    expect(shadowTables).toBe(0);
  });

  it('refuses a shadow database that is the target itself', async () => {
    const url = await database();
    const sample = await load(SAMPLE);
    const detector = new PrismaSchemaDriftDetector({
      connection: url,
      shadowDatabaseUrl: url,
      source: { load: async () => sample },
    });

    const error = await rejection<OrchestratorError>(detector.diffBundle(sample));

    expect(error.message).toContain('is the target database itself');
  });

  it('fails with DatabaseUnreachable, naming the server but not the password, when nothing listens', async () => {
    // Prepare
    const port = await freePort();
    const password = 'never-in-a-message-9f8e7d';
    const engine = new PrismaMigrationEngine({
      connectionString: `postgresql://migrator:${password}@127.0.0.1:${port}/appdb`,
      clientConfig: { connectionTimeoutMillis: 2_000 },
    });

    // Act
    const reading = await rejection<OrchestratorError>(engine.readHistory());
    const applying = await rejection<OrchestratorError>(
      engine.applyPending(await load(SAMPLE), { transactionMode: 'release' }),
    );

    // Assess
    for (const error of [reading, applying]) {
      expect(error.name).toBe(ErrorNames.DatabaseUnreachable);
      expect(error.message).toContain(`127.0.0.1:${port}/appdb`);
      expect(error.message).not.toContain(password);
      expect(JSON.stringify(error.details)).not.toContain(password);
    }
  });
});

describe('toEngineError', () => {
  it('maps error kinds this engine build does not know to `postgres`, keeping PostgreSQL code and message', () => {
    const mapped = toEngineError({
      kind: 'InvalidInputValue',
      message: 'invalid input syntax for type integer: "abc"',
      originalCode: '22P02',
      originalMessage: 'invalid input syntax for type integer: "abc"',
    } as unknown as Parameters<typeof toEngineError>[0]);

    expect(mapped).toMatchObject({
      kind: 'postgres',
      code: '22P02',
      message: 'invalid input syntax for type integer: "abc"',
    });
  });

  it('passes kinds the engine knows through unchanged', () => {
    const known = { kind: 'TableDoesNotExist', table: 'Task' } as const;

    expect(toEngineError(known)).toBe(known);
  });
});

describe('PrismaMigrationEngine refuses before the first statement', () => {
  it('refuses a script the parser rejects, naming its line, even in per-migration mode: nothing is applied', async () => {
    // Prepare: a valid migration first, then a typo that could never succeed.
    const url = await database();
    const bundle: MigrationBundle = {
      directory: '/release',
      provider: 'postgresql',
      migrations: [
        { name: '20250101000000_ok', sql: 'CREATE TABLE "A" ("id" INTEGER);\n', checksum: 'a' },
        {
          name: '20250102000000_typo',
          sql: 'CREATE TABLE "B" ("id" INTEGER);\nALTR TABLE "A" ADD "x" INT;\n',
          checksum: 'b',
        },
      ],
    };
    const engine = new PrismaMigrationEngine({ connectionString: url });

    // Act
    const error = await rejection<OrchestratorError>(
      engine.applyPending(bundle, { transactionMode: 'per-migration' }),
    );

    // Assess
    expect(error.name).toBe(ErrorNames.MigrationsInvalid);
    expect(error.message).toContain('20250102000000_typo/migration.sql line 2');
    expect(await engine.readHistory()).toEqual([]);
    const tables = await withClient(url, (client) =>
      client.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'A'"),
    );
    expect(tables.rows).toEqual([]);
  });
});

describe('PrismaMigrationEngine on a lock timeout', () => {
  it('names the session that holds the lock (application, client, transaction age), its query without values', async () => {
    // Prepare: the table exists; another session holds a lock on it in an open transaction.
    const url = await database();
    const engine = new PrismaMigrationEngine({
      connectionString: url,
      lockTimeoutMs: 300,
      lockRetry: { attempts: 1 },
    });
    const base: MigrationBundle = {
      directory: '/release',
      provider: 'postgresql',
      migrations: [
        { name: '20250101000000_base', sql: 'CREATE TABLE "Account" ("id" INTEGER);\n', checksum: 'a' },
      ],
    };
    await engine.applyPending(base, { transactionMode: 'release' });
    const holder = new (await import('pg')).default.Client({
      connectionString: url,
      application_name: 'billing-worker',
    });
    await holder.connect();
    try {
      await holder.query(
        `BEGIN; SELECT * FROM "Account" WHERE "id" = 918273645; -- secret-looking query text`,
      );
      const release: MigrationBundle = {
        ...base,
        migrations: [
          ...base.migrations,
          {
            name: '20250102000000_alter',
            sql: 'ALTER TABLE "Account" ADD COLUMN "x" INTEGER;\n',
            checksum: 'b',
          },
        ],
      };

      // Act
      const error = await rejection<OrchestratorError>(
        engine.applyPending(release, { transactionMode: 'release' }),
      );

      // Assess
      expect(error.name).toBe(ErrorNames.MigrationFailedDatabaseUnchanged);
      expect(error.message).toContain('55P03');
      expect(error.message).toMatch(
        /Blocked by: pid \d+ \(application "billing-worker", client [^,]+, idle in transaction, transaction open \d+ s, holding [^)]*Account/,
      );
      expect(error.message).toContain('last query: BEGIN; SELECT * FROM "Account" WHERE id = $1)');
      expect(error.message).not.toContain('secret-looking');
      expect(error.message).not.toContain('918273645');
    } finally {
      await holder.end();
    }
  });
});
