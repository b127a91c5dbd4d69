/**
 * Connection settings for `pg`, and the only place that turns a connection failure into
 * `DatabaseUnreachableError` with a message that names the server and database, never the password.
 */
import pg from 'pg';
import { DatabaseUnreachableError } from '../errors.js';

export type ConnectionSettings = string | pg.ClientConfig;

/** `host:port/database` of a connection, for messages. */
export function describeConnection(settings: ConnectionSettings): string {
  if (typeof settings === 'string') {
    try {
      const url = new URL(settings);
      return `${url.hostname}:${url.port || '5432'}/${decodeURIComponent(url.pathname.slice(1)) || '(default)'}`;
    } catch {
      return '(unparseable connection URL)';
    }
  }
  return `${settings.host ?? 'localhost'}:${settings.port ?? 5432}/${settings.database ?? '(default)'}`;
}

export function clientConfig(settings: ConnectionSettings): pg.ClientConfig {
  const base: pg.ClientConfig =
    typeof settings === 'string' ? { connectionString: settings } : { ...settings };
  return { connectionTimeoutMillis: 10_000, application_name: 'migration-orchestrator', ...base };
}

/** Connects a new client, or throws `DatabaseUnreachableError`. */
export async function connect(settings: ConnectionSettings): Promise<pg.Client> {
  const client = new pg.Client(clientConfig(settings));
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    const code = (error as { code?: string }).code;
    throw new DatabaseUnreachableError(
      `Cannot connect to PostgreSQL at ${describeConnection(settings)}${code ? ` (${code})` : ''}: ` +
        `${(error as Error).message}. Check that the database is up, reachable from here (network, security ` +
        'group), and that the credentials are right.',
      { cause: error, details: { server: describeConnection(settings), code } },
    );
  }
}
