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
import type { AppliedMigration, LockRetry, ResolvedMigration } from '../../contract/contract.js';
import {
  InvalidInputError,
  MigrationHistoryBlockedError,
  MigrationsInvalidError,
  messageOf,
  OrchestratorError,
} from '../../contract/errors.js';
import type { ApplyOptions, ApplyOutcome, MigrationBundle, MigrationEngine } from '../../contract/ports.js';
import { isAppliedRow, isFailedRow, markedApplied } from '../../domain/history.js';
import type { SchemaCatalog } from '../../domain/lint/rules.js';
import {
  migrationsDigest,
  nonAtomicMigrations,
  transactionFallbackReason,
  unparsableScriptsMessage,
} from '../../domain/transaction-fallback.js';
import { DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_STATEMENT_TIMEOUT_MS } from '../../runtime/settings.js';
import { type ConnectionTarget, connectionTarget, openClient, schemaOf } from '../postgres/client.js';
import { readSchemaCatalog } from '../postgres/schema-catalog.js';
import { engineFailure, scriptFailure } from './engine-failures.js';
import { type EngineLogEntry, migrationListOf, noFilters, openEngineSession } from './engine-session.js';
import { HeldBookkeeping } from './held-bookkeeping.js';
import { readPrismaHistory } from './history.js';
import { LOCK_NOT_AVAILABLE, type LockRetryPolicy, lockRetryDelayMs, lockRetryPolicy } from './lock-retry.js';
import { commitRelease, pendingOf, type RunState, runAutocommit, runInSavepoint } from './release-run.js';
import type { SchemaEngine } from './schema-engine-wasm.js';

export { resolveSchemaEngineWasm, SCHEMA_ENGINE_WASM_FILE } from './schema-engine-wasm.js';

export interface PrismaMigrationEngineOptions {
  /** `postgresql://user:password@host:port/database[?schema=name]`. Takes precedence over `clientConfig`. */
  readonly connectionString?: string;
  /** `pg` client settings (host, user, password, ssl, ...). @default pg's defaults (PGHOST, PGUSER, ...) */
  readonly clientConfig?: pg.ClientConfig;
  /** `lock_timeout` of the migration session: a migration waiting longer for a lock fails. @default 10_000 */
  readonly lockTimeoutMs?: number;
  /**
   * `statement_timeout` of the migration session; 0 means none. A retried attempt gets what is left of it after
   * the earlier attempts (at least 1 s). @default 0
   */
  readonly statementTimeoutMs?: number;
  /** The engine's `schema_engine_bg.wasm`. @default beside the running module, else the `prisma` package's */
  readonly wasmPath?: string;
  /**
   * Retries of a lock timeout that left nothing behind (see `lock-retry.ts`). @default 3 attempts, waits from
   * 1 s doubling up to 15 s, jittered
   */
  readonly lockRetry?: Partial<LockRetryPolicy>;
  /** Waits between attempts. @default a timer */
  readonly sleep?: (ms: number) => Promise<void>;
  /** The jitter's source, in [0, 1). @default Math.random */
  readonly random?: () => number;
  /** One structured line per retried lock timeout. @default a JSON line on stdout */
  readonly log?: (line: Record<string, unknown>) => void;
}

export { DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_STATEMENT_TIMEOUT_MS } from '../../runtime/settings.js';

function nonNegativeInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) {
    throw new InvalidInputError(`${name} must be a non-negative integer of milliseconds; received ${value}.`);
  }
  return value;
}

/** Marks a failed try's row rolled back through the engine; false when that fails (then nothing is retried). */
async function markRolledBack(engine: SchemaEngine, migrationName: string): Promise<boolean> {
  try {
    await engine.markMigrationRolledBack({ migrationName });
    return true;
  } catch {
    return false;
  }
}

/**
 * Resolves failed migrations as `prisma migrate resolve` does, through the engine's own mark operations, on the run's
 * session. Every resolution is checked against the history read at the start of the run before any is marked: a row
 * still failed is marked; one already resolved the same way (a retried apply step) is recorded as found; anything
 * else means `_prisma_migrations` changed since preflight, and nothing is marked.
 */
async function resolveFailed(
  engine: SchemaEngine,
  bundle: MigrationBundle,
  resolutions: NonNullable<ApplyOptions['resolve']>,
  history: readonly AppliedMigration[],
  explain: (error: unknown) => unknown,
): Promise<ResolvedMigration[]> {
  const steps = resolutions.map((resolution) => {
    const rows = history.filter((row) => row.name === resolution.migration);
    if (rows.some(isFailedRow)) return { ...resolution, how: 'marked' as const };
    const done =
      resolution.as === 'applied' ? rows.some(isAppliedRow) : rows.some((row) => row.rolledBackAt !== null);
    if (done) return { ...resolution, how: 'found' as const };
    throw new MigrationHistoryBlockedError(
      `input.resolve: ${resolution.migration} has no failed row in _prisma_migrations any more, and is not ` +
        `recorded as ${resolution.as} either: the history changed after preflight read it. Nothing was marked or ` +
        'applied. Start the release again: preflight reads the history anew.',
      { details: { field: 'resolve', migration: resolution.migration, as: resolution.as } },
    );
  });
  for (const step of steps) {
    if (step.how !== 'marked') continue;
    try {
      if (step.as === 'applied') {
        await engine.markMigrationApplied({
          migrationName: step.migration,
          migrationsList: migrationListOf(bundle),
        });
      } else {
        await engine.markMigrationRolledBack({ migrationName: step.migration });
      }
    } catch (error) {
      throw new MigrationHistoryBlockedError(
        `Prisma's engine refused to mark ${step.migration} as ${step.as}: ${messageOf(explain(error))}. Nothing was ` +
          'applied.',
        { cause: error, details: { field: 'resolve', migration: step.migration, as: step.as } },
      );
    }
  }
  return steps;
}

/** How often the release was tried, for the final failure's message; '' when it was tried once. */
function triedText(retries: readonly LockRetry[], attempt: number): string {
  if (retries.length === 0) return '';
  const waits = retries.map((retry) => `${retry.waitMs} ms`).join(', ');
  return ` Tried ${attempt} times (waited ${waits} between attempts); each earlier attempt left nothing behind.`;
}

export class PrismaMigrationEngine implements MigrationEngine {
  private readonly target: ConnectionTarget;
  private readonly schema?: string;
  private readonly lockTimeoutMs: number;
  private readonly statementTimeoutMs: number;
  private readonly wasmPath?: string;
  private readonly lockRetry: LockRetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly log: (line: Record<string, unknown>) => void;

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
    this.lockRetry = lockRetryPolicy(options.lockRetry);
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.log = options.log ?? ((line) => console.log(JSON.stringify(line)));
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

  async readSchemaCatalog(): Promise<SchemaCatalog> {
    const client = await openClient(this.target);
    try {
      await this.useSchema(client);
      return await readSchemaCatalog(client);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async applyPending(bundle: MigrationBundle, options: ApplyOptions): Promise<ApplyOutcome> {
    const retries: LockRetry[] = [];
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      // A retry spends the time the first attempt had: its statements may not run past the original budget.
      const elapsed = Date.now() - started;
      const statementTimeoutMs =
        this.statementTimeoutMs === 0 ? 0 : Math.max(1_000, this.statementTimeoutMs - elapsed);
      const result = await this.applyOnce(bundle, options, { attempt, retries, statementTimeoutMs });
      if ('applied' in result) return retries.length > 0 ? { ...result, lockRetries: retries } : result;
      const waitMs = lockRetryDelayMs(this.lockRetry, attempt, this.random);
      const retry = { attempt, migration: result.migration, blockers: result.blockers.trim(), waitMs };
      retries.push(retry);
      this.log({
        level: 'WARN',
        message:
          `Migration ${retry.migration} hit its lock timeout (${this.lockTimeoutMs} ms) on attempt ${attempt} of ` +
          `${this.lockRetry.attempts}; nothing of this run was left behind, retrying in ${waitMs} ms.`,
        ...retry,
      });
      await this.sleep(waitMs);
    }
  }

  /**
   * One try of the release. A lock timeout that may be retried (see `lock-retry.ts`) answers with who blocked
   * it instead of throwing; the last attempt's lock timeout throws as any failure does.
   */
  private async applyOnce(
    bundle: MigrationBundle,
    options: ApplyOptions,
    {
      attempt,
      retries,
      statementTimeoutMs,
    }: { attempt: number; retries: readonly LockRetry[]; statementTimeoutMs: number },
  ): Promise<ApplyOutcome | { migration: string; blockers: string }> {
    const state: RunState = {
      mode: options.transactionMode,
      history: [],
      pending: [],
      completed: [],
      timings: [],
    };
    const bookkeeping = new HeldBookkeeping();
    const session = await openEngineSession({
      target: this.target,
      ...(this.wasmPath ? { wasmPath: this.wasmPath } : {}),
      hooks: {
        ...(this.schema ? { schema: this.schema } : {}),
        runScript: (script, client, held) => this.runScript(state, script, client, held),
        bookkeeping,
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
        // A migration resolved as applied is marked, never run.
        const resolvedApplied = markedApplied(options.resolve);
        state.pending = pendingOf(bundle.migrations, state.history).filter(
          (m) => !resolvedApplied.has(m.name),
        );
        // Preflight's verdicts, when they are about exactly these scripts: nothing to parse again.
        const { verdicts } = options;
        let alone: ReadonlySet<string>;
        if (state.pending.length === 0) {
          alone = new Set();
        } else if (verdicts !== undefined && verdicts.digest === migrationsDigest(state.pending)) {
          alone = new Set(verdicts.nonAtomic);
        } else {
          // PostgreSQL's parser (WebAssembly) is loaded when there is something to parse, not when the engine is.
          const { analyzeRelease } = await import('../../domain/release-analysis.js');
          // Its verdicts only: the apply never reads the statements, so none is kept.
          const analysis = analyzeRelease(state.pending, { keepStatementsUpTo: 0 });
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
          alone = new Set(nonAtomicMigrations(analysis));
        }
        // A script that can run in a transaction takes its row's INSERT along (see `runAutocommit`).
        bookkeeping.startsWithScript = (migration) => !alone.has(migration);
        if (state.mode === 'per-migration') {
          await client.query(`SET lock_timeout = ${this.lockTimeoutMs}`);
          await client.query(`SET statement_timeout = ${statementTimeoutMs}`);
        }
      },
      onLog: (entry) => this.followLog(state, entry),
    });
    const { engine, client } = session;
    try {
      if (state.mode === 'release') {
        await client.query('BEGIN');
        await client.query(`SET LOCAL lock_timeout = ${this.lockTimeoutMs}`);
        await client.query(`SET LOCAL statement_timeout = ${statementTimeoutMs}`);
      }
      let resolved: ResolvedMigration[] = [];
      try {
        resolved = await resolveFailed(engine, bundle, options.resolve ?? [], state.history, session.explain);
      } catch (error) {
        if (state.mode === 'release') await client.query('ROLLBACK').catch(() => undefined);
        throw error instanceof OrchestratorError ? error : session.explain(error);
      }
      let applied: string[];
      try {
        // The engine's writes to its history are held (held-bookkeeping.ts): in a release until the next script;
        // per migration, a finished row's two UPDATEs go together.
        bookkeeping.mode = state.mode === 'release' ? 'release' : 'autocommit';
        const output = await engine.applyMigrations({
          migrationsList: migrationListOf(bundle),
          filters: noFilters(),
        });
        bookkeeping.mode = 'off';
        applied = output.appliedMigrationNames;
        // Per-migration mode: nothing is held at this point (a row's writes go together); release: the last row's.
        if (state.mode !== 'release') await bookkeeping.flush(client);
      } catch (error) {
        bookkeeping.mode = 'off';
        // The release transaction's held writes are rolled back with it; per migration, the engine's are sent.
        if (state.mode === 'release') {
          bookkeeping.take();
          await client.query('ROLLBACK').catch(() => undefined);
        } else {
          await bookkeeping.flush(client).catch(() => undefined);
        }
        const explained = session.explain(error);
        const failed = state.pending.find((m) => m.name === state.failure?.migration);
        const lockTimeout = state.failure?.code === LOCK_NOT_AVAILABLE && failed !== undefined;
        const blockers = lockTimeout
          ? await (await import('./lock-holders.js')).lockHolders(this.target, this.schema, failed)
          : '';
        // Nothing left behind: the release transaction rolled back, or no migration of this run committed.
        const leftNothing = state.mode === 'release' || state.completed.length === 0;
        if (lockTimeout && leftNothing && attempt < this.lockRetry.attempts) {
          // Per-migration mode: Prisma recorded the failed try in its row; mark it rolled back (as
          // `prisma migrate resolve --rolled-back` would) so the next attempt may apply the migration again.
          if (state.mode === 'release' || (await markRolledBack(engine, failed.name))) {
            return { migration: failed.name, blockers };
          }
        }
        const failure = engineFailure(state, explained, bundle, `${blockers}${triedText(retries, attempt)}`);
        if (retries.length > 0 && failure instanceof OrchestratorError) failure.details.lockRetries = retries;
        throw failure;
      }
      if (state.mode === 'release') await commitRelease(client, state, bookkeeping.take());
      return {
        applied,
        transactionMode: state.mode,
        timings: state.timings,
        ...(resolved.length > 0 ? { resolved } : {}),
      };
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
    // The engine applies them in order: the next one is almost always it.
    const next = state.pending[state.completed.length];
    if (next !== undefined && next.sql === script && !state.completed.includes(next.name)) return next.name;
    const done = new Set(state.completed);
    const match = state.pending.find((migration) => !done.has(migration.name) && migration.sql === script);
    return match?.name ?? state.current ?? 'an unknown migration';
  }

  private async runScript(state: RunState, script: string, client: pg.Client, held?: string): Promise<void> {
    const migration = this.identify(state, script);
    state.current = migration;
    const started = performance.now();
    try {
      if (state.mode === 'release') await runInSavepoint(client, script, held);
      else await runAutocommit(script, client, held);
    } catch (error) {
      state.failure = scriptFailure(migration, script, error);
      throw error;
    }
    state.completed.push(migration);
    // The script's own time (in release mode its savepoint's too), not the engine's bookkeeping around it.
    state.timings.push({ name: migration, durationMs: Math.round(performance.now() - started) });
  }
}
