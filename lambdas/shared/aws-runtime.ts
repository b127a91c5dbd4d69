/**
 * How the step cores are wired on AWS: settings from the environment, credentials from Secrets Manager,
 * RDS gateways, Prisma's engine. Built lazily once per Lambda container; nothing here runs at import.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DirectoryMigrationSource } from './adapters/directory-migration-source.js';
import { PgHealthProbe } from './adapters/pg-health-probe.js';
import { PrismaMigrationEngine } from './adapters/prisma-migration-engine.js';
import { RdsClusterSnapshotGateway } from './adapters/rds-cluster-snapshot-gateway.js';
import { RdsInstanceSnapshotGateway } from './adapters/rds-instance-snapshot-gateway.js';
import { SecretsManagerCredentials } from './adapters/secrets-manager-credentials.js';
import { type LambdaEnv, readEnv, settingsFromEnv } from './env.js';
import type { MigrationEngine, MigrationSource, SnapshotGateway } from './ports.js';
import type { WorkflowSettings } from './settings.js';

export interface AwsRuntime {
  readonly env: LambdaEnv;
  readonly settings: WorkflowSettings;
  gateway(): SnapshotGateway;
  migrationSource(): MigrationSource;
  /** A new engine on a new connection; the caller closes it. */
  engine(): Promise<MigrationEngine>;
  healthProbe(): Promise<PgHealthProbe>;
  databaseName(): Promise<string>;
}

let runtime: AwsRuntime | undefined;

export function awsRuntime(): AwsRuntime {
  if (runtime) return runtime;
  const env = readEnv();
  const settings = settingsFromEnv(env);
  const credentials = new SecretsManagerCredentials({
    secretArn: env.DATABASE_SECRET_ARN,
    ...(env.DATABASE_NAME ? { databaseName: env.DATABASE_NAME } : {}),
  });
  let gateway: SnapshotGateway | undefined;
  // The migrations are bundled beside the handler (index.mjs) as migrations/.
  const migrationsDir = env.MIGRATIONS_DIR ?? join(dirname(fileURLToPath(import.meta.url)), 'migrations');
  runtime = {
    env,
    settings,
    gateway: () => {
      gateway ??=
        env.TARGET_KIND === 'cluster'
          ? new RdsClusterSnapshotGateway({
              clusterIdentifier: env.TARGET_IDENTIFIER,
              managedBy: env.MANAGED_BY,
            })
          : new RdsInstanceSnapshotGateway({
              instanceIdentifier: env.TARGET_IDENTIFIER,
              managedBy: env.MANAGED_BY,
            });
      return gateway;
    },
    migrationSource: () => new DirectoryMigrationSource(migrationsDir),
    engine: async () =>
      new PrismaMigrationEngine({
        clientConfig: await credentials.connection(),
        lockTimeoutMs: env.LOCK_TIMEOUT_MS,
        statementTimeoutMs: env.STATEMENT_TIMEOUT_MS,
      }),
    healthProbe: async () =>
      new PgHealthProbe({ connection: await credentials.connection(), checks: settings.healthChecks }),
    databaseName: async () => (await credentials.connection()).database ?? env.TARGET_IDENTIFIER,
  };
  return runtime;
}
