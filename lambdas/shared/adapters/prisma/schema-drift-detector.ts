/**
 * Schema drift: does the live schema match what the migrations produce? Prisma's engine replays the named
 * migrations in a shadow database (by default a temporary one it creates next to the target and drops
 * afterwards, so the database user needs CREATEDB), then diffs it against the live database, as
 * `prisma migrate diff --from-migrations <dir> --to-config-datasource --script --exit-code` does.
 */
import type pg from 'pg';
import type {
  MigrationBundle,
  MigrationSource,
  SchemaDriftDetector,
  SchemaDriftResult,
} from '../../contract/ports.js';
import { type ConnectionTarget, connectionTarget, schemaOf } from '../postgres/client.js';
import type { ConnectionSettings } from '../postgres/connection.js';
import { migrationListOf, noFilters, openEngineSession } from './engine-session.js';

export interface PrismaSchemaDriftDetectorOptions {
  /** The live database (a Prisma URL's `?schema=` is honoured). */
  readonly connection: ConnectionSettings;
  readonly source: MigrationSource;
  /**
   * A dedicated, empty shadow database, wiped before and after each use.
   * @default a temporary database created next to the target and dropped afterwards
   */
  readonly shadowDatabaseUrl?: string;
  /** The engine's `schema_engine_bg.wasm`. @default beside the running module, else the `prisma` package's */
  readonly wasmPath?: string;
}

/** A schema file that only names the provider: the diff's "to" side is the live database itself. */
const DATASOURCE_ONLY_SCHEMA = {
  path: 'schema.prisma',
  content: 'datasource db {\n  provider = "postgresql"\n}\n',
};

export class PrismaSchemaDriftDetector implements SchemaDriftDetector {
  private readonly target: ConnectionTarget;
  private readonly shadow?: ConnectionTarget;
  private readonly schema?: string;

  constructor(private readonly options: PrismaSchemaDriftDetectorOptions) {
    const { connection } = options;
    const url = typeof connection === 'string' ? connection : undefined;
    const config: pg.ClientConfig | undefined = typeof connection === 'string' ? undefined : connection;
    this.target = connectionTarget(url, config);
    if (options.shadowDatabaseUrl !== undefined) {
      this.shadow = connectionTarget(options.shadowDatabaseUrl, config);
    }
    const schema = schemaOf(url);
    if (schema !== undefined) this.schema = schema;
  }

  async diff(migrations: readonly string[]): Promise<SchemaDriftResult> {
    const bundle = await this.options.source.load();
    const wanted = new Set(migrations);
    return await this.diffBundle({
      ...bundle,
      migrations: bundle.migrations.filter((m) => wanted.has(m.name)),
    });
  }

  /** The live schema against what all of `bundle`'s migrations produce. */
  async diffBundle(bundle: MigrationBundle): Promise<SchemaDriftResult> {
    const schema = this.schema;
    const session = await openEngineSession({
      target: this.target,
      ...(this.shadow ? { shadow: this.shadow } : {}),
      ...(this.options.wasmPath ? { wasmPath: this.options.wasmPath } : {}),
      ...(schema ? { hooks: { schema } } : {}),
      prepare: async (client) => {
        if (schema !== undefined) await client.query(`SET search_path TO ${client.escapeIdentifier(schema)}`);
      },
    });
    try {
      const result = await session.engine.diff({
        from: { tag: 'migrations', ...migrationListOf(bundle) },
        // The live database, through the engine's adapter; the engine needs a schema file naming the provider.
        to: { tag: 'schemaDatasource', files: [DATASOURCE_ONLY_SCHEMA], configDir: bundle.directory },
        script: true,
        exitCode: true,
        filters: noFilters(),
      });
      return { inSync: result.exitCode === 0, script: result.stdout ?? '' };
    } catch (error) {
      throw session.explain(error);
    } finally {
      await session.close();
    }
  }
}
