/**
 * Schema drift: does the live schema match what the migrations produce? The migrations are replayed by
 * Prisma's engine in a temporary shadow database on the same server (created and dropped here, so the
 * database user needs CREATEDB), then diffed against the live database, as
 * `prisma migrate diff --from-migrations ... --to-config-datasource --exit-code` does.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { MigrationSource, SchemaDriftDetector, SchemaDriftResult } from '../ports.js';
import { type ConnectionSettings, connect } from './pg-connection.js';
import { PrismaMigrationEngine } from './prisma-migration-engine.js';

export interface PrismaSchemaDriftDetectorOptions {
  /** The live database. */
  readonly connection: ConnectionSettings;
  readonly source: MigrationSource;
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A URL of database `database` on the server of `connection` (the password stays in memory only). */
export function urlOfDatabase(connection: ConnectionSettings, database: string): string {
  if (typeof connection === 'string') {
    const url = new URL(connection);
    url.pathname = `/${encodeURIComponent(database)}`;
    return url.toString();
  }
  const user = encodeURIComponent(String(connection.user ?? ''));
  const password =
    connection.password === undefined ? '' : `:${encodeURIComponent(String(connection.password))}`;
  const host = connection.host ?? 'localhost';
  return `postgresql://${user}${password}@${host}:${connection.port ?? 5432}/${encodeURIComponent(database)}`;
}

function databaseOf(connection: ConnectionSettings): string {
  if (typeof connection === 'string')
    return decodeURIComponent(new URL(connection).pathname.slice(1)) || 'db';
  return connection.database ?? 'db';
}

export class PrismaSchemaDriftDetector implements SchemaDriftDetector {
  constructor(private readonly options: PrismaSchemaDriftDetectorOptions) {}

  async diff(migrations: readonly string[]): Promise<SchemaDriftResult> {
    const bundle = await this.options.source.load();
    const wanted = new Set(migrations);
    const subset = { ...bundle, migrations: bundle.migrations.filter((m) => wanted.has(m.name)) };
    const shadow = `${databaseOf(this.options.connection).slice(0, 40)}_shadow_${randomBytes(4).toString('hex')}`;
    const admin: pg.Client = await connect(this.options.connection);
    try {
      await admin.query(`CREATE DATABASE ${quoteIdent(shadow)}`);
      const connection = this.options.connection;
      const engine = new PrismaMigrationEngine({
        ...(typeof connection === 'string' ? { connectionString: connection } : { clientConfig: connection }),
        shadowDatabaseUrl: urlOfDatabase(connection, shadow),
      });
      try {
        return await engine.diffAgainstMigrations(subset);
      } finally {
        await engine.close();
      }
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(shadow)} WITH (FORCE)`).catch(() => undefined);
      await admin.end().catch(() => undefined);
    }
  }
}
