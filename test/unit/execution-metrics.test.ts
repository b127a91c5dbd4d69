/**
 * The metrics of an ended execution (the report function's Embedded Metric Format document): the outcome the
 * construct's alarms watch, and the apply, snapshot and restore durations of its dashboard.
 */
import { describe, expect, it } from 'vitest';
import { executionMetrics, outcomeOf } from '../../lambdas/report/execution-metrics.js';
import { EmfMetricsPublisher } from '../../lambdas/shared/adapters/aws/emf-metrics-publisher.js';
import { OutcomeErrors, StateNames } from '../../lambdas/shared/contract/contract.js';
import { METRICS_NAMESPACE } from '../../lambdas/shared/contract/metrics.js';
import type { ExecutionReport } from '../../lambdas/shared/contract/report-schema.js';
import { REPORT_SCHEMA_VERSION } from '../../lambdas/shared/domain/report.js';

const AT = new Date('2030-01-01T10:09:30.000Z');

function report(
  status: ExecutionReport['execution']['status'],
  error?: string,
  extra: Partial<ExecutionReport> = {},
): ExecutionReport {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    generatedAt: AT.toISOString(),
    runtime: 'aws',
    execution: {
      name: 'release-v1-4-0',
      arn: 'arn:aws:states:eu-west-1:123456789012:execution:orders-migrations:release-v1-4-0',
      status,
      startedAt: '2030-01-01T10:00:00.000Z',
    },
    outcome: { succeeded: status === 'SUCCEEDED', ...(error ? { error } : {}), summary: 'x' },
    input: null,
    notifications: [],
    path: [],
    durations: { byState: {} },
    ...extra,
  };
}

describe('outcomeOf', () => {
  it('is the outcome error of a failed execution, for each of OutcomeErrors', () => {
    for (const outcome of Object.values(OutcomeErrors)) {
      expect(outcomeOf(report('FAILED', outcome))).toBe(outcome);
    }
  });

  it('is the status when the execution failed with an error the workflow does not name, or did not fail', () => {
    expect(outcomeOf(report('FAILED', 'States.Runtime'))).toBe('FAILED');
    expect(outcomeOf(report('FAILED'))).toBe('FAILED');
    expect(outcomeOf(report('TIMED_OUT', 'States.Timeout'))).toBe('TIMED_OUT');
    expect(outcomeOf(report('ABORTED'))).toBe('ABORTED');
    expect(outcomeOf(report('SUCCEEDED'))).toBe('SUCCEEDED');
  });
});

describe('executionMetrics', () => {
  it('counts a failed rollback as one RollbackFailed execution of its state machine', () => {
    // Act
    const document = executionMetrics(report('FAILED', 'RollbackFailed'), 'orders-migrations', AT);
    // Assess
    expect(document).toEqual({
      _aws: {
        Timestamp: AT.getTime(),
        CloudWatchMetrics: [
          {
            Namespace: 'PrismaMigrationOrchestrator',
            Dimensions: [['StateMachineName', 'Outcome']],
            Metrics: [{ Name: 'Executions', Unit: 'Count' }],
          },
        ],
      },
      StateMachineName: 'orders-migrations',
      Outcome: 'RollbackFailed',
      Executions: 1,
    });
  });

  it('adds the apply, snapshot and restore durations the report measured, each summed over its states', () => {
    // Prepare
    const rolledBack = report('FAILED', 'MigrationRolledBack', {
      migrations: { pending: ['m1'], applied: [], durationMs: 4200 },
      durations: {
        byState: {
          [StateNames.createSnapshot]: 800,
          [StateNames.waitForSnapshot]: 120000,
          [StateNames.checkSnapshot]: 300,
          [StateNames.snapshotReady]: 5,
          [StateNames.applyMigrations]: 4300,
          [StateNames.restoreSnapshot]: 900,
          [StateNames.waitForRestore]: 328000,
          [StateNames.checkRestore]: 400,
          [StateNames.swap]: 60000,
        },
      },
    });
    // Act
    const document = executionMetrics(rolledBack, 'orders-migrations', AT);
    // Assess
    expect(document._aws.CloudWatchMetrics[1]).toEqual({
      Namespace: METRICS_NAMESPACE,
      Dimensions: [['StateMachineName']],
      Metrics: [
        { Name: 'ApplyDuration', Unit: 'Milliseconds' },
        { Name: 'SnapshotDuration', Unit: 'Milliseconds' },
        { Name: 'RestoreDuration', Unit: 'Milliseconds' },
      ],
    });
    expect(document).toMatchObject({
      ApplyDuration: 4200,
      SnapshotDuration: 121105,
      RestoreDuration: 329300,
    });
  });

  it('declares only the durations the execution has (a metric without a value would be rejected)', () => {
    // Act
    const document = executionMetrics(
      report('SUCCEEDED', undefined, { durations: { byState: { [StateNames.waitForSnapshot]: 60000 } } }),
      'orders-migrations',
      AT,
    );
    // Assess
    expect(document._aws.CloudWatchMetrics[1]?.Metrics).toEqual([
      { Name: 'SnapshotDuration', Unit: 'Milliseconds' },
    ]);
    expect(document).not.toHaveProperty('ApplyDuration');
    expect(document).not.toHaveProperty('RestoreDuration');
  });
});

describe('EmfMetricsPublisher', () => {
  it('writes the document as one JSON line', () => {
    // Prepare
    const lines: string[] = [];
    const publisher = new EmfMetricsPublisher({ write: (line) => lines.push(line) });
    // Act
    publisher.publish(executionMetrics(report('FAILED', 'RollbackFailed'), 'orders-migrations', AT));
    // Assess
    expect(lines).toHaveLength(1);
    expect(lines[0]?.split('\n')).toHaveLength(2);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ Outcome: 'RollbackFailed' });
  });
});
