/**
 * The real preflight of a benchmark, as the Lambda runs it (a new engine per invocation, closed at the end) and with
 * the database's execution lock held, as the local runner holds it; optionally with the drift detector the Lambda
 * wires (which computes the expected schemas).
 */
import { preflight } from '../../lambdas/preflight/preflight.js';
import { PostgresExecutionGuard } from '../../lambdas/shared/adapters/postgres/execution-guard.js';
import { DirectoryMigrationSource } from '../../lambdas/shared/adapters/prisma/directory-migration-source.js';
import { PrismaMigrationEngine } from '../../lambdas/shared/adapters/prisma/migration-engine.js';
import { PrismaSchemaDriftDetector } from '../../lambdas/shared/adapters/prisma/schema-drift-detector.js';
import type { Plan } from '../../lambdas/shared/contract/contract.js';
import { analyzeRelease } from '../../lambdas/shared/domain/release-analysis.js';
import type { WorkflowSettings } from '../../lambdas/shared/runtime/settings.js';

export async function runPreflight(options: {
  readonly url: string;
  /** The database `url` names (the execution lock's). */
  readonly database: string;
  readonly dir: string;
  readonly settings: WorkflowSettings;
  /** The execution's id and name. */
  readonly execution: string;
  /** Wire the drift detector, so that preflight computes the expected schemas. @default false */
  readonly drift?: boolean;
}): Promise<Plan> {
  const { url, dir, execution } = options;
  const source = new DirectoryMigrationSource(dir);
  const engine = new PrismaMigrationEngine({ connectionString: url });
  const guard = await PostgresExecutionGuard.acquire(url, options.database);
  try {
    return await preflight(
      { input: {}, execution: { id: execution, name: execution, startedAt: new Date().toISOString() } },
      {
        source,
        engine,
        guard,
        settings: options.settings,
        databaseName: options.database,
        analyzeRelease,
        ...(options.drift ? { drift: new PrismaSchemaDriftDetector({ connection: url, source }) } : {}),
      },
    );
  } finally {
    await guard.release();
    await engine.close();
  }
}
