/**
 * Connection settings for `pg` as the adapters take them (a URL or a `pg` client configuration), opened
 * through the one place that turns a connection failure into `DatabaseUnreachableError` with a message that
 * names the server and database and never the password (`client.ts`).
 */
import type pg from 'pg';
import { type ConnectionTarget, connectionTarget, openClient, schemaOf } from './client.js';

export { urlWithDatabase } from './client.js';

export type ConnectionSettings = string | pg.ClientConfig;

const APPLICATION_NAME = 'migration-orchestrator';

function targetOf(settings: ConnectionSettings): ConnectionTarget {
  return typeof settings === 'string'
    ? connectionTarget(settings, { application_name: APPLICATION_NAME })
    : connectionTarget(undefined, { application_name: APPLICATION_NAME, ...settings });
}

/** The database a URL names ('' when it names none). */
export function databaseOfUrl(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1));
}

/**
 * Connects a new client, or throws `DatabaseUnreachableError`. A Prisma connection string's `?schema=` becomes
 * the session's search path, as Prisma's engine uses it: `_prisma_migrations` and unqualified names in the
 * user's checks then resolve where the migrations put them.
 */
export async function connect(settings: ConnectionSettings): Promise<pg.Client> {
  const client = await openClient(targetOf(settings));
  const schema = typeof settings === 'string' ? schemaOf(settings) : undefined;
  if (schema !== undefined) {
    try {
      await client.query(`SET search_path TO ${client.escapeIdentifier(schema)}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  }
  return client;
}

/** Runs `fn` with a new client on `settings`, and always ends the client. */
export async function withClient<T>(
  settings: ConnectionSettings,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = await connect(settings);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
