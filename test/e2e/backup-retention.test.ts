/**
 * Retention of pre-migration snapshots end to end through the local runner on real PostgreSQL: a failed
 * release's snapshot survives pruning until a later release succeeds. (The year of scheduled backups is in
 * backup-retention-year.slow.test.ts.)
 */
import { afterAll, describe, expect, it } from 'vitest';
import { applyFirstMigrations, composeRelease, createSampleDatabase } from '../../bin/sample/sample-app.js';
import { databaseNameFor } from '../../lambdas/shared/adapters/postgres/snapshot-gateway.js';
import { runLocal } from '../../lib/local/runner.js';
import { backupRun, type Db, databasesLike } from '../helpers/backups.js';
import { dropDatabasesAndCopies, uniqueName, urlFor } from '../helpers/database.js';

const SAMPLE = 'prisma/migrations';
const created: string[] = [];

afterAll(async () => {
  await dropDatabasesAndCopies(created);
}, 5 * 60_000);

describe('pre-migration snapshots of a failed release', { timeout: 180_000 }, () => {
  it('survive pruning beyond the pre-migration count until a later release succeeds', async () => {
    // Prepare
    const db: Db = { name: uniqueName('bk_release'), url: '' };
    const url = urlFor(db.name);
    created.push(db.name);
    await createSampleDatabase(url, db.name, SAMPLE);
    await applyFirstMigrations(url, SAMPLE, Number.MAX_SAFE_INTEGER);
    const target = { ...db, url };
    const failed = await runLocal({
      databaseUrl: url,
      migrationsDir: await composeRelease('failing'),
      transactionMode: 'per-migration',
    });
    expect(failed.outcome).toBe('migration-rolled-back');
    const failedSnapshot = failed.state.snapshot?.snapshotId ?? '';
    // A pre-migration snapshot's identifier is longer than a database name: its database is named after it.
    const failedDatabase = databaseNameFor(failedSnapshot);
    expect(await databasesLike(failedDatabase)).toEqual([failedDatabase]);

    // Act
    const whileUnresolved = await backupRun(target, new Date(), { retention: { preMigration: 0 } });

    // Assess
    expect(whileUnresolved.outcome).toBe('backup-taken');
    expect(whileUnresolved.state.retention?.deleted).toEqual([]);
    expect(whileUnresolved.state.retention?.kept).toContainEqual({
      snapshotId: failedSnapshot,
      why: expect.stringContaining('may still need it'),
    });
    expect(await databasesLike(failedDatabase)).toEqual([failedDatabase]);

    // Prepare
    const release = await runLocal({ databaseUrl: url, migrationsDir: await composeRelease('good') });
    expect(release.outcome).toBe('succeeded');
    const releaseSnapshot = release.state.snapshot?.snapshotId ?? '';

    // Act
    const afterSuccess = await backupRun(target, new Date(), { retention: { preMigration: 1 } });

    // Assess
    expect(afterSuccess.outcome).toBe('backup-taken');
    const deleted = afterSuccess.state.retention?.deleted.map((d) => d.snapshotId) ?? [];
    // (The day's earlier backup may go too: a day keeps its newest backup only.)
    expect(deleted.filter((id) => !id.includes('-backup-'))).toEqual([failedSnapshot]);
    expect(await databasesLike(failedDatabase)).toEqual([]);
    expect(await databasesLike(databaseNameFor(releaseSnapshot))).toEqual([databaseNameFor(releaseSnapshot)]);
  });
});
