/**
 * Reads an execution of the workflow for its report: `DescribeExecution` (input and output included, which the
 * state machine's key encrypts: the role needs kms:Decrypt under the state machine's encryption context) and every
 * page of `GetExecutionHistory` with the state documents, oldest first.
 */
import {
  DescribeExecutionCommand,
  type ExecutionStatus,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SFNClient,
} from '@aws-sdk/client-sfn';
import type { DescribedExecution, ExecutionReader } from '../../contract/report-ports.js';

/** GetExecutionHistory's largest page. */
const PAGE_SIZE = 1000;

/** A history longer than this many pages is cut (a Standard execution has at most 25,000 events). */
const MAX_PAGES = 30;

export class SfnExecutionReader implements ExecutionReader {
  private readonly client: SFNClient;

  constructor(options: { readonly client?: SFNClient } = {}) {
    this.client = options.client ?? new SFNClient({});
  }

  async describe(executionArn: string): Promise<DescribedExecution> {
    const out = await this.client.send(
      new DescribeExecutionCommand({ executionArn, includedData: 'ALL_DATA' }),
    );
    if (!out.executionArn || !out.stateMachineArn || !out.status || !out.startDate) {
      throw new Error(
        `DescribeExecution of ${executionArn} answered without its ARN, state machine, status or start date.`,
      );
    }
    return {
      executionArn: out.executionArn,
      stateMachineArn: out.stateMachineArn,
      name: out.name ?? executionArn.split(':').at(-1) ?? executionArn,
      status: out.status as ExecutionStatus,
      startDate: out.startDate,
      ...(out.stopDate ? { stopDate: out.stopDate } : {}),
      ...(out.input !== undefined ? { input: out.input } : {}),
      ...(out.output !== undefined ? { output: out.output } : {}),
      ...(out.error !== undefined ? { error: out.error } : {}),
      ...(out.cause !== undefined ? { cause: out.cause } : {}),
    };
  }

  async history(executionArn: string): Promise<readonly HistoryEvent[]> {
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const out = await this.client.send(
        new GetExecutionHistoryCommand({
          executionArn,
          maxResults: PAGE_SIZE,
          reverseOrder: false,
          includeExecutionData: true,
          ...(nextToken ? { nextToken } : {}),
        }),
      );
      events.push(...(out.events ?? []));
      nextToken = out.nextToken;
      pages += 1;
    } while (nextToken && pages < MAX_PAGES);
    return events;
  }
}
