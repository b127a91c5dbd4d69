/**
 * Prisma's engine and PostgreSQL's parser on AWS (both WebAssembly): only the steps that apply or plan load them.
 */
import { PrismaMigrationEngine } from '../../adapters/prisma/migration-engine.js';
import type { EngineCapability } from '../capabilities.js';
import type { AwsBase } from './base.js';
import type { AwsDatabase } from './database.js';

export function engineCapability({ env }: AwsBase, database: AwsDatabase): EngineCapability {
  return {
    engine: async (defaults) =>
      new PrismaMigrationEngine({
        clientConfig: await database.connection(),
        lockTimeoutMs: env.LOCK_TIMEOUT_MS,
        ...(env.LOCK_TIMEOUT_ATTEMPTS === undefined
          ? {}
          : { lockRetry: { attempts: env.LOCK_TIMEOUT_ATTEMPTS } }),
        statementTimeoutMs: env.STATEMENT_TIMEOUT_MS || (defaults?.statementTimeoutMs ?? 0),
      }),
    analyzeRelease: async () => (await import('../../domain/release-analysis.js')).analyzeRelease,
  };
}
