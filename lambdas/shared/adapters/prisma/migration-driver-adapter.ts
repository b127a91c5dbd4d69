/**
 * The driver adapter Prisma's schema engine (wasm) runs migrations through: `@prisma/adapter-pg` over one
 * pinned `pg.Client`, with the fixes migrations need (see DESIGN.md, "Facts we already verified"):
 *
 * - `executeScript` sends each migration script as ONE simple query (no splitting on `;`), so PostgreSQL
 *   runs it atomically in its implicit transaction, as Prisma's native engine does, and `$$` bodies work;
 *   the caller may wrap it (savepoints of a release transaction).
 * - every statement of the run uses the same session (the advisory lock, a surrounding transaction);
 * - the engine's writes to `_prisma_migrations` on a successful migration may be held back to travel with the
 *   next statement (`held-bookkeeping.ts`): one round trip per migration in a release instead of five;
 * - `"char"` columns (oid 18, e.g. `pg_constraint.contype`) are reported as the engine's `Character` type,
 *   which its schema describer reads them as (reported as text, the describer panics);
 * - error kinds this engine build does not know (`InvalidInputValue`, ...) are mapped to ones it accepts;
 * - the shadow database is a real, separate, temporary database (adapter-pg reuses the main one), named
 *   with its creation time; leftovers of crashed runs are dropped before a new one is created.
 */
import { PrismaPg } from '@prisma/adapter-pg';
import {
  ColumnTypeEnum,
  type ConnectionInfo,
  DriverAdapterError,
  type Error as DriverError,
  type IsolationLevel,
  isDriverAdapterError,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
  type SqlQuery,
  type SqlResultSet,
  type Transaction,
} from '@prisma/driver-adapter-utils';
import type pg from 'pg';
import { type ConnectionTarget, openClient, withDatabase } from '../postgres/client.js';
import { emptyResultSet, type HeldBookkeeping } from './held-bookkeeping.js';
import { charColumnsOf, PinnedClientPool, pinClient } from './pinned-client.js';
import { runAutocommit } from './release-run.js';
import {
  dropShadowDatabase,
  dropStaleShadowDatabases,
  rememberShadowDatabase,
  shadowDatabaseName,
} from './shadow-database.js';

/**
 * Runs one migration script on the pinned client, after `held` (the bookkeeping writes held until then, see
 * `held-bookkeeping.ts`), which it must send first; throws what `pg` throws. The default, `runAutocommit`, sends
 * both as one simple query: PostgreSQL runs a multi-statement simple query atomically (implicit transaction).
 */
export type ScriptRunner = (script: string, client: pg.Client, held?: string) => Promise<void>;

/** Error kinds the schema engine build shipped with prisma 7.10.1 deserializes (probed; see its `unknown variant` list). */
const ENGINE_ERROR_KINDS: ReadonlySet<string> = new Set([
  'GenericJs',
  'UnsupportedNativeDataType',
  'InvalidIsolationLevel',
  'LengthMismatch',
  'UniqueConstraintViolation',
  'NullConstraintViolation',
  'ForeignKeyConstraintViolation',
  'DatabaseNotReachable',
  'DatabaseDoesNotExist',
  'DatabaseAlreadyExists',
  'DatabaseAccessDenied',
  'ConnectionClosed',
  'TlsConnectionError',
  'AuthenticationFailed',
  'TransactionWriteConflict',
  'TableDoesNotExist',
  'ColumnNotFound',
  'TooManyConnections',
  'ValueOutOfRange',
  'MissingFullTextSearchIndex',
  'TransactionAlreadyClosed',
  'postgres',
]);

/** An error payload the engine accepts, keeping PostgreSQL's code and message when there is one. */
export function toEngineError(payload: DriverError): DriverError {
  if (ENGINE_ERROR_KINDS.has(payload.kind)) return payload;
  if (payload.kind === 'SocketTimeout') return { kind: 'ConnectionClosed' };
  const rest = payload as unknown as Record<string, unknown>;
  return {
    kind: 'postgres',
    code: payload.originalCode ?? 'N/A',
    severity: 'ERROR',
    message: payload.originalMessage ?? `${payload.kind}: ${JSON.stringify(rest)}`,
    detail: undefined,
    column: undefined,
    hint: undefined,
  };
}

function mapError(error: unknown): unknown {
  return isDriverAdapterError(error) ? new DriverAdapterError(toEngineError(error.cause)) : error;
}

async function mapped<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw mapError(error);
  }
}

const SOCKET_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'ENOTFOUND']);

/** What a `pg` error thrown by a script becomes for the engine (PostgreSQL's own code and message). */
export function scriptErrorForEngine(error: unknown): unknown {
  const e = error as Partial<pg.DatabaseError> & { code?: unknown };
  if (typeof e.code === 'string' && typeof e.severity === 'string' && typeof e.message === 'string') {
    return new DriverAdapterError({
      kind: 'postgres',
      code: e.code,
      severity: e.severity,
      message: e.message,
      detail: e.detail,
      column: e.column,
      hint: e.hint,
    });
  }
  if (typeof e.code === 'string' && SOCKET_ERRORS.has(e.code))
    return new DriverAdapterError({ kind: 'ConnectionClosed' });
  if (error instanceof Error && /Connection terminated|not queryable|closed/i.test(error.message)) {
    return new DriverAdapterError({ kind: 'ConnectionClosed' });
  }
  return error;
}

/**
 * Reports the `"char"` columns of a result set as `Character` (adapter-pg saw them as text, see
 * `charColumnsOf`): the schema describer reads catalog columns such as `pg_constraint.contype` with
 * `get_char`, which fails on a text column.
 */
export function withCharacterColumns(result: SqlResultSet): SqlResultSet {
  for (const index of charColumnsOf(result.rows)) {
    if (index < result.columnTypes.length) result.columnTypes[index] = ColumnTypeEnum.Character;
  }
  return result;
}

function mappedTransaction(tx: Transaction, hooks: MigrationAdapterHooks): Transaction {
  const characters = hooks.charColumnsAsText ? (result: SqlResultSet) => result : withCharacterColumns;
  return {
    provider: tx.provider,
    adapterName: tx.adapterName,
    options: tx.options,
    queryRaw: (query) => mapped(async () => characters(await tx.queryRaw(query))),
    executeRaw: (query) => mapped(() => tx.executeRaw(query)),
    commit: () => mapped(() => tx.commit()),
    rollback: () => mapped(() => tx.rollback()),
  };
}

export interface MigrationAdapterHooks {
  /** How `executeScript` runs a script. @default one simple query */
  readonly runScript?: ScriptRunner;
  /**
   * When it returns a reason, `startTransaction` is refused with it (the run already is inside a release
   * transaction, which an engine-opened transaction would commit early).
   */
  readonly refuseTransaction?: () => string | undefined;
  /** `schema` for the engine (the connection string's `?schema=`). @default the search path's first schema */
  readonly schema?: string;
  /**
   * Report `"char"` columns as text, as this adapter once did: the engine's schema describer then panics on
   * any CHECK constraint. Only to reproduce a genuine engine panic in tests. @default false
   */
  readonly charColumnsAsText?: boolean;
  /**
   * The release transaction's held bookkeeping writes (see `held-bookkeeping.ts`): the engine's writes of a
   * successful migration are held there, and anything else the engine sends goes after them. @default - none held
   */
  readonly bookkeeping?: HeldBookkeeping;
}

class PinnedMigrationAdapter implements SqlDriverAdapter {
  readonly provider = 'postgres' as const;
  readonly adapterName: string;

  constructor(
    private readonly inner: SqlDriverAdapter,
    private readonly client: pg.Client,
    private readonly hooks: MigrationAdapterHooks,
    private readonly onDispose: () => Promise<void>,
  ) {
    this.adapterName = inner.adapterName;
  }

  queryRaw(query: SqlQuery): Promise<SqlResultSet> {
    const held = this.hooks.bookkeeping;
    if (held?.hold(query)) {
      if (!held.due) return Promise.resolve(emptyResultSet());
      return mapped(async () => {
        await held.flush(this.client);
        return emptyResultSet();
      });
    }
    return mapped(async () => {
      await held?.flush(this.client);
      const result = await this.inner.queryRaw(query);
      return this.hooks.charColumnsAsText ? result : withCharacterColumns(result);
    });
  }

  executeRaw(query: SqlQuery): Promise<number> {
    return mapped(async () => {
      await this.hooks.bookkeeping?.flush(this.client);
      return await this.inner.executeRaw(query);
    });
  }

  async executeScript(script: string): Promise<void> {
    try {
      const held = this.hooks.bookkeeping?.take(true);
      await (this.hooks.runScript ?? runAutocommit)(script, this.client, held);
    } catch (error) {
      throw scriptErrorForEngine(error);
    }
  }

  async startTransaction(isolationLevel?: IsolationLevel): Promise<Transaction> {
    const refusal = this.hooks.refuseTransaction?.();
    if (refusal !== undefined) throw new Error(refusal);
    await this.hooks.bookkeeping?.flush(this.client);
    return mappedTransaction(await mapped(() => this.inner.startTransaction(isolationLevel)), this.hooks);
  }

  getConnectionInfo(): ConnectionInfo {
    return this.inner.getConnectionInfo?.() ?? { supportsRelationJoins: true };
  }

  async dispose(): Promise<void> {
    await this.onDispose();
  }
}

function adapterOver(
  client: pg.Client,
  hooks: MigrationAdapterHooks,
  onDispose: () => Promise<void>,
): Promise<SqlDriverAdapter> {
  const options = hooks.schema === undefined ? {} : { schema: hooks.schema };
  return new PrismaPg(new PinnedClientPool(client), options)
    .connect()
    .then((inner) => new PinnedMigrationAdapter(inner, client, hooks, onDispose));
}

/** Drops every schema of a dedicated shadow database and recreates an empty `public`. */
async function emptyDatabase(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT nspname AS name FROM pg_namespace
      WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'`,
  );
  const drops = rows.map((row) => `DROP SCHEMA ${client.escapeIdentifier(row.name)} CASCADE;`).join('\n');
  await client.query(`${drops}\nCREATE SCHEMA IF NOT EXISTS public;`);
}

export interface MigrationAdapterFactoryOptions {
  /** The run's client on the target database (already connected; the caller ends it). */
  readonly client: pg.Client;
  /** The target, to derive a temporary shadow database on the same server. */
  readonly target: ConnectionTarget;
  /**
   * A dedicated shadow database, wiped (every schema dropped) before and after each use; without it a
   * temporary database is created next to the target and dropped.
   */
  readonly shadow?: ConnectionTarget;
  readonly hooks?: MigrationAdapterHooks;
}

/**
 * The migration-aware adapter factory the engine is constructed with. `connect()` always lends the run's
 * pinned client; `connectToShadowDb()` opens a separate database.
 */
export class PinnedMigrationAdapterFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = 'postgres' as const;
  readonly adapterName = '@prisma/adapter-pg';
  private readonly shadows = new Set<() => Promise<void>>();
  /** Shadow databases being created (a crashed engine does not wait for them; `closeShadows` does). */
  private readonly opening = new Set<Promise<unknown>>();
  private closed = false;

  constructor(private readonly options: MigrationAdapterFactoryOptions) {
    pinClient(options.client);
  }

  connect(): Promise<SqlDriverAdapter> {
    // The run owns the client: disposing the adapter must not end it.
    return adapterOver(this.options.client, this.options.hooks ?? {}, async () => undefined);
  }

  connectToShadowDb(): Promise<SqlDriverAdapter> {
    if (this.closed) {
      return Promise.reject(
        new Error('The engine session is closed; no shadow database is created any more.'),
      );
    }
    const opening = this.openShadow();
    this.opening.add(opening);
    const settled = () => this.opening.delete(opening);
    opening.then(settled, settled);
    return opening;
  }

  private async openShadow(): Promise<SqlDriverAdapter> {
    const { schema, charColumnsAsText } = this.options.hooks ?? {};
    const hooks: MigrationAdapterHooks = {
      ...(schema === undefined ? {} : { schema }),
      ...(charColumnsAsText === undefined ? {} : { charColumnsAsText }),
    };
    const shadow = this.options.shadow;
    if (shadow) {
      if (shadow.endpoint === this.options.target.endpoint) {
        throw new Error(
          `The shadow database ${shadow.endpoint} is the target database itself; it is wiped before and after ` +
            'each use, so it must be a separate, dedicated database (or leave shadowDatabaseUrl unset).',
        );
      }
      const client = await openClient(shadow);
      try {
        await emptyDatabase(client);
      } catch (error) {
        await client.end().catch(() => undefined);
        throw error;
      }
      const close = async () => {
        this.shadows.delete(close);
        await emptyDatabase(client).catch(() => undefined);
        await client.end().catch(() => undefined);
      };
      this.shadows.add(close);
      return adapterOver(client, hooks, close);
    }
    const main = this.options.client;
    const { now } = await dropStaleShadowDatabases(main);
    const database = shadowDatabaseName(now);
    rememberShadowDatabase(database);
    await main.query(`CREATE DATABASE ${main.escapeIdentifier(database)}`);
    let client: pg.Client;
    try {
      client = await openClient(withDatabase(this.options.target, database));
    } catch (error) {
      await dropShadowDatabase(main, this.options.target, database);
      throw error;
    }
    const close = async () => {
      this.shadows.delete(close);
      await client.end().catch(() => undefined);
      await dropShadowDatabase(main, this.options.target, database);
    };
    this.shadows.add(close);
    return adapterOver(client, hooks, close);
  }

  /** Closes and drops any shadow database the engine left open; creates none afterwards. */
  async closeShadows(): Promise<void> {
    this.closed = true;
    // A shadow database still being created (the engine panicked meanwhile) is dropped once it exists.
    await Promise.allSettled([...this.opening]);
    for (const close of [...this.shadows]) await close();
  }
}
