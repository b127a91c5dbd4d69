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
import type { AppliedMigration, TransactionMode } from '../contract.js';
import {
  InvalidInputError,
  MigrationFailedDatabaseUnchangedError,
  MigrationFailedError,
  MigrationHistoryBlockedError,
  MigrationsInvalidError,
  messageOf,
} from '../errors.js';
import { isAppliedRow, isFailedRow } from '../history.js';
import type { ApplyOptions, ApplyOutcome, Migration, MigrationBundle, MigrationEngine } from '../ports.js';
import { analyzeRelease, transactionFallbackReason, unparsableScriptsMessage } from '../release-analysis.js';
import {
  type EngineLogEntry,
  engineErrorCode,
  migrationListOf,
  noFilters,
  openEngineSession,
  SchemaEnginePanic,
} from './prisma/engine-session.js';
import { readPrismaHistory } from './prisma/history.js';
import type { ScriptRunner } from './prisma/migration-driver-adapter.js';
import { type ConnectionTarget, connectionTarget, openClient, schemaOf } from './prisma/pg-connection.js';

export { resolveSchemaEngineWasm, SCHEMA_ENGINE_WASM_FILE } from './prisma/schema-engine-wasm.js';

export interface PrismaMigrationEngineOptions {
  /** `postgresql://user:password@host:port/database[?schema=name]`. Takes precedence over `clientConfig`. */
  readonly connectionString?: string;
  /** `pg` client settings (host, user, password, ssl, ...). @default pg's defaults (PGHOST, PGUSER, ...) */
  readonly clientConfig?: pg.ClientConfig;
  /**
   * An empty database the engine may use as its shadow database (only diffs need one).
   * @default a temporary database created next to the target and dropped afterwards
   */
  readonly shadowDatabaseUrl?: string;
  /** `lock_timeout` of the migration session: a migration waiting longer for a lock fails. @default 10_000 */
  readonly lockTimeoutMs?: number;
  /** `statement_timeout` of the migration session; 0 means none. @default 0 */
  readonly statementTimeoutMs?: number;
  /** The engine's `schema_engine_bg.wasm`. @default beside the running module, else the `prisma` package's */
  readonly wasmPath?: string;
}

/** What `diffAgainstMigrations` found. */
export interface SchemaDiff {
  /** True when the live schema is exactly what the migrations produce. */
  readonly inSync: boolean;
  /** The SQL that would bring the migrations' schema to the live one (empty when in sync). */
  readonly script: string;
}

/** A schema file that only names the provider: the diff's "to" side is the live database itself. */
const DATASOURCE_ONLY_SCHEMA = {
  path: 'schema.prisma',
  content: 'datasource db {\n  provider = "postgresql"\n}\n',
};

export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
export const DEFAULT_STATEMENT_TIMEOUT_MS = 0;

const SAVEPOINT = 'prisma_migration';

/** PostgreSQL's `lock_not_available`: a `lock_timeout` was hit. */
const LOCK_NOT_AVAILABLE = '55P03';

/** A migration script PostgreSQL refused, as the report needs it. */
interface ScriptFailure {
  readonly migration: string;
  readonly code?: string;
  readonly message: string;
  readonly position?: string;
  readonly line?: number;
  readonly column?: number;
  readonly detail?: string;
  readonly hint?: string;
}

/** What happened during one `applyPending` run. */
interface RunState {
  mode: TransactionMode;
  fallbackReason?: string;
  history: readonly AppliedMigration[];
  pending: readonly Migration[];
  /** Migrations whose script completed in this run (committed, or pending the release COMMIT). */
  readonly completed: string[];
  /** The migration the engine is applying, from its log. */
  current?: string;
  scriptStarted: boolean;
  failure?: ScriptFailure;
}

function nonNegativeInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) {
    throw new InvalidInputError(`${name} must be a non-negative integer of milliseconds; received ${value}.`);
  }
  return value;
}

/** 1-based line and column of PostgreSQL's 1-based character `position` in `script`. */
function lineAndColumn(
  script: string,
  position: string | undefined,
): { line: number; column: number } | undefined {
  const index = Number(position);
  if (!Number.isInteger(index) || index < 1) return undefined;
  const before = [...script].slice(0, index - 1).join('');
  const lines = before.split('\n');
  return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
}

function scriptFailure(migration: string, script: string, error: unknown): ScriptFailure {
  const e = error as Partial<pg.DatabaseError>;
  const at = lineAndColumn(script, e.position);
  return {
    migration,
    message: messageOf(error),
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    ...(typeof e.position === 'string' ? { position: e.position } : {}),
    ...(at ? { line: at.line, column: at.column } : {}),
    ...(typeof e.detail === 'string' ? { detail: e.detail } : {}),
    ...(typeof e.hint === 'string' ? { hint: e.hint } : {}),
  };
}

function describeFailure(failure: ScriptFailure): string {
  const code = failure.code ? ` ${failure.code}` : '';
  const at = failure.line ? ` (migration.sql line ${failure.line}, column ${failure.column})` : '';
  const detail = failure.detail ? ` Detail: ${failure.detail}.` : '';
  const hint = failure.hint ? ` Hint: ${failure.hint}.` : '';
  return `PostgreSQL error${code}: ${failure.message}${at}.${detail}${hint}`;
}

/** An engine error's message without its span trace (`   0: schema_engine_wasm::...`), on one line. */
function engineMessage(error: unknown): string {
  const message = messageOf(error).split(/\n\s+0: /)[0] ?? '';
  return message
    .replace(/\s*\n\s*/g, ' ')
    .trim()
    .replace(/\.$/, '');
}

/** How an engine failure starts its sentence: a panic is named as one. */
function engineFailed(error: unknown): string {
  return error instanceof SchemaEnginePanic ? 'The schema engine panicked' : 'The schema engine failed';
}

function listOf(names: readonly string[]): string {
  return names.length === 0 ? 'none' : names.join(', ');
}

function pendingOf(bundle: MigrationBundle, history: readonly AppliedMigration[]): Migration[] {
  const applied = new Set(history.filter(isAppliedRow).map((row) => row.name));
  return bundle.migrations.filter((migration) => !applied.has(migration.name));
}

export class PrismaMigrationEngine implements MigrationEngine {
  private readonly target: ConnectionTarget;
  private readonly shadow?: ConnectionTarget;
  private readonly schema?: string;
  private readonly lockTimeoutMs: number;
  private readonly statementTimeoutMs: number;
  private readonly wasmPath?: string;

  constructor(options: PrismaMigrationEngineOptions = {}) {
    this.target = connectionTarget(options.connectionString, options.clientConfig);
    if (options.shadowDatabaseUrl !== undefined) {
      this.shadow = connectionTarget(options.shadowDatabaseUrl, options.clientConfig);
    }
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
      scriptStarted: false,
    };
    const session = await openEngineSession({
      target: this.target,
      ...(this.shadow ? { shadow: this.shadow } : {}),
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
        state.pending = pendingOf(bundle, state.history);
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
        const blockers = state.failure?.code === LOCK_NOT_AVAILABLE ? await this.lockHolders(state) : '';
        throw this.failure(state, explained, bundle, blockers);
      }
      if (state.mode === 'release') await this.commit(client, state);
      return { applied, transactionMode: state.mode };
    } finally {
      await session.close();
    }
  }

  /**
   * Compares the schema the bundle's migrations produce (replayed in a shadow database) with the live
   * schema, as `prisma migrate diff --from-migrations <dir> --to-config-datasource --script` does. Not part of
   * the `MigrationEngine` port: a drift check for health probes and operators.
   */
  async diffAgainstMigrations(bundle: MigrationBundle): Promise<SchemaDiff> {
    const session = await openEngineSession({
      target: this.target,
      ...(this.shadow ? { shadow: this.shadow } : {}),
      ...(this.wasmPath ? { wasmPath: this.wasmPath } : {}),
      ...(this.schema ? { hooks: { schema: this.schema } } : {}),
      prepare: (client) => this.useSchema(client),
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
    state.scriptStarted = true;
    const run: ScriptRunner =
      state.mode === 'release'
        ? async () => {
            await client.query(`SAVEPOINT ${SAVEPOINT}`);
            try {
              await client.query(script);
            } catch (error) {
              // Back to a usable transaction, so the engine can record the failure in its row; the
              // whole release is rolled back afterwards.
              await client.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`).catch(() => undefined);
              throw error;
            }
            await client.query(`RELEASE SAVEPOINT ${SAVEPOINT}`);
          }
        : async () => {
            await client.query(script);
          };
    try {
      await run(script, client);
    } catch (error) {
      state.failure = scriptFailure(migration, script, error);
      throw error;
    }
    state.completed.push(migration);
  }

  private async commit(client: pg.Client, state: RunState): Promise<void> {
    try {
      await client.query('COMMIT');
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const last = state.completed.at(-1) ?? 'the release';
      if (typeof code === 'string') {
        // PostgreSQL refused the COMMIT (a deferred constraint, a serialization failure) and rolled back.
        throw new MigrationFailedDatabaseUnchangedError(
          `The release transaction failed at COMMIT with PostgreSQL error ${code}: ${messageOf(error)}. ` +
            'PostgreSQL rolled it back: the database, its data and _prisma_migrations are exactly as before. ' +
            'Fix the migrations (often a deferred constraint) and deploy again.',
          { cause: error, details: { migration: last, code, message: messageOf(error), applied: [] } },
        );
      }
      throw new MigrationFailedError(
        `The connection was lost while committing the release transaction (${messageOf(error)}). Whether ` +
          'PostgreSQL committed it is unknown: compare _prisma_migrations with the release, and restore the ' +
          'pre-migration snapshot if it is incomplete.',
        {
          cause: error,
          details: { migration: last, message: messageOf(error), applied: [...state.completed] },
        },
      );
    }
  }

  /**
   * Who holds locks on the tables the failed migration needed, for a lock timeout: process id, application,
   * client address, state and how long their transaction has been open (never their query: it may hold row
   * values). Read on a fresh connection; '' when nothing can be said.
   */
  private async lockHolders(state: RunState): Promise<string> {
    const migration = state.pending.find((m) => m.name === state.failure?.migration);
    if (!migration) return '';
    try {
      const tables = analyzeRelease([migration]).lockedTables;
      if (tables.length === 0) return '';
      const client = await openClient(this.target);
      try {
        await this.useSchema(client);
        const { rows } = await client.query<{
          pid: number;
          application_name: string;
          client_addr: string | null;
          state: string | null;
          xact_seconds: number | null;
          tables: string[];
        }>(
          `SELECT a.pid, a.application_name, host(a.client_addr) AS client_addr, a.state,
                  extract(epoch FROM now() - a.xact_start)::int AS xact_seconds,
                  array_agg(DISTINCT l.relation::regclass::text ORDER BY l.relation::regclass::text) AS tables
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.granted AND l.locktype = 'relation' AND a.pid <> pg_backend_pid()
              AND l.relation IN (SELECT to_regclass(t) FROM unnest($1::text[]) AS t WHERE to_regclass(t) IS NOT NULL)
            GROUP BY a.pid, a.application_name, a.client_addr, a.state, a.xact_start
            ORDER BY a.xact_start NULLS LAST`,
          [
            tables.map((table) =>
              table
                .split('.')
                .map((part) => client.escapeIdentifier(part))
                .join('.'),
            ),
          ],
        );
        if (rows.length === 0) return ' No other session holds a lock on its tables any more.';
        const sessions = rows.map(
          (row) =>
            `pid ${row.pid} (application "${row.application_name || 'unnamed'}", client ${row.client_addr ?? 'local socket'}, ` +
            `${row.state ?? 'unknown state'}, transaction open ${row.xact_seconds ?? '?'} s, holding ${row.tables.join(', ')})`,
        );
        return ` Blocked by: ${sessions.join('; ')}. End or wait for that session (SELECT pg_terminate_backend(pid)) and deploy again.`;
      } finally {
        await client.end().catch(() => undefined);
      }
    } catch {
      return '';
    }
  }

  private failure(state: RunState, error: unknown, bundle: MigrationBundle, blockers = ''): Error {
    const code = engineErrorCode(error);
    const cause = { cause: error };
    if (code === 'P3009') {
      const rows = state.history.filter(isFailedRow);
      const names = rows.map((row) => row.name);
      const first = names[0] ?? '<name>';
      return new MigrationHistoryBlockedError(
        `_prisma_migrations records failed migration(s) ${listOf(names)}, so Prisma refuses to apply new ones ` +
          `(P3009). Nothing was applied. Repair what the failed migration left behind, then run ` +
          `\`prisma migrate resolve --rolled-back ${first}\` (or \`--applied ${first}\` if you completed it by hand) ` +
          'and deploy again.',
        { ...cause, details: { code, failed: names } },
      );
    }
    if (code === 'P3005') {
      return new MigrationHistoryBlockedError(
        `The database is not empty but has no _prisma_migrations table (P3005), so Prisma will not apply ` +
          `${bundle.directory} to it. Nothing was applied. Baseline it: mark the migrations its schema already ` +
          'contains with `prisma migrate resolve --applied <name>`, then deploy again.',
        { ...cause, details: { code } },
      );
    }
    if (code === 'P3019' || code === 'P3004') {
      return new MigrationsInvalidError(
        `Prisma refused the migrations in ${bundle.directory} (${code}): ${engineMessage(error)}. Fix the ` +
          'migrations directory (migration_lock.toml must say provider = "postgresql") and deploy again.',
        { ...cause, details: { code } },
      );
    }
    const failure = state.failure;
    const rolledBack = [...state.completed];
    const panic = error instanceof SchemaEnginePanic ? { enginePanic: error.panic } : {};
    if (state.mode === 'release') {
      const migration = failure?.migration ?? state.current ?? '(before the first migration)';
      const what = failure ? describeFailure(failure) : `${engineFailed(error)}: ${engineMessage(error)}.`;
      return new MigrationFailedDatabaseUnchangedError(
        `Migration ${migration} failed. ${what}${blockers} The release ran in one transaction, which was rolled ` +
          `back (rolled back: ${listOf([...rolledBack, ...(failure ? [failure.migration] : [])])}).`,
        {
          ...cause,
          details: {
            migration,
            ...(failure?.code ? { code: failure.code } : {}),
            message: failure?.message ?? engineMessage(error),
            ...(failure?.position ? { position: failure.position } : {}),
            ...(failure?.line ? { line: failure.line } : {}),
            applied: [],
            rolledBack,
            transactionMode: state.mode,
            ...panic,
          },
        },
      );
    }
    const migration = failure?.migration ?? state.current ?? '(before the first migration)';
    const what = failure
      ? `${describeFailure(failure)} PostgreSQL rolled back this migration's statements, and Prisma recorded ` +
        'it as failed in _prisma_migrations.'
      : `${engineFailed(error)}: ${engineMessage(error)}.`;
    const fallback = state.fallbackReason ? ` Release transaction not used: ${state.fallbackReason}.` : '';
    return new MigrationFailedError(`Migration ${migration} failed. ${what}${blockers}${fallback}`, {
      ...cause,
      details: {
        migration,
        ...(failure?.code ? { code: failure.code } : {}),
        message: failure?.message ?? engineMessage(error),
        ...(failure?.position ? { position: failure.position } : {}),
        ...(failure?.line ? { line: failure.line } : {}),
        applied: rolledBack,
        transactionMode: state.mode,
        ...panic,
      },
    });
  }
}
