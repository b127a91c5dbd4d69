/**
 * Interrupts leave a state anyone can recover from: SIGINT/SIGTERM sent to a run in a separate process
 * (the CLI, or a small script driving `runLocal` where a pause point is needed) during apply, during
 * verification and during the swap; and the next run after a run that died mid-swap.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { databaseNameFor } from '../../lambdas/shared/adapters/postgres/snapshot-gateway.js';
import { shadowDatabaseName } from '../../lambdas/shared/adapters/prisma/shadow-database.js';
import { sanitizeIdentifierPart } from '../../lambdas/shared/domain/identifiers.js';
import { runLocal } from '../../lib/local/runner.js';
import {
  createDatabase,
  dropDatabase,
  dropDatabasesAndCopies,
  urlFor,
  withAdmin,
  withClient,
} from '../helpers/database.js';
import { migrationsDirectory, removeMigrationDirectories } from '../helpers/migrations.js';

const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURE = 'test/fixtures/interrupts/run.ts';
const databases: string[] = [];

interface Running {
  readonly child: ChildProcess;
  output: () => string;
  exited: Promise<number | string>;
}

function start(script: string, args: string[], env: Record<string, string>): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  const exited = new Promise<number | string>((done) =>
    child.once('exit', (code, signal) => done(code ?? signal ?? -1)),
  );
  return { child, output: () => text, exited };
}

/** Polls `probe` until it returns a value, or fails the test after `ms`. */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 90_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function within<T>(running: Running, ms = 90_000): Promise<T | number | string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((done) => {
    timer = setTimeout(() => {
      running.child.kill('SIGKILL');
      done('did not exit');
    }, ms);
  });
  try {
    return await Promise.race([running.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function exists(name: string): Promise<boolean> {
  return await withAdmin(
    async (client) =>
      ((await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount ?? 0) > 0,
  );
}

/** Sessions on the server whose query contains `marker`. */
async function statementsWith(
  marker: string,
): Promise<{ pid: number; datname: string; wait_event: string | null }[]> {
  return await withAdmin(
    async (client) =>
      (
        await client.query<{ pid: number; datname: string; wait_event: string | null }>(
          `SELECT pid, datname, wait_event FROM pg_stat_activity WHERE query LIKE $1 AND pid <> pg_backend_pid()`,
          [`%${marker}%`],
        )
      ).rows,
  );
}

/**
 * The shadow database where a statement with `marker` is sleeping (`pg_sleep`), if any. Sleeping, not just seen:
 * a session keeps its last query in `pg_stat_activity` while idle, so an earlier replay that ran the same statement
 * without sleeping (preflight's, before the snapshot) would otherwise be taken for the one the test waits for.
 */
async function sleepingInShadow(marker: string): Promise<string | undefined> {
  return (await statementsWith(marker)).find(
    (session) => session.datname?.startsWith('prisma_migrate_shadow_db_') && session.wait_event === 'PgSleep',
  )?.datname;
}

async function copiesOf(database: string, kind: string): Promise<string[]> {
  return await withAdmin(async (client) =>
    (
      await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [
        `${sanitizeIdentifierPart(database)}-${kind}-%`,
      ])
    ).rows.map((row) => row.datname),
  );
}

async function tablesOf(url: string): Promise<string[]> {
  return await withClient(url, async (client) =>
    (
      await client.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
      )
    ).rows.map((row) => row.table_name),
  );
}

const BASE: [string, string] = [
  '20250101000000_base',
  'CREATE TABLE "A" ("id" INTEGER);\nINSERT INTO "A" VALUES (1), (2), (3);\n',
];

/** A database at the base release, with data. */
async function baseDatabase(prefix: string): Promise<{ name: string; url: string }> {
  const db = await createDatabase(prefix);
  databases.push(db.name);
  const result = await runLocal({ databaseUrl: db.url, migrationsDir: await migrationsDirectory([BASE]) });
  expect(result.outcome).toBe('succeeded');
  return db;
}

afterAll(async () => {
  await removeMigrationDirectories();
  await dropDatabasesAndCopies(databases);
});

describe('an interrupted run', { timeout: 240_000 }, () => {
  it.each(['SIGINT', 'SIGTERM'] as const)(
    'ends its migration statement on the server when it gets %s during apply, and exits 130 with the database unchanged',
    async (signal) => {
      // Prepare
      const db = await baseDatabase('int_apply');
      const marker = `interrupt_apply_${db.name}`;
      // Slow on the target only: preflight replays the release in a temporary database first (expected schemas).
      const release = await migrationsDirectory([
        BASE,
        [
          '20250201000000_slow',
          'CREATE TABLE "B" ("id" INTEGER);\n' +
            `SELECT pg_sleep(CASE WHEN current_database() = '${db.name}' THEN 60 ELSE 0 END) /* ${marker} */;\n`,
        ],
      ]);
      const run = start('bin/cli.ts', ['run', '--migrations', release], { DATABASE_URL: db.url });
      await waitFor('the migration statement', async () =>
        (await statementsWith(marker)).some((session) => session.datname === db.name) ? true : undefined,
      );

      // Act
      run.child.kill(signal);
      const code = await within(run);

      // Assess
      expect(code).toBe(130);
      const output = run.output();
      expect(output).toContain(`${signal}: stopping the run`);
      expect(output).toContain('interrupted: during apply-migrations');
      expect(output).toContain(
        `nothing of the release committed (read from _prisma_migrations): ${db.name} is unchanged`,
      );
      expect(output).toContain('next:       run again when ready.');
      expect(await statementsWith(marker)).toEqual([]);
      expect(await tablesOf(db.url)).toEqual(['A', '_prisma_migrations']);
      expect(await copiesOf(db.name, 'premigration')).toHaveLength(1); // the base release's only
    },
  );

  it('drops the temporary database of its expected schemas when it gets SIGTERM during preflight', async () => {
    // Prepare: a migration that sleeps where preflight replays it (the expected schemas), before any snapshot
    const db = await baseDatabase('int_preflight');
    const marker = `interrupt_preflight_${db.name}`;
    const release = await migrationsDirectory([
      BASE,
      [
        '20250201000000_b',
        'CREATE TABLE "B" ("id" INTEGER);\n' +
          `DO $$ BEGIN IF current_database() LIKE 'prisma_migrate_shadow_db_%' THEN PERFORM pg_sleep(60); END IF; END $$ /* ${marker} */;\n`,
      ],
    ]);
    const run = start('bin/cli.ts', ['run', '--migrations', release], { DATABASE_URL: db.url });
    const replay = await waitFor('the replay in a temporary database', () => sleepingInShadow(marker));

    // Act
    run.child.kill('SIGTERM');
    const code = await within(run);

    // Assess: nothing was touched, the temporary database is gone
    expect(code).toBe(130);
    const output = run.output();
    expect(output).toContain('interrupted: during preflight');
    expect(output).toMatch(new RegExp(`dropped the shadow database\\(s\\) [^\\n]*${replay}`));
    expect(await statementsWith(marker)).toEqual([]);
    expect(await exists(replay)).toBe(false);
    expect(await tablesOf(db.url)).toEqual(['A', '_prisma_migrations']);
    expect(await copiesOf(db.name, 'premigration')).toHaveLength(1); // the base release's only
  });

  it('drops the shadow database it created when it gets SIGTERM during verification', async () => {
    // Prepare: a migration that creates a table on the target only (so the live schema is not the expected one,
    // and verification asks the engine, which replays the migrations in a shadow database), and that sleeps in a
    // shadow database once the release's snapshot exists: in the engine's replay during verification, not in
    // preflight's replay before the snapshot.
    const db = await baseDatabase('int_verify');
    const marker = `interrupt_verify_${db.name}`;
    const snapshots = `${sanitizeIdentifierPart(db.name)}-premigration-%`;
    const release = await migrationsDirectory([
      BASE,
      [
        '20250201000000_b',
        'CREATE TABLE "B" ("id" INTEGER);\n' +
          `DO $$ BEGIN IF current_database() = '${db.name}' THEN CREATE TABLE "OnlyLive" ("id" INTEGER); END IF; END $$;\n` +
          `DO $$ BEGIN IF current_database() LIKE 'prisma_migrate_shadow_db_%' AND (SELECT count(*) FROM pg_database WHERE datname LIKE '${snapshots}') >= 2 THEN PERFORM pg_sleep(60); END IF; END $$ /* ${marker} */;\n`,
      ],
    ]);
    const run = start('bin/cli.ts', ['run', '--migrations', release], { DATABASE_URL: db.url });
    const shadow = await waitFor('the replay in a shadow database', () => sleepingInShadow(marker));

    // Another process's shadow database, as recent as ours and with nobody connected yet: never ours to drop.
    const foreign = shadowDatabaseName(new Date(), 'f0e1d2c3');
    await withAdmin((client) => client.query(`CREATE DATABASE "${foreign}"`));

    // Act
    run.child.kill('SIGTERM');
    const code = await within(run);

    // Assess
    expect(code).toBe(130);
    const output = run.output();
    expect(await exists(foreign)).toBe(true);
    await dropDatabase(foreign);
    expect(output).toContain('interrupted: during verify-health');
    // The replay's shadow database is among those the run dropped (the drift check may have made two).
    expect(output).toMatch(new RegExp(`dropped the shadow database\\(s\\) [^\\n]*${shadow}`));
    expect(await statementsWith(marker)).toEqual([]);
    expect(await exists(shadow)).toBe(false);
    expect(await tablesOf(db.url)).toEqual(['A', 'B', 'OnlyLive', '_prisma_migrations']);
    expect(output).toContain(`${db.name} holds part or all of the release`);
  });

  it.each(['SIGINT', 'SIGTERM'] as const)(
    'completes the half-done swap of a rollback when it gets %s, so the original name holds the restored data',
    async (signal) => {
      // Prepare: a release that commits B, then fails: the rollback restores the base release; pause the
      // swap after its first rename (the original is aside, the restored copy not yet in place)
      const db = await baseDatabase('int_swap');
      const release = await migrationsDirectory([
        BASE,
        ['20250201000000_b', 'CREATE TABLE "B" ("id" INTEGER);\n'],
        ['20250202000000_fails', 'SELECT 1/0;\n'],
      ]);
      const run = start(FIXTURE, [], {
        DATABASE_URL: db.url,
        MIGRATIONS: release,
        TRANSACTION_MODE: 'per-migration',
        PAUSE_STEP: 'swap',
        PAUSE_CALL: '2',
      });
      await waitFor('the pause between the renames', async () =>
        run.output().includes('PAUSED swap 2') ? true : undefined,
      );
      expect(await exists(db.name)).toBe(false);

      // Act
      run.child.kill(signal);
      const code = await within(run);

      // Assess
      expect(code).toBe(130);
      const result = JSON.parse(run.output().trim().split('\n').at(-1) ?? '{}') as {
        outcome: string;
        interruption: { facts: string[]; nextAction: string };
        state: { restore: { asideIdentifier: string; restoredIdentifier: string } };
      };
      expect(result.outcome).toBe('interrupted');
      expect(result.interruption.facts.join('\n')).toContain('it was completed');
      expect(await exists(db.name)).toBe(true);
      expect(await tablesOf(db.url)).toEqual(['A', '_prisma_migrations']);
      const rows = await withClient(db.url, (client) => client.query('SELECT id FROM "A" ORDER BY id'));
      expect(rows.rows).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
      const aside = databaseNameFor(result.state.restore.asideIdentifier);
      expect(await exists(aside)).toBe(true);
      expect(await exists(databaseNameFor(result.state.restore.restoredIdentifier))).toBe(false);
      expect(result.interruption.nextAction).toContain(`DROP DATABASE "${aside}"`);

      // The next run finds a finished rollback: nothing to do, and the copy kept aside listed
      const next = start('bin/cli.ts', ['run', '--migrations', await migrationsDirectory([BASE])], {
        DATABASE_URL: db.url,
      });
      expect(await within(next)).toBe(0);
      expect(next.output()).toContain(`kept aside: ${aside}`);
      expect(next.output()).toContain(`DROP DATABASE "${aside}"`);
    },
  );

  it('exits at once on a second Ctrl-C during the cleanup, naming what may be left', async () => {
    // Prepare: a step that does not end when interrupted, so the cleanup waits for it
    const db = await baseDatabase('int_twice');
    const run = start(FIXTURE, [], {
      DATABASE_URL: db.url,
      MIGRATIONS: await migrationsDirectory([
        BASE,
        ['20250201000000_b', 'CREATE TABLE "B" ("id" INTEGER);\n'],
      ]),
      PAUSE_STEP: 'apply-migrations',
      PAUSE_HOLDS: '1',
    });
    await waitFor('the pause before apply', async () =>
      run.output().includes('PAUSED apply-migrations 1') ? true : undefined,
    );
    run.child.kill('SIGINT');
    await waitFor('the cleanup', async () =>
      run.output().includes('SIGINT: interrupting') ? true : undefined,
    );

    // Act
    run.child.kill('SIGINT');
    const code = await within(run);

    // Assess
    expect(code).toBe(130);
    const output = run.output();
    expect(output).toContain('SIGINT again: exiting at once. What may be left: statements of this run');
    expect(output).toMatch(
      /application_name migration-orchestrator-run-[0-9a-f]{16} or prisma-orchestrator-apply-[0-9a-f]{16}/,
    );
    expect(output).toContain(`(${sanitizeIdentifierPart(db.name)}-restored-*) not yet renamed in`);
    expect(output).not.toContain('"outcome"');
  });
});

describe('the run after an execution that died', { timeout: 240_000 }, () => {
  it('refuses to start, touching nothing, when the target was renamed aside and the restored copy not yet renamed in', async () => {
    // Prepare: kill -9 between the two renames of the swap
    const db = await baseDatabase('int_left');
    const release = await migrationsDirectory([
      BASE,
      ['20250201000000_b', 'CREATE TABLE "B" ("id" INTEGER);\n'],
      ['20250202000000_fails', 'SELECT 1/0;\n'],
    ]);
    const dead = start(FIXTURE, [], {
      DATABASE_URL: db.url,
      MIGRATIONS: release,
      TRANSACTION_MODE: 'per-migration',
      PAUSE_STEP: 'swap',
      PAUSE_CALL: '2',
    });
    await waitFor('the pause between the renames', async () =>
      dead.output().includes('PAUSED swap 2') ? true : undefined,
    );
    dead.child.kill('SIGKILL');
    await within(dead);
    const [restored] = await copiesOf(db.name, 'restored');

    // Act: the sample's own migrations, which would create the sample database under a missing name
    const next = start('bin/cli.ts', ['run'], { DATABASE_URL: db.url });
    const code = await within(next);

    // Assess
    expect(code).toBe(1);
    const output = next.output();
    expect(output).toContain('an earlier execution did not finish');
    expect(output).toContain(`no database named ${db.name}`);
    expect(output).toContain(`ALTER DATABASE "${restored}" RENAME TO "${db.name}"`);
    expect(output).toContain('Nothing was created or changed.');
    expect(await exists(db.name)).toBe(false);
    expect(await copiesOf(db.name, 'rolledback')).toHaveLength(1);
    expect(await exists(restored ?? '')).toBe(true);
  });

  it("names the killed run's snapshot when it left a migration unfinished, and that snapshot restores", async () => {
    // Prepare: kill -9 during a migration with its own BEGIN/COMMIT (run outside a transaction of ours: its
    // _prisma_migrations row commits before the script does), sleeping on the target only
    const db = await baseDatabase('int_dead');
    const marker = `interrupt_dead_${db.name}`;
    const release = await migrationsDirectory([
      BASE,
      [
        '20250201000000_own_transaction',
        'BEGIN;\nCREATE TABLE "B" ("id" INTEGER);\n' +
          `SELECT pg_sleep(CASE WHEN current_database() = '${db.name}' THEN 60 ELSE 0 END) /* ${marker} */;\n` +
          'COMMIT;\n',
      ],
    ]);
    const dead = start('bin/cli.ts', ['run', '--migrations', release], { DATABASE_URL: db.url });
    await waitFor('the migration statement', async () =>
      (await statementsWith(marker)).some(
        (session) => session.datname === db.name && session.wait_event === 'PgSleep',
      )
        ? true
        : undefined,
    );
    dead.child.kill('SIGKILL');
    await within(dead);

    // Act: a run while the server has not noticed the dead client (it does when it next writes to it: the session
    // sleeps on, holding Prisma's migration lock); then, the session ended (as client_connection_check_interval or
    // an operator would), the same release again, and the restore its refusal gives
    const early = start('bin/cli.ts', ['run', '--migrations', release], { DATABASE_URL: db.url });
    const earlyCode = await within(early);
    await withAdmin((client) =>
      client.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND query LIKE $2',
        [db.name, `%${marker}%`],
      ),
    );
    await waitFor('the killed session to end', async () =>
      (await statementsWith(marker)).some((session) => session.datname === db.name) ? undefined : true,
    );

    const next = start('bin/cli.ts', ['run', '--migrations', release], { DATABASE_URL: db.url });
    const code = await within(next);
    const output = next.output();
    const [, snapshot] =
      /taken before 20250201000000_own_transaction started is (\S+) \(taken [^)]* by execution local-/.exec(
        output,
      ) ?? [];
    const restore = start('bin/cli.ts', ['restore', snapshot ?? 'none', '--confirm', db.name], {
      DATABASE_URL: db.url,
    });
    const restored = await within(restore);

    // Assess: not called failed while it may still run; then failed, with the snapshot, which restores
    expect(earlyCode, early.output()).toBe(1);
    expect(early.output()).toContain('_prisma_migrations shows 20250201000000_own_transaction started at');
    expect(early.output()).toContain(
      'it may still be running in that session, so it is not treated as failed',
    );
    expect(code, output).toBe(1);
    expect(output).toContain('has a failed migration: 20250201000000_own_transaction');
    expect(output).toContain('how it ended is not known');
    expect(output).toContain(`{"mode":"restore","snapshot":"${snapshot}","confirm":"${db.name}"}`);
    expect(restored, restore.output()).toBe(0);
    expect(await tablesOf(db.url)).toEqual(['A', '_prisma_migrations']);
    expect(
      await withClient(
        db.url,
        async (client) =>
          (await client.query('SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NULL'))
            .rows,
      ),
    ).toEqual([]);
  });

  it('refuses to start, touching nothing, when a restored copy was never swapped in', async () => {
    // Prepare: kill -9 before the swap's first rename
    const db = await baseDatabase('int_copy');
    const release = await migrationsDirectory([
      BASE,
      ['20250201000000_b', 'CREATE TABLE "B" ("id" INTEGER);\n'],
      ['20250202000000_fails', 'SELECT 1/0;\n'],
    ]);
    const dead = start(FIXTURE, [], {
      DATABASE_URL: db.url,
      MIGRATIONS: release,
      TRANSACTION_MODE: 'per-migration',
      PAUSE_STEP: 'swap',
      PAUSE_CALL: '1',
    });
    await waitFor('the pause before the swap', async () =>
      dead.output().includes('PAUSED swap 1') ? true : undefined,
    );
    dead.child.kill('SIGKILL');
    await within(dead);
    const [restored] = await copiesOf(db.name, 'restored');

    // Act
    const next = start('bin/cli.ts', ['run', '--migrations', await migrationsDirectory([BASE])], {
      DATABASE_URL: db.url,
    });
    const code = await within(next);

    // Assess
    expect(code).toBe(1);
    const output = next.output();
    expect(output).toContain(`${restored}: a copy restored from snapshot`);
    expect(output).toContain(`ALTER DATABASE "${restored}" RENAME TO "${db.name}"`);
    expect(output).toContain(`DROP DATABASE "${restored}"`);
    expect(await tablesOf(urlFor(db.name))).toEqual(['A', 'B', '_prisma_migrations']);
    expect(await exists(restored ?? '')).toBe(true);
  });
});
