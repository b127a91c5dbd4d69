/**
 * The execution report and the rollback-started notification through the local runner, against real PostgreSQL:
 * the same synthesized workflow (the SNS Publish state run by the runner's local handler) and the same
 * `buildReport` as on AWS.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeRelease } from '../../bin/sample/sample-app.js';
import { StateNames } from '../../lambdas/shared/contract/contract.js';
import { ExecutionReportSchema } from '../../lambdas/shared/contract/report-schema.js';
import type { RecordedNotification } from '../../lambdas/shared/domain/report.js';
import { runLocal } from '../../lib/local/runner.js';
import { dropDatabase, sampleDatabase, sampleRelease, withAdmin } from '../helpers/database.js';

const SAMPLE = 'prisma/migrations';
const created: string[] = [];
let reportsDir = '';

function readReport(file: string | undefined) {
  expect(file).toBeDefined();
  return ExecutionReportSchema.parse(JSON.parse(readFileSync(file as string, 'utf8')));
}

beforeAll(() => {
  reportsDir = mkdtempSync(join(tmpdir(), 'orchestrator-reports-'));
});

afterAll(async () => {
  for (const name of created) {
    const copies = await withAdmin(async (client) =>
      (
        await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [
          `%${name.replaceAll('_', '-')}%`,
        ])
      ).rows.map((row) => row.datname),
    );
    for (const db of copies) await dropDatabase(db);
    await dropDatabase(name);
  }
});

describe('the local run report', () => {
  it('writes <dir>/<execution>.json for a successful release: plan, snapshot, migrations, checks, path, no notification', async () => {
    // Prepare
    const db = await sampleDatabase('e2e_report_ok', created);
    const notified: RecordedNotification[] = [];
    // Act
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: SAMPLE,
      input: sampleRelease({ release: 'v1.1.0' }),
      reportsDir,
      onNotification: (n) => notified.push(n),
    });
    // Assess
    expect(result.outcome).toBe('succeeded');
    expect(result.reportFile).toBe(join(reportsDir, `${result.executionName}.json`));
    const report = readReport(result.reportFile);
    expect(report).toMatchObject({
      runtime: 'local',
      execution: { name: result.executionName, status: 'SUCCEEDED' },
      mode: 'migrate',
      release: 'v1.1.0',
      database: db.name,
      input: { release: 'v1.1.0' },
      outcome: { succeeded: true, terminalState: StateNames.succeeded },
      migrations: {
        pending: ['20250122090000_split_user_name', '20250129090000_task_priority'],
        applied: ['20250122090000_split_user_name', '20250129090000_task_priority'],
        transactionMode: 'release',
      },
      snapshot: { status: 'available' },
      health: { healthy: true },
      notifications: [],
    });
    expect(report.path.map((step) => step.state)).toEqual(result.path);
    expect(report.path.every((step) => step.result === 'succeeded')).toBe(true);
    expect(report.migrations?.durationMs).toBeGreaterThanOrEqual(0);
    // Each applied migration with the time its script took, in the order applied, within the apply step's time.
    expect(report.migrations?.timings?.map((timing) => timing.name)).toEqual(report.migrations?.applied);
    const scripts = (report.migrations?.timings ?? []).reduce((sum, timing) => sum + timing.durationMs, 0);
    expect(scripts).toBeLessThanOrEqual(report.migrations?.durationMs ?? 0);
    expect(report.durations.byState[StateNames.applyMigrations]).toBeGreaterThanOrEqual(0);
    expect(report.drift?.checks.length).toBeGreaterThan(0);
    expect(notified).toEqual([]);
    expect(result.notifications).toEqual([]);
  });

  it('records the rollback-started notification and the whole rollback in the report of a rolled-back release', async () => {
    // Prepare
    const db = await sampleDatabase('e2e_report_rb', created, true);
    const failing = await composeRelease('failing');
    const notified: RecordedNotification[] = [];
    // Act
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: failing,
      transactionMode: 'per-migration',
      reportsDir,
      onNotification: (n) => notified.push(n),
    });
    // Assess
    expect(result.outcome).toBe('migration-rolled-back');
    const index = result.path.indexOf(StateNames.notifyRollback);
    expect(result.path.slice(index - 1, index + 2)).toEqual([
      StateNames.snapshotToRestore,
      StateNames.notifyRollback,
      StateNames.restoreSnapshot,
    ]);
    expect(notified).toHaveLength(1);
    const [notification] = notified;
    const target = result.state.plan?.targetIdentifier as string;
    expect(notification).toEqual({
      state: StateNames.notifyRollback,
      subject: `Rollback started: ${target}`,
      message: expect.stringContaining(
        `Rollback started: ${target}. The release of execution ${result.executionName} failed with MigrationFailed`,
      ),
    });
    expect(notification?.message).toContain(result.state.snapshot?.snapshotId);
    expect(notification?.message).toContain('#/v2/executions/details/arn:aws:states:');
    const report = readReport(result.reportFile);
    expect(report).toMatchObject({
      execution: { status: 'FAILED' },
      outcome: { succeeded: false, terminalState: StateNames.rolledBack, error: 'MigrationRolledBack' },
      failure: { name: 'MigrationFailed' },
      rollback: { restore: { snapshotId: result.state.snapshot?.snapshotId }, swap: { phase: 'complete' } },
      notifications: [notification],
    });
    expect(report.outcome.summary).toContain('see docs/runbook.md, "MigrationRolledBack"');
    expect(report.notificationError).toBeUndefined();
    // A caught step failure is marked on its path entry.
    expect(report.path.find((step) => step.state === StateNames.applyMigrations)?.result).toBe('failed');
  });

  it('writes no report when asked not to', async () => {
    // Prepare
    const db = await sampleDatabase('e2e_report_none', created);
    // Act
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: SAMPLE,
      input: sampleRelease(),
      reportsDir: false,
    });
    // Assess
    expect(result.outcome).toBe('succeeded');
    expect(result.reportFile).toBeUndefined();
  });
});
