/**
 * `backup`, `backups` and `restore` as an operator runs them: a separate process against DATABASE_URL, its
 * output and its exit code, and the data afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestDatabase } from '../../bin/sample/database-digest.js';
import { createSampleDatabase } from '../../bin/sample/sample-app.js';
import { type CliRun, runCli } from '../helpers/cli.js';
import { dropDatabasesAndCopies, uniqueName, urlFor, withClient } from '../helpers/database.js';

const SAMPLE = 'prisma/migrations';

type Run = CliRun;

function cli(args: string[], databaseUrl: string): Promise<Run> {
  return runCli(args, { env: { DATABASE_URL: databaseUrl }, timeoutMs: 120_000 });
}

// Each command is a process that starts tsx and synthesizes the stack: seconds each, more on a loaded machine.
describe('the backup commands', { timeout: 240_000 }, () => {
  const name = uniqueName('cli_backups');
  const url = urlFor(name);

  beforeAll(async () => {
    await createSampleDatabase(url, name, SAMPLE);
  });

  afterAll(async () => {
    await dropDatabasesAndCopies([name]);
  });

  it('backup, backups, then restore latest --confirm brings the backup back (exit 0 each)', async () => {
    // Prepare
    const atBackup = await digestDatabase(url);

    // Act
    const backup = await cli(['backup'], url);
    const listing = await cli(['backups'], url);
    await withClient(url, (client) =>
      client.query('DELETE FROM "Comment"; UPDATE "User" SET "name" = \'x\''),
    );
    const restore = await cli(['restore', 'latest', '--confirm', name], url);

    // Assess
    expect(backup.code).toBe(0);
    expect(backup.stdout).toContain('outcome:    backup-taken (exit 0)');
    const snapshotId = /snapshot:\s+(\S+) \(available\)/.exec(backup.stdout)?.[1] ?? '';
    expect(snapshotId).toMatch(/-backup-/);

    expect(listing.code).toBe(0);
    const lines = listing.stdout.split('\n');
    expect(lines[0]).toMatch(/^snapshot\s+kind\s+taken at\s+age\s+size\s+retention class\s*$/);
    const row = lines.find((line) => line.startsWith(snapshotId)) ?? '';
    expect(row.split(/\s{2,}/)).toEqual([
      snapshotId,
      'backup',
      expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      expect.stringMatching(/^\d+ min$/),
      expect.stringMatching(/^\d+\.\d MB$/),
      'newest+daily+weekly+monthly',
    ]);

    expect(restore.code).toBe(0);
    expect(restore.stdout).toContain('outcome:    backup-restored (exit 0)');
    expect(restore.stdout).toContain(`restoring:  ${snapshotId} (backup`);
    expect(await digestDatabase(url)).toEqual(atBackup);
  });

  it('refuses restore latest without --confirm (exit 1), naming --confirm, and touches nothing', async () => {
    // Prepare
    const before = await digestDatabase(url);

    // Act
    const result = await cli(['restore', 'latest'], url);

    // Assess
    expect(result.code).toBe(1);
    // The message, before the usage text (which names every option anyway).
    const message = result.stderr.split('\n\n')[0] ?? '';
    expect(message).toContain('--confirm');
    expect(result.stdout).not.toContain('Running the synthesized workflow');
    expect(await digestDatabase(url)).toEqual(before);
  });
});
