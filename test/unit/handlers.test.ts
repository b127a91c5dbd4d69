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
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ErrorNames } from '../../lambdas/shared/contract/contract.js';
import { preMigrationSnapshotId } from '../../lambdas/shared/domain/identifiers.js';
import { stateWith, testExecution } from '../helpers/fakes.js';

const rds = mockClient(RDSClient);
/** The snapshot the execution of `stateWith` takes of orders-db: `orders-db-premigration-exec-1-<hash>`. */
const SNAPSHOT = preMigrationSnapshotId('orders-db', testExecution);
const logs: string[] = [];

beforeAll(() => {
  vi.stubEnv('TARGET_KIND', 'instance');
  vi.stubEnv('TARGET_IDENTIFIER', 'orders-db');
  vi.stubEnv('DATABASE_SECRET_ARN', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders-AbCdEf');
  vi.stubEnv('MANAGED_BY', 'MigrationOrchestrator');
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  vi.spyOn(console, 'log').mockImplementation((line: string) => logs.push(line));
});
afterAll(() => {
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
    const result = await handler(stateWith({ input: { release: 'v2.0.0' } }), {} as never);

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
    expect(logs.map((line) => JSON.parse(line).message)).toEqual(
      expect.arrayContaining(['step started', 'step succeeded']),
    );
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
    await expect(handler(stateWith({ snapshot }), {} as never)).rejects.toMatchObject({
      name: ErrorNames.SnapshotFailed,
    });
    const failure = logs.map((line) => JSON.parse(line)).find((line) => line.message === 'step failed');
    expect(failure).toMatchObject({
      level: 'ERROR',
      step: 'check-snapshot',
      errorName: ErrorNames.SnapshotFailed,
    });
  });
});
