/**
 * Prisma's schema engine on real schemas, against a real PostgreSQL server and the real engine: catalog
 * columns of PostgreSQL's internal `"char"` type (a CHECK constraint used to make the describer panic),
 * engine panics turned into rejected calls instead of a dead process, and shadow databases that never
 * outlive a run.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { ColumnTypeEnum } from '@prisma/driver-adapter-utils';
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { connectionTarget, openClient } from '../../lambdas/shared/adapters/postgres/client.js';
import { connect } from '../../lambdas/shared/adapters/postgres/connection.js';
import { PgHealthProbe } from '../../lambdas/shared/adapters/postgres/health-probe.js';
import { DirectoryMigrationSource } from '../../lambdas/shared/adapters/prisma/directory-migration-source.js';
import {
  type EngineSessionOptions,
  migrationListOf,
  noFilters,
  openEngineSession,
  SchemaEnginePanic,
} from '../../lambdas/shared/adapters/prisma/engine-session.js';
import { PinnedMigrationAdapterFactory } from '../../lambdas/shared/adapters/prisma/migration-driver-adapter.js';
import { PrismaMigrationEngine } from '../../lambdas/shared/adapters/prisma/migration-engine.js';
import { PrismaSchemaDriftDetector } from '../../lambdas/shared/adapters/prisma/schema-drift-detector.js';
import {
  SHADOW_DATABASE_STALE_AFTER_MS,
  shadowDatabaseCreatedAt,
  shadowDatabaseName,
} from '../../lambdas/shared/adapters/prisma/shadow-database.js';
import type { MigrationBundle } from '../../lambdas/shared/contract/ports.js';
import { createDatabase, dropDatabase, urlFor, withAdmin, withClient } from '../helpers/database.js';

const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURE = resolve(ROOT, 'test/fixtures/engine-robustness');
const MIGRATIONS = resolve(FIXTURE, 'migrations');
const CHILD = resolve(FIXTURE, 'engine-session-child.ts');

const created: string[] = [];

afterAll(async () => {
  for (const name of created) await dropDatabase(name);
});

async function database(prefix: string): Promise<{ name: string; url: string }> {
  const db = await createDatabase(prefix);
  created.push(db.name);
  return db;
}

async function catalogBundle(): Promise<MigrationBundle> {
  return await new DirectoryMigrationSource(MIGRATIONS).load();
}

/** A database with every catalog object of the fixture, applied by our engine. */
async function catalogDatabase(): Promise<{ name: string; url: string; names: string[] }> {
  const db = await database('robust');
  const bundle = await catalogBundle();
  const engine = new PrismaMigrationEngine({ connectionString: db.url });
  await engine.applyPending(bundle, { transactionMode: 'release' });
  return { ...db, names: bundle.migrations.map((m) => m.name) };
}

/** The temporary shadow databases on the server. */
async function shadowDatabases(): Promise<string[]> {
  return await withAdmin(async (client) =>
    (
      await client.query<{ datname: string }>(
        "SELECT datname FROM pg_database WHERE datname LIKE 'prisma\\_migrate\\_shadow\\_db\\_%'",
      )
    ).rows.map((row) => row.datname),
  );
}

/**
 * No shadow database that was not there `before` is left. Another test file may be diffing at the same
 * time: wait for its shadow databases to go (they live for a second or two); a leaked one stays.
 */
async function expectNoNewShadowDatabases(before: ReadonlySet<string>): Promise<void> {
  await expect
    .poll(async () => (await shadowDatabases()).filter((name) => !before.has(name)), { timeout: 5000 })
    .toEqual([]);
}

const DATASOURCE = { path: 'schema.prisma', content: 'datasource db {\n  provider = "postgresql"\n}\n' };

/** One migration with a CHECK constraint: describing the shadow database it builds reads `contype`. */
const CHECK_BUNDLE: MigrationBundle = {
  directory: FIXTURE,
  provider: 'postgresql',
  migrations: [{ name: '1_check', sql: 'CREATE TABLE "T" ("n" integer CHECK ("n" > 0));', checksum: '' }],
};

/** `diff --from-migrations <bundle> --to-config-datasource` on an open session. */
function diffParams(bundle: MigrationBundle) {
  return {
    from: { tag: 'migrations' as const, ...migrationListOf(bundle) },
    to: { tag: 'schemaDatasource' as const, files: [DATASOURCE], configDir: bundle.directory },
    script: true,
    exitCode: true,
    filters: noFilters(),
  };
}

/** Runs `fn` on a new engine session, and always closes it. */
async function withSession<T>(
  options: EngineSessionOptions,
  fn: (session: Awaited<ReturnType<typeof openEngineSession>>) => Promise<T>,
): Promise<T> {
  const session = await openEngineSession(options);
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}

/** Collects the uncaught exceptions raised while `fn` runs (there must be none). */
async function uncaughtDuring(fn: () => Promise<void>): Promise<unknown[]> {
  const uncaught: unknown[] = [];
  const listener = (error: unknown) => uncaught.push(error);
  process.on('uncaughtException', listener);
  try {
    await fn();
    // Let any late callback of the engine run.
    await new Promise((done) => setTimeout(done, 200));
  } finally {
    process.removeListener('uncaughtException', listener);
  }
  return uncaught;
}

describe('the engine on a schema with every kind of catalog object', () => {
  it('applies migrations with CHECK constraints, foreign key actions, identity and generated columns, partial and expression indexes, views, a trigger, a domain, enums, an owned sequence, comments and a second schema', async () => {
    const db = await catalogDatabase();
    const counts = await withClient(db.url, async (client) => {
      const { rows } = await client.query<Record<string, number>>(
        `SELECT
           (SELECT count(*)::int FROM pg_constraint
              WHERE contype = 'c' AND connamespace::regnamespace::text IN ('public', 'reporting')) AS checks,
           (SELECT count(*)::int FROM pg_constraint WHERE contype = 'f') AS foreign_keys,
           (SELECT count(*)::int FROM pg_attribute WHERE attidentity <> '' AND attnum > 0) AS identities,
           (SELECT count(*)::int FROM pg_attribute WHERE attgenerated <> '' AND attnum > 0) AS generated,
           (SELECT count(*)::int FROM pg_class WHERE relkind = 'm') AS materialized_views,
           (SELECT count(*)::int FROM pg_trigger WHERE NOT tgisinternal) AS triggers,
           (SELECT count(*)::int FROM _prisma_migrations WHERE finished_at IS NOT NULL) AS applied`,
      );
      return rows[0];
    });
    expect(counts).toEqual({
      checks: 5, // 4 on tables, 1 on the domain
      foreign_keys: 3,
      identities: 3,
      generated: 1,
      materialized_views: 1,
      triggers: 1,
      applied: 2,
    });
  });

  it('reports the database in sync with the migrations that created it, without panicking on its CHECK constraints', async () => {
    const db = await catalogDatabase();
    const detector = new PrismaSchemaDriftDetector({
      connection: db.url,
      source: new DirectoryMigrationSource(MIGRATIONS),
    });
    await expect(detector.diff(db.names)).resolves.toEqual({ inSync: true, script: expect.any(String) });
  });

  it('passes the health check "schema matches the migrations" on that database', async () => {
    const db = await catalogDatabase();
    const probe = new PgHealthProbe({
      connection: db.url,
      drift: new PrismaSchemaDriftDetector({
        connection: db.url,
        source: new DirectoryMigrationSource(MIGRATIONS),
      }),
    });
    const report = await probe.check({ migrations: db.names });
    expect(report.checks.find((c) => c.name === 'schema matches the migrations')).toMatchObject({
      ok: true,
    });
  });

  it('reports a foreign key action changed by hand as drift (it reads confdeltype, a "char" column)', async () => {
    const db = await catalogDatabase();
    await withClient(db.url, (client) =>
      client.query(
        `ALTER TABLE "Invoice" DROP CONSTRAINT "Invoice_customerId_fkey",
           ADD CONSTRAINT "Invoice_customerId_fkey" FOREIGN KEY ("customerId") REFERENCES "Customer"("id")
           ON DELETE RESTRICT ON UPDATE RESTRICT`,
      ),
    );
    const detector = new PrismaSchemaDriftDetector({ connection: db.url, source: { load: catalogBundle } });
    const result = await detector.diffBundle(await catalogBundle());
    expect(result.inSync).toBe(false);
    expect(result.script).toContain('ON DELETE RESTRICT');
  });

  it('reports every "char" catalog column as a Character column holding its one-character value', async () => {
    const db = await catalogDatabase();
    const client = await openClient(connectionTarget(db.url));
    try {
      const factory = new PinnedMigrationAdapterFactory({ client, target: connectionTarget(db.url) });
      const adapter = await factory.connect();
      const result = await adapter.queryRaw({
        sql: `SELECT c.relkind, a.attidentity, a.attgenerated, k.contype, k.confdeltype, k.confupdtype,
                     k.confmatchtype, p.prokind, t.typtype, 'x'::text AS plain
                FROM pg_class c
                JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'fullName'
                JOIN pg_constraint k ON k.conname = 'Invoice_customerId_fkey'
                JOIN pg_proc p ON p.proname = 'touch_updated_at'
                JOIN pg_type t ON t.typname = 'Percent'
               WHERE c.relname = 'Customer'`,
        args: [],
        argTypes: [],
      });
      expect(result.columnTypes).toEqual([
        ...Array<number>(9).fill(ColumnTypeEnum.Character),
        ColumnTypeEnum.Text,
      ]);
      expect(result.rows).toEqual([['r', '', 's', 'f', 'c', 'r', 's', 'f', 'd', 'x']]);
    } finally {
      await client.end();
    }
  });
});

describe('an engine panic', () => {
  it('rejects the pending diff with the panic message, drops its shadow database, and the next session works', async () => {
    const db = await database('panic');
    const target = connectionTarget(db.url);
    const before = new Set(await shadowDatabases());
    let outcome: unknown;
    const uncaught = await uncaughtDuring(async () => {
      // Reporting "char" columns as text, as this adapter once did, makes the describer panic on the CHECK.
      outcome = await withSession({ target, hooks: { charColumnsAsText: true } }, (session) =>
        session.engine.diff(diffParams(CHECK_BUNDLE)).catch((error: unknown) => error),
      );
    });
    expect(uncaught).toEqual([]);
    expect(outcome).toBeInstanceOf(SchemaEnginePanic);
    expect((outcome as SchemaEnginePanic).panic).toMatch(
      /sql-schema-describer\/src\/postgres\.rs.*Getting constraint_type .* as char failed/s,
    );
    await expectNoNewShadowDatabases(before);

    const next = await withSession({ target }, (session) => session.engine.diff(diffParams(CHECK_BUNDLE)));
    expect(next.exitCode).toBe(2); // the live database lacks the table: a real answer from a fresh engine
  });

  it('rejects the calls pending on every open session, and a later session works', async () => {
    const first = await database('panic');
    const second = await database('panic');
    const before = new Set(await shadowDatabases());
    const calm = await openEngineSession({ target: connectionTarget(first.url) });
    let pending: Promise<unknown> | undefined;
    let thrown: unknown;
    const uncaught = await uncaughtDuring(async () => {
      try {
        pending = calm.engine.diff(diffParams(CHECK_BUNDLE)).catch((error: unknown) => error);
        await withSession({ target: connectionTarget(second.url) }, async (session) => {
          try {
            // The engine's own deliberate panic, raised synchronously by the wasm.
            session.engine.debugPanic();
          } catch (error) {
            thrown = error;
          }
        });
        expect(await pending).toBeInstanceOf(SchemaEnginePanic);
      } finally {
        await calm.close();
      }
    });
    expect(uncaught).toEqual([]);
    expect(thrown).toBeInstanceOf(SchemaEnginePanic);
    expect((thrown as SchemaEnginePanic).panic).toMatch(/panicked at/);
    // The calm session's shadow database may still have been being created when the panic came.
    await expectNoNewShadowDatabases(before);

    const detector = new PrismaSchemaDriftDetector({
      connection: first.url,
      source: { load: async () => CHECK_BUNDLE },
    });
    await expect(detector.diffBundle(CHECK_BUNDLE)).resolves.toMatchObject({ inSync: false });
  });

  it('rejects opening a session whose engine panics while it starts', async () => {
    const db = await database('panic');
    let opened: unknown;
    const uncaught = await uncaughtDuring(async () => {
      // An empty list of schema files makes the engine panic in its constructor.
      opened = await openEngineSession({ target: connectionTarget(db.url), datamodels: [] }).catch(
        (error: unknown) => error,
      );
    });
    expect(uncaught).toEqual([]);
    expect(opened).toBeInstanceOf(SchemaEnginePanic);
    expect((opened as SchemaEnginePanic).panic).toMatch(/must be called with at least one file/);
  });
});

interface ChildResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the child fixture in a plain Node process (no test runner's uncaught-exception handlers). */
function child(mode: 'panic' | 'foreign-error', url: string): Promise<ChildResult> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CHILD, mode, url],
      { cwd: ROOT, timeout: 45_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

describe('a Node process running the engine', () => {
  it('survives an engine panic: the call is rejected and the process ends normally', async () => {
    const db = await database('panic');
    const result = await child('panic', db.url);
    expect(result.code).toBe(0);
    const [outcome, closed] = result.stdout.trim().split('\n');
    expect(JSON.parse(outcome ?? '{}')).toMatchObject({
      settled: 'rejected',
      name: 'SchemaEnginePanic',
      message: expect.stringContaining('Getting constraint_type'),
    });
    expect(closed).toBe('closed');
  });

  it('still prints an uncaught error that is not the engine’s and exits with code 1', async () => {
    const db = await database('panic');
    const result = await child('foreign-error', db.url);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('an uncaught error that is not the engine’s');
    expect(result.stdout).not.toContain('still running');
  });
});

describe('shadow databases', () => {
  it('names a shadow database with its creation time, within 63 bytes', () => {
    const createdAt = new Date('2025-02-01T09:00:00.000Z');
    const name = shadowDatabaseName(createdAt);
    expect(name).toMatch(/^prisma_migrate_shadow_db_20250201T090000Z_[0-9a-f]{8}$/);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63);
    expect(shadowDatabaseCreatedAt(name)).toEqual(createdAt);
  });

  it('drops leftover shadow databases at the next drift check, and leaves a fresh or connected one alone', async () => {
    const db = await catalogDatabase();
    const serverNow = await withAdmin(
      async (client) => (await client.query<{ now: Date }>('SELECT now() AS now')).rows[0]?.now ?? new Date(),
    );
    const crashed = shadowDatabaseName(
      new Date(serverNow.getTime() - SHADOW_DATABASE_STALE_AFTER_MS - 60_000),
    );
    const crashedBefore = 'prisma_migrate_shadow_db_0b8e2c1a-5f3d-4c2b-9a7e-1d2c3b4a5f60';
    const fresh = shadowDatabaseName(serverNow);
    const connected = shadowDatabaseName(new Date('2020-01-01T00:00:00Z'));
    for (const name of [crashed, crashedBefore, fresh, connected]) {
      await withAdmin((client) => client.query(`CREATE DATABASE "${name}"`));
    }
    let holder: pg.Client | undefined;
    try {
      holder = await connect(urlFor(connected));
      const detector = new PrismaSchemaDriftDetector({
        connection: db.url,
        source: new DirectoryMigrationSource(MIGRATIONS),
      });
      await expect(detector.diff(db.names)).resolves.toMatchObject({ inSync: true });
      const left = await shadowDatabases();
      expect(left).not.toContain(crashed);
      expect(left).not.toContain(crashedBefore);
      expect(left).toContain(fresh);
      expect(left).toContain(connected);
    } finally {
      await holder?.end();
      for (const name of [crashed, crashedBefore, fresh, connected]) await dropDatabase(name);
    }
  });
});
