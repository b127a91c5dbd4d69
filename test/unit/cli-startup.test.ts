/**
 * What the CLI loads before it knows the command: the static imports of bin/cli.ts, followed through the project's
 * files. `--help` and the AWS commands must answer without the local runner (the CDK app, Prisma's engine,
 * PostgreSQL's client) or an AWS SDK client; each command loads those itself (dynamic `import()`).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');

/** The modules a file imports statically (value imports: `import type` and dynamic `import()` load nothing). */
function staticImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const match of text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+'([^']+)';/gms)) {
    found.push(match[1] as string);
  }
  for (const match of text.matchAll(/^import\s+'([^']+)';/gm)) found.push(match[1] as string);
  return found;
}

/** Every module the file loads at startup: project files (by path) and packages (by name). */
function startupGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const specifier of staticImports(file)) {
      if (specifier.startsWith('.')) visit(join(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else if (!specifier.startsWith('node:')) packages.add(specifier);
    }
  };
  visit(entry);
  return { files, packages };
}

describe('the CLI at startup', () => {
  const { files, packages } = startupGraph(join(ROOT, 'bin', 'cli.ts'));
  const relative = [...files].map((file) => file.slice(ROOT.length + 1));

  it('loads neither the local runner nor the CDK app, the engine, PostgreSQL or the AWS commands', () => {
    expect(relative).not.toContain('lib/local/runner.ts');
    expect(relative).not.toContain('lib/stack.ts');
    expect(relative).not.toContain('bin/operator/aws-commands.ts');
    expect(relative.filter((file) => file.startsWith('lambdas/shared/adapters/'))).toEqual([]);
    expect([...packages].filter((name) => /^(aws-cdk-lib|pg$|@aws-sdk\/|@prisma\/|tsx)/.test(name))).toEqual(
      [],
    );
  });

  it('takes the exit codes of its usage from the outcomes, not from the runner', () => {
    expect(relative).toContain('lib/local/outcomes.ts');
  });

  it('sees a static import of the runner (the check itself works)', () => {
    const before = staticImports(join(ROOT, 'test', 'unit', 'cli-startup.test.ts'));
    expect(before).toContain('vitest');
    const runner = startupGraph(join(ROOT, 'lib', 'local', 'runner.ts'));
    expect([...runner.files].map((file) => file.slice(ROOT.length + 1))).toContain('lib/asl.ts');
    expect([...runner.packages]).toContain('aws-local-stepfunctions');
  });

  it('the runner loads the CDK app only to synthesize (a cached definition needs no aws-cdk-lib)', () => {
    const runner = startupGraph(join(ROOT, 'lib', 'local', 'runner.ts'));
    expect([...runner.files].map((file) => file.slice(ROOT.length + 1))).not.toContain('lib/stack.ts');
    expect([...runner.packages].filter((name) => /^(aws-cdk-lib|constructs|cdk-nag)/.test(name))).toEqual([]);
  });

  it("the runner loads PostgreSQL's parser only when there is something to analyse (a run with nothing pending never)", () => {
    const runner = startupGraph(join(ROOT, 'lib', 'local', 'runner.ts'));
    const files = [...runner.files].map((file) => file.slice(ROOT.length + 1));
    expect(files).toContain('lambdas/shared/adapters/prisma/migration-engine.ts');
    expect(files).not.toContain('lambdas/shared/domain/release-analysis.ts');
    expect(files).not.toContain('lambdas/shared/adapters/prisma/lock-holders.ts');
    expect([...runner.packages].filter((name) => /^(pgsql-parser|libpg-query|@pgsql\/)/.test(name))).toEqual(
      [],
    );
  });

  it('the usage of the AWS commands loads no AWS SDK', () => {
    const usage = startupGraph(join(ROOT, 'bin', 'operator', 'usage.ts'));
    expect([...usage.packages]).toEqual([]);
  });
});
