/**
 * Schema drift: does the live schema match what the migrations produce? Prisma's engine replays the named
 * migrations in a temporary shadow database it creates next to the target and drops afterwards (so the
 * database user needs CREATEDB), then diffs it against the live database, as
 * `prisma migrate diff --from-migrations ... --to-config-datasource --exit-code` does.
 */
import type { MigrationSource, SchemaDriftDetector, SchemaDriftResult } from '../ports.js';
import type { ConnectionSettings } from './pg-connection.js';
import { PrismaMigrationEngine } from './prisma-migration-engine.js';

export interface PrismaSchemaDriftDetectorOptions {
  /** The live database. */
  readonly connection: ConnectionSettings;
  readonly source: MigrationSource;
}

export class PrismaSchemaDriftDetector implements SchemaDriftDetector {
  constructor(private readonly options: PrismaSchemaDriftDetectorOptions) {}

  async diff(migrations: readonly string[]): Promise<SchemaDriftResult> {
    const bundle = await this.options.source.load();
    const wanted = new Set(migrations);
    const subset = { ...bundle, migrations: bundle.migrations.filter((m) => wanted.has(m.name)) };
    const { connection } = this.options;
    const engine = new PrismaMigrationEngine(
      typeof connection === 'string' ? { connectionString: connection } : { clientConfig: connection },
    );
    try {
      return await engine.diffAgainstMigrations(subset);
    } finally {
      await engine.close();
    }
  }
}
