/**
 * The database capabilities on AWS: the login (a Secrets Manager secret's password, read at run time with only the
 * secret's ARN in the environment; or an IAM authentication token signed per connection, with no secret at all),
 * the migrations (bundled at deploy time, or the input's release bundle), the evidence
 * reader, and the health probe with its drift check.
 * `pg` comes in here; Prisma's engine only through the drift detector, loaded when the drift check is on.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { RdsIamCredentials } from '../../adapters/aws/rds-iam-credentials.js';
import { SecretsManagerCredentials } from '../../adapters/aws/secrets-manager-credentials.js';
import { PgHealthProbe } from '../../adapters/postgres/health-probe.js';
import { PgMigrationLock } from '../../adapters/postgres/migration-lock.js';
import { PgReleaseInspector } from '../../adapters/postgres/release-inspector.js';
import { DirectoryMigrationSource } from '../../adapters/prisma/directory-migration-source.js';
import type { MigrationSource } from '../../contract/ports.js';
import type { ReleaseBundleRef } from '../../domain/release-bundle.js';
import type {
  EvidenceCapability,
  HealthCapability,
  MigrationLockCapability,
  MigrationsCapability,
} from '../capabilities.js';
import type { AwsBase } from './base.js';
import { s3ReleaseBundleSource } from './release-bundles.js';

export interface AwsDatabase
  extends MigrationsCapability,
    EvidenceCapability,
    HealthCapability,
    MigrationLockCapability {
  /** The connection settings: the password read from the secret, or a function signing an IAM token. */
  connection(): Promise<pg.ClientConfig>;
}

/** Where the connection settings come from: the secret, or IAM database authentication (DATABASE_AUTH). */
function loginOf(env: AwsBase['env']): { connection(): Promise<pg.ClientConfig> } {
  const login = env.DATABASE_LOGIN;
  if (login.auth === 'iam') {
    return new RdsIamCredentials({
      host: login.host,
      port: login.port,
      user: login.user,
      // readEnv requires DATABASE_NAME with DATABASE_AUTH=iam.
      database: env.DATABASE_NAME ?? '',
    });
  }
  return new SecretsManagerCredentials({
    secretArn: login.secretArn,
    ...(env.DATABASE_NAME ? { databaseName: env.DATABASE_NAME } : {}),
  });
}

let cached: AwsDatabase | undefined;

export function databaseCapability({ env, settings }: AwsBase): AwsDatabase {
  if (cached) return cached;
  const credentials = loginOf(env);
  // The migrations are bundled beside the handler (index.mjs) as migrations/; an input may name a release bundle.
  const migrationsDir = env.MIGRATIONS_DIR ?? join(dirname(fileURLToPath(import.meta.url)), 'migrations');
  const migrationSource = (bundle: ReleaseBundleRef | undefined): MigrationSource =>
    bundle
      ? s3ReleaseBundleSource(bundle, env)
      : new DirectoryMigrationSource(migrationsDir, {
          description: `bundled at deploy time: ${migrationsDir}`,
        });
  const driftDetector = async (source: MigrationSource) => {
    if (!env.CHECK_SCHEMA_DRIFT) return undefined;
    const { PrismaSchemaDriftDetector } = await import('../../adapters/prisma/schema-drift-detector.js');
    return new PrismaSchemaDriftDetector({ connection: await credentials.connection(), source });
  };
  cached = {
    connection: () => credentials.connection(),
    migrationSource,
    databaseName: async () => (await credentials.connection()).database ?? env.TARGET_IDENTIFIER,
    releaseInspector: async () => new PgReleaseInspector({ connection: await credentials.connection() }),
    migrationLock: async () => new PgMigrationLock({ connection: await credentials.connection() }),
    healthProbe: async (source) => {
      const drift = await driftDetector(source);
      return new PgHealthProbe({
        connection: await credentials.connection(),
        checks: settings.healthChecks,
        ...(drift ? { drift } : {}),
      });
    },
    driftDetector,
  };
  return cached;
}
