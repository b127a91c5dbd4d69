/**
 * Where a `pg.Client` connects (`ConnectionTarget`, described without its secrets) and opening one: a failed
 * connection becomes `DatabaseUnreachableError` naming the endpoint, never the password.
 */
import pg from 'pg';
import { DatabaseUnreachableError } from '../../contract/errors.js';

/** Where to connect, without ever exposing the password in a message. */
export interface ConnectionTarget {
  readonly config: pg.ClientConfig;
  /** `host:port/database`, for messages. */
  readonly endpoint: string;
}

/** How long to wait for a connection before giving up, unless the caller says otherwise. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** The URL schemes PostgreSQL's clients accept. */
const POSTGRES_SCHEMES = ['postgres:', 'postgresql:'];

/**
 * Refuses a connection string that is not a PostgreSQL URL (another scheme, such as `mysql://`) or whose
 * percent-encoding is invalid (`pg` would pass it on as it is and report a wrong password). The messages
 * name the part at fault, never its value.
 */
function checkConnectionString(connectionString: string): void {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(connectionString)?.[1];
  if (scheme === undefined) return; // Not a URL: `pg` parses it (or says it cannot).
  if (!POSTGRES_SCHEMES.includes(`${scheme.toLowerCase()}:`)) {
    throw new DatabaseUnreachableError(
      `The database URL has the scheme "${scheme}://"; this orchestrator connects to PostgreSQL only. Nothing ` +
        'was changed; use postgresql://USER:PASSWORD@HOST:PORT/DATABASE (or postgres://).',
      { details: { scheme } },
    );
  }
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    return; // `pg`'s own parser reports it below, without quoting it.
  }
  const parts: [string, string][] = [
    ['user name', url.username],
    ['password', url.password],
    ['database name', url.pathname.slice(1)],
  ];
  for (const [part, raw] of parts) {
    try {
      decodeURIComponent(raw);
    } catch {
      throw new DatabaseUnreachableError(
        `The database URL's ${part} is not valid percent-encoding: each % must be followed by two hex digits. ` +
          `Nothing was changed; write a literal % as %25 (percent-encode special characters in the ${part}).`,
        { details: { part } },
      );
    }
  }
}

/** The target for a connection string and/or a client configuration (the string wins, as in `pg`). */
export function connectionTarget(
  connectionString?: string,
  clientConfig?: pg.ClientConfig,
): ConnectionTarget {
  if (connectionString !== undefined) checkConnectionString(connectionString);
  const config: pg.ClientConfig = {
    connectionTimeoutMillis: DEFAULT_CONNECT_TIMEOUT_MS,
    ...clientConfig,
    ...(connectionString === undefined ? {} : { connectionString }),
  };
  // pg resolves defaults (PGHOST, PGPORT, ...) and parses the connection string in the constructor, and
  // exposes the result without the need to connect.
  let probe: pg.Client;
  try {
    probe = new pg.Client(config);
  } catch {
    // The parse error may quote the connection string (and its password): do not pass it on.
    throw new DatabaseUnreachableError(
      'The database connection string could not be parsed. Nothing was changed; check its format: ' +
        'postgresql://USER:PASSWORD@HOST:PORT/DATABASE (percent-encode special characters in the password).',
    );
  }
  const endpoint = `${probe.host}:${probe.port}/${probe.database ?? probe.user ?? ''}`;
  return { config, endpoint };
}

/** The URL of database `database` on the server of `url` (same user, password and options). */
export function urlWithDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

/** The same server, another database (the connection string, when there is one, takes precedence). */
export function withDatabase(target: ConnectionTarget, database: string): ConnectionTarget {
  const { connectionString, ...rest } = target.config;
  if (connectionString === undefined) {
    return connectionTarget(undefined, { ...rest, database });
  }
  return connectionTarget(urlWithDatabase(connectionString, database), rest);
}

/** The `schema` query parameter of a Prisma connection string (`?schema=...`), if any. */
export function schemaOf(connectionString: string | undefined): string | undefined {
  if (connectionString === undefined) return undefined;
  try {
    return new URL(connectionString).searchParams.get('schema') ?? undefined;
  } catch {
    return undefined;
  }
}

/** Replaces any occurrence of the password in `text`. */
function redact(text: string, config: pg.ClientConfig): string {
  let result = text;
  const secrets: string[] = [];
  if (typeof config.password === 'string' && config.password !== '') secrets.push(config.password);
  if (config.connectionString !== undefined) {
    secrets.push(config.connectionString);
    try {
      const url = new URL(config.connectionString);
      if (url.password !== '') secrets.push(url.password, decodeURIComponent(url.password));
    } catch {
      // Not a URL: nothing more to redact.
    }
  }
  for (const secret of secrets) result = result.split(secret).join('***');
  return result;
}

const HINTS: Readonly<Record<string, string>> = {
  '28P01': 'check the user name and password (or the secret they come from)',
  '28000': 'check that this user may connect to this database (pg_hba.conf, IAM authentication)',
  '3D000': 'check the database name',
  '53300': 'the server has no free connection slots; retry later or raise max_connections',
  '57P03': 'the server is starting up or shutting down; retry in a moment',
};

/** A `DatabaseUnreachableError` for a failed connection attempt, naming the endpoint but no secret. */
export function unreachable(target: ConnectionTarget, error: unknown): DatabaseUnreachableError {
  const raw = error instanceof Error ? error.message || error.name : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  const hint =
    (typeof code === 'string' ? HINTS[code] : undefined) ??
    'check that the server is running and reachable from here (host, port, VPC, security group, firewall), ' +
      'and that the database name and credentials are right';
  return new DatabaseUnreachableError(
    `Cannot connect to PostgreSQL at ${target.endpoint}: ${redact(raw, target.config)}. Nothing was changed; ${hint}.`,
    {
      cause: error,
      details: { endpoint: target.endpoint, ...(typeof code === 'string' ? { code } : {}) },
    },
  );
}

/** Opens a client, or throws `DatabaseUnreachableError`. */
export async function openClient(target: ConnectionTarget): Promise<pg.Client> {
  const client = new pg.Client(target.config);
  // A server that goes away emits 'error' on an idle client; the next query reports it instead.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw unreachable(target, error);
  }
  return client;
}
