/**
 * `MigrationEngine` over Prisma's own schema engine (WebAssembly) and `pg`: the same semantics and the same
 * `_prisma_migrations` bookkeeping as `prisma migrate deploy`, without the CLI or its native binary.
 *
 * Two transaction modes:
 * - `release` (default): the whole release runs in one transaction on the run's pinned session (`BEGIN`,
 *   each migration script inside `SAVEPOINT` / `RELEASE SAVEPOINT`, `COMMIT`). Any failure rolls it all
 *   back: schema, data and `_prisma_migrations` end exactly as before (sequence values a migration drew
 *   are not given back: PostgreSQL never rolls sequences back).
 * - `per-migration`: as Prisma does, each script is one simple query, atomic on its own; a failure leaves
 *   the earlier migrations committed and a failed row in `_prisma_migrations`.
 * A release containing a statement that cannot run in a transaction (see `analyzeRelease`) is applied
 * migration by migration, and the outcome says so.
 */
import type pg from 'pg';
import type { AppliedMigration } from '../../contract/contract.js';
import { InvalidInputError, MigrationsInvalidError } from '../../contract/errors.js';
import type { ApplyOptions, ApplyOutcome, MigrationBundle, MigrationEngine } from '../../contract/ports.js';
import {
  analyzeRelease,
  transactionFallbackReason,
  unparsableScriptsMessage,
} from '../../domain/release-analysis.js';
import { DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_STATEMENT_TIMEOUT_MS } from '../../runtime/settings.js';
import { type ConnectionTarget, connectionTarget, openClient, schemaOf } from '../postgres/client.js';
import { engineFailure, scriptFailure } from './engine-failures.js';
import { type EngineLogEntry, migrationListOf, noFilters, openEngineSession } from './engine-session.js';
import { readPrismaHistory } from './history.js';
import { LOCK_NOT_AVAILABLE, lockHolders } from './lock-holders.js';
import { commitRelease, pendingOf, type RunState, runInSavepoint } from './release-run.js';

export { resolveSchemaEngineWasm, SCHEMA_ENGINE_WASM_FILE } from './schema-engine-wasm.js';

export interface PrismaMigrationEngineOptions {
  /** `postgresql://user:password@host:port/database[?schema=name]`. Takes precedence over `clientConfig`. */
  readonly connectionString?: string;
  /** `pg` client settings (host, user, password, ssl, ...). @default pg's defaults (PGHOST, PGUSER, ...) */
  readonly clientConfig?: pg.ClientConfig;
  /** `lock_timeout` of the migration session: a migration waiting longer for a lock fails. @default 10_000 */
  readonly lockTimeoutMs?: number;
  /** `statement_timeout` of the migration session; 0 means none. @default 0 */
  readonly statementTimeoutMs?: number;
  /** The engine's `schema_engine_bg.wasm`. @default beside the running module, else the `prisma` package's */
  readonly wasmPath?: string;
}

export { DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_STATEMENT_TIMEOUT_MS } from '../../runtime/settings.js';

function nonNegativeInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) {
    throw new InvalidInputError(`${name} must be a non-negative integer of milliseconds; received ${value}.`);
  }
  return value;
}

export class PrismaMigrationEngine implements MigrationEngine {
  private readonly target: ConnectionTarget;
  private readonly schema?: string;
  private readonly lockTimeoutMs: number;
  private readonly statementTimeoutMs: number;
  private readonly wasmPath?: string;

  constructor(options: PrismaMigrationEngineOptions = {}) {
    this.target = connectionTarget(options.connectionString, options.clientConfig);
    const schema = schemaOf(options.connectionString);
    if (schema !== undefined) this.schema = schema;
    this.lockTimeoutMs = nonNegativeInteger('lockTimeoutMs', options.lockTimeoutMs, DEFAULT_LOCK_TIMEOUT_MS);
    this.statementTimeoutMs = nonNegativeInteger(
      'statementTimeoutMs',
      options.statementTimeoutMs,
      DEFAULT_STATEMENT_TIMEOUT_MS,
    );
    if (options.wasmPath !== undefined) this.wasmPath = options.wasmPath;
  }

  async readHistory(): Promise<readonly AppliedMigration[]> {
    const client = await openClient(this.target);
    try {
      await this.useSchema(client);
      return await readPrismaHistory(client);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async applyPending(bundle: MigrationBundle, options: ApplyOptions): Promise<ApplyOutcome> {
    const state: RunState = {
      mode: options.transactionMode,
      history: [],
      pending: [],
      completed: [],
    };
    const session = await openEngineSession({
      target: this.target,
      ...(this.wasmPath ? { wasmPath: this.wasmPath } : {}),
      hooks: {
        ...(this.schema ? { schema: this.schema } : {}),
        runScript: (script, client) => this.runScript(state, script, client),
        refuseTransaction: () =>
          state.mode === 'release'
            ? 'the schema engine tried to open its own transaction inside the release transaction'
            : undefined,
      },
      prepare: async (client) => {
        if (options.applicationName !== undefined) {
          await client.query(`SET application_name = ${client.escapeLiteral(options.applicationName)}`);
        }
        await this.useSchema(client);
        state.history = await readPrismaHistory(client);
        state.pending = pendingOf(bundle.migrations, state.history);
        const analysis = analyzeRelease(state.pending);
        // A script PostgreSQL's parser rejects fails in any mode: refuse it before the first statement.
        const unparsable = unparsableScriptsMessage(analysis, bundle.directory);
        if (unparsable !== undefined) {
          throw new MigrationsInvalidError(unparsable, { details: { unparsable: analysis.unparsable } });
        }
        if (state.mode === 'release') {
          const reason = transactionFallbackReason(analysis);
          if (reason !== undefined) {
            state.mode = 'per-migration';
            state.fallbackReason = reason;
          }
        }
        if (state.mode === 'per-migration') {
          await client.query(`SET lock_timeout = ${this.lockTimeoutMs}`);
          await client.query(`SET statement_timeout = ${this.statementTimeoutMs}`);
        }
      },
      onLog: (entry) => this.followLog(state, entry),
    });
    const { engine, client } = session;
    try {
      if (state.mode === 'release') {
        await client.query('BEGIN');
        await client.query(`SET LOCAL lock_timeout = ${this.lockTimeoutMs}`);
        await client.query(`SET LOCAL statement_timeout = ${this.statementTimeoutMs}`);
      }
      let applied: string[];
      try {
        const output = await engine.applyMigrations({
          migrationsList: migrationListOf(bundle),
          filters: noFilters(),
        });
        applied = output.appliedMigrationNames;
      } catch (error) {
        if (state.mode === 'release') await client.query('ROLLBACK').catch(() => undefined);
        const explained = session.explain(error);
        const failed = state.pending.find((m) => m.name === state.failure?.migration);
        const blockers =
          state.failure?.code === LOCK_NOT_AVAILABLE && failed
            ? await lockHolders(this.target, this.schema, failed)
            : '';
        throw engineFailure(state, explained, bundle, blockers);
      }
      if (state.mode === 'release') await commitRelease(client, state);
      return { applied, transactionMode: state.mode };
    } finally {
      await session.close();
    }
  }

  /** Nothing is held between calls: every run opens its own session and closes it. */
  async close(): Promise<void> {}

  private async useSchema(client: pg.Client): Promise<void> {
    if (this.schema !== undefined)
      await client.query(`SET search_path TO ${client.escapeIdentifier(this.schema)}`);
  }

  private followLog(state: RunState, entry: EngineLogEntry): void {
    const message = entry.fields?.message;
    const name = entry.span?.migration_name;
    if (typeof message === 'string' && message.startsWith('Applying `') && typeof name === 'string') {
      state.current = name;
    }
  }

  /** The migration a script belongs to: the next pending one with this exact text, else the engine's log. */
  private identify(state: RunState, script: string): string {
    const done = new Set(state.completed);
    const match = state.pending.find((migration) => !done.has(migration.name) && migration.sql === script);
    return match?.name ?? state.current ?? 'an unknown migration';
  }

  private async runScript(state: RunState, script: string, client: pg.Client): Promise<void> {
    const migration = this.identify(state, script);
    state.current = migration;
    try {
      if (state.mode === 'release') await runInSavepoint(client, script);
      else await client.query(script);
    } catch (error) {
      state.failure = scriptFailure(migration, script, error);
      throw error;
    }
    state.completed.push(migration);
  }
}
