/**
 * The execution report: `buildReport` (from a recorded state and path), the report function's core from a recorded
 * DescribeExecution and GetExecutionHistory (aws-sdk-client-mock at the SDK edge), the notification messages, and
 * that no table row or credential reaches a report. Every report is validated against the one schema.
 */
import { readFileSync } from 'node:fs';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { readHistory } from '../../lambdas/report/history.js';
import { reportExecution } from '../../lambdas/report/report-execution.js';
import { EmfMetricsPublisher } from '../../lambdas/shared/adapters/aws/emf-metrics-publisher.js';
import { S3ReportStore } from '../../lambdas/shared/adapters/aws/s3-report-store.js';
import { SfnExecutionReader } from '../../lambdas/shared/adapters/aws/sfn-execution-reader.js';
import { SnsNotifier } from '../../lambdas/shared/adapters/aws/sns-notifier.js';
import { StateNames, type WorkflowState } from '../../lambdas/shared/contract/contract.js';
import { ExecutionReportSchema } from '../../lambdas/shared/contract/report-schema.js';
import { notificationOfParameters, statusChangeMessage } from '../../lambdas/shared/domain/notification.js';
import { buildReport, type ReportSource, type StateVisit } from '../../lambdas/shared/domain/report.js';

const ROW_VALUE = 'ada@example.com';
const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:orders-migrations:release-v1-4-0';
const fixture = JSON.parse(readFileSync('test/fixtures/report/rollback-execution.json', 'utf8')) as {
  describeExecution: Record<string, unknown> & { startDate: string; stopDate: string };
  events: (HistoryEvent & { timestamp: string })[];
};
const events = fixture.events.map((event) => ({ ...event, timestamp: new Date(event.timestamp) }));

/** A succeeded local run's final state and path, as the runner records them. */
function succeededSource(): ReportSource {
  const state = {
    input: { release: 'v1.1.0' },
    execution: {
      id: 'arn:aws:states:local:000000000000:execution:m:run-1',
      name: 'run-1',
      startedAt: '2030-01-01T00:00:00.000Z',
    },
    plan: {
      mode: 'migrate',
      databaseName: 'taskapp',
      targetIdentifier: 'taskapp',
      totalMigrations: 3,
      applied: ['a'],
      pending: ['b', 'c'],
      edited: [],
      unknownApplied: [],
      transactionMode: 'release',
      lockedTables: ['public."Task"'],
      snapshotRequired: true,
      dryRun: false,
      proceed: true,
      warnings: [],
      driftBaseline: { drifted: false },
    },
    snapshot: {
      snapshotId: 'taskapp-premigration-run-1',
      sourceIdentifier: 'taskapp',
      status: 'available',
      startedAt: '2030-01-01T00:00:01.000Z',
      deadline: '2030-01-01T02:00:01.000Z',
      attempts: 1,
      waitSeconds: 1,
    },
    apply: { applied: ['b', 'c'], transactionMode: 'release', durationMs: 250 },
    health: {
      healthy: true,
      checks: [
        { name: 'database answers', kind: 'database', ok: true, detail: 'ok' },
        { name: 'schema matches the migrations', kind: 'drift', ok: true, detail: 'no drift' },
      ],
    },
  } as unknown as WorkflowState;
  const at = (s: number) => new Date(Date.parse('2030-01-01T00:00:00.000Z') + s * 1000).toISOString();
  const visit = (
    state: string,
    type: StateVisit['type'],
    from: number,
    to: number | undefined,
    retries = 0,
  ): StateVisit => ({
    state,
    type,
    enteredAt: at(from),
    ...(to === undefined ? {} : { leftAt: at(to) }),
    failed: false,
    retries,
  });
  return {
    runtime: 'local',
    execution: {
      name: 'run-1',
      arn: state.execution.id,
      status: 'SUCCEEDED',
      startedAt: at(0),
      stoppedAt: at(5),
    },
    input: state.input,
    state,
    path: [
      visit(StateNames.start, 'Pass', 0, 0),
      visit(StateNames.preflight, 'Task', 0, 1),
      visit(StateNames.createSnapshot, 'Task', 1, 2),
      visit(StateNames.waitForSnapshot, 'Wait', 2, 3),
      visit(StateNames.checkSnapshot, 'Task', 3, 3),
      visit(StateNames.waitForSnapshot, 'Wait', 3, 4),
      visit(StateNames.applyMigrations, 'Task', 4, 4.5, 1),
      visit(StateNames.verifyHealth, 'Task', 4.5, 5),
      visit(StateNames.succeeded, 'Succeed', 5, undefined),
    ],
    generatedAt: at(6),
  };
}

describe('buildReport', () => {
  it('reports a succeeded release from its state and path, valid against the schema', () => {
    // Act
    const report = ExecutionReportSchema.parse(buildReport(succeededSource()));
    // Assess
    expect(report).toMatchObject({
      schemaVersion: 1,
      runtime: 'local',
      execution: { name: 'run-1', status: 'SUCCEEDED', durationMs: 5000 },
      mode: 'migrate',
      release: 'v1.1.0',
      target: 'taskapp',
      database: 'taskapp',
      outcome: {
        succeeded: true,
        terminalState: StateNames.succeeded,
        summary: expect.stringContaining('Migrations applied'),
      },
      migrations: { pending: ['b', 'c'], applied: ['b', 'c'], transactionMode: 'release', durationMs: 250 },
      snapshot: { snapshotId: 'taskapp-premigration-run-1', status: 'available' },
      drift: {
        baseline: { drifted: false },
        checks: [expect.objectContaining({ name: 'schema matches the migrations' })],
      },
      notifications: [],
    });
    expect(report.plan?.lockedTables).toEqual(['public."Task"']);
    expect(report.path.at(-1)).toEqual({
      state: StateNames.succeeded,
      type: 'Succeed',
      enteredAt: expect.any(String),
      result: 'succeeded',
      retries: 0,
    });
    expect(report.path.find((p) => p.state === StateNames.applyMigrations)).toMatchObject({
      durationMs: 500,
      retries: 1,
    });
    // Two visits of the Wait state, summed.
    expect(report.durations).toEqual({
      totalMs: 5000,
      byState: expect.objectContaining({
        [StateNames.waitForSnapshot]: 2000,
        [StateNames.applyMigrations]: 500,
      }),
    });
    expect(report.failure).toBeUndefined();
    expect(report.rollback).toBeUndefined();
  });

  it('carries the per-migration timings of the apply step, capped with the count of the rest', () => {
    // Prepare
    const source = succeededSource();
    const apply = {
      applied: ['b', 'c'],
      transactionMode: 'release',
      durationMs: 250,
      timings: [
        { name: 'b', durationMs: 120 },
        { name: 'c', durationMs: 80 },
      ],
      timingsOmitted: 3,
    };
    // Act
    const report = ExecutionReportSchema.parse(
      buildReport({ ...source, state: { ...source.state, apply } as unknown as WorkflowState }),
    );
    // Assess
    expect(report.migrations).toEqual({
      pending: ['b', 'c'],
      applied: ['b', 'c'],
      transactionMode: 'release',
      durationMs: 250,
      timings: [
        { name: 'b', durationMs: 120 },
        { name: 'c', durationMs: 80 },
      ],
      timingsOmitted: 3,
    });
  });

  it('fails the schema on a timing without a name or with a negative duration', () => {
    const report = buildReport(succeededSource());
    const withTimings = (timings: unknown) => ({
      ...report,
      migrations: { ...report.migrations, timings },
    });
    expect(ExecutionReportSchema.safeParse(withTimings([{ name: 'b', durationMs: 1 }])).success).toBe(true);
    expect(ExecutionReportSchema.safeParse(withTimings([{ name: '', durationMs: 1 }])).success).toBe(false);
    expect(ExecutionReportSchema.safeParse(withTimings([{ name: 'b', durationMs: -1 }])).success).toBe(false);
  });

  it('never writes a table row that PostgreSQL quoted in an error, nor a credential', () => {
    // Prepare
    const source = succeededSource();
    const state = {
      ...source.state,
      error: {
        Error: 'MigrationFailed',
        Cause: JSON.stringify({
          errorType: 'MigrationFailed',
          errorMessage: `duplicate key value violates unique constraint "User_email_key": Key (email)=(${ROW_VALUE}) already exists. Failing row contains (7, ${ROW_VALUE}, secret-name).`,
          trace: ['at /var/task/index.mjs'],
        }),
      },
    } as WorkflowState;
    // Act
    const report = buildReport({
      ...source,
      input: { release: 'v1', note: 'postgres://app:hunter2@db.internal:5432/orders', password: 'hunter2' },
      state,
      execution: { ...source.execution, status: 'FAILED' },
      error: { name: 'MigrationRolledBack', cause: `invalid input syntax for type integer: "${ROW_VALUE}"` },
    });
    // Assess
    const text = JSON.stringify(ExecutionReportSchema.parse(report));
    expect(text).not.toContain(ROW_VALUE);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('index.mjs');
    expect(report.failure).toEqual({
      name: 'MigrationFailed',
      message: expect.stringContaining('Key (email)=(***) already exists.'),
    });
    expect(report.outcome.cause).toBe('invalid input syntax for type integer: "***"');
    expect(report.input).toEqual({
      release: 'v1',
      note: 'postgres://app:***@db.internal:5432/orders',
      password: '***',
    });
  });

  it('says what a failed execution means and names its runbook article', () => {
    // Act
    const report = buildReport({
      ...succeededSource(),
      execution: { ...succeededSource().execution, status: 'FAILED' },
      path: [
        {
          state: StateNames.rollbackFailed,
          type: 'Fail',
          enteredAt: '2030-01-01T00:00:00.000Z',
          failed: false,
          retries: 0,
        },
      ],
      error: {
        name: 'RollbackFailed',
        cause: 'SwapFailed: rename orders-prod-restored-ab12 to orders-prod: InvalidDBInstanceState',
      },
    });
    // Assess
    expect(report.outcome).toEqual({
      succeeded: false,
      terminalState: StateNames.rollbackFailed,
      error: 'RollbackFailed',
      cause: 'SwapFailed: rename orders-prod-restored-ab12 to orders-prod: InvalidDBInstanceState',
      summary:
        'RollbackFailed (Rollback failed, operator action required): SwapFailed: rename orders-prod-restored-ab12 to orders-prod: InvalidDBInstanceState (see docs/runbook.md, "RollbackFailed")',
    });
    expect(report.path[0]?.result).toBe('failed');
  });

  it('fails the schema when a report misses its outcome (the schema can fail)', () => {
    // Prepare
    const { outcome: _outcome, ...withoutOutcome } = buildReport(succeededSource());
    // Assess
    expect(ExecutionReportSchema.safeParse(withoutOutcome).success).toBe(false);
    expect(ExecutionReportSchema.safeParse({ ...buildReport(succeededSource()), extra: 1 }).success).toBe(
      false,
    );
  });
});

describe('readHistory', () => {
  it('reads the path, the retries, the last state document and the notification sent from a recorded history', () => {
    // Act
    const history = readHistory(events);
    // Assess
    const names = history.path.map((visit) => visit.state);
    expect(names.slice(0, 2)).toEqual([StateNames.start, StateNames.preflight]);
    expect(names.at(-1)).toBe(StateNames.rolledBack);
    expect(history.path.find((v) => v.state === StateNames.checkSnapshot)).toMatchObject({
      retries: 1,
      failed: false,
    });
    expect(history.path.find((v) => v.state === StateNames.applyMigrations)).toMatchObject({
      failed: true,
      retries: 0,
    });
    expect(history.lastState?.rollbackHealth?.healthy).toBe(true);
    expect(history.notifications).toEqual([
      {
        state: StateNames.notifyRollback,
        subject: 'Rollback started: orders-prod',
        message: expect.stringMatching(
          /^Rollback started: orders-prod\. The release of execution release-v1-4-0/,
        ),
      },
    ]);
  });

  it('records no notification when the publish failed (the rollback went on)', () => {
    // Prepare
    const failedPublish = events
      .map((event) => (event.type === 'TaskSucceeded' ? { ...event, type: 'TaskFailed' } : event))
      .filter(
        (event) =>
          !(
            event.type === 'TaskStateExited' &&
            event.stateExitedEventDetails?.name === StateNames.notifyRollback
          ),
      );
    // Act
    const history = readHistory(failedPublish);
    // Assess
    expect(history.notifications).toEqual([]);
    expect(history.path.find((v) => v.state === StateNames.notifyRollback)?.failed).toBe(true);
  });
});

describe('reportExecution (the report function, at the SDK edge)', () => {
  const sfn = mockClient(SFNClient);
  const s3 = mockClient(S3Client);
  const sns = mockClient(SNSClient);
  const event = {
    version: '0',
    id: 'e-1',
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: '123456789012',
    time: '2030-01-01T10:09:25Z',
    region: 'eu-west-1',
    resources: [ARN],
    detail: {
      executionArn: ARN,
      stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:orders-migrations',
      name: 'release-v1-4-0',
      status: 'FAILED',
      startDate: 1893492000000,
      stopDate: 1893492565000,
      input: null,
      output: null,
    },
  };
  const deps = () => ({
    reader: new SfnExecutionReader({ client: new SFNClient({}) }),
    store: new S3ReportStore({
      bucket: 'reports-bucket',
      keyArn: 'arn:aws:kms:eu-west-1:123456789012:key/k-1',
      client: new S3Client({}),
    }),
    notifier: new SnsNotifier('arn:aws:sns:eu-west-1:123456789012:topic', { client: new SNSClient({}) }),
    metrics: new EmfMetricsPublisher({ write: (line) => metricLines.push(line) }),
    clock: { now: () => new Date('2030-01-01T10:09:30.000Z') },
  });
  let metricLines: string[] = [];

  beforeEach(() => {
    metricLines = [];
    sfn.reset();
    s3.reset();
    sns.reset();
    const described = fixture.describeExecution;
    sfn.on(DescribeExecutionCommand).resolves({
      ...described,
      startDate: new Date(described.startDate),
      stopDate: new Date(described.stopDate),
    } as never);
    // Two pages, as GetExecutionHistory answers a long history.
    sfn
      .on(GetExecutionHistoryCommand, { nextToken: undefined })
      .resolves({ events: events.slice(0, 40), nextToken: 'page-2' })
      .on(GetExecutionHistoryCommand, { nextToken: 'page-2' })
      .resolves({ events: events.slice(40) });
    s3.on(PutObjectCommand).resolves({});
    sns.on(PublishCommand).resolves({ MessageId: 'm-2' });
  });

  it('writes the report of a rolled-back execution under reports/<state machine>/<execution>.json, encrypted, and publishes it', async () => {
    // Act
    const result = await reportExecution(event, deps());
    // Assess
    expect(result.key).toBe('reports/orders-migrations/release-v1-4-0.json');
    expect(sfn.commandCalls(DescribeExecutionCommand)[0]?.args[0].input).toEqual({
      executionArn: ARN,
      includedData: 'ALL_DATA',
    });
    expect(sfn.commandCalls(GetExecutionHistoryCommand).map((c) => c.args[0].input)).toEqual([
      { executionArn: ARN, maxResults: 1000, reverseOrder: false, includeExecutionData: true },
      {
        executionArn: ARN,
        maxResults: 1000,
        reverseOrder: false,
        includeExecutionData: true,
        nextToken: 'page-2',
      },
    ]);
    const put = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(put).toMatchObject({
      Bucket: 'reports-bucket',
      Key: 'reports/orders-migrations/release-v1-4-0.json',
      ContentType: 'application/json',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/k-1',
    });
    const report = ExecutionReportSchema.parse(JSON.parse(put?.Body as string));
    expect(report).toMatchObject({
      runtime: 'aws',
      execution: {
        name: 'release-v1-4-0',
        stateMachine: 'orders-migrations',
        status: 'FAILED',
        durationMs: 565000,
        consoleUrl: `https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${ARN}`,
      },
      release: 'v1.4.0',
      target: 'orders-prod',
      database: 'orders',
      outcome: { succeeded: false, terminalState: StateNames.rolledBack, error: 'MigrationRolledBack' },
      failure: { name: 'MigrationFailed' },
      rollback: { swap: { phase: 'complete' }, health: { healthy: true } },
      notifications: [expect.objectContaining({ state: StateNames.notifyRollback })],
    });
    expect(JSON.stringify(report)).not.toContain(ROW_VALUE);
    expect(report.durations.byState[StateNames.waitForRestore]).toBe(328000);
    expect(metricLines).toHaveLength(1);
    expect(metricLines[0]?.endsWith('\n')).toBe(true);
    expect(JSON.parse(metricLines[0] as string)).toMatchObject({
      StateMachineName: 'orders-migrations',
      Outcome: 'MigrationRolledBack',
      Executions: 1,
    });
    const publish = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(publish).toMatchObject({
      TopicArn: 'arn:aws:sns:eu-west-1:123456789012:topic',
      Subject: 'orders-prod: Failed: MigrationRolledBack',
      MessageStructure: 'json',
    });
    const perType = JSON.parse(publish?.Message as string) as { default: string; email: string };
    expect(perType.email).toContain('Release: v1.4.0');
    expect(perType.email).toContain('Duration: 9 min 25 s');
    expect(perType.email).toContain(
      'Report: s3://reports-bucket/reports/orders-migrations/release-v1-4-0.json',
    );
    expect(JSON.parse(perType.default)).toMatchObject({
      version: '1.0',
      source: 'custom',
      content: { textType: 'client-markdown', title: ':x: orders-prod: Failed: MigrationRolledBack' },
      metadata: { threadId: ARN },
    });
  });

  it('publishes the metrics of the execution even when its report cannot be stored', async () => {
    // Prepare
    s3.on(PutObjectCommand).rejects(new Error('AccessDenied'));
    // Act
    await expect(reportExecution(event, deps())).rejects.toThrow('AccessDenied');
    // Assess
    expect(metricLines.map((line) => JSON.parse(line).Outcome)).toEqual(['MigrationRolledBack']);
  });

  it('reports a succeeded execution from its output', async () => {
    // Prepare
    const output = {
      ...(events.at(-2)?.stateEnteredEventDetails?.input
        ? JSON.parse(events.at(-2)?.stateEnteredEventDetails?.input as string)
        : {}),
    };
    sfn.on(DescribeExecutionCommand).resolves({
      ...fixture.describeExecution,
      status: 'SUCCEEDED',
      error: undefined,
      cause: undefined,
      output: JSON.stringify({
        ...output,
        rollbackHealth: undefined,
        restore: undefined,
        swap: undefined,
        error: undefined,
      }),
      startDate: new Date(fixture.describeExecution.startDate),
      stopDate: new Date(fixture.describeExecution.stopDate),
    } as never);
    // Act
    const { report } = await reportExecution(
      { ...event, detail: { ...event.detail, status: 'SUCCEEDED' } },
      deps(),
    );
    // Assess
    expect(report.outcome.succeeded).toBe(true);
    expect(report.rollback).toBeUndefined();
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input.Subject).toMatch(/^orders-prod: /);
  });

  it('fails, naming what it expected, when invoked with something else than a status change of an execution', async () => {
    await expect(reportExecution({ source: 'aws.s3', detail: {} }, deps())).rejects.toThrow(
      /Step Functions Execution Status Change/,
    );
    await expect(
      reportExecution({ source: 'aws.states', detail: { executionArn: 'arn:aws:s3:::bucket' } }, deps()),
    ).rejects.toThrow(/not a Step Functions execution ARN/);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });
});

describe('notifications', () => {
  it('keeps a subject within SNS limits: one printable ASCII line under 100 characters', () => {
    // Prepare
    const report = buildReport({
      ...succeededSource(),
      state: {
        ...succeededSource().state,
        plan: { ...succeededSource().state?.plan, targetIdentifier: `x${'é'.repeat(150)}\nz` },
      } as WorkflowState,
    });
    // Act
    const { subject } = statusChangeMessage(report);
    // Assess
    expect(subject.length).toBeLessThan(100);
    expect(subject).toMatch(/^[\x20-\x7E]+$/);
  });

  it('reads the message the workflow published from its resolved parameters', () => {
    expect(
      notificationOfParameters('S', { Message: { default: '{}', email: 'plain' }, Subject: 'sub' }),
    ).toEqual({ state: 'S', subject: 'sub', message: 'plain' });
    expect(notificationOfParameters('S', { Message: '{"default":"d"}', MessageStructure: 'json' })).toEqual({
      state: 'S',
      message: 'd',
    });
    expect(notificationOfParameters('S', { Message: 'text' })).toEqual({ state: 'S', message: 'text' });
    expect(notificationOfParameters('S', {})).toBeUndefined();
  });
});
