/**
 * The database capabilities on AWS: credentials from Secrets Manager (read at run time; only the secret's ARN is
 * in the environment), the migrations (bundled at deploy time, or the input's release bundle), the evidence
 * reader, and the health probe with its drift check.
 * `pg` comes in here; Prisma's engine only through the drift detector, loaded when the drift check is on.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SecretsManagerCredentials } from '../../adapters/aws/secrets-manager-credentials.js';
import { PgHealthProbe } from '../../adapters/postgres/health-probe.js';
import { PgReleaseInspector } from '../../adapters/postgres/release-inspector.js';
import { DirectoryMigrationSource } from '../../adapters/prisma/directory-migration-source.js';
import type { MigrationSource } from '../../contract/ports.js';
import type { ReleaseBundleRef } from '../../domain/release-bundle.js';
import type { EvidenceCapability, HealthCapability, MigrationsCapability } from '../capabilities.js';
import type { AwsBase } from './base.js';
import { s3ReleaseBundleSource } from './release-bundles.js';

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
