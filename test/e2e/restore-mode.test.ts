/**
 * The `restore` mode (and the refusals of `backup` and `restore`) through the local runner, against real
 * PostgreSQL: a restore brings back every table of the chosen backup and keeps the replaced database aside; a
 * restore that is refused touches nothing.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseDigest, digestDatabase } from '../../bin/sample/database-digest.js';
import { PostgresExecutionGuard } from '../../lambdas/shared/adapters/postgres/execution-guard.js';
import { PostgresSnapshotGateway } from '../../lambdas/shared/adapters/postgres/snapshot-gateway.js';
import { OutcomeErrors, StateNames } from '../../lambdas/shared/contract/contract.js';
import { sanitizeIdentifierPart } from '../../lambdas/shared/domain/identifiers.js';
import { LOCAL_MANAGED_BY } from '../../lib/local/outcomes.js';
import { type LocalRunOptions, type LocalRunResult, runLocal } from '../../lib/local/runner.js';
import type { Db } from '../helpers/backups.js';
import {
  dropDatabasesAndCopies,
  sampleDatabase,
  sampleRelease,
  urlFor,
  withAdmin,
  withClient,
} from '../helpers/database.js';

const SAMPLE = 'prisma/migrations';
const created: string[] = [];

function run(db: Db, input: unknown, options: Partial<LocalRunOptions> = {}): Promise<LocalRunResult> {
  return runLocal({ databaseUrl: db.url, migrationsDir: SAMPLE, input, ...options });
}

async function backup(db: Db, options: Partial<LocalRunOptions> = {}): Promise<string> {
  const result = await run(db, { mode: 'backup' }, options);
  expect(result.outcome).toBe('backup-taken');
  return result.state.snapshot?.snapshotId ?? '';
}

/** The message of the error the run ended with (the cause is the Lambda error's JSON). */
function messageOf(result: LocalRunResult): string {
  return (JSON.parse(result.error?.cause ?? '{}') as { errorMessage?: string }).errorMessage ?? '';
}

/** The server's databases that belong to `dbs`: each itself and everything named after it. */
async function databasesOf(...dbs: readonly Db[]): Promise<string[]> {
  return await withAdmin(async (client) =>
    (
      await client.query<{ datname: string }>(
        `SELECT datname FROM pg_database
          WHERE datname = ANY($1) OR datname LIKE ANY(SELECT prefix || '-%' FROM unnest($2::text[]) AS prefix)
          ORDER BY datname`,
        [dbs.map((db) => db.name), dbs.map((db) => sanitizeIdentifierPart(db.name))],
      )
    ).rows.map((row) => row.datname),
  );
}

/** Changes rows of three tables (insert, update, delete). */
async function changeData(url: string): Promise<void> {
  await withClient(url, async (client) => {
    await client.query(
      `INSERT INTO "User" ("email", "name", "createdAt") VALUES ('late@example.com', 'Late Writer', now())`,
    );
    await client.query(`UPDATE "Task" SET "title" = "title" || ' (edited)' WHERE id % 3 = 0`);
    await client.query('DELETE FROM "Comment" WHERE id % 5 = 0');
  });
}

afterAll(async () => {
  await dropDatabasesAndCopies(created);
});

describe('restore mode', () => {
  it('restore latest brings back every table of the newest backup and keeps the replaced database aside', async () => {
    // Prepare
    const db = await sampleDatabase('rs_latest', created);
    const backupId = await backup(db);
    const atBackup = await digestDatabase(db.url);
    await changeData(db.url);
    // A release after the backup: a schema change, new _prisma_migrations rows, and a newer (pre-migration)
    // snapshot that `latest` must not pick.
    const release = await run(db, sampleRelease({ release: 'v2' }));
    expect(release.outcome).toBe('succeeded');
    const changed = await digestDatabase(db.url);
    expect(changed.columns).not.toEqual(atBackup.columns);
    expect(changed.tables['public._prisma_migrations']).not.toEqual(
      atBackup.tables['public._prisma_migrations'],
    );
    expect(changed.tables['public.Comment']?.rows).toBeLessThan(atBackup.tables['public.Comment']?.rows ?? 0);

    // Act
    const result = await run(db, { mode: 'restore', snapshot: 'latest', confirm: db.name });

    // Assess
    expect(result.outcome).toBe('backup-restored');
    expect(result.exitCode).toBe(0);
    expect(result.path).toEqual(
      expect.arrayContaining([
        StateNames.restoreSnapshot,
        StateNames.checkRestore,
        StateNames.swap,
        StateNames.verifyRollbackHealth,
        StateNames.backupRestored,
      ]),
    );
    expect(result.path).not.toContain(StateNames.createSnapshot);
    const plan = result.state.plan;
    expect(plan?.mode).toBe('restore');
    if (plan?.mode !== 'restore') return;
    expect(plan.source).toMatchObject({ snapshotId: backupId, kind: 'backup', requested: 'latest' });
    expect(await digestDatabase(db.url)).toEqual(atBackup);
    const aside = result.state.swap?.asideIdentifier ?? '';
    expect(aside.startsWith(`${sanitizeIdentifierPart(db.name)}-rolledback-`)).toBe(true);
    expect(result.keptAside?.map((kept) => kept.name)).toEqual([aside]);
    expect(await digestDatabase(urlFor(aside))).toEqual(changed);
  });

  it('restores a snapshot named by its identifier, not the newest one', async () => {
    // Prepare
    const db = await sampleDatabase('rs_named', created);
    // Taken yesterday: a second backup the same day would make retention delete it.
    const yesterday = new Date(Date.now() - 86_400_000);
    const first = await backup(db, { adapters: { clock: { now: () => yesterday } } });
    const atFirst = await digestDatabase(db.url);
    await changeData(db.url);
    await backup(db);
    const atSecond = await digestDatabase(db.url);
    expect(atSecond).not.toEqual(atFirst);
    await withClient(db.url, (client) => client.query('DELETE FROM "Task" WHERE id % 2 = 0'));

    // Act
    const result = await run(db, { mode: 'restore', snapshot: first, confirm: db.name });

    // Assess
    expect(result.outcome).toBe('backup-restored');
    expect(result.state.plan?.mode === 'restore' && result.state.plan.source.snapshotId).toBe(first);
    expect(await digestDatabase(db.url)).toEqual(atFirst);
  });

  it('restores a snapshot named by its database name, where the name is shorter than the identifier', async () => {
    // Prepare: a target whose name makes snapshot identifiers longer than PostgreSQL's 63 bytes, so that each
    // snapshot's database has a shortened name of its own: the one psql's \l shows
    const db = await sampleDatabase('rs_restored_by_its_database_name', created);
    const snapshotId = await backup(db);
    const [databaseName] = (await databasesOf(db)).filter((name) => name.includes('-backup-'));
    expect(databaseName).toBeDefined();
    expect(databaseName).not.toBe(snapshotId);
    const atBackup = await digestDatabase(db.url);
    await changeData(db.url);

    // Act
    const result = await run(db, { mode: 'restore', snapshot: databaseName, confirm: db.name });

    // Assess
    expect(result.outcome, messageOf(result)).toBe('backup-restored');
    expect(result.state.plan?.mode === 'restore' && result.state.plan.source).toMatchObject({
      snapshotId,
      requested: databaseName,
    });
    expect(await digestDatabase(db.url)).toEqual(atBackup);
  });

  it('ends a failed restore as BackupRestoreFailed, not as a failed rollback, with the database untouched', async () => {
    // Prepare: a backup, then a restore by a role that may not create databases (the clone fails)
    const db = await sampleDatabase('rs_failing', created);
    const snapshotId = await backup(db);
    const role = `rs_nocreatedb_${db.name.slice(-8)}`;
    await withAdmin(async (client) => {
      await client.query(`CREATE ROLE "${role}" LOGIN NOCREATEDB PASSWORD 'restore-test'`);
    });
    const url = new URL(db.url);
    url.username = role;
    url.password = 'restore-test';
    const before = await databasesOf(db);
    const atStart = await digestDatabase(db.url);

    try {
      // Act
      const result = await run(
        { ...db, url: url.toString() },
        { mode: 'restore', snapshot: snapshotId, confirm: db.name },
      );

      // Assess
      expect(result.outcome, messageOf(result)).toBe('restore-failed');
      expect(result.error?.name).toBe(OutcomeErrors.BackupRestoreFailed);
      expect(messageOf(result)).toContain(`${db.name} is untouched.`);
      expect(messageOf(result)).toContain(
        `may not create databases: grant it (ALTER ROLE "${role}" CREATEDB)`,
      );
      expect(messageOf(result)).not.toMatch(/failed release/);
      expect(await databasesOf(db)).toEqual(before);
      expect(await digestDatabase(db.url)).toEqual(atStart);
    } finally {
      await withAdmin((client) => client.query(`DROP ROLE IF EXISTS "${role}"`));
    }
  });

  it('drops its copy when the swap fails on a busy database, so that the next restore runs', async () => {
    // Prepare: a backup, then a session of the application held open on the database during the restore
    const db = await sampleDatabase('rs_busy', created);
    await backup(db);
    const atStart = await digestDatabase(db.url);
    const before = await databasesOf(db);
    const application = new pg.Client({ connectionString: db.url });
    await application.connect();
    const impatient = new PostgresSnapshotGateway({
      serverUrl: db.url,
      databaseName: db.name,
      managedBy: LOCAL_MANAGED_BY,
      busyTimeoutMs: 300,
    });
    const input = { mode: 'restore', snapshot: 'latest', confirm: db.name };

    // Act
    let failed: LocalRunResult;
    try {
      failed = await run(db, input, { adapters: { gateway: impatient } });
    } finally {
      await application.end();
    }
    const after = await databasesOf(db);
    const next = await run(db, input);

    // Assess
    expect(failed.outcome, messageOf(failed)).toBe('restore-failed');
    expect(messageOf(failed)).toContain('so it cannot be renamed');
    expect(failed.snapshots?.droppedCopy).toMatch(/-restored-/);
    expect(after).toEqual(before);
    expect(await digestDatabase(db.url)).toEqual(atStart);
    expect(next.outcome, messageOf(next)).toBe('backup-restored');
  });

  describe('a restore that is refused touches nothing', () => {
    let target: Db;
    let other: Db;
    let othersBackup: string;
    let handmade: string;

    beforeAll(async () => {
      target = await sampleDatabase('rs_refused', created);
      other = await sampleDatabase('rs_other', created);
      othersBackup = await backup(other);
      // A copy of the target taken by hand: no metadata, a name like a snapshot's.
      handmade = `${sanitizeIdentifierPart(target.name)}-backup-20250101t000000z-handmade`;
      await withAdmin((client) => client.query(`CREATE DATABASE "${handmade}" TEMPLATE "${target.name}"`));
    });

    const refusals: readonly {
      readonly what: string;
      readonly input: () => unknown;
      readonly names: readonly (string | (() => string))[];
    }[] = [
      {
        what: 'a managed snapshot of another database on the server',
        input: () => ({ mode: 'restore', snapshot: othersBackup, confirm: target.name }),
        names: ['input.snapshot', () => othersBackup, 'is not a snapshot this orchestrator took of'],
      },
      {
        what: 'a database without the metadata of a managed snapshot',
        input: () => ({ mode: 'restore', snapshot: handmade, confirm: target.name }),
        names: ['input.snapshot', () => handmade],
      },
      {
        what: 'no confirm',
        input: () => ({ mode: 'restore', snapshot: 'latest' }),
        names: ['input.confirm', 'required for mode "restore"'],
      },
      {
        what: 'a confirm that names another database',
        input: () => ({ mode: 'restore', snapshot: 'latest', confirm: other.name }),
        names: ['input.confirm', () => target.name],
      },
      {
        what: 'latest when the database has no backup',
        input: () => ({ mode: 'restore', snapshot: 'latest', confirm: target.name }),
        names: ['input.snapshot', '{"mode":"backup"}'],
      },
    ];

    it.each(refusals)('refuses $what (exit 1), naming the field and the fix', async ({ input, names }) => {
      // Prepare
      const before = await digestDatabase(target.url);
      const databases = await databasesOf(target, other);

      // Act
      const result = await run(target, input());

      // Assess
      expect(result.outcome).toBe('preflight-refused');
      expect(result.exitCode).toBe(1);
      expect(result.error?.name).toBe(OutcomeErrors.PreflightRefused);
      for (const name of names) expect(messageOf(result)).toContain(typeof name === 'string' ? name : name());
      expect(result.path).not.toContain(StateNames.restoreSnapshot);
      expect(await digestDatabase(target.url)).toEqual(before);
      expect(await databasesOf(target, other)).toEqual(databases);
    });
  });

  describe('inputs refused with the field named', () => {
    let db: Db;
    let before: DatabaseDigest;
    beforeAll(async () => {
      db = await sampleDatabase('rs_input', created);
      before = await digestDatabase(db.url);
    });

    it.each([
      {
        input: { mode: 'snapshot-only' },
        names: ['input.mode', 'expected one of "migrate"|"backup"|"restore"'],
      },
      { input: { mode: 'backup', release: 'v1.2.0' }, names: ['input.release', 'only for mode "migrate"'] },
      { input: { mode: 'backup', dryRun: true }, names: ['input.dryRun', 'only for mode "migrate"'] },
      { input: { mode: 'backup', confirm: 'x' }, names: ['input.confirm', 'only for mode "restore"'] },
    ])('refuses $input', async ({ input, names }) => {
      // Act
      const result = await run(db, input);

      // Assess
      expect(result.outcome).toBe('preflight-refused');
      expect(result.exitCode).toBe(1);
      for (const name of names) expect(messageOf(result)).toContain(name);
      expect(result.path).not.toContain(StateNames.createSnapshot);
      expect(await databasesOf(db)).toEqual([db.name]);
      expect(await digestDatabase(db.url)).toEqual(before);
    });
  });

  it('refuses a backup while another execution holds the database, taking no snapshot', async () => {
    // Prepare
    const db = await sampleDatabase('rs_busy', created);
    const guard = await PostgresExecutionGuard.acquire(db.url, db.name);
    expect(guard.acquired).toBe(true);

    // Act
    let result: LocalRunResult;
    try {
      result = await run(db, { mode: 'backup' });
    } finally {
      await guard.release();
    }

    // Assess
    expect(result.outcome).toBe('preflight-refused');
    expect(result.exitCode).toBe(1);
    expect(messageOf(result)).toContain(`Another execution is running against ${db.name}`);
    expect(result.path).not.toContain(StateNames.createSnapshot);
    expect(await databasesOf(db)).toEqual([db.name]);
    // Once the other execution ends, the same backup runs.
    expect((await run(db, { mode: 'backup' })).outcome).toBe('backup-taken');
  });

  describe('interrupted (Ctrl-C: the signal aborts the run)', () => {
    it('drops the copy of a restore stopped before its swap, leaving the database as it was', async () => {
      // Prepare
      const db = await sampleDatabase('rs_int_restore', created);
      await backup(db);
      await changeData(db.url);
      const before = await digestDatabase(db.url);
      const controller = new AbortController();

      // Act: stop the run once the copy is restored, before the swap (the step running then is read-only).
      const result = await run(
        db,
        { mode: 'restore', snapshot: 'latest', confirm: db.name },
        {
          signal: controller.signal,
          beforeStep: (step) => {
            if (step === 'check-restore') controller.abort();
          },
        },
      );

      // Assess
      expect(result.outcome).toBe('interrupted');
      expect(result.exitCode).toBe(130);
      const copy = result.state.restore?.restoredIdentifier ?? '';
      expect(copy).not.toBe('');
      expect(result.interruption?.facts.join(' ')).toContain('the restore stopped before the swap');
      expect(result.interruption?.nextAction).toBe('start the restore again when ready.');
      expect((await databasesOf(db)).filter((name) => name.includes('-restored-'))).toEqual([]);
      expect(await digestDatabase(db.url)).toEqual(before);
    });

    it('keeps the backup of a backup stopped before its retention', async () => {
      // Prepare
      const db = await sampleDatabase('rs_int_backup', created);
      const controller = new AbortController();

      // Act: stop the run as it is about to apply the retention policy.
      const result = await run(
        db,
        { mode: 'backup' },
        {
          signal: controller.signal,
          beforeStep: (step) => {
            if (step === 'prune-snapshots') controller.abort();
          },
        },
      );

      // Assess
      expect(result.outcome).toBe('interrupted');
      const taken = result.state.snapshot?.snapshotId ?? '';
      expect(taken).toMatch(/-backup-/);
      expect(result.interruption?.facts.join(' ')).toMatch(/the backup .* exists and is kept/);
      expect(await databasesOf(db)).toContain(taken);
    });
  });
});
