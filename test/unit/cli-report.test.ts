import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { commandReport } from '../../bin/commands/report.js';
import { StateNames } from '../../lambdas/shared/contract/contract.js';
import { buildReport } from '../../lambdas/shared/domain/report.js';

const report = buildReport({
  runtime: 'local',
  execution: {
    name: 'local-run-1',
    arn: 'arn:aws:states:local:000000000000:execution:m:local-run-1',
    status: 'FAILED',
    startedAt: '2030-01-01T00:00:00.000Z',
    stoppedAt: '2030-01-01T00:00:04.000Z',
  },
  input: { release: 'v2' },
  path: [
    {
      state: StateNames.applyMigrations,
      type: 'Task',
      enteredAt: '2030-01-01T00:00:01.000Z',
      leftAt: '2030-01-01T00:00:02.000Z',
      failed: true,
      retries: 2,
    },
    {
      state: StateNames.rolledBack,
      type: 'Fail',
      enteredAt: '2030-01-01T00:00:04.000Z',
      failed: false,
      retries: 0,
    },
  ],
  error: { name: 'MigrationRolledBack', cause: 'restored' },
  notifications: [
    {
      state: StateNames.notifyRollback,
      subject: 'Rollback started: taskapp',
      message: 'Rollback started: taskapp. ...',
    },
  ],
  generatedAt: '2030-01-01T00:00:05.000Z',
});

function run(args: string[], s3?: S3Client) {
  const lines: string[] = [];
  return commandReport(args, { print: (line) => lines.push(line), ...(s3 ? { s3 } : {}) }).then((code) => ({
    code,
    lines,
  }));
}

describe('report <execution>', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-report-'));
  writeFileSync(join(dir, 'local-run-1.json'), JSON.stringify(report));

  it('prints a local report for a person: outcome, runbook, notification, path with retries', async () => {
    // Act
    const { code, lines } = await run(['local-run-1', '--dir', dir]);
    // Assess
    expect(code).toBe(0);
    const text = lines.join('\n');
    expect(lines[0]).toBe('Execution local-run-1 (local): FAILED');
    expect(text).toContain('see docs/runbook.md, "MigrationRolledBack"');
    expect(text).toContain('release   v2');
    expect(text).toContain('Notified (Notify that the rollback starts): Rollback started: taskapp');
    expect(text).toMatch(/1\.0 s {2}x Apply pending migrations, 2 retries/);
  });

  it("prints each applied migration's time, and how many faster ones were left out", async () => {
    // Prepare
    const withTimings = {
      ...report,
      mode: 'migrate',
      migrations: {
        pending: ['20250101_a', '20250102_b'],
        applied: ['20250101_a', '20250102_b'],
        transactionMode: 'release',
        durationMs: 2400,
        timings: [
          { name: '20250101_a', durationMs: 35 },
          { name: '20250102_b', durationMs: 2100 },
        ],
        timingsOmitted: 4,
      },
    };
    writeFileSync(join(dir, 'local-run-timed.json'), JSON.stringify(withTimings));
    // Act
    const { code, lines } = await run(['local-run-timed', '--dir', dir]);
    // Assess
    expect(code).toBe(0);
    const at = lines.indexOf('Migrations (release mode, 2.4 s)');
    expect(lines.slice(at, at + 6)).toEqual([
      'Migrations (release mode, 2.4 s)',
      '  pending  20250101_a, 20250102_b',
      '  applied  20250101_a, 20250102_b',
      '      35 ms  20250101_a',
      '      2.1 s  20250102_b',
      '  (4 faster migrations not listed)',
    ]);
  });

  it('prints the stored report with --json', async () => {
    const { code, lines } = await run(['local-run-1', '--dir', dir, '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(lines.join('\n'))).toEqual(report);
  });

  it('reads a report from the bucket by its S3 URI', async () => {
    // Prepare
    const s3 = mockClient(S3Client);
    s3.on(GetObjectCommand, { Bucket: 'reports-bucket', Key: 'reports/m/local-run-1.json' }).resolves({
      Body: { transformToString: async () => JSON.stringify(report) } as never,
    });
    // Act
    const { code, lines } = await run(['s3://reports-bucket/reports/m/local-run-1.json'], new S3Client({}));
    // Assess
    expect(code).toBe(0);
    expect(lines[0]).toBe('Execution local-run-1 (local): FAILED');
    s3.restore();
  });

  it('exits 0 with --help, and 1 when there is no such report or no argument', async () => {
    expect((await run(['--help'])).code).toBe(0);
    expect((await run(['--help'])).lines[0]).toMatch(/^Usage: report/);
    expect((await run(['nope', '--dir', dir])).code).toBe(1);
    expect((await run([])).code).toBe(1);
  });
});
