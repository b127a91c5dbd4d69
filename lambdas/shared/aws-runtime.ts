/**
 * How the step cores are wired on AWS: settings from the environment, credentials from Secrets Manager,
 * RDS gateways, Prisma's engine. Built lazily once per Lambda container; nothing here runs at import, and
 * the heavy adapters (Prisma's engine and PostgreSQL's parser, both WebAssembly; the RDS SDK) are imported
 * only by the steps that use them, so the RDS-only steps start fast.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DirectoryMigrationSource } from './adapters/directory-migration-source.js';
import { PgHealthProbe } from './adapters/pg-health-probe.js';
import { SecretsManagerCredentials } from './adapters/secrets-manager-credentials.js';
import { type LambdaEnv, readEnv, settingsFromEnv } from './env.js';
import type {
  ExecutionGuard,
  MigrationEngine,
  MigrationSource,
  ReleaseInspector,
  SchemaDriftDetector,
  SnapshotGateway,
} from './ports.js';
import type { WorkflowSettings } from './settings.js';

export interface AwsRuntime {
  readonly env: LambdaEnv;
  readonly settings: WorkflowSettings;
  gateway(): Promise<SnapshotGateway>;
  migrationSource(): MigrationSource;
  executionGuard(): Promise<ExecutionGuard>;
  /**
   * A new engine on a new connection; the caller closes it. `statementTimeoutMs` applies when the construct
   * sets none (0).
   */
  engine(defaults?: { statementTimeoutMs?: number }): Promise<MigrationEngine>;
  releaseInspector(): Promise<ReleaseInspector>;
  healthProbe(): Promise<PgHealthProbe>;
  /** Prisma's engine replaying the bundled migrations in a temporary shadow database (CHECK_SCHEMA_DRIFT). */
  driftDetector(): Promise<SchemaDriftDetector>;
  databaseName(): Promise<string>;
}

let cached: AwsRuntime | undefined;

export function awsRuntime(): AwsRuntime {
  if (cached) return cached;
  const env = readEnv();
  const settings = settingsFromEnv(env);
  const credentials = new SecretsManagerCredentials({
    secretArn: env.DATABASE_SECRET_ARN,
    ...(env.DATABASE_NAME ? { databaseName: env.DATABASE_NAME } : {}),
  });
  let gateway: Promise<SnapshotGateway> | undefined;
  // The migrations are bundled beside the handler (index.mjs) as migrations/.
  const migrationsDir = env.MIGRATIONS_DIR ?? join(dirname(fileURLToPath(import.meta.url)), 'migrations');
  const runtime: AwsRuntime = {
    env,
    settings,
    gateway: () => {
      if (!gateway) {
        gateway =
          env.TARGET_KIND === 'cluster'
            ? import('./adapters/rds/cluster.js').then(
                ({ RdsClusterSnapshotGateway }) =>
                  new RdsClusterSnapshotGateway({
                    clusterIdentifier: env.TARGET_IDENTIFIER,
                    managedBy: env.MANAGED_BY,
                  }),
              )
            : import('./adapters/rds/instance.js').then(
                ({ RdsInstanceSnapshotGateway }) =>
                  new RdsInstanceSnapshotGateway({
                    instanceIdentifier: env.TARGET_IDENTIFIER,
                    managedBy: env.MANAGED_BY,
                  }),
              );
      }
      return gateway;
    },
    migrationSource: () => new DirectoryMigrationSource(migrationsDir),
    executionGuard: async () => {
      const { SfnExecutionGuard } = await import('./adapters/sfn-execution-guard.js');
      return new SfnExecutionGuard();
    },
    engine: async (defaults) => {
      const { PrismaMigrationEngine } = await import('./adapters/prisma-migration-engine.js');
      return new PrismaMigrationEngine({
        clientConfig: await credentials.connection(),
        lockTimeoutMs: env.LOCK_TIMEOUT_MS,
        statementTimeoutMs: env.STATEMENT_TIMEOUT_MS || (defaults?.statementTimeoutMs ?? 0),
      });
    },
    releaseInspector: async () => {
      const { PgReleaseInspector } = await import('./adapters/pg-release-inspector.js');
      return new PgReleaseInspector({ connection: await credentials.connection() });
    },
    healthProbe: async () => {
      const connection = await credentials.connection();
      if (!env.CHECK_SCHEMA_DRIFT) return new PgHealthProbe({ connection, checks: settings.healthChecks });
      return new PgHealthProbe({
        connection,
        checks: settings.healthChecks,
        drift: await runtime.driftDetector(),
      });
    },
    driftDetector: async () => {
      const { PrismaSchemaDriftDetector } = await import('./adapters/prisma-schema-drift-detector.js');
      return new PrismaSchemaDriftDetector({
        connection: await credentials.connection(),
        source: new DirectoryMigrationSource(migrationsDir),
      });
    },
    databaseName: async () => (await credentials.connection()).database ?? env.TARGET_IDENTIFIER,
  };
  cached = runtime;
  return runtime;
}
