/**
 * The PostgreSQL side of the benchmarks: databases on the benchmark server, and the client tools the
 * baselines run (psql, pg_dump, pg_restore), found on PATH. The password goes to the tools through the
 * environment (PGPASSWORD), never on a command line, and never into a message.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import pg from 'pg';
import {
  urlWithDatabase,
  withClient as withPgClient,
} from '../../lambdas/shared/adapters/postgres/connection.js';

export const CLIENT_TOOLS = ['psql', 'pg_dump', 'pg_restore'] as const;
export type ClientTool = (typeof CLIENT_TOOLS)[number];

export const INSTALL_HINT =
  'install the PostgreSQL client tools (Debian/Ubuntu: `apt-get install postgresql-client`) and run the benchmarks again';

/** The absolute path of `tool` on PATH, or undefined. */
export function findTool(tool: ClientTool, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, tool);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

export interface ClientTools {
  readonly psql?: string;
  readonly pg_dump?: string;
  readonly pg_restore?: string;
}

export function findClientTools(path?: string): ClientTools {
  const found: Record<string, string> = {};
  for (const tool of CLIENT_TOOLS) {
    const at = findTool(tool, path);
    if (at) found[tool] = at;
  }
  return found as ClientTools;
}

/** Why a baseline that needs `tools` cannot run, or undefined when they are all there. */
export function missingTools(tools: ClientTools, needed: readonly ClientTool[]): string | undefined {
  const missing = needed.filter((tool) => !tools[tool]);
  return missing.length === 0 ? undefined : `${missing.join(', ')} not found on PATH: ${INSTALL_HINT}`;
}

export const quoteIdent = pg.escapeIdentifier;

/** The URL of database `name` on the server of `serverUrl`. */
export const databaseUrl = urlWithDatabase;

/** The server's `host:port`, for messages (never the password). */
export function serverLabel(serverUrl: string): string {
  const url = new URL(serverUrl);
  return `${url.hostname}:${url.port || '5432'}`;
}

/** libpq environment variables for database `name` (the tools read the password from PGPASSWORD). */
export function libpqEnv(serverUrl: string, name: string): NodeJS.ProcessEnv {
  const url = new URL(serverUrl);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PGHOST: url.hostname,
    PGPORT: url.port || '5432',
    PGUSER: decodeURIComponent(url.username) || 'postgres',
    PGDATABASE: name,
    PGAPPNAME: 'migration-orchestrator-bench',
    PGCONNECT_TIMEOUT: '10',
  };
  if (url.password) env.PGPASSWORD = decodeURIComponent(url.password);
  const sslmode = url.searchParams.get('sslmode');
  if (sslmode) env.PGSSLMODE = sslmode;
  return env;
}

/** Runs a client tool to completion; rejects with its stderr (the tools never print the password). */
export async function runTool(
  binary: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<string> {
  return await new Promise((resolve, reject) => {
    const child = spawn(binary, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else {
        const stderr = Buffer.concat(err).toString('utf8').trim().split('\n').slice(-5).join('\n');
        reject(new Error(`${binary} ${args[0] ?? ''} ... exited with ${code}: ${stderr}`));
      }
    });
  });
}

export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  return await withPgClient({ connectionString: url, application_name: 'migration-orchestrator-bench' }, fn);
}

/** Runs `fn` on the server's `postgres` database. */
export async function withAdmin<T>(serverUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  return await withClient(databaseUrl(serverUrl, 'postgres'), fn);
}

export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  await withAdmin(serverUrl, (client) =>
    client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`),
  );
}

/** Drops `name` if present and creates it empty. */
export async function recreateDatabase(serverUrl: string, name: string): Promise<string> {
  await withAdmin(serverUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
  });
  return databaseUrl(serverUrl, name);
}

/** Drops every database whose name starts with `prefix` (what a benchmark left behind). */
export async function dropDatabasesLike(serverUrl: string, prefix: string): Promise<void> {
  await withAdmin(serverUrl, async (client) => {
    const result = await client.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE starts_with(datname, $1)',
      [prefix],
    );
    for (const { datname } of result.rows) {
      await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`);
    }
  });
}

export async function databaseSize(serverUrl: string, name: string): Promise<number> {
  return await withAdmin(serverUrl, async (client) => {
    const result = await client.query<{ size: string }>('SELECT pg_database_size($1) AS size', [name]);
    return Number(result.rows[0]?.size ?? 0);
  });
}

export async function serverVersion(serverUrl: string): Promise<string> {
  return await withAdmin(serverUrl, async (client) => {
    const result = await client.query<{ server_version: string }>('SHOW server_version');
    return result.rows[0]?.server_version ?? 'unknown';
  });
}

/** `psql (PostgreSQL) 15.18 ...` of the first tool found, or a note that none is installed. */
export async function clientToolsVersion(tools: ClientTools): Promise<string> {
  const binary = tools.psql ?? tools.pg_dump ?? tools.pg_restore;
  if (!binary) return 'not installed';
  try {
    return (await runTool(binary, ['--version'], process.env)).trim();
  } catch {
    return 'unknown version';
  }
}
