/**
 * The database capabilities on AWS: credentials from Secrets Manager (read at run time; only the secret's ARN is
 * in the environment), the bundled migrations, the evidence reader, and the health probe with its drift check.
 * `pg` comes in here; Prisma's engine only through the drift detector, loaded when the drift check is on.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SecretsManagerCredentials } from '../../adapters/aws/secrets-manager-credentials.js';
import { PgHealthProbe } from '../../adapters/postgres/health-probe.js';
import { PgReleaseInspector } from '../../adapters/postgres/release-inspector.js';
import { DirectoryMigrationSource } from '../../adapters/prisma/directory-migration-source.js';
import type { EvidenceCapability, HealthCapability, MigrationsCapability } from '../capabilities.js';
import type { AwsBase } from './base.js';

export interface AwsDatabase extends MigrationsCapability, EvidenceCapability, HealthCapability {
  /** The connection settings, with the password read from the secret. */
  connection(): ReturnType<SecretsManagerCredentials['connection']>;
}

let cached: AwsDatabase | undefined;

export function databaseCapability({ env, settings }: AwsBase): AwsDatabase {
  if (cached) return cached;
  const credentials = new SecretsManagerCredentials({
    secretArn: env.DATABASE_SECRET_ARN,
    ...(env.DATABASE_NAME ? { databaseName: env.DATABASE_NAME } : {}),
  });
  // The migrations are bundled beside the handler (index.mjs) as migrations/.
  const migrationsDir = env.MIGRATIONS_DIR ?? join(dirname(fileURLToPath(import.meta.url)), 'migrations');
  const migrationSource = () => new DirectoryMigrationSource(migrationsDir);
  const driftDetector = async () => {
    if (!env.CHECK_SCHEMA_DRIFT) return undefined;
    const { PrismaSchemaDriftDetector } = await import('../../adapters/prisma/schema-drift-detector.js');
    return new PrismaSchemaDriftDetector({
      connection: await credentials.connection(),
      source: migrationSource(),
    });
  };
  cached = {
    connection: () => credentials.connection(),
    migrationSource,
    databaseName: async () => (await credentials.connection()).database ?? env.TARGET_IDENTIFIER,
    releaseInspector: async () => new PgReleaseInspector({ connection: await credentials.connection() }),
    healthProbe: async () => {
      const drift = await driftDetector();
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
