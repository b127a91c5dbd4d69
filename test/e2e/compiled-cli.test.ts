/**
 * The compiled CLI as `npm start` runs it (bin/prisma-migration-orchestrator.mjs, bin/build-cli.mjs), in a copy of
 * the project: compiled on first start, compiled again after any source changes (never a stale build), and a
 * nothing-to-do run from the cached workflow definition without aws-cdk-lib.
 */
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, runNode } from '../helpers/cli.js';
import { dropDatabasesAndCopies, uniqueName, urlFor } from '../helpers/database.js';

const ROOT = resolve(import.meta.dirname, '../..');
let copy: string;
const databases: string[] = [];

type Run = CliRun;

/** `node bin/prisma-migration-orchestrator.mjs ARGS` in the copy (what `npm start` runs). */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return runNode(['bin/prisma-migration-orchestrator.mjs', ...args], { cwd: copy, env });
}

function builds(): string[] {
  return readdirSync(join(copy, '.cache', 'cli')).filter((name) => !name.endsWith('.json'));
}

function definitions(): string[] {
  try {
    return readdirSync(join(copy, '.cache', 'definitions'));
  } catch {
    return [];
  }
}

/** Replaces `search` in a file of the copy; the returned function restores it. */
function edit(path: string, search: string, replacement: string): () => void {
  const file = join(copy, path);
  const before = readFileSync(file, 'utf8');
  expect(before).toContain(search);
  writeFileSync(file, before.replace(search, replacement));
  return () => writeFileSync(file, before);
}

beforeAll(() => {
  copy = mkdtempSync(join(tmpdir(), 'compiled-cli-'));
  for (const path of ['bin', 'lib', 'lambdas', 'prisma']) {
    cpSync(join(ROOT, path), join(copy, path), { recursive: true });
  }
  for (const file of ['package.json', 'package-lock.json', 'tsconfig.json', 'cdk.json']) {
    cpSync(join(ROOT, file), join(copy, file));
  }
  // node_modules: the project's packages, one link each (so that one can be taken away).
  mkdirSync(join(copy, 'node_modules'));
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (name === '.cache') continue;
    symlinkSync(join(ROOT, 'node_modules', name), join(copy, 'node_modules', name));
  }
});

afterAll(async () => {
  await dropDatabasesAndCopies(databases);
  rmSync(copy, { recursive: true, force: true });
});

describe('the compiled CLI', () => {
  it('is compiled on first start, and again whenever a source under bin/, lib/ or lambdas/ changes', async () => {
    const first = await cli(['--help']);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^Usage:/);
    expect(first.stdout).toContain('(7 daily, 4 weekly, 12 monthly backups');
    expect(builds()).toHaveLength(1);

    const again = await cli(['--help']);
    expect(again.stdout).toBe(first.stdout);
    expect(builds()).toHaveLength(1);

    const restoreCli = edit('bin/cli.ts', 'const USAGE = `Usage:', 'const USAGE = `Usage (edited):');
    const edited = await cli(['--help']);
    expect(edited.stdout).toMatch(/^Usage \(edited\):/);
    expect(builds()).toHaveLength(2);
    restoreCli();

    const restoreRetention = edit('lambdas/shared/domain/retention.ts', 'daily: 7,', 'daily: 9,');
    const retention = await cli(['--help']);
    expect(retention.stdout).toContain('(9 daily, 4 weekly, 12 monthly backups');
    expect(builds()).toHaveLength(3);
    restoreRetention();

    // Back to the first sources: their build again, none new.
    const restored = await cli(['--help']);
    expect(restored.stdout).toBe(first.stdout);
    expect(builds()).toHaveLength(3);
  });

  it('answers a nothing-to-do run from the cached definition, without loading aws-cdk-lib', async () => {
    const name = uniqueName('h14_compiled');
    databases.push(name);
    const env = { DATABASE_URL: urlFor(name) };
    const release = await cli(['run'], env);
    expect(release.stderr).toBe('');
    expect(release.stdout).toContain('outcome:    succeeded (exit 0)');
    expect(release.code).toBe(0);
    expect(definitions()).toHaveLength(1);

    // aws-cdk-lib as installed (the same package.json, so the same cache key) but with none of its modules.
    const link = join(copy, 'node_modules', 'aws-cdk-lib');
    rmSync(link);
    mkdirSync(link);
    cpSync(join(ROOT, 'node_modules', 'aws-cdk-lib', 'package.json'), join(link, 'package.json'));
    try {
      const nothing = await cli(['run'], env);
      expect(nothing.stderr).toBe('');
      expect(nothing.stdout).toContain('outcome:    nothing-to-do (exit 0)');
      expect(nothing.code).toBe(0);
      expect(definitions()).toHaveLength(1);

      // The check sees a synthesis: with another transaction mode there is no cached definition.
      const synthesis = await cli(['run', '--transaction-mode', 'per-migration'], env);
      expect(synthesis.code).not.toBe(0);
      expect(synthesis.stderr + synthesis.stdout).toMatch(/aws-cdk-lib/);
    } finally {
      rmSync(link, { recursive: true, force: true });
      symlinkSync(join(ROOT, 'node_modules', 'aws-cdk-lib'), link);
    }
  });
});
