/**
 * Loads Prisma's schema engine (the migration engine) compiled to WebAssembly.
 *
 * The `.wasm` file is the one the `prisma` CLI ships (`prisma/build/schema_engine_bg.wasm`, engines hash
 * `d1b3f377...` for prisma 7.10.1); the JavaScript glue comes from `@prisma/schema-engine-wasm`, pinned to a
 * version whose glue has exactly the ABI of that file (see `assertAbi`). The bundled Lambda ships the file
 * next to its `index.mjs`, which is why the file next to the running module is looked up first.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import type { SchemaEngine } from '@prisma/schema-engine-wasm';
import * as glue from '@prisma/schema-engine-wasm/schema_engine_bg';

export type { MigrationList, SchemaEngine } from '@prisma/schema-engine-wasm';

/** The file name of the engine; the CDK bundling copies it next to the Lambda's `index.mjs`. */
export const SCHEMA_ENGINE_WASM_FILE = 'schema_engine_bg.wasm';

/** The engines hash of the wasm this code was built and tested with (prisma 7.10.1). */
export const EXPECTED_SCHEMA_ENGINE_HASH = 'd1b3f377ca835d73fd50954a5e22128b9ebdd6b8';

/** The glue module: the `SchemaEngine` class and `version()`. */
export type SchemaEngineModule = typeof glue;

/**
 * Where the engine's wasm is: next to the running module (the bundled Lambda), else `wasmPath`, else the
 * copy inside the installed `prisma` package. Throws naming every place it looked.
 */
export function resolveSchemaEngineWasm(wasmPath?: string): string {
  const tried: string[] = [];
  const beside = fileURLToPath(new URL(`./${SCHEMA_ENGINE_WASM_FILE}`, import.meta.url));
  tried.push(beside);
  if (existsSync(beside)) return beside;
  if (wasmPath !== undefined) {
    tried.push(wasmPath);
    if (existsSync(wasmPath)) return wasmPath;
  }
  try {
    const require = createRequire(import.meta.url);
    const fromPrisma = join(
      dirname(require.resolve('prisma/package.json')),
      'build',
      SCHEMA_ENGINE_WASM_FILE,
    );
    tried.push(fromPrisma);
    if (existsSync(fromPrisma)) return fromPrisma;
  } catch {
    tried.push('the `prisma` package (not installed)');
  }
  throw new Error(
    `Prisma's schema engine (${SCHEMA_ENGINE_WASM_FILE}) was not found; looked in: ${tried.join(', ')}. ` +
      'Install prisma@7.10.1, pass `wasmPath`, or ship the file next to the bundled handler.',
  );
}

/** What Prisma's wasm engines call when they panic; without it a panic is silent. */
class PanicRegistry {
  private message = '';
  get(): string {
    return this.message;
  }
  set_message(value: string): void {
    this.message = `RuntimeError: ${value}`;
  }
  /** Returns and forgets the last panic message. */
  take(): string {
    const value = this.message;
    this.message = '';
    return value;
  }
}

declare global {
  var PRISMA_WASM_PANIC_REGISTRY: { get(): string; set_message(value: string): void } | undefined;
}

function panicRegistry(): PanicRegistry {
  if (!(globalThis.PRISMA_WASM_PANIC_REGISTRY instanceof PanicRegistry)) {
    globalThis.PRISMA_WASM_PANIC_REGISTRY = new PanicRegistry();
  }
  return globalThis.PRISMA_WASM_PANIC_REGISTRY as PanicRegistry;
}

/** The message of the last engine panic, if any (and clears it). */
export function takePanicMessage(): string {
  return panicRegistry().take();
}

/** The part of the WebAssembly JS API used here (this project's `lib` has no DOM typings). */
interface WasmApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(
    module: WasmModule,
    imports: Record<string, unknown>,
  ): Promise<{ exports: Record<string, unknown> }>;
  Module: { imports(module: WasmModule): { module: string; name: string; kind: string }[] };
  RuntimeError: new (...args: never[]) => Error;
}
type WasmModule = { readonly __brand?: 'WebAssembly.Module' };
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Refuses a wasm whose imports the glue does not provide, with a message that says which versions fit. */
function assertAbi(module: WasmModule, path: string): void {
  const provided = glue as unknown as Record<string, unknown>;
  const missing = wasmApi.Module.imports(module)
    .filter((entry) => entry.module === './schema_engine_bg.js' && typeof provided[entry.name] !== 'function')
    .map((entry) => entry.name);
  if (missing.length > 0) {
    throw new Error(
      `The schema engine wasm at ${path} does not match the pinned @prisma/schema-engine-wasm glue ` +
        `(missing ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', ...' : ''}). ` +
        `Use the ${SCHEMA_ENGINE_WASM_FILE} of prisma 7.10.1 (engines ${EXPECTED_SCHEMA_ENGINE_HASH}).`,
    );
  }
}

/**
 * The engine panicked (or its WebAssembly trapped): the instance is dead, every call pending on it is
 * rejected with this error, and the next engine run instantiates a fresh one. `panic` is the engine's own
 * panic message (`panicked at <file>:<line>: ...`) when it gave one.
 */
export class SchemaEnginePanic extends Error {
  override readonly name = 'SchemaEnginePanic';

  constructor(
    readonly panic: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Prisma's schema engine panicked: ${panic}. Its WebAssembly instance was discarded; the next engine ` +
        'run starts a fresh one.',
      options,
    );
  }
}

/** Is `error` a trap of WebAssembly code (a Rust panic ends in `unreachable`)? */
export function isWasmTrap(error: unknown): boolean {
  return error instanceof wasmApi.RuntimeError;
}

/**
 * One instantiation of the engine's wasm. A panic aborts the Rust code mid-way and leaves the instance's
 * state (its async executor, locks, allocations) unusable, so the first panic poisons the instance: its
 * pending calls are rejected through `crashed`, its timers are cleared, and none of its callbacks runs any
 * more (they would call into the next instance, which the glue module then points at).
 */
export class EngineInstance {
  /** Rejects with the panic when the instance is poisoned; never resolves. */
  readonly crashed: Promise<never>;
  private crash?: SchemaEnginePanic;
  private rejectCrashed: (error: SchemaEnginePanic) => void = () => undefined;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    readonly glue: SchemaEngineModule,
    readonly memory: { grow(pages: number): number },
  ) {
    this.crashed = new Promise<never>((_, reject) => {
      this.rejectCrashed = reject;
    });
    // Nobody may be waiting on it when the instance crashes.
    this.crashed.catch(() => undefined);
  }

  /** The panic that poisoned this instance, if it did. */
  get poisoned(): SchemaEnginePanic | undefined {
    return this.crash;
  }

  /** Marks the instance dead because of `error` (a trap), once; returns the panic. */
  poison(error: unknown): SchemaEnginePanic {
    if (this.crash) return this.crash;
    const message = takePanicMessage().replace(/^RuntimeError: /, '');
    const panic = new SchemaEnginePanic(message || (error instanceof Error ? error.message : String(error)), {
      cause: error,
    });
    this.crash = panic;
    this.clearTimers();
    if (loaded?.ready === this) loaded = undefined;
    this.rejectCrashed(panic);
    return panic;
  }

  /**
   * `callback` (which calls into the wasm) as a callback the engine may schedule: it does nothing once the
   * instance is poisoned, and a trap it raises poisons the instance instead of escaping as an uncaught
   * exception.
   */
  guard<A extends unknown[]>(callback: (...args: A) => unknown): (...args: A) => unknown {
    return (...args: A) => {
      if (this.crash) return undefined;
      try {
        return callback(...args);
      } catch (error) {
        this.poison(error);
        return undefined;
      }
    };
  }

  /** The engine's `setTimeout` (its 10 s advisory-lock timeout is one); see `retainEngine`. */
  setTimeout(callback: () => void, milliseconds: number): NodeJS.Timeout {
    const guarded = this.guard(callback);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      guarded();
    }, milliseconds >>> 0);
    this.timers.add(timer);
    return timer;
  }

  /**
   * Forgets an engine object of this instance without calling into the wasm (for a poisoned instance, whose
   * code must not run again): also unregisters its finalizer, which would otherwise free its pointer in
   * whichever instance the glue points at by then.
   */
  forget(engine: SchemaEngine): void {
    (engine as unknown as { __destroy_into_raw?: () => number }).__destroy_into_raw?.();
  }

  clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

/**
 * The glue's imports, with every way the engine schedules work for later (timers, microtasks, promise
 * callbacks) guarded by the instance (see `EngineInstance.guard`). Timers must not be unref'd: while an
 * engine awaits one, it may be all that keeps the process alive.
 */
function importsOf(module: WasmModule, instance: () => EngineInstance): Record<string, unknown> {
  const imports: Record<string, unknown> = { ...(glue as unknown as Record<string, unknown>) };
  const guard = (value: unknown): unknown =>
    typeof value === 'function' ? instance().guard(value as (...args: unknown[]) => unknown) : value;
  const queue = (callback: unknown) => queueMicrotask(guard(callback) as () => void);
  for (const { name } of wasmApi.Module.imports(module)) {
    if (name.startsWith('__wbg_setTimeout_')) {
      imports[name] = (callback: () => void, milliseconds: number) =>
        instance().setTimeout(callback, milliseconds);
    } else if (name.startsWith('__wbg_then_')) {
      imports[name] = (promise: Promise<unknown>, ...callbacks: unknown[]) =>
        (promise.then as (...args: unknown[]) => Promise<unknown>).apply(promise, callbacks.map(guard));
    } else if (name.startsWith('__wbg_queueMicrotask_')) {
      // Two imports share the name: one reads `global.queueMicrotask` (for the engine to call), the other
      // queues a callback.
      imports[name] = (target: unknown) => (typeof target === 'function' ? queue(target) : queue);
    }
  }
  return imports;
}

async function instantiate(path: string): Promise<EngineInstance> {
  const module = await wasmApi.compile(await readFile(path));
  assertAbi(module, path);
  let engine: EngineInstance | undefined;
  const current = () => {
    if (!engine) throw new Error('The schema engine called back before its instantiation completed.');
    return engine;
  };
  const instance = await wasmApi.instantiate(module, { './schema_engine_bg.js': importsOf(module, current) });
  const memory = instance.exports.memory as EngineInstance['memory'];
  engine = new EngineInstance(glue, memory);
  // The glue keeps one instance in module state, with views of its memory cached: point it at the new
  // instance, then detach the previous instance's buffer (growing by 0 pages does) so no stale view is used.
  glue.__wbg_set_wasm(instance.exports);
  previousMemory?.grow(0);
  previousMemory = memory;
  (instance.exports.__wbindgen_start as () => void)();
  return engine;
}

interface LoadedEngine {
  readonly path: string;
  readonly instance: Promise<EngineInstance>;
  /** The instance once instantiated. */
  ready?: EngineInstance;
}

let loaded: LoadedEngine | undefined;
let previousMemory: EngineInstance['memory'] | undefined;

/**
 * The engine instance to use: instantiated once per process (the glue keeps it in module state), and again
 * after a panic poisoned it. Later calls return the same instance, whatever path they pass.
 */
export function loadEngineInstance(wasmPath?: string): Promise<EngineInstance> {
  panicRegistry();
  if (!loaded) {
    const path = resolveSchemaEngineWasm(wasmPath);
    const entry: LoadedEngine = { path, instance: instantiate(path) };
    loaded = entry;
    entry.instance.then(
      (instance) => {
        entry.ready = instance;
        if (instance.poisoned && loaded === entry) loaded = undefined;
      },
      () => {
        if (loaded === entry) loaded = undefined;
      },
    );
  }
  return loaded.instance;
}

/** The glue module (the `SchemaEngine` class and `version()`) over a live engine instance. */
export async function loadSchemaEngine(wasmPath?: string): Promise<SchemaEngineModule> {
  return (await loadEngineInstance(wasmPath)).glue;
}

/** The path of the loaded wasm, for diagnostics. */
export function loadedSchemaEngineWasm(): string | undefined {
  return loaded?.path;
}

let inUse = 0;

/**
 * While a session is open, a trap of the engine's wasm that still escapes as an uncaught exception (the
 * guarded callbacks catch those they can) poisons the instance, which rejects the pending calls, instead of
 * ending the process. Any other uncaught exception keeps Node's behaviour: when no other handler is
 * installed (a test runner's, the Lambda runtime's), it is printed and the process exits with code 1.
 */
function onUncaughtException(error: unknown): void {
  if (isWasmTrap(error)) {
    loaded?.ready?.poison(error);
    return;
  }
  if (process.listenerCount('uncaughtException') > 1) return;
  process.stderr.write(`${inspect(error)}\n`);
  process.exit(1);
}

/**
 * Marks an engine as in use until the returned function is called. While any is in use, engine traps are
 * handled (see `onUncaughtException`); once none is, the engine's timers are cleared (the engine never
 * clears them, and a pending Node timer keeps the process alive for nothing).
 */
export function retainEngine(): () => void {
  inUse += 1;
  if (inUse === 1) process.on('uncaughtException', onUncaughtException);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    inUse -= 1;
    if (inUse === 0) {
      process.removeListener('uncaughtException', onUncaughtException);
      loaded?.ready?.clearTimers();
    }
  };
}
