/**
 * The sample application's database for the demos: created on first use at the previous release (the
 * first three migrations of prisma/migrations), filled with a little realistic data, so that the workflow
 * then deploys the last two (including the data-preserving split of "User"."name").
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import pg from 'pg';
import { urlWithDatabase, withClient } from '../../lambdas/shared/adapters/postgres/connection.js';
import { DirectoryMigrationSource } from '../../lambdas/shared/adapters/prisma/directory-migration-source.js';
import { PrismaMigrationEngine } from '../../lambdas/shared/adapters/prisma/migration-engine.js';
import { ROOT, SAMPLE_MIGRATIONS_DIR } from './paths.js';

export { pendingSampleAcknowledgements, withSampleAcknowledgements } from './release-input.js';
export { SAMPLE_MIGRATIONS_DIR };

/** Where the release fixtures live: each holds only its release's new migrations. */
export const RELEASE_FIXTURES_DIR = join(ROOT, 'prisma', 'releases');

/** The migration folders of a release fixture, after those of the fixtures it builds on (its `BASE` file). */
async function fixtureLayers(fixture: string, seen: readonly string[] = []): Promise<string[]> {
  if (seen.includes(fixture))
    throw new Error(`Release fixtures build on each other in a cycle: ${[...seen, fixture].join(' -> ')}`);
  const source = join(RELEASE_FIXTURES_DIR, fixture);
  const entries = await readdir(source, { withFileTypes: true }).catch(() => {
    throw new Error(`No release fixture named ${fixture} in ${RELEASE_FIXTURES_DIR}.`);
  });
  const base = entries.some((e) => e.isFile() && e.name === 'BASE')
    ? (await readFile(join(source, 'BASE'), 'utf8')).split(/\s+/).filter(Boolean)
    : [];
  const layers: string[] = [];
  for (const name of base) layers.push(...(await fixtureLayers(name, [...seen, fixture])));
  return [...layers, ...entries.filter((e) => e.isDirectory()).map((e) => join(source, e.name))];
}

/** Composed releases of this process, by fixture and base; their directories go when the process exits. */
const composed = new Map<string, Promise<string>>();
const created: string[] = [];

/**
 * A migrations directory in Prisma's layout for a release fixture: the sample app's migrations, then those
 * of the fixtures it builds on (named in its `BASE` file), then its own, copied once per process into a
 * temporary directory that is removed when the process exits. Read it; do not change it.
 */
export function composeRelease(fixture: string, base = SAMPLE_MIGRATIONS_DIR): Promise<string> {
  const key = `${fixture}\u0000${base}`;
  let dir = composed.get(key);
  if (dir === undefined) {
    if (composed.size === 0) {
      process.once('exit', () => {
        for (const path of created) rmSync(path, { recursive: true, force: true });
      });
    }
    dir = compose(fixture, base);
    composed.set(key, dir);
  }
  return dir;
}

async function compose(fixture: string, base: string): Promise<string> {
  const layers = await fixtureLayers(fixture);
  const dir = await mkdtemp(join(tmpdir(), `release-${fixture}-`));
  created.push(dir);
  await cp(base, dir, { recursive: true });
  for (const layer of layers) await cp(layer, join(dir, basename(layer)), { recursive: true });
  return dir;
}

/** The migrations already deployed before the demo release. */
export const BASELINE_MIGRATIONS = 3;

/** Runs `fn` on the server's `postgres` database. */
function withAdmin<T>(serverUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  return withClient(urlWithDatabase(serverUrl, 'postgres'), fn);
}

export async function databaseExists(serverUrl: string, name: string): Promise<boolean> {
  return await withAdmin(
    serverUrl,
    async (client) =>
      ((await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount ?? 0) > 0,
  );
}

export async function recreateDatabase(serverUrl: string, name: string): Promise<void> {
  await withAdmin(serverUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  });
}

/**
 * Drops the databases a previous demo left: its snapshots, restored copies and failed databases kept aside
 * (`<prefix>-premigration-*`, `-restored-*`, `-rolledback-*`). Returns their names.
 */
export async function dropDemoLeftovers(serverUrl: string, prefix: string): Promise<string[]> {
  return await withAdmin(serverUrl, async (client) => {
    const result = await client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname ~ ('^' || $1 || '-(premigration|restored|rolledback)-')`,
      [prefix],
    );
    for (const { datname } of result.rows) {
      await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(datname)} WITH (FORCE)`);
    }
    return result.rows.map((row) => row.datname);
  });
}

/** Deterministic, realistic rows for the schema of the first three migrations. */
export const SEED_SQL = `
INSERT INTO "User" ("email", "name", "createdAt")
SELECT lower(f) || '.' || lower(l) || g || '@example.com', f || ' ' || l, TIMESTAMP '2024-11-01' + g * INTERVAL '1 day'
FROM (SELECT g, (ARRAY['Ada','Grace','Alan','Edsger','Barbara','Donald','Margaret','Ken'])[1 + g % 8] AS f,
             (ARRAY['Lovelace','Hopper','Turing','Dijkstra','Liskov','Knuth','Hamilton','Thompson'])[1 + (g * 3) % 8] AS l
      FROM generate_series(1, 24) AS g) AS people;
INSERT INTO "User" ("email", "name", "createdAt") VALUES ('cher@example.com', 'Cher', TIMESTAMP '2024-12-01');
INSERT INTO "Project" ("name", "ownerId", "createdAt")
SELECT 'Project ' || (ARRAY['Apollo','Borealis','Cascade','Delta','Ember','Fjord'])[g], 1 + (g * 5) % 25,
       TIMESTAMP '2024-12-01' + g * INTERVAL '3 days'
FROM generate_series(1, 6) AS g;
INSERT INTO "Task" ("title", "status", "projectId", "assigneeId", "dueAt", "createdAt")
SELECT 'Task ' || g || ': ' || (ARRAY['write spec','review PR','fix flaky test','update docs','ship release'])[1 + g % 5],
       (ARRAY['TODO','IN_PROGRESS','DONE']::"TaskStatus"[])[1 + g % 3], 1 + g % 6,
       CASE WHEN g % 7 = 0 THEN NULL ELSE 1 + g % 25 END,
       CASE WHEN g % 4 = 0 THEN NULL ELSE TIMESTAMP '2025-01-01' + (g - 30) * INTERVAL '2 days' END,
       TIMESTAMP '2024-12-15' + g * INTERVAL '6 hours'
FROM generate_series(1, 80) AS g;
INSERT INTO "Comment" ("body", "taskId", "authorId", "createdAt")
SELECT (ARRAY['Looks good to me.','Can we split this?','Blocked on review.','Done, please check.'])[1 + g % 4],
       1 + g % 80, 1 + (g * 7) % 25, TIMESTAMP '2025-01-02' + g * INTERVAL '90 minutes'
FROM generate_series(1, 150) AS g;
`;

/** Applies the first `count` migrations of `migrationsDir` with our engine (what an earlier release did). */
export async function applyFirstMigrations(
  databaseUrl: string,
  migrationsDir: string,
  count: number,
): Promise<string[]> {
  const bundle = await new DirectoryMigrationSource(migrationsDir).load();
  const dir = await mkdtemp(join(tmpdir(), 'baseline-'));
  try {
    await cp(join(migrationsDir, 'migration_lock.toml'), join(dir, 'migration_lock.toml'));
    for (const migration of bundle.migrations.slice(0, count)) {
      await cp(join(migrationsDir, migration.name), join(dir, migration.name), { recursive: true });
    }
    const engine = new PrismaMigrationEngine({ connectionString: databaseUrl });
    try {
      const baseline = await new DirectoryMigrationSource(dir).load();
      return [...(await engine.applyPending(baseline, { transactionMode: 'release' })).applied];
    } finally {
      await engine.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function seed(databaseUrl: string): Promise<void> {
  await withClient(databaseUrl, (client) => client.query(SEED_SQL));
}

/**
 * True for what PostgreSQL answers when `CREATE DATABASE` or a rename meets a name that another session took
 * meanwhile: `42P04` (duplicate_database), or, when both commit at once, the unique violation on
 * `pg_database_datname_index`.
 */
export function isDuplicateDatabase(error: unknown): boolean {
  const { code, constraint } = (error ?? {}) as { code?: unknown; constraint?: unknown };
  return code === '42P04' || (code === '23505' && constraint === 'pg_database_datname_index');
}

/**
 * Creates database `name`, empty, unless it exists: `exists` when it did (or a concurrent run created it
 * first), `created` when this call did.
 */
export async function createDatabaseIfMissing(
  serverUrl: string,
  name: string,
): Promise<'created' | 'exists'> {
  return await withAdmin(serverUrl, async (client) => {
    try {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      return 'created' as const;
    } catch (error) {
      if (isDuplicateDatabase(error)) return 'exists' as const;
      throw error;
    }
  });
}

/**
 * Creates the sample database `name` at the previous release with data, unless it exists. It is built under
 * a temporary name (`<name>_building_<random>`) and renamed when complete, so the name never holds a
 * half-built database, and a concurrent run that renamed first wins: this one then drops its copy and answers
 * `exists`. Nothing of it is left behind on failure.
 */
export async function createSampleDatabaseIfMissing(
  serverUrl: string,
  name: string,
  migrationsDir: string,
  baseline = BASELINE_MIGRATIONS,
): Promise<'created' | 'exists'> {
  const building = `${name.slice(0, 40)}_building_${randomBytes(4).toString('hex')}`;
  const drop = () =>
    withAdmin(serverUrl, (client) =>
      client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(building)} WITH (FORCE)`),
    );
  await withAdmin(serverUrl, (client) => client.query(`CREATE DATABASE ${pg.escapeIdentifier(building)}`));
  try {
    const url = urlWithDatabase(serverUrl, building);
    await applyFirstMigrations(url, migrationsDir, baseline);
    await seed(url);
    return await withAdmin(serverUrl, async (client) => {
      try {
        await client.query(
          `ALTER DATABASE ${pg.escapeIdentifier(building)} RENAME TO ${pg.escapeIdentifier(name)}`,
        );
        return 'created' as const;
      } catch (error) {
        if (!isDuplicateDatabase(error)) throw error;
        await drop();
        return 'exists' as const;
      }
    });
  } catch (error) {
    await drop().catch(() => undefined);
    throw error;
  }
}

/** Creates the sample database at the previous release with data, returning the baseline migrations. */
export async function createSampleDatabase(
  serverUrl: string,
  name: string,
  migrationsDir: string,
  baseline = BASELINE_MIGRATIONS,
): Promise<string[]> {
  await recreateDatabase(serverUrl, name);
  const url = urlWithDatabase(serverUrl, name);
  const applied = await applyFirstMigrations(url, migrationsDir, baseline);
  await seed(url);
  return applied;
}
