/**
 * The Lambda handlers as AWS invokes them: the environment the construct sets, the middy wiring, the RDS
 * API (aws-sdk-client-mock) and the structured log lines.
 */
import {
  CreateDBSnapshotCommand,
  DescribeAccountAttributesCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ErrorNames } from '../../lambdas/shared/contract/contract.js';
import { preMigrationSnapshotId } from '../../lambdas/shared/domain/identifiers.js';
import { stateWith, testExecution } from '../helpers/fakes.js';
import { type CapturedOutput, captureOutput } from '../helpers/output.js';

const rds = mockClient(RDSClient);
/** The snapshot the execution of `stateWith` takes of orders-db: `orders-db-premigration-exec-1-<hash>`. */
const SNAPSHOT = preMigrationSnapshotId('orders-db', testExecution);
/** The functions' standard output and error: Powertools' JSON log lines. */
let output: CapturedOutput;

/** The context Lambda passes a handler (the fields Powertools' logger reads). */
const lambdaContext = {
  awsRequestId: '4f6c2a1e-0b7d-4c1a-9e2f-3a5b6c7d8e9f',
  functionName: 'orchestrator-step',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:orchestrator-step',
  memoryLimitInMB: '512',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

beforeAll(() => {
  vi.stubEnv('TARGET_KIND', 'instance');
  vi.stubEnv('TARGET_IDENTIFIER', 'orders-db');
  vi.stubEnv('DATABASE_SECRET_ARN', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders-AbCdEf');
  vi.stubEnv('MANAGED_BY', 'MigrationOrchestrator');
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  output = captureOutput();
});
afterAll(() => {
  output.restore();
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('create-snapshot handler', () => {
  it('creates the tagged snapshot of the configured instance and logs the step', async () => {
    // Prepare
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [{ DBInstanceIdentifier: 'orders-db', DBInstanceStatus: 'available', Engine: 'postgres' }],
    });
    rds.on(DescribeAccountAttributesCommand).resolves({
      AccountQuotas: [{ AccountQuotaName: 'ManualSnapshots', Used: 12, Max: 100 }],
    });
    rds.on(CreateDBSnapshotCommand).resolves({
      DBSnapshot: {
        DBSnapshotIdentifier: SNAPSHOT,
        DBInstanceIdentifier: 'orders-db',
        Status: 'creating',
      },
    });
    const { handler } = await import('../../lambdas/create-snapshot/handler.js');

    // Act
    output.clear();
    const result = await handler(stateWith({ input: { release: 'v2.0.0' } }), lambdaContext);

    // Assess
    expect(SNAPSHOT).toMatch(/^orders-db-premigration-exec-1-[0-9a-f]{8}$/);
    expect(result).toMatchObject({
      snapshotId: SNAPSHOT,
      status: 'creating',
      kind: 'pre-migration',
      quota: { used: 12, max: 100 },
    });
    const create = rds.commandCalls(CreateDBSnapshotCommand)[0]?.args[0].input;
    expect(create).toMatchObject({ DBInstanceIdentifier: 'orders-db', DBSnapshotIdentifier: SNAPSHOT });
    expect(create?.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'managed-by', Value: 'MigrationOrchestrator' },
        { Key: 'migration-release', Value: 'v2.0.0' },
        { Key: 'migration-execution', Value: testExecution.id },
        { Key: 'snapshot-kind', Value: 'pre-migration' },
        { Key: 'retention-class', Value: 'newest-10' },
      ]),
    );
    // Every line the invocation wrote is one JSON object with the correlation keys.
    const lines = output.json();
    expect(lines.map((line) => line.message)).toEqual(['step started', 'step succeeded']);
    for (const line of lines) {
      expect(line).toMatchObject({
        level: 'INFO',
        step: 'create-snapshot',
        state: 'Create the snapshot',
        execution: testExecution.name,
        release: 'v2.0.0',
        target: 'orders-db',
        requestId: lambdaContext.awsRequestId,
        function_name: lambdaContext.functionName,
        function_request_id: lambdaContext.awsRequestId,
        service: 'prisma-migration-orchestrator',
        timestamp: expect.any(String),
      });
    }
    expect(lines[1]?.durationMs).toEqual(expect.any(Number));
  });
});

describe('check-snapshot handler', () => {
  it('fails with SnapshotFailed, logged with its name, when RDS reports the snapshot failed', async () => {
    rds.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        {
          DBSnapshotIdentifier: 'orders-db-premigration-exec-1',
          DBInstanceIdentifier: 'orders-db',
          Status: 'failed',
        },
      ],
    });
    const { handler } = await import('../../lambdas/check-snapshot/handler.js');
    const snapshot = {
      snapshotId: 'orders-db-premigration-exec-1',
      sourceIdentifier: 'orders-db',
      status: 'creating' as const,
      startedAt: new Date().toISOString(),
      deadline: new Date(Date.now() + 3_600_000).toISOString(),
      attempts: 0,
      waitSeconds: 15,
    };
    output.clear();
    await expect(handler(stateWith({ snapshot }), lambdaContext)).rejects.toMatchObject({
      name: ErrorNames.SnapshotFailed,
    });
    const failure = output.json().find((line) => line.message === 'step failed');
    expect(failure).toMatchObject({
      level: 'ERROR',
      step: 'check-snapshot',
      state: 'Check the snapshot',
      execution: testExecution.name,
      target: 'orders-db',
      requestId: lambdaContext.awsRequestId,
      errorName: ErrorNames.SnapshotFailed,
      errorMessage: expect.stringContaining('orders-db-premigration-exec-1'),
      durationMs: expect.any(Number),
    });
  });
});
