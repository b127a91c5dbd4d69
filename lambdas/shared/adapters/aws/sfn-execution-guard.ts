/**
 * The execution guard on AWS: the other RUNNING executions of this execution's own state machine
 * (`ListExecutions`). The state machine ARN is derived from the execution ARN, so no configuration is needed.
 */
import { ListExecutionsCommand, type ListExecutionsCommandOutput, SFNClient } from '@aws-sdk/client-sfn';
import type { ExecutionInfo } from '../../contract/contract.js';
import { InvalidInputError, TransientFaultError } from '../../contract/errors.js';
import type { ExecutionGuard } from '../../contract/ports.js';

const TRANSIENT = new Set([
  'ThrottlingException',
  'ServiceUnavailable',
  'InternalServerError',
  'TimeoutError',
]);

/** `arn:aws:states:r:a:execution:<machine>:<name>` -> `arn:aws:states:r:a:stateMachine:<machine>`. */
export function stateMachineArnOf(executionArn: string): string {
  const parts = executionArn.split(':');
  if (parts.length < 8 || parts[0] !== 'arn' || parts[2] !== 'states' || parts[5] !== 'execution') {
    throw new InvalidInputError(
      `${executionArn} is not a Step Functions execution ARN (arn:<partition>:states:<region>:<account>:execution:` +
        '<state machine>:<name>). Start the workflow through its state machine.',
    );
  }
  return [...parts.slice(0, 5), 'stateMachine', parts[6]].join(':');
}

export class SfnExecutionGuard implements ExecutionGuard {
  private readonly client: SFNClient;

  constructor(options: { readonly client?: SFNClient } = {}) {
    this.client = options.client ?? new SFNClient({});
  }

  async othersRunning(current: ExecutionInfo): Promise<readonly string[]> {
    const stateMachineArn = stateMachineArnOf(current.id);
    const others: string[] = [];
    let nextToken: string | undefined;
    do {
      let page: ListExecutionsCommandOutput;
      try {
        page = await this.client.send(
          new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING', maxResults: 100, nextToken }),
        );
      } catch (error) {
        const name = (error as Error).name;
        if (TRANSIENT.has(name)) {
          throw new TransientFaultError(
            `ListExecutions of ${stateMachineArn} failed transiently (${name}).`,
            {
              cause: error,
            },
          );
        }
        throw new InvalidInputError(
          `ListExecutions of ${stateMachineArn} failed (${name}): the preflight function needs ` +
            'states:ListExecutions on its own state machine (the MigrationOrchestrator construct grants it).',
          { cause: error },
        );
      }
      for (const execution of page.executions ?? []) {
        if (execution.executionArn === current.id) continue;
        others.push(
          `${execution.name ?? execution.executionArn} (started ${execution.startDate?.toISOString() ?? '?'})`,
        );
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return others;
  }
}
