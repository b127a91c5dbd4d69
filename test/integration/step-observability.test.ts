/**
 * The apply step's handler on a real PostgreSQL with Prisma's engine: what leaves it on standard output and error
 * (Powertools' JSON log lines and Embedded Metric Format documents) and in its error. The handler is built as
 * lambdas/apply-migrations/handler.ts builds it (`stepHandler`, `runApplyMigrations`, `applyMetrics`), with the
 * runtime the local runner gives (a connection URL): the AWS wiring reads the login from Secrets Manager and
 * requires TLS, which the scratch server has not.
 */
import { randomBytes } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runApplyMigrations } from '../../lambdas/apply-migrations/run.js';
import { PgReleaseInspector } from '../../lambdas/shared/adapters/postgres/release-inspector.js';
import { DirectoryMigrationSource } from '../../lambdas/shared/adapters/prisma/directory-migration-source.js';
import { PrismaMigrationEngine } from '../../lambdas/shared/adapters/prisma/migration-engine.js';
import { ErrorNames, type Plan, type WorkflowState } from '../../lambdas/shared/contract/contract.js';
import { OrchestratorError } from '../../lambdas/shared/contract/errors.js';
import { METRICS_NAMESPACE, MetricNames } from '../../lambdas/shared/contract/metrics.js';
import { systemClock } from '../../lambdas/shared/contract/ports.js';
import { stepHandler } from '../../lambdas/shared/runtime/handler-factory.js';
import { applyMetrics } from '../../lambdas/shared/runtime/step-metrics.js';
import { createDatabase, dropDatabase } from '../helpers/database.js';
import { testExecution, testSettings } from '../helpers/fakes.js';
import { migrationsDirectory, removeMigrationDirectories } from '../helpers/migrations.js';
import { captureOutput } from '../helpers/output.js';

/** A unique address: found nowhere by chance, so its absence from the output means it was redacted. */
const EMAIL = `ada.${randomBytes(6).toString('hex')}@example.com`;

const CREATE = [
  '20250101000000_customers',
  `CREATE TABLE "Customer" ("id" SERIAL PRIMARY KEY, "email" TEXT NOT NULL);
CREATE UNIQUE INDEX "Customer_email_key" ON "Customer"("email");
INSERT INTO "Customer" ("email") VALUES ('${EMAIL}');`,
] as const;
const DUPLICATE = [
  '20250102000000_import_customers',
  `INSERT INTO "Customer" ("email") VALUES ('${EMAIL}');`,
] as const;

const created: string[] = [];
afterAll(async () => {
  for (const name of created) await dropDatabase(name);
  await removeMigrationDirectories();
});

function planOf(databaseName: string, pending: readonly string[]): Plan {
  return {
    mode: 'migrate',
    databaseName,
    targetIdentifier: testSettings.targetIdentifier,
    totalMigrations: pending.length,
    applied: [],
    pending,
    edited: [],
    unknownApplied: [],
    transactionMode: 'release',
    lockedTables: [],
    snapshotRequired: false,
    dryRun: false,
    proceed: true,
    warnings: [],
  };
}

/** The apply step's handler on database `url` with the migrations of `dir`. */
function applyHandler(url: string, dir: string) {
  return stepHandler(
    'apply-migrations',
    (event) =>
      runApplyMigrations(event, {
        settings: testSettings,
        clock: systemClock,
        migrationSource: () => new DirectoryMigrationSource(dir),
        databaseName: async () => 'unused',
        engine: async () => new PrismaMigrationEngine({ connectionString: url }),
        analyzeRelease: async () => {
          throw new Error('The apply step does not analyze the release.');
        },
        releaseInspector: async () => new PgReleaseInspector({ connection: url }),
      }),
    { metrics: applyMetrics },
  );
}

const context = {
  awsRequestId: 'b2c4e6f8-request',
  functionName: 'orchestrator-apply',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:orchestrator-apply',
  memoryLimitInMB: '1024',
  getRemainingTimeInMillis: () => 900_000,
} as unknown as Context;

describe('the apply step handler (PostgreSQL, Prisma engine)', () => {
  let database: { name: string; url: string };

  beforeAll(async () => {
    database = await createDatabase('ptobs');
    created.push(database.name);
    process.env.TARGET_IDENTIFIER = 'orders-db';
  });
  afterAll(() => {
    delete process.env.TARGET_IDENTIFIER;
  });

  it('writes JSON log lines with the correlation keys, and MigrationsApplied as EMF, when the release applies', async () => {
    // Prepare
    const dir = await migrationsDirectory([CREATE]);
    const state: WorkflowState = {
      input: { release: 'v3.1.0' },
      execution: testExecution,
      plan: planOf(database.name, [CREATE[0]]),
    };
    const output = captureOutput();

    // Act
    let result: unknown;
    try {
      result = await applyHandler(database.url, dir)(state, context);
    } finally {
      output.restore();
    }

    // Assess
    expect(result).toMatchObject({ applied: [CREATE[0]] });
    const lines = output.json();
    const logs = lines.filter((line) => !('_aws' in line));
    expect(logs.map((line) => line.message)).toEqual(['step started', 'step succeeded']);
    for (const line of logs) {
      expect(line).toMatchObject({
        level: 'INFO',
        step: 'apply-migrations',
        state: 'Apply pending migrations',
        execution: testExecution.name,
        release: 'v3.1.0',
        target: 'orders-db',
        requestId: context.awsRequestId,
        function_request_id: context.awsRequestId,
        service: 'prisma-migration-orchestrator',
      });
    }
    expect(logs[1]?.durationMs).toEqual(expect.any(Number));
    const emf = lines.filter((line) => '_aws' in line);
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({
      _aws: {
        CloudWatchMetrics: [
          {
            Namespace: METRICS_NAMESPACE,
            Dimensions: [['StateMachineName']],
            Metrics: [{ Name: MetricNames.migrationsApplied, Unit: 'Count' }],
          },
        ],
      },
      StateMachineName: 'orchestrator',
      [MetricNames.migrationsApplied]: 1,
    });
    // Low cardinality only: no execution, release or request id among the dimensions.
    expect(Object.keys(emf[0] ?? {}).sort()).toEqual(['MigrationsApplied', 'StateMachineName', '_aws']);
  });

  it('lets no row value of a unique violation out: not in a log line, the error message, details or stack', async () => {
    // Prepare
    const fresh = await createDatabase('ptobs');
    created.push(fresh.name);
    const dir = await migrationsDirectory([CREATE, DUPLICATE]);
    const state: WorkflowState = {
      input: { release: 'v3.2.0' },
      execution: testExecution,
      plan: planOf(fresh.name, [CREATE[0], DUPLICATE[0]]),
    };
    // Without the handler, the engine's error holds the row's value (so the assertions below can fail).
    const raw = await runApplyMigrations(state, {
      settings: testSettings,
      clock: systemClock,
      migrationSource: () => new DirectoryMigrationSource(dir),
      databaseName: async () => 'unused',
      engine: async () => new PrismaMigrationEngine({ connectionString: fresh.url }),
      analyzeRelease: async () => {
        throw new Error('unused');
      },
      releaseInspector: async () => new PgReleaseInspector({ connection: fresh.url }),
    }).catch((error: unknown) => error as OrchestratorError);
    expect(raw).toBeInstanceOf(OrchestratorError);
    expect(`${(raw as Error).message} ${JSON.stringify((raw as OrchestratorError).details)}`).toContain(
      EMAIL,
    );
    const output = captureOutput();

    // Act
    let error: OrchestratorError | undefined;
    try {
      await applyHandler(fresh.url, dir)(state, context);
    } catch (caught) {
      error = caught as OrchestratorError;
    } finally {
      output.restore();
    }

    // Assess
    // The release ran as one transaction: the duplicate rolled it back, nothing committed.
    expect(error?.name).toBe(ErrorNames.MigrationFailedDatabaseUnchanged);
    const lines = output.lines();
    expect(lines.join('\n')).not.toContain(EMAIL);
    expect(error?.message).not.toContain(EMAIL);
    expect(JSON.stringify(error?.details)).not.toContain(EMAIL);
    expect(error?.stack).not.toContain(EMAIL);
    // What the operator needs stays: the key's column, the constraint, the SQLSTATE.
    expect(error?.message).toContain('Key (email)=(***)');
    expect(error?.message).toContain('Customer_email_key');
    const failed = output.json().find((line) => line.message === 'step failed');
    expect(failed).toMatchObject({
      level: 'ERROR',
      step: 'apply-migrations',
      state: 'Apply pending migrations',
      execution: testExecution.name,
      release: 'v3.2.0',
      target: 'orders-db',
      requestId: context.awsRequestId,
      errorName: ErrorNames.MigrationFailedDatabaseUnchanged,
    });
    expect(String(failed?.errorMessage)).toContain('Key (email)=(***)');
    expect(failed?.durationMs).toEqual(expect.any(Number));
  });
});
