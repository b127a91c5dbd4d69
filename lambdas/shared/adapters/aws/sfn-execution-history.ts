/**
 * The execution history on AWS: how each execution of the workflow stands, by `DescribeExecution` of its
 * ARN (the execution tag on a managed snapshot). Step Functions keeps a closed execution for 90 days; one it
 * no longer has, or an id that is not an execution ARN (a local run's), is `unknown`.
 */
import { DescribeExecutionCommand, SFNClient, type ExecutionStatus as SfnStatus } from '@aws-sdk/client-sfn';
import { RetentionFailedError, TransientFaultError } from '../../contract/errors.js';
import type { ExecutionEnding, ExecutionHistory, ExecutionStatus } from '../../contract/ports.js';

const TRANSIENT = new Set([
  'ThrottlingException',
  'ServiceUnavailable',
  'InternalServerError',
  'TimeoutError',
  'KmsThrottlingException',
]);

/** Not there (any more): closed more than 90 days ago, or never an execution of this account. */
const GONE = new Set(['ExecutionDoesNotExist', 'InvalidArn']);

const ACCESS_DENIED = new Set(['AccessDeniedException', 'AccessDenied']);

/** At most this many DescribeExecution calls at a time (the API's default rate is a few per second). */
const CONCURRENCY = 5;

const STATUSES: Readonly<Record<SfnStatus, ExecutionStatus>> = {
  RUNNING: 'running',
  // A redrive was requested and the execution is about to run again.
  PENDING_REDRIVE: 'running',
  SUCCEEDED: 'succeeded',
  FAILED: 'failed',
  TIMED_OUT: 'failed',
  ABORTED: 'failed',
};

/** `arn:<partition>:states:<region>:<account>:execution:<state machine>:<name>`. */
export function isExecutionArn(id: string): boolean {
  const [arn, partition, service, region, account, type, machine, name, ...rest] = id.split(':');
  return (
    arn === 'arn' &&
    Boolean(partition) &&
    service === 'states' &&
    Boolean(region) &&
    /^\d{12}$/.test(account ?? '') &&
    type === 'execution' &&
    Boolean(machine) &&
    Boolean(name) &&
    rest.length === 0
  );
}

export class SfnExecutionHistory implements ExecutionHistory {
  private readonly client: SFNClient;

  constructor(options: { readonly client?: SFNClient } = {}) {
    this.client = options.client ?? new SFNClient({});
  }

  async statusOf(executionIds: readonly string[]): Promise<Readonly<Record<string, ExecutionStatus>>> {
    const endings = await this.endingsOf(executionIds);
    return Object.fromEntries(Object.entries(endings).map(([id, ending]) => [id, ending.status]));
  }

  async endingsOf(executionIds: readonly string[]): Promise<Readonly<Record<string, ExecutionEnding>>> {
    const ids = [...new Set(executionIds)];
    const endings: Record<string, ExecutionEnding> = {};
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < ids.length) {
        const id = ids[next++] as string;
        try {
          endings[id] = await this.endingOfOne(id);
        } catch (error) {
          next = ids.length; // The other workers stop after their current call.
          throw error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, ids.length) }, worker));
    return endings;
  }

  private async endingOfOne(id: string): Promise<ExecutionEnding> {
    if (!isExecutionArn(id)) return { status: 'unknown' };
    try {
      // METADATA_ONLY: the status without the input, output, error and cause, which the state machine's KMS
      // key encrypts (reading them would need kms:Decrypt, which the status does not).
      const out = await this.client.send(
        new DescribeExecutionCommand({ executionArn: id, includedData: 'METADATA_ONLY' }),
      );
      if (out.status === undefined) return { status: 'unknown' };
      // A status this code does not know yet is taken as running: its snapshots are kept, never deleted on a guess.
      return { status: STATUSES[out.status] ?? 'running', how: out.status };
    } catch (error) {
      const name = (error as Error).name;
      if (GONE.has(name)) return { status: 'unknown' };
      if (TRANSIENT.has(name) || isServerFault(error)) {
        throw new TransientFaultError(
          `DescribeExecution of ${id} failed transiently (${name}). Nothing was deleted; the call can be retried.`,
          { cause: error, details: { executionArn: id, fault: name } },
        );
      }
      const hint = ACCESS_DENIED.has(name)
        ? ' The function needs states:DescribeExecution on the executions of its own state machine ' +
          '(arn:<partition>:states:<region>:<account>:execution:<state machine>:*; the MigrationOrchestrator construct grants it).'
        : name === 'KmsAccessDeniedException'
          ? " Step Functions could not use the state machine's KMS key (the key policy must let Step Functions use it)."
          : '';
      throw new RetentionFailedError(
        `Cannot read how execution ${id} ended (DescribeExecution: ${name}: ${(error as Error).message}), so the ` +
          `snapshots it took cannot be judged and nothing was deleted.${hint}`,
        { cause: error, details: { executionArn: id, fault: name } },
      );
    }
  }
}

function isServerFault(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode;
  return typeof status === 'number' && status >= 500;
}
