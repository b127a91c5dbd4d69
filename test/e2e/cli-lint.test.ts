/**
 * The lint from the command line (`npm start -- --lint-policy ...`): a bad policy refused before anything is
 * created, the sample's own release deployed with its acknowledgement shown, a blocking finding of a user's
 * migrations refused by preflight, and the same release acknowledged in `--input`, as a user runs them: a separate
 * process, its output and exit code, and what exists on the server afterwards.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSampleDatabase, SAMPLE_MIGRATIONS_DIR } from '../../bin/sample/sample-app.js';
import { sanitizeIdentifierPart } from '../../lambdas/shared/domain/identifiers.js';
import { type CliRun, runCli } from '../helpers/cli.js';
import { adminUrl, dropDatabase, uniqueName, urlFor, withAdmin, withClient } from '../helpers/database.js';

const SPLIT = '20250122090000_split_user_name';
const created: string[] = [];
const folders: string[] = [];

afterAll(async () => {
  for (const name of created) for (const db of await databasesNamed(name)) await dropDatabase(db);
  for (const dir of folders) await rm(dir, { recursive: true, force: true });
});

function start(args: string[], databaseUrl: string): Promise<CliRun> {
  return runCli(['run', ...args], { env: { DATABASE_URL: databaseUrl } });
}

function databaseName(prefix: string): string {
  const name = uniqueName(prefix);
  created.push(name);
  return name;
}

async function databasesNamed(name: string): Promise<string[]> {
  return await withAdmin(async (client) =>
    (
      await client.query<{ datname: string }>(
        "SELECT datname FROM pg_database WHERE starts_with(datname, $1) OR starts_with(datname, $2 || '-') ORDER BY datname",
        [name, sanitizeIdentifierPart(name)],
      )
    ).rows.map((row) => row.datname),
  );
}

async function appliedMigrations(url: string): Promise<string[]> {
  return await withClient(url, async (client) =>
    (
      await client.query<{ migration_name: string }>(
        'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL ORDER BY 1',
      )
    ).rows.map((row) => row.migration_name),
  );
}

// Each run is a process that starts tsx and synthesizes the stack: seconds each, more on a loaded machine.
describe('npm start -- --lint-policy', { timeout: 240_000 }, () => {
  it.each([
    [
      'a rule that does not exist',
      'drop-everything=block',
      /--lint-policy: "drop-everything" is not a rule \(rules: drop-table/,
    ],
    [
      'a severity that is not block, warn or off',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a hostile shell command as the value, not a template
      'truncate=$(rm${IFS}-rf${IFS}~)',
      /--lint-policy: truncate must be one of block, warn, off/,
    ],
    [
      'a value that is not rule=severity pairs',
      'block',
      /--lint-policy takes comma-separated rule=block\|warn\|off pairs/,
    ],
  ])('exits 1 and creates nothing when given %s', async (_case, value, message) => {
    // Prepare
    const name = databaseName('cli_lint_bad');
    // Act
    const result = await start(['--lint-policy', value], urlFor(name));
    // Assess
    expect(result.code, result.stdout).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(await databasesNamed(name)).toEqual([]);
  });

  it("deploys the sample's own release with its acknowledgement, shown with its reason", async () => {
    // Prepare: the first run creates the sample database at its previous release.
    const name = databaseName('cli_lint_sample');
    const url = urlFor(name);
    // Act: npm start, no --input, the default policy.
    const result = await start([], url);
    // Assess
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain(
      `acknowledged: drop-column in ${SPLIT} (${SPLIT}/migration.sql:12:1, "ALTER TABLE "User"`,
    );
    expect(result.stdout).toContain(
      'name copied into firstName and lastName by the same migration before the drop',
    );
    expect(await appliedMigrations(url)).toContain(SPLIT);
    // Act: a second run, nothing pending: no acknowledgement of an applied migration to warn about.
    const again = await start([], url);
    expect(again.code, again.stdout).toBe(0);
    expect(again.stdout).not.toContain('acknowledge');
  });

  it("refuses a user's release that drops a column, then runs it when --input acknowledges it", async () => {
    // Prepare: the sample at its previous release, and its migrations copied as a user's own folder (the CLI
    // acknowledges only the sample's own migrations).
    const name = databaseName('cli_lint');
    const url = urlFor(name);
    await createSampleDatabase(adminUrl(), name, SAMPLE_MIGRATIONS_DIR);
    const migrations = await mkdtemp(join(tmpdir(), 'cli-lint-migrations-'));
    folders.push(migrations);
    await cp(SAMPLE_MIGRATIONS_DIR, migrations, { recursive: true });
    // Act: blocked by the default policy
    const blocked = await start(['--migrations', migrations], url);
    // Assess: refused in preflight, nothing applied, no snapshot taken, the acknowledgement named
    expect(blocked.code, blocked.stdout).toBe(1);
    expect(blocked.stdout).toContain('outcome:    preflight-refused');
    expect(blocked.stdout).toContain(`${SPLIT}/migration.sql:12:1 drop-column: column "name" of "User"`);
    expect(blocked.stdout).toContain(`"rule": "drop-column", "migration": "${SPLIT}"`);
    expect(await appliedMigrations(url)).not.toContain(SPLIT);
    expect((await databasesNamed(name)).filter((db) => db !== name)).toEqual([]);
    // Act: acknowledged
    const reason = 'name is copied into firstName and lastName first';
    const acknowledged = await start(
      [
        '--migrations',
        migrations,
        '--input',
        JSON.stringify({ acknowledge: [{ rule: 'drop-column', migration: SPLIT, reason }] }),
      ],
      url,
    );
    // Assess: applied, the acknowledgement shown with its reason, the warnings too
    expect(acknowledged.code, acknowledged.stdout).toBe(0);
    expect(acknowledged.stdout).toContain(
      `acknowledged: drop-column in ${SPLIT} (${SPLIT}/migration.sql:12:1, "ALTER TABLE "User"`,
    );
    expect(acknowledged.stdout).toContain(reason);
    expect(acknowledged.stdout).toMatch(/warning: {4}Lint \(warn\): .*update-without-where/);
    expect(await appliedMigrations(url)).toContain(SPLIT);
  });
});
