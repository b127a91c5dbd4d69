/**
 * Schema drift: does the live schema match what the migrations produce? Prisma's engine replays the named
 * migrations in a shadow database (by default a temporary one it creates next to the target and drops
 * afterwards, so the database user needs CREATEDB), then diffs it against the live database, as
 * `prisma migrate diff --from-migrations <dir> --to-config-datasource --script --exit-code` does.
 *
 * That replay costs about as much as applying the whole history. So preflight computes, once per release, the
 * expected schema of each set of migrations the release will be checked against (`expectedSchemas`: the
 * scripts replayed in one temporary database, its catalog fingerprinted after each set); a later `diff` whose
 * live fingerprint equals the expected one answers in sync in one catalog query. Only a match short-cuts: any
 * difference, or a fingerprint that cannot be read, goes to the engine, which decides and says what differs.
 */
import type pg from 'pg';
import type {
  Migration,
  MigrationBundle,
  MigrationSource,
  SchemaDriftDetector,
  SchemaDriftResult,
} from '../../contract/ports.js';
import type { ExpectedSchema } from '../../domain/drift.js';
import { migrationsDigest } from '../../domain/transaction-fallback.js';
import {
  type ConnectionTarget,
  connectionTarget,
  openClient,
  schemaOf,
  withDatabase,
} from '../postgres/client.js';
import type { ConnectionSettings } from '../postgres/connection.js';
import { schemaFingerprint, userSchemas } from '../postgres/schema-fingerprint.js';
import { migrationListOf, noFilters, openEngineSession } from './engine-session.js';
import {
  dropShadowDatabase,
  dropStaleShadowDatabases,
  rememberShadowDatabase,
  shadowDatabaseName,
} from './shadow-database.js';

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

  async diff(
    migrations: readonly string[],
    expected?: readonly ExpectedSchema[],
  ): Promise<SchemaDriftResult> {
    const bundle = await this.options.source.load();
    const chosen = named(bundle, migrations);
    const key = expected?.length ? migrationsDigest(chosen) : undefined;
    const match = expected?.find((schema) => schema.migrations === key);
    if (match && (await this.liveFingerprint(match.schemas)) === match.fingerprint) {
      return { inSync: true, script: '', by: 'fingerprint' };
    }
    return await this.diffBundle({ ...bundle, migrations: chosen });
  }

  async expectedSchemas(sets: readonly (readonly string[])[]): Promise<ExpectedSchema[]> {
    const bundle = await this.options.source.load();
    const ordered = sets.map((names) => named(bundle, names));
    const results: ExpectedSchema[] = [];
    let replay: Replay | undefined;
    try {
      for (const set of ordered) {
        // A set that extends the one replayed so far continues it; any other starts a new replay.
        if (!replay || !extendsReplay(set, replay.applied)) {
          await replay?.close();
          replay = await this.startReplay();
        }
        try {
          for (const migration of set.slice(replay.applied.length)) await replay.apply(migration);
        } catch {
          // This set does not replay on an empty database: its check goes to the engine.
          await replay.close();
          replay = undefined;
          continue;
        }
        const schemas = await replay.schemas();
        results.push({
          migrations: migrationsDigest(set),
          fingerprint: await schemaFingerprint(replay.client, schemas),
          schemas,
        });
      }
    } finally {
      await replay?.close();
    }
    return results;
  }

  /** The live schema's fingerprint, or undefined when it cannot be read (the engine decides then). */
  private async liveFingerprint(schemas: readonly string[]): Promise<string | undefined> {
    let client: pg.Client | undefined;
    try {
      client = await openClient(this.target);
      return await schemaFingerprint(client, schemas);
    } catch {
      return undefined;
    } finally {
      await client?.end().catch(() => undefined);
    }
  }

  /** A temporary database next to the target (a shadow database, by name and lifecycle) to replay into. */
  private async startReplay(): Promise<Replay> {
    const main = await openClient(this.target);
    let name: string | undefined;
    let client: pg.Client | undefined;
    const close = async () => {
      await client?.end().catch(() => undefined);
      if (name !== undefined) await dropShadowDatabase(main, this.target, name);
      await main.end().catch(() => undefined);
    };
    try {
      const { now } = await dropStaleShadowDatabases(main);
      name = shadowDatabaseName(now);
      rememberShadowDatabase(name);
      await main.query(`CREATE DATABASE ${main.escapeIdentifier(name)}`);
      const replayClient = await openClient(withDatabase(this.target, name));
      client = replayClient;
      const schema = this.schema;
      if (schema !== undefined) {
        const quoted = replayClient.escapeIdentifier(schema);
        await replayClient.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}; SET search_path TO ${quoted}`);
      }
      const applied: Migration[] = [];
      return {
        client: replayClient,
        applied,
        apply: async (migration) => {
          // One simple query per script, as the engine replays them.
          await replayClient.query(migration.sql);
          applied.push(migration);
        },
        schemas: async () => [...new Set([...(await userSchemas(replayClient)), schema ?? 'public'])].sort(),
        close,
      };
    } catch (error) {
      await close();
      throw error;
    }
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

/** A replay of migrations in a temporary database. */
interface Replay {
  readonly client: pg.Client;
  /** What was replayed so far, in order. */
  readonly applied: readonly Migration[];
  apply(migration: Migration): Promise<void>;
  /**
   * The schemas a fingerprint covers: the target's, and those the replay put something in (so that with
   * `?schema=app`, whatever the live database holds in an unmanaged `public` is not compared).
   */
  schemas(): Promise<string[]>;
  close(): Promise<void>;
}

function extendsReplay(set: readonly Migration[], applied: readonly Migration[]): boolean {
  return applied.length <= set.length && applied.every((migration, index) => set[index] === migration);
}

/** The bundle's migrations named in `names`, in the bundle's order. */
function named(bundle: MigrationBundle, names: readonly string[]): Migration[] {
  const wanted = new Set(names);
  return bundle.migrations.filter((migration) => wanted.has(migration.name));
}
