import { ListExecutionsCommand, SFNClient, SFNServiceException } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  SfnExecutionGuard,
  stateMachineArnOf,
} from '../../lambdas/shared/adapters/aws/sfn-execution-guard.js';
import { ErrorNames } from '../../lambdas/shared/contract/contract.js';

const sfn = mockClient(SFNClient);
const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:orders-migrations';
const current = {
  id: 'arn:aws:states:eu-west-1:123456789012:execution:orders-migrations:release-42',
  name: 'release-42',
  startedAt: '2025-03-01T12:00:00.000Z',
};

beforeEach(() => sfn.reset());

describe('SfnExecutionGuard', () => {
  it('lists the RUNNING executions of its own state machine, page by page, without itself', async () => {
    // Prepare
    sfn
      .on(ListExecutionsCommand, {
        stateMachineArn: MACHINE,
        statusFilter: 'RUNNING',
        maxResults: 100,
        nextToken: undefined,
      })
      .resolves({
        executions: [
          {
            executionArn: current.id,
            stateMachineArn: MACHINE,
            name: 'release-42',
            status: 'RUNNING',
            startDate: new Date('2025-03-01T12:00:00Z'),
          },
        ],
        nextToken: 'page-2',
      })
      .on(ListExecutionsCommand, {
        stateMachineArn: MACHINE,
        statusFilter: 'RUNNING',
        maxResults: 100,
        nextToken: 'page-2',
      })
      .resolves({
        executions: [
          {
            executionArn: `${MACHINE}:release-41`,
            stateMachineArn: MACHINE,
            name: 'release-41',
            status: 'RUNNING',
            startDate: new Date('2025-03-01T11:58:00Z'),
          },
        ],
      });

    // Act
    const others = await new SfnExecutionGuard({ client: new SFNClient({}) }).othersRunning(current);

    // Assess
    expect(others).toEqual(['release-41 (started 2025-03-01T11:58:00.000Z)']);
    expect(sfn.commandCalls(ListExecutionsCommand)).toHaveLength(2);
  });

  it('reports throttling as a transient fault', async () => {
    sfn.on(ListExecutionsCommand).rejects(
      new SFNServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'Rate exceeded',
      }),
    );
    await expect(
      new SfnExecutionGuard({ client: new SFNClient({}) }).othersRunning(current),
    ).rejects.toMatchObject({ name: ErrorNames.TransientFault });
  });

  it('names the missing permission when access is denied', async () => {
    sfn.on(ListExecutionsCommand).rejects(
      new SFNServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'not authorized',
      }),
    );
    await expect(
      new SfnExecutionGuard({ client: new SFNClient({}) }).othersRunning(current),
    ).rejects.toMatchObject({
      name: ErrorNames.InvalidInput,
      message: expect.stringContaining('states:ListExecutions'),
    });
  });

  it('derives the state machine ARN from the execution ARN, and fails on anything else', () => {
    expect(stateMachineArnOf(current.id)).toBe(MACHINE);
    expect(() => stateMachineArnOf('local-run-1')).toThrow(/not a Step Functions execution ARN/);
  });
});
