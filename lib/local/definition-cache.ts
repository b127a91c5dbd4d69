/**
 * The state machine definition the local runner executes, kept on disk (`.cache/definitions/`, git-ignored) so
 * that a run does not synthesize the CDK app (nor load aws-cdk-lib) when nothing that shapes the definition
 * changed. An entry is keyed by a hash of every input of the synthesis:
 *
 * - the code that synthesizes: the compiled CLI's build hash (bin/build-cli.mjs: every file under bin/, lib/ and
 *   lambdas/, package.json, tsconfig.json), or, running as TypeScript, every file under lib/ and lambdas/ (the
 *   construct, the contract, anything lib/ imports; test/unit/definition-cache.test.ts checks that lib/ imports
 *   nothing else of the project);
 * - cdk.json (the app's context), package-lock.json, package.json, tsconfig.json;
 * - the migrations folder cdk.json names (the construct checks its layout): its file names and migration_lock.toml;
 * - the installed aws-cdk-lib, constructs, cdk-nag and aws-local-stepfunctions (which validated the definition);
 * - Node's version, the `CDK_*` and `JSII_*` environment variables, the transaction mode.
 *
 * Any change to one of them is another key: the entry of the old inputs is never read for the new ones. Running as
 * TypeScript, the loaded code is the files' content only if none changed since the process started: when one did,
 * there is no key (nothing is read from or written to the cache).
 */

import { createHash } from 'node:crypto';
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { Step, TransactionMode } from '../../lambdas/shared/contract/contract.js';
import type { AslDefinition } from '../asl.js';
import { PROJECT_ROOT } from '../private/paths.js';
import { hashFiles, treeFiles } from './source-tree.mjs';

/**
 * Defined by the compiled CLI's build (bin/build-cli.mjs, `SOURCES_HASH_GLOBAL`) as the hash of the sources it
 * was compiled from; undefined when running as TypeScript.
 */
declare const __ORCHESTRATOR_CLI_SOURCES_HASH__: string | undefined;

/** The hash of the sources the running code was compiled from, when it is the compiled CLI. */
export const COMPILED_SOURCES_HASH: string | undefined =
  typeof __ORCHESTRATOR_CLI_SOURCES_HASH__ === 'string' ? __ORCHESTRATOR_CLI_SOURCES_HASH__ : undefined;

/** Bumped when what an entry holds, or how the definition is derived, changes in a way the inputs do not show. */
const CACHE_FORMAT = '1';

/** The code that synthesizes, when running as TypeScript. */
export const SYNTHESIS_CODE = { dirs: ['lib', 'lambdas'] } as const;

/** The project's files the synthesis reads besides its code. */
export const SYNTHESIS_FILES = ['cdk.json', 'package-lock.json', 'package.json', 'tsconfig.json'] as const;

/** The packages the synthesis runs on (and the one that validates the definition), as installed. */
export const SYNTHESIS_PACKAGES = [
  'aws-cdk-lib',
  'constructs',
  'cdk-nag',
  'aws-local-stepfunctions',
] as const;

/** The environment variables aws-cdk-lib reads (the context of `cdk synth`, feature switches). */
const SYNTHESIS_ENV = /^(CDK|JSII)_/;

/** Entries not used for this long are deleted when another is written. */
const UNUSED_ENTRY_MS = 7 * 24 * 60 * 60 * 1000;

/** Where the definitions are kept. */
export const DEFINITION_CACHE_DIR = join(PROJECT_ROOT, '.cache', 'definitions');

export interface DefinitionKeyOptions {
  /** The project root. @default - this project's */
  readonly root?: string;
  /**
   * The hash of the compiled code that synthesizes. @default - `COMPILED_SOURCES_HASH`; without it (running as
   * TypeScript) the files under lib/ and lambdas/ are hashed
   */
  readonly compiledSourcesHash?: string;
  /** When the process started (ms since the epoch). @default - `performance.timeOrigin` */
  readonly startedAtMs?: number;
  /** @default - `process.env` */
  readonly env?: NodeJS.ProcessEnv;
  /** @default - `process.version` */
  readonly nodeVersion?: string;
}

/** The migrations folder cdk.json names (as lib/stack.ts resolves it), or undefined when cdk.json does not parse. */
function migrationsDirOf(root: string): string | undefined {
  try {
    const cdk = JSON.parse(readFileSync(join(root, 'cdk.json'), 'utf8')) as {
      context?: { migrationsDirectory?: unknown };
    };
    const dir = cdk.context?.migrationsDirectory ?? 'prisma/migrations';
    if (typeof dir !== 'string') return undefined;
    return isAbsolute(dir) ? dir : resolve(root, dir);
  } catch {
    return undefined;
  }
}

/**
 * The key of the definition of `transactionMode` for the inputs as they are now, or undefined when the cache
 * must not be used: running as TypeScript with code changed since the process started, or cdk.json unreadable
 * (the synthesis then reports it).
 */
export function definitionCacheKey(
  transactionMode: TransactionMode,
  options: DefinitionKeyOptions = {},
): string | undefined {
  const root = options.root ?? PROJECT_ROOT;
  const compiled = options.compiledSourcesHash ?? COMPILED_SOURCES_HASH;
  let code: string;
  if (compiled !== undefined) {
    code = `compiled:${compiled}`;
  } else {
    const source = hashFiles(root, treeFiles(root, SYNTHESIS_CODE.dirs));
    if (source.newestMtimeMs > (options.startedAtMs ?? performance.timeOrigin)) return undefined;
    code = `source:${source.hash}`;
  }
  const migrationsDir = migrationsDirOf(root);
  if (migrationsDir === undefined) return undefined;
  const env = options.env ?? process.env;
  const parts = {
    format: CACHE_FORMAT,
    transactionMode,
    code,
    files: hashFiles(root, [...SYNTHESIS_FILES]).hash,
    migrations: {
      dir: migrationsDir,
      files: treeFiles(migrationsDir, ['.']),
      lock: hashFiles(migrationsDir, ['migration_lock.toml']).hash,
    },
    packages: hashFiles(
      root,
      SYNTHESIS_PACKAGES.map((name) => `node_modules/${name}/package.json`),
    ).hash,
    node: options.nodeVersion ?? process.version,
    env: Object.entries(env)
      .filter(([name]) => SYNTHESIS_ENV.test(name))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  };
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** A synthesized workflow as cached: the definition, and the step each Task state runs. */
export interface CachedWorkflow {
  readonly definition: AslDefinition;
  readonly taskSteps: ReadonlyArray<readonly [string, Step]>;
}

interface Entry extends CachedWorkflow {
  readonly key: string;
}

function entryFile(dir: string, key: string): string {
  return join(dir, `${key}.json`);
}

/** The entry of `key`, or undefined (none, or unreadable). */
export function readCachedWorkflow(dir: string, key: string): CachedWorkflow | undefined {
  const file = entryFile(dir, key);
  let entry: Entry;
  try {
    entry = JSON.parse(readFileSync(file, 'utf8')) as Entry;
  } catch {
    return undefined;
  }
  if (entry.key !== key || !entry.definition?.States || !Array.isArray(entry.taskSteps)) return undefined;
  try {
    const now = new Date();
    utimesSync(file, now, now);
  } catch {
    // Read-only: it is used all the same.
  }
  return { definition: entry.definition, taskSteps: entry.taskSteps };
}

/**
 * Stores the workflow under `key`: written to a temporary file and renamed into place, so an entry is whole or
 * absent, also when processes write at once. Entries not used for a week are deleted. A cache that cannot be
 * written is no error (the next run synthesizes again).
 */
export function writeCachedWorkflow(dir: string, key: string, workflow: CachedWorkflow): void {
  const file = entryFile(dir, key);
  const temporary = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    mkdirSync(dir, { recursive: true });
    const entry: Entry = { key, definition: workflow.definition, taskSteps: workflow.taskSteps };
    writeFileSync(temporary, JSON.stringify(entry));
    renameSync(temporary, file);
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (path !== file && Date.now() - statSync(path).mtimeMs > UNUSED_ENTRY_MS)
        rmSync(path, { force: true });
    }
  } catch {
    rmSync(temporary, { force: true });
  }
}
