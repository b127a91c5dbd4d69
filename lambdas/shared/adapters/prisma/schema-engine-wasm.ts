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

let loaded: { path: string; module: Promise<SchemaEngineModule> } | undefined;

/**
 * The engine's timers (its 10 s advisory-lock timeout is one). The engine never clears them, and a pending
 * Node timer keeps the process alive for nothing: they are cleared once no engine is in use. (They must not
 * be unref'd: while an engine awaits one, it may be all that keeps the process alive.)
 */
const timers = new Set<NodeJS.Timeout>();
let inUse = 0;

function engineSetTimeout(callback: () => void, milliseconds: number): NodeJS.Timeout {
  const timer = setTimeout(() => {
    timers.delete(timer);
    callback();
  }, milliseconds >>> 0);
  timers.add(timer);
  return timer;
}

/** Marks an engine as in use until the returned function is called. */
export function retainEngine(): () => void {
  inUse += 1;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    inUse -= 1;
    if (inUse === 0) {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    }
  };
}

/** The glue's imports, with timers that do not outlive the engines. */
function importsOf(module: WasmModule): Record<string, unknown> {
  const imports: Record<string, unknown> = { ...(glue as unknown as Record<string, unknown>) };
  for (const entry of wasmApi.Module.imports(module)) {
    if (entry.name.startsWith('__wbg_setTimeout_')) imports[entry.name] = engineSetTimeout;
  }
  return imports;
}

async function instantiate(path: string): Promise<SchemaEngineModule> {
  const module = await wasmApi.compile(await readFile(path));
  assertAbi(module, path);
  const instance = await wasmApi.instantiate(module, { './schema_engine_bg.js': importsOf(module) });
  glue.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  return glue;
}

/**
 * Instantiates the engine once per process (the glue keeps the instance in module state) and returns the
 * glue module. Later calls return the same instance, whatever path they pass.
 */
export function loadSchemaEngine(wasmPath?: string): Promise<SchemaEngineModule> {
  panicRegistry();
  if (!loaded) {
    const path = resolveSchemaEngineWasm(wasmPath);
    const module = instantiate(path);
    loaded = { path, module };
    module.catch(() => {
      loaded = undefined;
    });
  }
  return loaded.module;
}

/** The path of the loaded wasm, for diagnostics. */
export function loadedSchemaEngineWasm(): string | undefined {
  return loaded?.path;
}
