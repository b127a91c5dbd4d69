/**
 * One run of Prisma's schema engine (wasm) over one pinned `pg.Client`: open, use, and always close (free
 * the engine, drop any shadow database, end the client), whatever happened. A panic of the engine rejects
 * the session's pending calls with `SchemaEnginePanic` (see `EngineInstance`) instead of killing the process.
 */
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type pg from 'pg';
import { messageOf, OrchestratorError } from '../../contract/errors.js';
import type { MigrationBundle } from '../../contract/ports.js';
import { type ConnectionTarget, openClient } from '../postgres/client.js';
import { type MigrationAdapterHooks, PinnedMigrationAdapterFactory } from './migration-driver-adapter.js';
import {
  type EngineInstance,
  isWasmTrap,
  loadEngineInstance,
  type MigrationList,
  retainEngine,
  type SchemaEngine,
  takePanicMessage,
} from './schema-engine-wasm.js';

export { SchemaEnginePanic } from './schema-engine-wasm.js';

/** A log event of the engine (it logs JSON lines). */
export interface EngineLogEntry {
  readonly level?: string;
  readonly fields?: Record<string, unknown>;
  readonly target?: string;
  readonly span?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

export interface EngineSessionOptions {
  readonly target: ConnectionTarget;
  readonly shadow?: ConnectionTarget;
  readonly wasmPath?: string;
  /** Prisma schema files (`[path, content]`), for the commands that read the datamodel. */
  readonly datamodels?: [string, string][];
  readonly hooks?: MigrationAdapterHooks;
  /** Runs on the pinned client before the engine starts (session settings, reading the history). */
  readonly prepare?: (client: pg.Client) => Promise<void>;
  /** Every log line of the engine, parsed. */
  readonly onLog?: (entry: EngineLogEntry, raw: string) => void;
}

export interface EngineSession {
  /**
   * The engine. Each of its calls settles even if the engine panics meanwhile (on this session or another
   * one sharing the wasm instance): it is then rejected with `SchemaEnginePanic`.
   */
  readonly engine: SchemaEngine;
  /** The pinned client every statement of the run goes through. */
  readonly client: pg.Client;
  /**
   * The error to report for an engine failure: the JavaScript error behind an `External error id#N` (an
   * error of our adapter, which the engine only knows by number) when there is one, else the engine's
   * error with any panic message added.
   */
  explain(error: unknown): unknown;
  close(): Promise<void>;
}

function parseLog(raw: string): EngineLogEntry {
  try {
    const parsed: unknown = JSON.parse(raw);
    return parsed !== null && typeof parsed === 'object'
      ? (parsed as EngineLogEntry)
      : { fields: { message: raw } };
  } catch {
    return { fields: { message: raw } };
  }
}

/** Runs `call` (a call into the engine) so that a panic of `instance` rejects it. */
function racePanic<T>(instance: EngineInstance, call: () => T): T {
  if (instance.poisoned) throw instance.poisoned;
  let result: T;
  try {
    result = call();
  } catch (error) {
    throw isWasmTrap(error) ? instance.poison(error) : error;
  }
  return (result instanceof Promise ? Promise.race([result, instance.crashed]) : result) as T;
}

/** `engine` with every method call raced against a panic of its instance. */
function panicSafe(engine: SchemaEngine, instance: EngineInstance): SchemaEngine {
  return new Proxy(engine, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      // `free` and the glue's internals run on the engine object itself (its finalizer is keyed by it).
      if (typeof property !== 'string' || property === 'free' || property.startsWith('__')) {
        return method.bind(target);
      }
      return (...args: unknown[]) => racePanic(instance, () => method.apply(target, args));
    },
  });
}

/** Opens a session; the caller must `close()` it (the engine holds a session-level advisory lock). */
export async function openEngineSession(options: EngineSessionOptions): Promise<EngineSession> {
  const instance = await loadEngineInstance(options.wasmPath);
  const glue = instance.glue;
  const release = retainEngine();
  let client: pg.Client;
  try {
    client = await openClient(options.target);
  } catch (error) {
    release();
    throw error;
  }
  const factory = new PinnedMigrationAdapterFactory({
    client,
    target: options.target,
    ...(options.shadow ? { shadow: options.shadow } : {}),
    ...(options.hooks ? { hooks: options.hooks } : {}),
  });
  let engine: SchemaEngine | undefined;
  const close = async () => {
    try {
      // A panicked instance is not called again (its state is gone): only forget the engine object.
      if (instance.poisoned && engine) instance.forget(engine);
      else engine?.free();
    } finally {
      engine = undefined;
      await factory.closeShadows();
      await client.end().catch(() => undefined);
      release();
    }
  };
  const bound = bindMigrationAwareSqlAdapterFactory(factory);
  const explain = (error: unknown): unknown => {
    const id = /External error id#(\d+)/.exec(error instanceof Error ? error.message : '')?.[1];
    const original = id === undefined ? undefined : bound.errorRegistry.consumeError(Number(id))?.error;
    if (original === undefined) return withPanic(error);
    if (original instanceof OrchestratorError) return original;
    if (error instanceof Error) {
      error.message = error.message.replace(`External error id#${id}`, messageOf(original));
    }
    return error;
  };
  try {
    await options.prepare?.(client);
    const onLog = options.onLog;
    engine = await racePanic(instance, () =>
      glue.SchemaEngine.new(
        { datamodels: options.datamodels },
        (raw: string) => onLog?.(parseLog(raw), raw),
        bound,
      ),
    );
  } catch (error) {
    await close();
    throw explain(error);
  }
  return { engine: panicSafe(engine, instance), client, explain, close };
}

/** An engine error: `code` is Prisma's error code (`P3009`, ...) for the user-facing ones. */
export interface EngineError extends Error {
  readonly code?: string;
}

/** Adds the panic message (set through PRISMA_WASM_PANIC_REGISTRY) to a wasm `RuntimeError`. */
export function withPanic(error: unknown): unknown {
  const panic = takePanicMessage();
  if (panic !== '' && error instanceof Error && !error.message.includes(panic)) {
    error.message = `${error.message} (schema engine panic: ${panic})`;
  }
  return error;
}

/** Prisma's error code of an engine error, if it has one. */
export function engineErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^P\d{4}$/.test(code) ? code : undefined;
}

const LOCKFILE_HEADER =
  '# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\n';

/** The engine's view of a migrations bundle (what `prisma migrate deploy` reads from the directory). */
export function migrationListOf(bundle: MigrationBundle): MigrationList {
  return {
    baseDir: bundle.directory,
    lockfile: { path: 'migration_lock.toml', content: `${LOCKFILE_HEADER}provider = "${bundle.provider}"\n` },
    shadowDbInitScript: '',
    migrationDirectories: bundle.migrations.map((migration) => ({
      path: migration.name,
      migrationFile: { path: 'migration.sql', content: { tag: 'ok', value: migration.sql } },
    })),
  };
}

/** No externally managed tables or enums (Prisma config `tables.external` / `enums.external`). */
export function noFilters(): { externalTables: string[]; externalEnums: string[] } {
  return { externalTables: [], externalEnums: [] };
}
