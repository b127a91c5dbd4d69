/**
 * Speaks the stdio protocol of Prisma's native `schema-engine` binary over OUR WebAssembly engine session
 * (the one the orchestrator applies migrations with), so the real `prisma` CLI can check our work:
 *
 * - `--version` prints `schema-engine-cli <engines hash>`;
 * - `--datasource <json> cli <can-connect-to-database|create-database|drop-database>` does one thing and
 *   exits; on error, stderr is one ignored line then JSON log lines with `fields.message` and
 *   `fields.error_code` (P1001, P1003, ...);
 * - otherwise (`--datamodels <file>`..., `--datasource <json>`), newline-delimited JSON-RPC 2.0 on
 *   stdin/stdout, method names as the engine's (`getDatabaseVersion` -> `version`), `print` requests back
 *   to the CLI for `diff` output, errors as code 4466 with `data: { is_panic, message, error_code }`.
 */
import { appendFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import {
  type ConnectionTarget,
  connectionTarget,
  openClient,
  withDatabase,
} from '../../../lambdas/shared/adapters/postgres/client.js';
import {
  type EngineSession,
  engineErrorCode,
  openEngineSession,
  withPanic,
} from '../../../lambdas/shared/adapters/prisma/engine-session.js';
import { loadSchemaEngine } from '../../../lambdas/shared/adapters/prisma/schema-engine-wasm.js';

interface Arguments {
  version: boolean;
  datasource?: { url?: string; shadowDatabaseUrl?: string };
  datamodels: string[];
  command?: string;
}

function parseArguments(argv: readonly string[]): Arguments {
  const parsed: Arguments = { version: false, datamodels: [] };
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index];
    const value = argv[index + 1];
    switch (argument) {
      case '--version':
      case '-V':
        parsed.version = true;
        break;
      case '--datasource':
        parsed.datasource = JSON.parse(value ?? '{}') as Arguments['datasource'];
        index += 1;
        break;
      case '--datamodels':
        if (value !== undefined) parsed.datamodels.push(value);
        index += 1;
        break;
      case '--enabled-preview-features':
      case '--extension-types':
        index += 1;
        break;
      case 'cli':
        parsed.command = value;
        index += 1;
        break;
      default:
        break;
    }
  }
  return parsed;
}

/** A log line as the native engine writes them (tracing's JSON format). */
function logLine(level: 'INFO' | 'ERROR', fields: Record<string, unknown>): string {
  return JSON.stringify({
    timestamp: new Date().toISOString(),
    level,
    fields,
    target: 'schema_engine::logger',
  });
}

function targetOf(args: Arguments): ConnectionTarget {
  const url = args.datasource?.url;
  if (!url) throw new Error('--datasource must carry a "url"');
  return connectionTarget(url);
}

/** Prisma's P1xxx error for a connection failure (what the native engine reports). */
function connectionErrorCode(error: unknown): { code: string; message: string } {
  const details = (error as { details?: { code?: string; endpoint?: string } }).details ?? {};
  const cause = (error as { cause?: { code?: string } }).cause;
  const pgCode = details.code ?? cause?.code;
  const [hostPort = '', database = ''] = (details.endpoint ?? '').split('/');
  const [host = '', port = ''] = hostPort.split(':');
  switch (pgCode) {
    case '3D000':
      return {
        code: 'P1003',
        message: `Database \`${database}\` does not exist on the database server at \`${host}:${port}\`.`,
      };
    case '28P01':
    case '28000':
      return {
        code: 'P1000',
        message: `Authentication failed against database server at \`${host}\`, the provided database credentials are not valid.`,
      };
    default:
      return {
        code: 'P1001',
        message: `Can't reach database server at \`${host}:${port}\`\n\nPlease make sure your database server is running at \`${host}:${port}\`.`,
      };
  }
}

function databaseOf(target: ConnectionTarget): string {
  return target.endpoint.slice(target.endpoint.indexOf('/') + 1);
}

async function runCliCommand(args: Arguments): Promise<number> {
  const target = targetOf(args);
  try {
    switch (args.command) {
      case 'can-connect-to-database': {
        const client = await openClient(target);
        await client.end();
        return 0;
      }
      case 'create-database':
      case 'drop-database': {
        const database = databaseOf(target);
        const client = await openClient(withDatabase(target, 'postgres'));
        try {
          const quoted = `"${database.replace(/"/g, '""')}"`;
          await client.query(
            args.command === 'create-database' ? `CREATE DATABASE ${quoted}` : `DROP DATABASE ${quoted}`,
          );
        } finally {
          await client.end();
        }
        process.stdout.write(`${database}\n`);
        return 0;
      }
      default:
        throw new Error(`unknown cli command ${args.command ?? '(none)'}`);
    }
  } catch (error) {
    const { code, message } = connectionErrorCode(error);
    // The CLI ignores the first stderr line and parses every other line as JSON (no trailing newline).
    process.stderr.write(
      `schema-engine helper: ${args.command ?? ''} failed\n${logLine('ERROR', { message, error_code: code })}`,
    );
    return 1;
  }
}

type Json = Record<string, unknown>;

/** Set SCHEMA_ENGINE_HELPER_LOG to a file to record the conversation (it may contain the database URL). */
function trace(direction: string, message: unknown): void {
  const file = process.env.SCHEMA_ENGINE_HELPER_LOG;
  if (file) appendFileSync(file, `${direction} ${JSON.stringify(message)}\n`);
}

function write(message: Json): void {
  trace('>>', message);
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

function rpcError(id: unknown, error: unknown): Json {
  const withMessage = withPanic(error);
  const message = withMessage instanceof Error ? withMessage.message : String(withMessage);
  const isPanic =
    withMessage instanceof Error && /RuntimeError|panic/i.test(`${withMessage.name} ${message}`);
  const errorCode = engineErrorCode(error);
  return {
    jsonrpc: '2.0',
    id,
    error: {
      code: 4466,
      message: 'An error happened. Check the data field for details.',
      data: {
        is_panic: isPanic,
        message,
        ...(isPanic ? { error: { message } } : {}),
        ...(errorCode ? { error_code: errorCode } : {}),
      },
    },
  };
}

async function serve(args: Arguments): Promise<void> {
  const datamodels: [string, string][] = await Promise.all(
    args.datamodels.map(async (path): Promise<[string, string]> => [path, await readFile(path, 'utf8')]),
  );
  let session: Promise<EngineSession> | undefined;
  const engineSession = () => {
    session ??= openEngineSession({
      target: targetOf(args),
      ...(args.datasource?.shadowDatabaseUrl
        ? { shadow: connectionTarget(args.datasource.shadowDatabaseUrl) }
        : {}),
      // An empty list makes the engine panic (psl::validate_multi_file needs at least one file).
      ...(datamodels.length > 0 ? { datamodels } : {}),
      onLog: (_entry, raw) => process.stderr.write(`${raw.trimEnd()}\n`),
    });
    return session;
  };
  let nextPrintId = 1_000_000;
  const printed = new Map<number, () => void>();

  const handle = async (request: Json): Promise<void> => {
    const { id, method, params } = request;
    let explain = (error: unknown): unknown => withPanic(error);
    try {
      const { engine, explain: explainEngineError } = await engineSession();
      explain = explainEngineError;
      const name = method === 'getDatabaseVersion' ? 'version' : String(method);
      const fn = (engine as unknown as Record<string, unknown>)[name];
      if (typeof fn !== 'function' || name === 'free' || name.startsWith('__')) {
        write({
          jsonrpc: '2.0',
          id,
          error: { code: -32601, message: `Method not found: ${String(method)}` },
        });
        return;
      }
      let result = (await (fn as (p: unknown) => Promise<unknown>).call(engine, params ?? null)) ?? null;
      if (name === 'diff' && result !== null && typeof result === 'object') {
        const { stdout, ...rest } = result as { stdout?: string | null };
        if (typeof stdout === 'string' && stdout !== '') {
          const printId = nextPrintId++;
          const answered = new Promise<void>((resolve) => printed.set(printId, resolve));
          write({
            jsonrpc: '2.0',
            id: printId,
            method: 'print',
            params: { content: stdout.replace(/\n$/, '') },
          });
          await answered;
        }
        result = { ...rest, stdout: null };
      }
      write({ jsonrpc: '2.0', id, result });
    } catch (error) {
      write(rpcError(id, explain(error)));
    }
  };

  let queue = Promise.resolve();
  const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    const message = JSON.parse(line) as Json;
    trace('<<', message);
    if (message.method === undefined && typeof message.id === 'number' && printed.has(message.id)) {
      printed.get(message.id)?.();
      printed.delete(message.id);
      return;
    }
    queue = queue.then(() => handle(message));
  });
  await new Promise<void>((resolve) => lines.once('close', resolve));
  await queue;
  if (session) await (await session.catch(() => undefined))?.close();
}

async function main(): Promise<number> {
  const args = parseArguments(process.argv.slice(2));
  if (args.version) {
    const glue = await loadSchemaEngine();
    process.stdout.write(`schema-engine-cli ${glue.version()}\n`);
    return 0;
  }
  if (args.command !== undefined) return await runCliCommand(args);
  await serve(args);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `${logLine('ERROR', { message: error instanceof Error ? error.message : String(error) })}\n`,
    );
    process.exit(1);
  },
);
