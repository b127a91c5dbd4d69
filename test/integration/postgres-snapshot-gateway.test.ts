import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { digestDatabase } from '../../bin/sample/database-digest.js';
import {
  cloneFailureHint,
  databaseNameFor,
  PostgresSnapshotGateway,
} from '../../lambdas/shared/adapters/postgres/snapshot-gateway.js';
import { ErrorNames } from '../../lambdas/shared/contract/contract.js';
import { createDatabase, dropDatabase, urlFor, withAdmin, withClient } from '../helpers/database.js';

const created: string[] = [];
const EXECUTION = 'arn:aws:states:local:000000000000:execution:migration-orchestrator:release-1';
/** An earlier execution whose name cleaned to the same identifier. */
const OTHER_EXECUTION = 'arn:aws:states:local:000000000000:execution:migration-orchestrator:Release.1';

async function seededDatabase(): Promise<{ name: string; url: string }> {
  const db = await createDatabase('snapgw');
  created.push(db.name);
  await withClient(db.url, async (client) => {
    await client.query(`
      CREATE TYPE mood AS ENUM ('happy', 'sad');
      CREATE TABLE account (id serial PRIMARY KEY, email text UNIQUE NOT NULL, feeling mood, data jsonb);
      CREATE TABLE note (id bigserial PRIMARY KEY, account_id int REFERENCES account(id), body text, at timestamptz DEFAULT now());
      INSERT INTO account (email, feeling, data)
        SELECT 'user' || g || '@example.com', (ARRAY['happy','sad']::mood[])[1 + g % 2], jsonb_build_object('n', g)
        FROM generate_series(1, 200) g;
      INSERT INTO note (account_id, body) SELECT 1 + g % 200, repeat('x', g % 50) FROM generate_series(1, 1000) g;
    `);
  });
  return db;
}

async function databases(prefix: string): Promise<string[]> {
  return await withAdmin(async (client) =>
    (
      await client.query<{ datname: string }>(
        'SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY 1',
        [`${prefix}%`],
      )
    ).rows.map((r) => r.datname),
  );
}

afterAll(async () => {
  for (const prefix of created) {
    for (const name of await databases(prefix.replaceAll('_', '-'))) await dropDatabase(name);
    for (const name of await databases(prefix)) await dropDatabase(name);
  }
});

describe('PostgresSnapshotGateway', () => {
  it('round-trips snapshot, restore and swap with every table identical to the snapshot', async () => {
    // Prepare
    const db = await seededDatabase();
    const gateway = new PostgresSnapshotGateway({ serverUrl: db.url, databaseName: db.name });
    const before = await digestDatabase(db.url);
    const snapshotId = `${db.name.replaceAll('_', '-')}-premigration-exec-1`;

    // Act: snapshot, then damage the original, then restore and swap
    const snapshot = await gateway.createSnapshot({
      snapshotId,
      executionId: EXECUTION,
      tags: { 'managed-by': 'test' },
    });
    await withClient(db.url, (client) =>
      client.query(
        `DELETE FROM note WHERE id % 3 = 0; ALTER TABLE account ADD COLUMN extra int; UPDATE account SET extra = 1`,
      ),
    );
    expect(await digestDatabase(db.url)).not.toEqual(before);
    const restoredId = `${db.name.replaceAll('_', '-')}-restored-1`;
    const asideId = `${db.name.replaceAll('_', '-')}-rolledback-1`;
    const restore = await gateway.restoreSnapshot({
      snapshotId,
      originalIdentifier: db.name,
      restoredIdentifier: restoredId,
      executionId: EXECUTION,
      tags: {},
    });
    const first = await gateway.swap({
      originalIdentifier: db.name,
      restoredIdentifier: restoredId,
      asideIdentifier: asideId,
    });
    const second = await gateway.swap({
      originalIdentifier: db.name,
      restoredIdentifier: restoredId,
      asideIdentifier: asideId,
    });
    const again = await gateway.swap({
      originalIdentifier: db.name,
      restoredIdentifier: restoredId,
      asideIdentifier: asideId,
    });

    // Assess
    expect(snapshot).toMatchObject({
      snapshotId,
      status: 'available',
      sourceIdentifier: db.name,
      tags: { 'managed-by': 'test', 'migration-execution': EXECUTION },
    });
    expect(restore.status).toBe('available');
    expect(first).toEqual({ phase: 'original-renamed', complete: false });
    expect(second).toEqual({ phase: 'complete', complete: true });
    expect(again).toEqual({ phase: 'complete', complete: true });
    expect(await digestDatabase(db.url)).toEqual(before);
    const aside = await digestDatabase(urlFor(asideId));
    expect(aside.columns.some((line) => line.includes('account.extra'))).toBe(true);
    expect(await gateway.describeSnapshot(snapshotId)).toMatchObject({ status: 'available' });
  });

  it('clones a database from the size limit on by copying files, a smaller one through the WAL, both exact', async () => {
    // Prepare: the same database under two limits, one below its size and one above.
    const db = await seededDatabase();
    const version = await withAdmin(async (client) =>
      Number((await client.query("SELECT current_setting('server_version_num') AS v")).rows[0].v),
    );
    const checkpointsRequested = async (): Promise<number> =>
      await withAdmin(async (client) => {
        const sql =
          version >= 170000
            ? 'SELECT num_requested AS n FROM pg_stat_checkpointer'
            : 'SELECT checkpoints_req AS n FROM pg_stat_bgwriter';
        return Number((await client.query(sql)).rows[0].n);
      });
    const walBytes = async (clone: () => Promise<unknown>): Promise<number> => {
      const lsn = async () =>
        await withAdmin(async (client) => (await client.query('SELECT pg_current_wal_lsn() AS l')).rows[0].l);
      const before = await lsn();
      await clone();
      const after = await lsn();
      return await withAdmin(async (client) =>
        Number((await client.query('SELECT pg_wal_lsn_diff($1, $2) AS d', [after, before])).rows[0].d),
      );
    };
    const size = await withAdmin(async (client) =>
      Number((await client.query('SELECT pg_database_size($1) AS b', [db.name])).rows[0].b),
    );
    const byFiles = new PostgresSnapshotGateway({
      serverUrl: db.url,
      databaseName: db.name,
      fileCopyFromBytes: 1,
    });
    const byWal = new PostgresSnapshotGateway({
      serverUrl: db.url,
      databaseName: db.name,
      fileCopyFromBytes: size * 2,
    });
    const before = await digestDatabase(db.url);
    const snapshotId = (n: number) => `${db.name.replaceAll('_', '-')}-premigration-strategy-${n}`;

    // Act
    const checkpoints = await checkpointsRequested();
    await byFiles.createSnapshot({ snapshotId: snapshotId(1), executionId: EXECUTION, tags: {} });
    const checkpointsAfterFileCopy = await checkpointsRequested();
    const walOfWalLog = await walBytes(() =>
      byWal.createSnapshot({ snapshotId: snapshotId(2), executionId: EXECUTION, tags: {} }),
    );

    // Assess: FILE_COPY asks for checkpoints (PostgreSQL 15+; older servers only copy files); WAL_LOG writes the
    // whole database to the WAL; both clones hold exactly the original.
    if (version >= 150000) {
      expect(checkpointsAfterFileCopy).toBeGreaterThan(checkpoints);
      expect(walOfWalLog).toBeGreaterThanOrEqual(size * 0.5);
    }
    for (const n of [1, 2]) {
      expect(await digestDatabase(urlFor(databaseNameFor(snapshotId(n)))), `clone ${n}`).toEqual(before);
    }
    // The strategy is recorded with each clone; PostgreSQL 18 clones the files (copy_file_range) where it can.
    const strategyOf = async (n: number) =>
      await withAdmin(async (client) => {
        const sql = "SELECT shobj_description(oid, 'pg_database') AS c FROM pg_database WHERE datname = $1";
        return JSON.parse((await client.query(sql, [databaseNameFor(snapshotId(n))])).rows[0].c).strategy;
      });
    expect(await strategyOf(1)).toBe(version >= 180000 ? 'FILE_COPY (clone)' : 'FILE_COPY');
    expect(await strategyOf(2)).toBe(version >= 150000 ? 'WAL_LOG' : 'FILE_COPY');
  });

  it('adopts its own snapshot on retry and refuses a foreign database with the same name', async () => {
    const db = await seededDatabase();
    const gateway = new PostgresSnapshotGateway({ serverUrl: db.url, databaseName: db.name });
    const snapshotId = `${db.name.replaceAll('_', '-')}-premigration-exec-2`;
    await gateway.createSnapshot({ snapshotId, executionId: EXECUTION, tags: {} });
    await expect(
      gateway.createSnapshot({ snapshotId, executionId: EXECUTION, tags: {} }),
    ).resolves.toMatchObject({
      status: 'available',
    });

    const foreign = `${db.name.replaceAll('_', '-')}-premigration-exec-3`;
    await withAdmin((client) => client.query(`CREATE DATABASE "${foreign}"`));
    await expect(
      gateway.createSnapshot({ snapshotId: foreign, executionId: EXECUTION, tags: {} }),
    ).rejects.toMatchObject({
      name: ErrorNames.SnapshotFailed,
      message: expect.stringContaining('is not a snapshot of'),
    });
  });

  it('refuses, without adopting it, a snapshot with the same id that another execution took, naming it', async () => {
    // Prepare: the earlier execution's snapshot, then a row written after it
    const db = await seededDatabase();
    const gateway = new PostgresSnapshotGateway({ serverUrl: db.url, databaseName: db.name });
    const snapshotId = `${db.name.replaceAll('_', '-')}-premigration-release-1`;
    await gateway.createSnapshot({
      snapshotId,
      executionId: OTHER_EXECUTION,
      tags: { 'managed-by': 'test' },
    });
    await withClient(db.url, (client) =>
      client.query(`INSERT INTO account (email) VALUES ('late@example.com')`),
    );

    // Act
    const attempt = gateway.createSnapshot({
      snapshotId,
      executionId: EXECUTION,
      tags: { 'managed-by': 'test' },
    });

    // Assess
    await expect(attempt).rejects.toMatchObject({
      name: ErrorNames.SnapshotFailed,
      details: { snapshotId, executionId: EXECUTION, createdBy: OTHER_EXECUTION },
    });
    await expect(attempt).rejects.toThrow(
      `Snapshot ${snapshotId} (database ${snapshotId}) of ${db.name} already exists but was taken by execution ${OTHER_EXECUTION}, not by this execution ${EXECUTION}`,
    );
    await expect(attempt).rejects.toThrow('Nothing was applied and the database was not touched.');
    expect((await gateway.describeSnapshot(snapshotId))?.tags).toEqual({
      'managed-by': 'test',
      'migration-execution': OTHER_EXECUTION,
    });
    const inSnapshot = await withClient(urlFor(snapshotId), (client) =>
      client.query(`SELECT 1 FROM account WHERE email = 'late@example.com'`),
    );
    expect(inSnapshot.rowCount).toBe(0);
  });

  it('refuses a restored copy with the same identifier that another execution restored, leaving the original', async () => {
    // Prepare
    const db = await seededDatabase();
    const gateway = new PostgresSnapshotGateway({ serverUrl: db.url, databaseName: db.name });
    const snapshotId = `${db.name.replaceAll('_', '-')}-premigration-release-1`;
    const restoredIdentifier = `${db.name.replaceAll('_', '-')}-restored-1`;
    await gateway.createSnapshot({ snapshotId, executionId: EXECUTION, tags: {} });
    const request = { snapshotId, originalIdentifier: db.name, restoredIdentifier, tags: {} };
    await gateway.restoreSnapshot({ ...request, executionId: OTHER_EXECUTION });
    const before = await digestDatabase(db.url);

    // Act
    const attempt = gateway.restoreSnapshot({ ...request, executionId: EXECUTION });

    // Assess
    await expect(attempt).rejects.toMatchObject({
      name: ErrorNames.RestoreFailed,
      details: { restoredIdentifier, executionId: EXECUTION, createdBy: OTHER_EXECUTION },
    });
    await expect(attempt).rejects.toThrow(
      `was not restored from snapshot ${snapshotId} by this execution ${EXECUTION} (it was restored from it by execution ${OTHER_EXECUTION})`,
    );
    expect(await digestDatabase(db.url)).toEqual(before);
    await expect(
      gateway.restoreSnapshot({ ...request, executionId: OTHER_EXECUTION }),
    ).resolves.toMatchObject({
      identifier: restoredIdentifier,
      status: 'available',
    });
  });

  it("drops a copy never swapped in only for its own execution, and never while the target's name is free", async () => {
    // Prepare
    const db = await seededDatabase();
    const gateway = new PostgresSnapshotGateway({ serverUrl: db.url, databaseName: db.name });
    const prefix = db.name.replaceAll('_', '-');
    const snapshotId = `${prefix}-premigration-release-1`;
    const restoredIdentifier = `${prefix}-restored-1`;
    await gateway.createSnapshot({ snapshotId, executionId: EXECUTION, tags: {} });
    await gateway.restoreSnapshot({
      snapshotId,
      originalIdentifier: db.name,
      restoredIdentifier,
      executionId: EXECUTION,
      tags: {},
    });
    const aside = `${prefix}-aside-for-test`;

    // Act
    const byAnother = await gateway.dropUnswappedCopy(restoredIdentifier, OTHER_EXECUTION);
    await withAdmin((client) => client.query(`ALTER DATABASE "${db.name}" RENAME TO "${aside}"`));
    const targetMissing = await gateway
      .dropUnswappedCopy(restoredIdentifier, EXECUTION)
      .finally(() => withAdmin((client) => client.query(`ALTER DATABASE "${aside}" RENAME TO "${db.name}"`)));
    const afterRefusals = await databases(prefix);
    const own = await gateway.dropUnswappedCopy(restoredIdentifier, EXECUTION);
    const notACopy = await gateway.dropUnswappedCopy(snapshotId, EXECUTION);

    // Assess
    expect(byAnother).toBeUndefined();
    expect(targetMissing).toBeUndefined();
    expect(afterRefusals).toContain(restoredIdentifier);
    expect(own).toBe(restoredIdentifier);
    expect(notACopy).toBeUndefined();
    expect(await databases(prefix)).toEqual([snapshotId]);
  });

  it('fails when another session holds the database, and ends it only when allowed', async () => {
    // Prepare: an application session on the database
    const db = await seededDatabase();
    const snapshotId = `${db.name.replaceAll('_', '-')}-premigration-exec-4`;
    const application = new pg.Client({ connectionString: db.url });
    const ended = new Promise<Error>((resolve) => application.on('error', resolve));
    await application.connect();

    // Act + Assess: without permission the snapshot is refused and the session survives
    const polite = new PostgresSnapshotGateway({
      serverUrl: db.url,
      databaseName: db.name,
      busyTimeoutMs: 200,
    });
    await expect(
      polite.createSnapshot({ snapshotId, executionId: EXECUTION, tags: {} }),
    ).rejects.toMatchObject({
      name: ErrorNames.SnapshotFailed,
      message: expect.stringContaining('1 other session(s)'),
    });
    await expect(application.query('SELECT 1')).resolves.toBeDefined();

    // With permission the session is ended and the snapshot taken
    const forceful = new PostgresSnapshotGateway({
      serverUrl: db.url,
      databaseName: db.name,
      terminateSessions: true,
    });
    await expect(
      forceful.createSnapshot({ snapshotId, executionId: EXECUTION, tags: {} }),
    ).resolves.toMatchObject({
      status: 'available',
    });
    expect((await ended).message).toMatch(/terminat/);
    await application.end().catch(() => undefined);
  });

  it('names the fix when its role may not create databases, and creates nothing', async () => {
    // Prepare: the database owned by a role without CREATEDB, which the gateway connects as
    const db = await seededDatabase();
    const role = `snapgw_nocreatedb_${db.name.slice(-8)}`;
    await withAdmin(async (client) => {
      await client.query(`CREATE ROLE "${role}" LOGIN NOCREATEDB PASSWORD 'gateway-test'`);
      await client.query(`ALTER DATABASE "${db.name}" OWNER TO "${role}"`);
    });
    const url = new URL(db.url);
    url.username = role;
    url.password = 'gateway-test';
    const gateway = new PostgresSnapshotGateway({ serverUrl: url.toString(), databaseName: db.name });
    const before = await databases(db.name.replaceAll('_', '-'));

    try {
      // Act
      const error = await gateway
        .createSnapshot({
          snapshotId: `${db.name.replaceAll('_', '-')}-premigration-exec-role`,
          executionId: EXECUTION,
          tags: {},
        })
        .then(
          () => undefined,
          (e: Error) => e,
        );

      // Assess
      expect(error?.name).toBe(ErrorNames.SnapshotFailed);
      expect(error?.message).toContain('permission denied to create database');
      expect(error?.message).toContain(
        `the role ${role} may not create databases: grant it (ALTER ROLE "${role}" CREATEDB)`,
      );
      expect(error?.message).toContain('Nothing was applied.');
      expect(await databases(db.name.replaceAll('_', '-'))).toEqual(before);
    } finally {
      await withAdmin(async (client) => {
        await client.query(`ALTER DATABASE "${db.name}" OWNER TO CURRENT_USER`);
        await client.query(`DROP ROLE IF EXISTS "${role}"`);
      });
    }
  });

  it('names a full disk, and adds nothing for errors it has no fix for', () => {
    expect(cloneFailureHint({ code: '53100' }, 'app')).toContain("The server's disk is full");
    expect(cloneFailureHint({ code: '55006' }, 'app')).toBe('');
    expect(cloneFailureHint(new Error('connection reset'), 'app')).toBe('');
  });

  it('describes a missing target as not available', async () => {
    const gateway = new PostgresSnapshotGateway({
      serverUrl: urlFor('postgres'),
      databaseName: 'no_such_database',
    });
    await expect(gateway.describeTarget()).resolves.toMatchObject({ available: false, status: 'not-found' });
  });

  it('fails when asked to swap in a state it does not recognise, naming every database', async () => {
    const db = await seededDatabase();
    const gateway = new PostgresSnapshotGateway({ serverUrl: db.url, databaseName: db.name });
    await expect(
      gateway.swap({
        originalIdentifier: db.name,
        restoredIdentifier: 'missing-restored',
        asideIdentifier: 'missing-aside',
      }),
    ).rejects.toMatchObject({
      name: ErrorNames.SwapFailed,
      message: expect.stringContaining('missing-restored: absent'),
    });
  });
});
