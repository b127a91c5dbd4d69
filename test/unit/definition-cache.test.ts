/**
 * The cached workflow definition (lib/local/definition-cache.ts): its key changes with every input of the
 * synthesis, and the synthesis reads nothing the key leaves out.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DefinitionKeyOptions,
  definitionCacheKey,
  SYNTHESIS_CODE,
  SYNTHESIS_FILES,
  SYNTHESIS_PACKAGES,
} from '../../lib/local/definition-cache.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

/** A copy of every input of the synthesis, in a temporary project root. */
let root: string;

/** The key options: the copied root, as TypeScript started after the copy was made, no environment. */
function options(more: Partial<DefinitionKeyOptions> = {}): DefinitionKeyOptions {
  return { root, compiledSourcesHash: undefined, startedAtMs: Date.now() + 60_000, env: {}, ...more };
}

/** Runs `change` on the copy, returns the key then, and undoes the change. */
function keyAfter(change: () => () => void, more: Partial<DefinitionKeyOptions> = {}): string | undefined {
  const undo = change();
  try {
    return definitionCacheKey('release', options(more));
  } finally {
    undo();
  }
}

/** Edits a file of the copy (appends `text`); the returned function restores it. */
function edit(path: string, text = '\n// edited\n'): () => () => void {
  return () => {
    const file = join(root, path);
    const before = readFileSync(file);
    writeFileSync(file, Buffer.concat([before, Buffer.from(text)]));
    return () => writeFileSync(file, before);
  };
}

/** Creates a file in the copy; the returned function deletes it. */
function create(path: string, text = 'new\n'): () => () => void {
  return () => {
    const file = join(root, path);
    writeFileSync(file, text);
    return () => rmSync(file);
  };
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'definition-cache-'));
  for (const dir of [...SYNTHESIS_CODE.dirs, 'prisma/migrations']) {
    cpSync(join(ROOT, dir), join(root, dir), { recursive: true });
  }
  for (const file of SYNTHESIS_FILES) cpSync(join(ROOT, file), join(root, file));
  for (const name of SYNTHESIS_PACKAGES) {
    mkdirSync(join(root, 'node_modules', name), { recursive: true });
    cpSync(
      join(ROOT, 'node_modules', name, 'package.json'),
      join(root, 'node_modules', name, 'package.json'),
    );
  }
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('definitionCacheKey', () => {
  it('is the same for the same inputs', () => {
    const key = definitionCacheKey('release', options());
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(definitionCacheKey('release', options())).toBe(key);
  });

  it.each([
    ['a construct file (lib/orchestrator.ts)', edit('lib/orchestrator.ts')],
    ['an internal of the construct (lib/private/paths.ts)', edit('lib/private/paths.ts')],
    ['the contract (lambdas/shared/contract/contract.ts)', edit('lambdas/shared/contract/contract.ts')],
    ['a domain rule (lambdas/shared/domain/drift.ts)', edit('lambdas/shared/domain/drift.ts')],
    ['a new file under lib/', create('lib/private/new-file.ts')],
    ['cdk.json', edit('cdk.json', ' ')],
    ['package-lock.json (the versions of aws-cdk-lib and the rest)', edit('package-lock.json', ' ')],
    ['package.json', edit('package.json', ' ')],
    ['tsconfig.json', edit('tsconfig.json', ' ')],
    ['the installed aws-cdk-lib', edit('node_modules/aws-cdk-lib/package.json', ' ')],
    ['the installed aws-local-stepfunctions', edit('node_modules/aws-local-stepfunctions/package.json', ' ')],
    ['a new migration in the folder cdk.json names', create('prisma/migrations/20990101000000_new.sql')],
    ['migration_lock.toml', edit('prisma/migrations/migration_lock.toml', '# edited\n')],
  ])('changes when %s changes', (_, change) => {
    const key = definitionCacheKey('release', options());
    expect(keyAfter(change)).not.toBe(key);
    expect(definitionCacheKey('release', options())).toBe(key);
  });

  it('changes with the transaction mode, the CDK environment, Node and the compiled build', () => {
    const key = definitionCacheKey('release', options());
    expect(definitionCacheKey('per-migration', options())).not.toBe(key);
    expect(definitionCacheKey('release', options({ env: { CDK_CONTEXT_JSON: '{"port":1}' } }))).not.toBe(key);
    expect(definitionCacheKey('release', options({ env: { UNRELATED: 'x' } }))).toBe(key);
    expect(definitionCacheKey('release', options({ nodeVersion: 'v99.0.0' }))).not.toBe(key);
    const compiled = definitionCacheKey('release', options({ compiledSourcesHash: '1-aaaa' }));
    expect(compiled).not.toBe(key);
    expect(definitionCacheKey('release', options({ compiledSourcesHash: '1-bbbb' }))).not.toBe(compiled);
  });

  it('keys the compiled CLI by its build: the sources it was compiled from, not the files as they are now', () => {
    const compiled = options({ compiledSourcesHash: '1-aaaa' });
    const key = definitionCacheKey('release', compiled);
    expect(keyAfter(edit('lib/orchestrator.ts'), compiled)).toBe(key);
    expect(keyAfter(edit('cdk.json', ' '), compiled)).not.toBe(key);
  });

  it('gives no key, running as TypeScript, when the code changed after the process started', () => {
    const started = Date.now();
    const file = join(root, 'lib', 'orchestrator.ts');
    const later = new Date(started + 5_000);
    utimesSync(file, later, later);
    try {
      expect(definitionCacheKey('release', options({ startedAtMs: started }))).toBeUndefined();
      // The compiled CLI runs its build, whatever the files became since.
      expect(
        definitionCacheKey('release', options({ startedAtMs: started, compiledSourcesHash: '1-a' })),
      ).toBeDefined();
    } finally {
      const earlier = new Date(started - 60_000);
      utimesSync(file, earlier, earlier);
    }
    expect(definitionCacheKey('release', options({ startedAtMs: started }))).toBeDefined();
  });

  it('gives no key when cdk.json does not parse (the synthesis says what is wrong)', () => {
    expect(keyAfter(edit('cdk.json', '}'))).toBeUndefined();
  });
});

describe('the inputs of the synthesis', () => {
  /** The project's modules the synthesis loads (lib/stack.ts and what it imports), relative to the root. */
  async function synthesisModules(): Promise<string[]> {
    const { metafile } = await esbuild.build({
      absWorkingDir: ROOT,
      entryPoints: [join(ROOT, 'lib', 'stack.ts'), join(ROOT, 'lib', 'asl.ts')],
      bundle: true,
      write: false,
      outdir: join(ROOT, '.cache', 'unused'),
      platform: 'node',
      format: 'esm',
      packages: 'external',
      metafile: true,
      logLevel: 'silent',
    });
    return Object.keys(metafile.inputs).sort();
  }

  it('are all in the code the key hashes: lib/ and lambdas/ import nothing else of the project', async () => {
    const modules = await synthesisModules();
    expect(modules).toContain('lib/orchestrator.ts');
    expect(modules).toContain('lambdas/shared/contract/contract.ts');
    const outside = modules.filter((file) => !SYNTHESIS_CODE.dirs.some((dir) => file.startsWith(`${dir}/`)));
    expect(outside).toEqual([]);
  });

  it('read no environment variable and no file but those the key covers', async () => {
    const modules = await synthesisModules();
    const readers: Record<string, string[]> = {};
    for (const file of modules) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      const reads = [
        ...text.matchAll(/\b(process\.env|readFileSync|readdirSync|existsSync|statSync|readFile|readdir)\b/g),
      ].map((match) => match[1] as string);
      if (reads.length > 0) readers[file] = [...new Set(reads)].sort();
    }
    // Each of these reads an input of the key: cdk.json (SYNTHESIS_FILES); the migrations folder cdk.json names
    // and its migration_lock.toml; the step entry points under lambdas/ and package-lock.json; the WebAssembly
    // files of the installed packages (package-lock.json). A new reader must put what it reads into the key.
    expect(readers).toEqual({
      'lib/private/bundling.ts': ['existsSync'],
      'lib/private/props-validation.ts': ['existsSync', 'readFileSync', 'readdirSync', 'statSync'],
      'lib/stack.ts': ['readFileSync'],
    });
  });
});
