import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { type DatabaseDigest, digestDatabase } from '../../bin/sample/database-digest.js';
import { DirectoryMigrationSource } from '../../lambdas/shared/adapters/prisma/directory-migration-source.js';
import { PrismaMigrationEngine } from '../../lambdas/shared/adapters/prisma/migration-engine.js';
import { StateNames } from '../../lambdas/shared/contract/contract.js';
import type { ApplyOptions, MigrationBundle, MigrationEngine } from '../../lambdas/shared/contract/ports.js';
import { applySessionName } from '../../lambdas/shared/domain/release-evidence.js';
import { type LocalRunOptions, runLocal } from '../../lib/local/runner.js';
import { createDatabase, dropDatabasesAndCopies, withAdmin, withClient } from '../helpers/database.js';
import { migrationsDirectory, removeMigrationDirectories } from '../helpers/migrations.js';

const BASE: [string, string][] = [
  [
    '20250101000000_customers',
    `CREATE TABLE "Customer" (
  "id" SERIAL PRIMARY KEY,
  "email" TEXT NOT NULL,
  "credit" INTEGER NOT NULL DEFAULT 0 CHECK ("credit" >= 0)
);
CREATE UNIQUE INDEX "Customer_email_key" ON "Customer"("email");
INSERT INTO "Customer" ("email", "credit") VALUES ('ada@example.com', 10), ('grace@example.com', 20);
`,
  ],
];

const ADD_ORDERS: [string, string] = [
  '20250201000000_orders',
  'CREATE TABLE "Order" ("id" SERIAL PRIMARY KEY, "customerId" INTEGER NOT NULL REFERENCES "Customer"("id"));\n',
];
/** Fails at run time with a unique violation whose detail carries a customer's e-mail address. */
const DUPLICATE_EMAIL: [string, string] = [
  '20250202000000_duplicate_customer',
  `INSERT INTO "Customer" ("email") VALUES ('ada@example.com');\n`,
];
/** The same, as the first migration of its release. */
const DUPLICATE_EMAIL_FIRST: [string, string] = ['20250115000000_duplicate_customer', DUPLICATE_EMAIL[1]];

const databases: string[] = [];

/** A database with the base release deployed through the workflow. */
async function deployedBase(): Promise<{ name: string; url: string }> {
  const db = await createDatabase('evidence');
  databases.push(db.name);
  const result = await runLocal({ databaseUrl: db.url, migrationsDir: await migrationsDirectory(BASE) });
  expect(result.outcome, result.error?.cause).toBe('succeeded');
  return db;
}

async function digestWithoutHistory(
  url: string,
): Promise<Omit<DatabaseDigest, 'tables'> & { tables: object }> {
  const digest = await digestDatabase(url);
  const { 'public._prisma_migrations': _history, ...tables } = digest.tables;
  return { ...digest, tables };
}

async function historyRows(url: string) {
  return await withClient(
    url,
    async (client) =>
      (
        await client.query<{ migration_name: string; finished: boolean; rolled_back: boolean }>(
          `SELECT migration_name, finished_at IS NOT NULL AS finished, rolled_back_at IS NOT NULL AS rolled_back
           FROM _prisma_migrations ORDER BY started_at, migration_name`,
        )
      ).rows,
  );
}

/** The engine the runner would use, with `before` run first (as the real engine would meet it). */
function engineWith(
  url: string,
  before: (options: ApplyOptions) => Promise<void>,
): NonNullable<LocalRunOptions['adapters']>['engine'] {
  return () => {
    const real = new PrismaMigrationEngine({ connectionString: url });
    const engine: MigrationEngine = {
      readHistory: () => real.readHistory(),
      readSchemaCatalog: () => real.readSchemaCatalog(),
      applyPending: async (bundle: MigrationBundle, options: ApplyOptions) => {
        await before(options);
        return await real.applyPending(bundle, options);
      },
      close: () => real.close(),
    };
    return engine;
  };
}

/** A session named like the apply step's, in a transaction holding a lock, running a long statement. */
async function orphanSession(url: string, applicationName: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, application_name: applicationName });
  client.on('error', () => undefined);
  await client.connect();
  await client.query('BEGIN; LOCK TABLE "Customer" IN ACCESS EXCLUSIVE MODE;');
  client.query('SELECT pg_sleep(600)').catch(() => undefined);
}

/** An error as the Lambda service reports a function that died (out of memory, killed). */
function diedWithoutAnswering(): Error {
  const error = new Error('Runtime exited with error: signal: killed');
  error.name = 'Lambda.Unknown';
  return error;
}

const RESTORE_STATES = [StateNames.restoreSnapshot, StateNames.swap, StateNames.verifyRollbackHealth];

afterAll(async () => {
  await removeMigrationDirectories();
  await dropDatabasesAndCopies(databases);
});

describe('evidence before destruction', () => {
  it('ends "unchanged" without a restore when the first migration fails atomically in per-migration mode, and the next deploy is not blocked', async () => {
    // Prepare
    const db = await deployedBase();
    const before = await digestWithoutHistory(db.url);

    // Act
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: await migrationsDirectory([...BASE, DUPLICATE_EMAIL_FIRST, ADD_ORDERS]),
      transactionMode: 'per-migration',
    });

    // Assess
    expect(result.outcome).toBe('release-failed-unchanged');
    expect(result.exitCode).toBe(5);
    for (const state of RESTORE_STATES) expect(result.path).not.toContain(state);
    expect(result.error?.cause).toContain('Nothing of the release committed');
    expect(await digestWithoutHistory(db.url)).toEqual(before);
    expect(await historyRows(db.url)).toEqual([
      { migration_name: BASE[0]?.[0], finished: true, rolled_back: false },
      { migration_name: DUPLICATE_EMAIL_FIRST[0], finished: false, rolled_back: true },
    ]);

    // The fixed release deploys: the failed row no longer blocks (P3009).
    const fixed = await runLocal({
      databaseUrl: db.url,
      migrationsDir: await migrationsDirectory([...BASE, ADD_ORDERS]),
    });
    expect(fixed.outcome).toBe('succeeded');
  });

  it('never lets a table row out: the e-mail address of a unique violation is redacted from the cause', async () => {
    const db = await deployedBase();
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: await migrationsDirectory([...BASE, DUPLICATE_EMAIL]),
    });
    expect(result.outcome).toBe('release-failed-unchanged');
    expect(result.error?.cause).toContain('23505');
    expect(result.error?.cause).toContain('Key (email)=(***) already exists');
    expect(JSON.stringify(result)).not.toContain('ada@example.com');
  });

  it('restores when a migration of the release committed before another failed (per-migration mode)', async () => {
    const db = await deployedBase();
    const before = await digestDatabase(db.url);
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: await migrationsDirectory([...BASE, ADD_ORDERS, DUPLICATE_EMAIL]),
      transactionMode: 'per-migration',
    });
    expect(result.outcome).toBe('migration-rolled-back');
    expect(result.path).toContain(StateNames.restoreSnapshot);
    expect(result.error?.cause).toContain(`Committed by this release before it failed: ${ADD_ORDERS[0]}`);
    expect(await digestDatabase(db.url)).toEqual(before);
  });

  it('restores, never calling it unchanged, when the failed script dropped the history itself (per-migration mode)', async () => {
    // Prepare: a script that drops _prisma_migrations (the lint's drop-table finding acknowledged): it commits
    // with its row, then Prisma's write of the row fails; the fresh read then finds no history at all
    const db = await deployedBase();
    const before = await digestDatabase(db.url);
    const dropsHistory: [string, string] = [
      '20250120000000_drop_history',
      'DROP TABLE "_prisma_migrations";\n',
    ];

    // Act
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: await migrationsDirectory([...BASE, dropsHistory]),
      transactionMode: 'per-migration',
      lintPolicy: { 'drop-table': 'warn' },
    });

    // Assess
    expect(result.outcome, result.error?.cause).toBe('migration-rolled-back');
    expect(result.error?.cause).toContain('_prisma_migrations no longer records');
    expect(await digestDatabase(db.url)).toEqual(before);
  });

  it('ends "unchanged" when the history blocks the release during apply (P3009), restoring nothing', async () => {
    const db = await deployedBase();
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: await migrationsDirectory([...BASE, ADD_ORDERS]),
      adapters: {
        // Another deploy left a failed row between preflight and apply.
        engine: engineWith(db.url, async () => {
          await withClient(db.url, (client) =>
            client.query(
              `INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, applied_steps_count, logs)
               VALUES ('x', 'x', '20250115000000_elsewhere', now(), 0, 'ERROR: boom')`,
            ),
          );
        }),
      },
    });
    expect(result.outcome).toBe('release-failed-unchanged');
    expect(result.error?.cause).toContain('P3009');
    for (const state of RESTORE_STATES) expect(result.path).not.toContain(state);
  });

  it('retries a connection that fails before anything was applied, then ends "unchanged" (no restore)', async () => {
    const db = await deployedBase();
    const unreachable = new URL(db.url);
    unreachable.port = '1';
    let attempts = 0;
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: await migrationsDirectory([...BASE, ADD_ORDERS]),
      adapters: {
        engine: () => {
          const real = new PrismaMigrationEngine({ connectionString: unreachable.toString() });
          return {
            readHistory: () => new PrismaMigrationEngine({ connectionString: db.url }).readHistory(),
            readSchemaCatalog: () =>
              new PrismaMigrationEngine({ connectionString: db.url }).readSchemaCatalog(),
            applyPending: (bundle, options) => {
              attempts += 1;
              return real.applyPending(bundle, options);
            },
            close: () => real.close(),
          };
        },
      },
    });
    expect(result.outcome).toBe('release-failed-unchanged');
    expect(result.exitCode).toBe(5);
    expect(attempts).toBe(3);
    expect(result.error?.cause).toContain('Cannot connect to PostgreSQL');
    for (const state of RESTORE_STATES) expect(result.path).not.toContain(state);
  });

  it('ends the session of an apply step that died, then finds nothing committed: unchanged, no restore', async () => {
    // Prepare: the apply step opens its migration session, takes a lock, and dies without answering.
    const db = await deployedBase();
    let sessionName = '';
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: await migrationsDirectory([...BASE, ADD_ORDERS]),
      beforeStep: async (step, input) => {
        if (step !== 'apply-migrations') return;
        sessionName = applySessionName(input.execution);
        await orphanSession(db.url, sessionName);
        throw diedWithoutAnswering();
      },
    });

    // Assess
    expect(result.path).toContain(StateNames.assessRelease);
    expect(result.outcome).toBe('release-failed-unchanged');
    expect(result.error?.cause).toContain('The apply step did not answer (Lambda.Unknown)');
    for (const state of RESTORE_STATES) expect(result.path).not.toContain(state);
    const left = await withAdmin((client) =>
      client.query('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [sessionName]),
    );
    expect(sessionName).toMatch(/^prisma-orchestrator-apply-/);
    expect(left.rows).toEqual([]);
  });

  it('restores when the apply step died after a migration of the release committed', async () => {
    const db = await deployedBase();
    const before = await digestDatabase(db.url);
    const partial = await migrationsDirectory([...BASE, ADD_ORDERS]);
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: await migrationsDirectory([...BASE, ADD_ORDERS, DUPLICATE_EMAIL]),
      transactionMode: 'per-migration',
      beforeStep: async (step) => {
        if (step !== 'apply-migrations') return;
        // The first migration of the release commits, then the function dies before answering.
        const engine = new PrismaMigrationEngine({ connectionString: db.url });
        await engine.applyPending(await new DirectoryMigrationSource(partial).load(), {
          transactionMode: 'per-migration',
        });
        throw diedWithoutAnswering();
      },
    });
    expect(result.path).toContain(StateNames.assessRelease);
    expect(result.outcome).toBe('migration-rolled-back');
    expect(await digestDatabase(db.url)).toEqual(before);
  });

  describe('verification that a healthy release passes', () => {
    /**
     * Creates a table only where the database holds more than the migrations' own seed rows: production has
     * them, the shadow database the drift check replays the migrations into does not.
     */
    const DATA_DEPENDENT: [string, string] = [
      '20250203000000_data_dependent',
      `DO $$ BEGIN
  IF (SELECT count(*) FROM "Customer") > 2 THEN CREATE TABLE "only_with_data" ("id" INTEGER); END IF;
END $$;
`,
    ];

    async function withHandMadeTable(): Promise<{ name: string; url: string }> {
      const db = await deployedBase();
      await withClient(db.url, (client) =>
        client.query('CREATE TABLE audit_log (id serial PRIMARY KEY, what text)'),
      );
      return db;
    }

    it('passes a healthy release on a database with a table the migrations do not know, and reports it', async () => {
      const db = await withHandMadeTable();
      const result = await runLocal({
        databaseUrl: db.url,
        migrationsDir: await migrationsDirectory([...BASE, ADD_ORDERS]),
        drift: { policy: 'fail' },
      });
      expect(result.outcome, result.error?.cause).toBe('succeeded');
      expect(result.state.plan?.warnings.join(' ')).toContain('audit_log');
      expect(result.state.health?.warnings?.join(' ')).toContain('already there before the release');
    });

    it('leaves out the tables of the ignore list', async () => {
      const db = await withHandMadeTable();
      const result = await runLocal({
        databaseUrl: db.url,
        migrationsDir: await migrationsDirectory([...BASE, ADD_ORDERS]),
        drift: { ignore: ['audit_log'] },
      });
      expect(result.outcome).toBe('succeeded');
      expect(result.state.health?.warnings).toBeUndefined();
    });

    async function withProductionData(): Promise<{ name: string; url: string }> {
      const db = await deployedBase();
      await withClient(db.url, (client) =>
        client.query(`INSERT INTO "Customer" ("email") VALUES ('ken@example.com')`),
      );
      return db;
    }

    it('fails (and restores) on drift the release introduced only under the fail policy', async () => {
      const db = await withProductionData();
      const before = await digestDatabase(db.url);
      const result = await runLocal({
        databaseUrl: db.url,
        migrationsDir: await migrationsDirectory([...BASE, DATA_DEPENDENT]),
        drift: { policy: 'fail' },
      });
      expect(result.outcome).toBe('migration-rolled-back');
      expect(result.error?.cause).toContain('only_with_data');
      expect(await digestDatabase(db.url)).toEqual(before);
    });

    it('reports drift the release introduced under the default warn policy, without failing it', async () => {
      const db = await withProductionData();
      const result = await runLocal({
        databaseUrl: db.url,
        migrationsDir: await migrationsDirectory([...BASE, DATA_DEPENDENT]),
      });
      expect(result.outcome).toBe('succeeded');
      expect(result.state.health?.warnings?.join(' ')).toContain('only_with_data');
    });

    it("verifies a release into the schema the URL's ?schema= names, instead of rolling it back", async () => {
      const db = await createDatabase('evidence_schema');
      databases.push(db.name);
      const url = new URL(db.url);
      url.searchParams.set('schema', 'app');
      await withClient(db.url, (client) => client.query('CREATE SCHEMA app'));
      const result = await runLocal({
        databaseUrl: url.toString(),
        migrationsDir: await migrationsDirectory(BASE),
      });
      expect(result.outcome, result.error?.cause).toBe('succeeded');
      const tables = await withClient(db.url, (client) =>
        client.query("SELECT table_schema FROM information_schema.tables WHERE table_name = 'Customer'"),
      );
      expect(tables.rows).toEqual([{ table_schema: 'app' }]);
    });
  });
});
