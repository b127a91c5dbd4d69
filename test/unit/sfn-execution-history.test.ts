import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  type ExecutionStatus,
  InvalidArn,
  SFNClient,
  SFNServiceException,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  isExecutionArn,
  SfnExecutionHistory,
} from '../../lambdas/shared/adapters/aws/sfn-execution-history.js';
import { ErrorNames } from '../../lambdas/shared/contract/contract.js';
import { historyCapability } from '../../lambdas/shared/runtime/aws/sfn.js';

const sfn = mockClient(SFNClient);
const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:orders-migrations';
const execution = (name: string) =>
  `arn:aws:states:eu-west-1:123456789012:execution:orders-migrations:${name}`;
const meta = { httpStatusCode: 400, requestId: 'req-1', attempts: 1, totalRetryDelay: 0 };

function described(executionArn: string, status: ExecutionStatus) {
  return {
    executionArn,
    stateMachineArn: MACHINE,
    name: executionArn.split(':').at(-1),
    status,
    startDate: new Date('2030-01-01T00:00:00Z'),
  };
}

function sdkError(name: string, httpStatusCode = 400, fault: 'client' | 'server' = 'client') {
  return new SFNServiceException({
    name,
    $fault: fault,
    $metadata: { ...meta, httpStatusCode },
    message: name,
  });
}

const history = () => new SfnExecutionHistory({ client: new SFNClient({}) });

beforeEach(() => sfn.reset());

describe('SfnExecutionHistory', () => {
  it.each<[ExecutionStatus, string]>([
    ['RUNNING', 'running'],
    ['PENDING_REDRIVE', 'running'],
    ['SUCCEEDED', 'succeeded'],
    ['FAILED', 'failed'],
    ['TIMED_OUT', 'failed'],
    ['ABORTED', 'failed'],
  ])('reports an execution %s as %s', async (status, expected) => {
    // Prepare
    const arn = execution('release-42');
    sfn
      .on(DescribeExecutionCommand, { executionArn: arn, includedData: 'METADATA_ONLY' })
      .resolves(described(arn, status));

    // Act
    const statuses = await history().statusOf([arn]);

    // Assess
    expect(statuses).toEqual({ [arn]: expected });
  });

  it('describes each execution once, with its ARN and METADATA_ONLY (the key-encrypted input and output are not needed), however often it is asked for', async () => {
    // Prepare
    const [a, b] = [execution('release-41'), execution('backup-2030-01-01')];
    sfn
      .on(DescribeExecutionCommand, { executionArn: a })
      .resolves(described(a, 'SUCCEEDED'))
      .on(DescribeExecutionCommand, { executionArn: b })
      .resolves(described(b, 'FAILED'));

    // Act
    const statuses = await history().statusOf([a, b, a, a, b]);

    // Assess
    expect(statuses).toEqual({ [a]: 'succeeded', [b]: 'failed' });
    const inputs = sfn.commandCalls(DescribeExecutionCommand).map((call) => call.args[0].input);
    expect(inputs).toHaveLength(2);
    expect(inputs).toEqual(
      expect.arrayContaining([
        { executionArn: a, includedData: 'METADATA_ONLY' },
        { executionArn: b, includedData: 'METADATA_ONLY' },
      ]),
    );
  });

  it('reports unknown an execution Step Functions no longer has (kept 90 days) or an invalid ARN', async () => {
    // Prepare
    const [old, bad] = [execution('release-1'), execution('release-bad')];
    sfn
      .on(DescribeExecutionCommand, { executionArn: old })
      .rejects(new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${old}'`, $metadata: meta }))
      .on(DescribeExecutionCommand, { executionArn: bad })
      .rejects(new InvalidArn({ message: 'Invalid Arn', $metadata: meta }));

    // Act
    const statuses = await history().statusOf([old, bad]);

    // Assess
    expect(statuses).toEqual({ [old]: 'unknown', [bad]: 'unknown' });
  });

  it('reports unknown, without a call, an id that is not an execution ARN (a local run)', async () => {
    // Prepare
    sfn.on(DescribeExecutionCommand).resolves(described(execution('x'), 'RUNNING'));
    const ids = ['local-run-1', MACHINE, 'arn:aws:states:eu-west-1:123456789012:express:m:e:f'];

    // Act
    const statuses = await history().statusOf(ids);

    // Assess
    expect(statuses).toEqual(Object.fromEntries(ids.map((id) => [id, 'unknown'])));
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
  });

  it('has at most 5 DescribeExecution calls in flight', async () => {
    // Prepare
    let inFlight = 0;
    let most = 0;
    sfn.on(DescribeExecutionCommand).callsFake(async (input: { executionArn: string }) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight -= 1;
      return described(input.executionArn, 'SUCCEEDED');
    });
    const ids = Array.from({ length: 17 }, (_, i) => execution(`release-${i}`));

    // Act
    const statuses = await history().statusOf(ids);

    // Assess
    expect(Object.values(statuses)).toEqual(ids.map(() => 'succeeded'));
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(17);
    expect(most).toBeLessThanOrEqual(5);
  });

  it.each([
    ['ThrottlingException', sdkError('ThrottlingException')],
    ['ServiceUnavailable', sdkError('ServiceUnavailable', 503, 'server')],
    ['InternalServerError', sdkError('InternalServerError', 500, 'server')],
    ['an unnamed 5xx', sdkError('InternalFailure', 502, 'server')],
    [
      'TimeoutError',
      Object.assign(new Error('Connection timed out after 30000 ms'), {
        name: 'TimeoutError',
        $metadata: {},
      }),
    ],
  ])('reports %s as a transient fault', async (_, error) => {
    sfn.on(DescribeExecutionCommand).rejects(error);
    await expect(history().statusOf([execution('release-42')])).rejects.toMatchObject({
      name: ErrorNames.TransientFault,
    });
  });

  it('fails when access is denied, naming states:DescribeExecution', async () => {
    sfn.on(DescribeExecutionCommand).rejects(sdkError('AccessDeniedException'));
    await expect(history().statusOf([execution('release-42')])).rejects.toMatchObject({
      name: ErrorNames.RetentionFailed,
      message: expect.stringContaining('states:DescribeExecution'),
    });
  });

  it('tells how each execution ended by its status, from DescribeExecution with METADATA_ONLY only (error and cause are key-encrypted)', async () => {
    // Prepare
    const [failed, stopped, gone] = [execution('release-v2-a'), execution('release-v2-b'), execution('old')];
    sfn
      .on(DescribeExecutionCommand, { executionArn: failed, includedData: 'METADATA_ONLY' })
      .resolves(described(failed, 'FAILED'))
      .on(DescribeExecutionCommand, { executionArn: stopped, includedData: 'METADATA_ONLY' })
      .resolves(described(stopped, 'ABORTED'))
      .on(DescribeExecutionCommand, { executionArn: gone })
      .rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: meta }));
    // Act
    const endings = await history().endingsOf([failed, stopped, gone]);
    // Assess
    expect(endings).toEqual({
      [failed]: { status: 'failed', how: 'FAILED' },
      [stopped]: { status: 'failed', how: 'ABORTED' },
      [gone]: { status: 'unknown' },
    });
    expect(sfn.commandCalls(DescribeExecutionCommand).map((call) => call.args[0].input)).toEqual([
      { executionArn: failed, includedData: 'METADATA_ONLY' },
      { executionArn: stopped, includedData: 'METADATA_ONLY' },
      { executionArn: gone, includedData: 'METADATA_ONLY' },
    ]);
  });

  it('answers an empty record for no ids, without a call', async () => {
    await expect(history().statusOf([])).resolves.toEqual({});
    expect(sfn.calls()).toHaveLength(0);
  });

  it('tells execution ARNs from other ids', () => {
    expect(isExecutionArn(execution('release-42'))).toBe(true);
    expect(isExecutionArn('arn:aws-cn:states:cn-north-1:123456789012:execution:m:n')).toBe(true);
    expect(isExecutionArn('local-run-1')).toBe(false);
    expect(isExecutionArn(MACHINE)).toBe(false);
    expect(isExecutionArn(`${execution('release-42')}:extra`)).toBe(false);
    expect(isExecutionArn('arn:aws:states:eu-west-1:not-an-account:execution:m:n')).toBe(false);
  });
});

describe('historyCapability', () => {
  it('gives the Step Functions execution history', async () => {
    await expect(historyCapability().executionHistory()).resolves.toBeInstanceOf(SfnExecutionHistory);
  });
});
