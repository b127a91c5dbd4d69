/**
 * The operator commands against AWS: `start` (optionally `--wait`), `watch`, `status`, `executions`, `plan`.
 * They render an execution as the local runner renders a run (bin/render.ts) and exit with the same codes
 * (`Outcomes`). Each returns its exit code and never throws: a failure is one line on stderr naming the fix, exit 1.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  type ExecutionStatus,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { Modes, type OperationPlan } from '../../lambdas/shared/contract/contract.js';
import { parseWorkflowInput } from '../../lambdas/shared/contract/input.js';
import { type Outcome, Outcomes } from '../../lib/local/outcomes.js';
import { UsageError } from '../errors.js';
import { print, printPlanDetails, printSummary, seconds, stateReporter } from '../render.js';
import { aws, OperatorError, PROGRAM } from './errors.js';
import { type ExecutionEnd, followExecution, outcomeOfExecution } from './history.js';
import { consoleUrl, executionArnOf, isExecutionArn, locateStateMachine, regionOfArn } from './locate.js';
import { OPERATOR_USAGE, type OperatorCommand } from './usage.js';

/** What the commands use of the outside world; tests replace the clock, the pause and the name suffix. */
export interface OperatorDeps {
  /** Makes the Step Functions client of a region. @default - `new SFNClient({ region })` */
  readonly sfn?: (region: string | undefined) => SFNClient;
  /** @default - `new CloudFormationClient({ region })` */
  readonly cloudFormation?: (region: string | undefined) => CloudFormationClient;
  /** @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** @default - setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default - the current time */
  readonly now?: () => Date;
  /** The random part of a generated execution name. @default - 6 hex digits */
  readonly suffix?: () => string;
}

export { OPERATOR_USAGE, type OperatorCommand };

const LOCATE_OPTIONS = {
  stack: { type: 'string' },
  'state-machine': { type: 'string' },
  region: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Runs a command body: usage errors print the usage, every other failure one line; both exit 1. */
async function handled(command: OperatorCommand, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${(error as Error).message}\n\n${OPERATOR_USAGE[command]}\n`);
      return 1;
    }
    if (error instanceof OperatorError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    process.stderr.write(`${(error as Error).name}: ${(error as Error).message}\n`);
    return 1;
  }
}

/** The clients and the locating of one command line. */
class Session {
  private readonly sfnClients = new Map<string, SFNClient>();
  private cfn: CloudFormationClient | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;

  constructor(
    private readonly deps: OperatorDeps,
    private readonly values: { stack?: string; 'state-machine'?: string; region?: string },
  ) {
    this.env = deps.env ?? process.env;
  }

  /** The region of the command line, else the environment's (the SDK's own default chain reads it too). */
  get region(): string | undefined {
    return this.values.region ?? this.env.AWS_REGION ?? this.env.AWS_DEFAULT_REGION;
  }

  /** The Step Functions client for a resource: in the ARN's region, which is where the resource lives. */
  sfn(arn?: string): SFNClient {
    const region = (arn && regionOfArn(arn)) || this.region;
    const key = region ?? '';
    let client = this.sfnClients.get(key);
    if (!client) {
      client = this.deps.sfn?.(region) ?? new SFNClient(region ? { region } : {});
      this.sfnClients.set(key, client);
    }
    return client;
  }

  async stateMachine(): Promise<string> {
    return await locateStateMachine({
      stateMachine: this.values['state-machine'],
      stack: this.values.stack,
      env: this.env,
      region: this.region,
      cloudFormation: () => {
        this.cfn ??=
          this.deps.cloudFormation?.(this.region) ??
          new CloudFormationClient(this.region ? { region: this.region } : {});
        return this.cfn;
      },
    });
  }

  /** An execution ARN from the command line's `<execution>` (a name needs the state machine). */
  async execution(ref: string | undefined): Promise<string> {
    if (!ref) throw new UsageError('Name the execution: its ARN, or its name on the state machine.');
    return isExecutionArn(ref) ? ref : executionArnOf(ref, await this.stateMachine());
  }
}

function positiveSeconds(value: string | undefined, flag: string): number {
  if (value === undefined) return 2000;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`${flag} takes a number of seconds, e.g. 5 (received "${value}")`);
  return n * 1000;
}

function printJson(value: unknown): void {
  print(JSON.stringify(value, null, 2));
}

/** `start`'s input: --input, with --mode, --release and --dry-run set over it, checked as preflight will. */
export function startInput(values: {
  input?: string | undefined;
  mode?: string | undefined;
  release?: string | undefined;
  'dry-run'?: boolean | undefined;
}): Record<string, unknown> {
  let input: Record<string, unknown> = {};
  if (values.input !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(values.input);
    } catch {
      throw new UsageError(`--input must be JSON, e.g. '{"release":"v1.2.0"}' (received ${values.input})`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new UsageError(
        `--input must be a JSON object, e.g. '{"release":"v1.2.0"}' (received ${values.input})`,
      );
    input = parsed as Record<string, unknown>;
  }
  const set = (field: string, value: unknown, flag: string) => {
    if (field in input && input[field] !== value)
      throw new UsageError(
        `${flag} contradicts --input's ${field} (${JSON.stringify(input[field])}): keep one`,
      );
    input = { ...input, [field]: value };
  };
  if (values.mode !== undefined) {
    if (!(Modes as readonly string[]).includes(values.mode))
      throw new UsageError(`--mode must be one of ${Modes.join(', ')} (received "${values.mode}")`);
    set('mode', values.mode, '--mode');
  }
  if (values.release !== undefined) set('release', values.release, '--release');
  if (values['dry-run']) set('dryRun', true, '--dry-run');
  try {
    parseWorkflowInput(input);
  } catch (error) {
    throw new UsageError(`The input: ${(error as Error).message}`);
  }
  return input;
}

/**
 * A unique execution name: what it does (the release, or the mode), when (UTC, to the second), and a random
 * suffix, within Step Functions' 80 characters of letters, digits, - and _.
 */
export function executionName(input: Record<string, unknown>, now: Date, suffix: string): string {
  const what =
    typeof input.release === 'string'
      ? input.release
      : `${input.mode ?? 'migrate'}${input.dryRun ? '-plan' : ''}`;
  const label =
    what
      .replace(/[^A-Za-z0-9_-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 50) || 'execution';
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${label}-${stamp}-${suffix}`;
}

/** What `status`, `executions` and `--json` say about an execution. */
export interface ExecutionSummary {
  readonly executionArn: string;
  readonly name: string;
  readonly stateMachineArn: string;
  readonly status: ExecutionStatus | string;
  /** The local outcome (`Outcomes`), or null while it runs. */
  readonly outcome: Outcome | null;
  readonly exitCode: number | null;
  readonly summary: string | null;
  readonly startDate: string | null;
  readonly stopDate: string | null;
  readonly durationMs: number | null;
  readonly error: string | null;
  readonly cause: string | null;
}

function endOf(described: DescribeExecutionCommandOutput): ExecutionEnd | undefined {
  const status = described.status;
  if (status !== 'SUCCEEDED' && status !== 'FAILED' && status !== 'TIMED_OUT' && status !== 'ABORTED')
    return undefined;
  return {
    status,
    at: described.stopDate ?? new Date(),
    ...(described.error !== undefined ? { error: described.error } : {}),
    ...(described.cause !== undefined ? { cause: described.cause } : {}),
    ...(described.output !== undefined ? { output: described.output } : {}),
  };
}

function summaryOf(
  described: DescribeExecutionCommandOutput,
  outcome: Outcome | undefined,
  executionArn: string,
): ExecutionSummary {
  const start = described.startDate;
  const stop = described.stopDate;
  return {
    executionArn: described.executionArn ?? executionArn,
    name: described.name ?? executionArn.split(':').at(-1) ?? '',
    stateMachineArn: described.stateMachineArn ?? '',
    status: described.status ?? 'UNKNOWN',
    outcome: outcome ?? null,
    exitCode: outcome ? Outcomes[outcome].exitCode : null,
    summary: outcome ? Outcomes[outcome].summary : null,
    startDate: start?.toISOString() ?? null,
    stopDate: stop?.toISOString() ?? null,
    durationMs: start && stop ? stop.getTime() - start.getTime() : null,
    error: described.error ?? null,
    cause: described.cause ?? null,
  };
}

/** DescribeExecution, and the outcome it implies (the Succeed state from the history when the output is not there). */
async function describe(session: Session, executionArn: string): Promise<ExecutionSummary> {
  const client = session.sfn(executionArn);
  const region = regionOfArn(executionArn);
  const at = { resource: executionArn, ...(region ? { region } : {}) };
  const described = await aws({ action: 'states:DescribeExecution', ...at }, () =>
    client.send(new DescribeExecutionCommand({ executionArn })),
  );
  const end = endOf(described);
  let succeedState: string | undefined;
  if (end?.status === 'SUCCEEDED' && end.output === undefined) {
    const last = await aws({ action: 'states:GetExecutionHistory', ...at }, () =>
      client.send(
        new GetExecutionHistoryCommand({
          executionArn,
          reverseOrder: true,
          maxResults: 5,
          includeExecutionData: false,
        }),
      ),
    );
    succeedState = last.events?.find((event) => event.type === 'SucceedStateEntered')
      ?.stateEnteredEventDetails?.name;
  }
  return summaryOf(described, end ? outcomeOfExecution(end, succeedState) : undefined, executionArn);
}

/** Follows an execution to its end, rendering it (unless --json), then its summary; returns the outcome's exit code. */
async function follow(
  session: Session,
  deps: OperatorDeps,
  executionArn: string,
  options: { json: boolean; intervalMs: number; withPlan?: boolean },
): Promise<number> {
  const followed = await followExecution({
    client: session.sfn(executionArn),
    executionArn,
    intervalMs: options.intervalMs,
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
    ...(options.json ? {} : { onEvent: stateReporter() }),
  });
  const { end, outcome } = followed;
  const name = executionArn.split(':').at(-1) ?? executionArn;
  const startedAt = followed.startedAt;
  const durationMs = startedAt ? end.at.getTime() - startedAt.getTime() : 0;
  const error = end.error !== undefined ? { name: end.error, cause: end.cause ?? '' } : undefined;
  const plan: OperationPlan | undefined = followed.plan;
  if (options.json) {
    const summary: ExecutionSummary = {
      executionArn,
      name,
      stateMachineArn: executionArn.replace(':execution:', ':stateMachine:').replace(/:[^:]+$/, ''),
      status: end.status,
      outcome,
      exitCode: Outcomes[outcome].exitCode,
      summary: Outcomes[outcome].summary,
      startDate: startedAt?.toISOString() ?? null,
      stopDate: end.at.toISOString(),
      durationMs,
      error: end.error ?? null,
      cause: end.cause ?? null,
    };
    printJson({ ...summary, path: followed.path, ...(options.withPlan ? { plan: plan ?? null } : {}) });
    return Outcomes[outcome].exitCode;
  }
  printSummary(
    {
      outcome,
      exitCode: Outcomes[outcome].exitCode,
      executionName: name,
      state: followed.lastState ?? {
        input: followed.input,
        execution: { id: executionArn, name, startedAt: startedAt?.toISOString() ?? '' },
      },
      durationMs,
      ...(error ? { error } : {}),
    },
    { runtime: 'aws' },
  );
  print(`  console:    ${consoleUrl(executionArn)}`);
  if (options.withPlan) printPlanDetails(plan);
  return Outcomes[outcome].exitCode;
}

async function startExecution(
  session: Session,
  deps: OperatorDeps,
  input: Record<string, unknown>,
  name: string | undefined,
): Promise<{ executionArn: string; name: string; stateMachineArn: string; startDate: Date }> {
  const stateMachineArn = await session.stateMachine();
  const executionName_ =
    name ??
    executionName(
      input,
      (deps.now ?? (() => new Date()))(),
      (deps.suffix ?? (() => randomBytes(3).toString('hex')))(),
    );
  const region = regionOfArn(stateMachineArn);
  const started = await aws(
    {
      action: 'states:StartExecution',
      resource: name ? executionName_ : stateMachineArn,
      ...(region ? { region } : {}),
    },
    () =>
      session
        .sfn(stateMachineArn)
        .send(
          new StartExecutionCommand({ stateMachineArn, name: executionName_, input: JSON.stringify(input) }),
        ),
  );
  if (!started.executionArn)
    throw new OperatorError(`StartExecution on ${stateMachineArn} returned no execution ARN.`);
  return {
    executionArn: started.executionArn,
    name: executionName_,
    stateMachineArn,
    startDate: started.startDate ?? new Date(),
  };
}

const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;

/** `start`: an execution on AWS, optionally followed to its end. */
export async function commandStart(args: string[], deps: OperatorDeps = {}): Promise<number> {
  return await handled('start', async () => {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        ...LOCATE_OPTIONS,
        input: { type: 'string' },
        mode: { type: 'string' },
        release: { type: 'string' },
        'dry-run': { type: 'boolean' },
        name: { type: 'string' },
        wait: { type: 'boolean' },
        interval: { type: 'string' },
      },
    });
    if (values.help) {
      print(OPERATOR_USAGE.start);
      return 0;
    }
    if (positionals.length > 0)
      throw new UsageError(`start takes no arguments (received ${positionals.join(' ')})`);
    if (values.name !== undefined && !EXECUTION_NAME.test(values.name))
      throw new UsageError(`--name takes letters, digits, - and _, at most 80 (received "${values.name}")`);
    const input = startInput(values);
    const intervalMs = positiveSeconds(values.interval, '--interval');
    const session = new Session(deps, values);
    const started = await startExecution(session, deps, input, values.name);
    if (!values.wait) {
      if (values.json)
        printJson({
          executionArn: started.executionArn,
          name: started.name,
          stateMachineArn: started.stateMachineArn,
          startDate: started.startDate.toISOString(),
          input,
        });
      else {
        print(`Started ${started.name} on ${started.stateMachineArn}`);
        print(`  input:      ${JSON.stringify(input)}`);
        print(`  execution:  ${started.executionArn}`);
        print(`  console:    ${consoleUrl(started.executionArn)}`);
        print(`Follow it with: ${PROGRAM} watch ${started.executionArn}`);
      }
      return 0;
    }
    if (!values.json) {
      print(`Started ${started.name} on ${started.stateMachineArn} with ${JSON.stringify(input)}`);
      print();
    }
    return await follow(session, deps, started.executionArn, { json: values.json ?? false, intervalMs });
  });
}

/** `watch <execution>`: an existing execution, followed to its end. */
export async function commandWatch(args: string[], deps: OperatorDeps = {}): Promise<number> {
  return await handled('watch', async () => {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { ...LOCATE_OPTIONS, interval: { type: 'string' } },
    });
    if (values.help) {
      print(OPERATOR_USAGE.watch);
      return 0;
    }
    if (positionals.length > 1) throw new UsageError('watch takes one execution.');
    const intervalMs = positiveSeconds(values.interval, '--interval');
    const session = new Session(deps, values);
    const executionArn = await session.execution(positionals[0]);
    if (!values.json) {
      print(`Watching ${executionArn}`);
      print();
    }
    return await follow(session, deps, executionArn, { json: values.json ?? false, intervalMs });
  });
}

/** `status <execution>`: one summary. Exit 0 once it is read, whatever the execution's outcome. */
export async function commandStatus(args: string[], deps: OperatorDeps = {}): Promise<number> {
  return await handled('status', async () => {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: LOCATE_OPTIONS });
    if (values.help) {
      print(OPERATOR_USAGE.status);
      return 0;
    }
    if (positionals.length > 1) throw new UsageError('status takes one execution.');
    const session = new Session(deps, values);
    const summary = await describe(session, await session.execution(positionals[0]));
    if (values.json) {
      printJson(summary);
      return 0;
    }
    print(`Execution ${summary.name}`);
    print(`  state machine: ${summary.stateMachineArn}`);
    print(`  status:     ${summary.status}`);
    print(
      summary.outcome
        ? `  outcome:    ${summary.outcome} (exit ${summary.exitCode}): ${summary.summary}`
        : `  outcome:    not yet (follow it with: ${PROGRAM} watch ${summary.executionArn})`,
    );
    print(`  started:    ${summary.startDate ?? 'unknown'}`);
    if (summary.stopDate) print(`  stopped:    ${summary.stopDate}`);
    if (summary.durationMs !== null) print(`  duration:   ${seconds(summary.durationMs)}`);
    if (summary.error) print(`  error:      ${summary.error}`);
    if (summary.cause) print(`  cause:      ${summary.cause}`);
    print(`  console:    ${consoleUrl(summary.executionArn)}`);
    return 0;
  });
}

const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'] as const;

/** At most this many DescribeExecution calls in flight. */
const DESCRIBE_CONCURRENCY = 5;

/** `executions`: the recent ones, newest first, with outcome and duration. */
export async function commandExecutions(args: string[], deps: OperatorDeps = {}): Promise<number> {
  return await handled('executions', async () => {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { ...LOCATE_OPTIONS, limit: { type: 'string' }, status: { type: 'string' } },
    });
    if (values.help) {
      print(OPERATOR_USAGE.executions);
      return 0;
    }
    if (positionals.length > 0)
      throw new UsageError(`executions takes no arguments (received ${positionals.join(' ')})`);
    const limit = Number(values.limit ?? '10');
    if (!Number.isInteger(limit) || limit < 1 || limit > 100)
      throw new UsageError(`--limit takes a whole number from 1 to 100 (received "${values.limit}")`);
    const status = values.status?.toUpperCase();
    if (status !== undefined && !(STATUSES as readonly string[]).includes(status))
      throw new UsageError(`--status must be one of ${STATUSES.join(', ')} (received "${values.status}")`);
    const session = new Session(deps, values);
    const stateMachineArn = await session.stateMachine();
    const region = regionOfArn(stateMachineArn);
    const listed = await aws(
      { action: 'states:ListExecutions', resource: stateMachineArn, ...(region ? { region } : {}) },
      () =>
        session.sfn(stateMachineArn).send(
          new ListExecutionsCommand({
            stateMachineArn,
            maxResults: limit,
            ...(status ? { statusFilter: status as ExecutionStatus } : {}),
          }),
        ),
    );
    const items = (listed.executions ?? []).slice(0, limit);
    const summaries: ExecutionSummary[] = new Array(items.length);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < items.length; i = next++) {
        const item = items[i];
        if (!item?.executionArn) continue;
        summaries[i] = await describe(session, item.executionArn);
      }
    };
    await Promise.all(Array.from({ length: Math.min(DESCRIBE_CONCURRENCY, items.length) }, worker));
    const rows = summaries.filter((summary): summary is ExecutionSummary => summary !== undefined);
    if (values.json) {
      printJson(rows);
      return 0;
    }
    if (rows.length === 0) {
      print(
        `No execution${status ? ` ${status}` : ''} on ${stateMachineArn}. Start one with: ${PROGRAM} start`,
      );
      return 0;
    }
    const header = ['execution', 'status', 'outcome', 'exit', 'started', 'duration'];
    const table = rows.map((row) => [
      row.name,
      row.status,
      row.outcome ?? '-',
      row.exitCode === null ? '-' : String(row.exitCode),
      row.startDate ?? '?',
      row.durationMs === null ? (row.status === 'RUNNING' ? 'running' : '?') : seconds(row.durationMs),
    ]);
    const widths = header.map((title, i) =>
      Math.max(title.length, ...table.map((cells) => cells[i]?.length ?? 0)),
    );
    for (const cells of [header, ...table])
      print(
        cells
          .map((cell, i) => cell.padEnd(widths[i] ?? 0))
          .join('  ')
          .trimEnd(),
      );
    return 0;
  });
}

/** `plan`: a dry run on AWS, followed to its end, then the plan preflight computed. */
export async function commandPlan(args: string[], deps: OperatorDeps = {}): Promise<number> {
  return await handled('plan', async () => {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { ...LOCATE_OPTIONS, release: { type: 'string' }, interval: { type: 'string' } },
    });
    if (values.help) {
      print(OPERATOR_USAGE.plan);
      return 0;
    }
    if (positionals.length > 0)
      throw new UsageError(`plan takes no arguments (received ${positionals.join(' ')})`);
    const input = startInput({ 'dry-run': true, release: values.release });
    const intervalMs = positiveSeconds(values.interval, '--interval');
    const session = new Session(deps, values);
    const started = await startExecution(session, deps, input, undefined);
    if (!values.json) {
      print(`Started the dry run ${started.name} on ${started.stateMachineArn}`);
      print();
    }
    return await follow(session, deps, started.executionArn, {
      json: values.json ?? false,
      intervalMs,
      withPlan: true,
    });
  });
}

/** The AWS commands by name, for the dispatcher. */
export const OPERATOR_COMMANDS: Record<
  OperatorCommand,
  (args: string[], deps?: OperatorDeps) => Promise<number>
> = {
  start: commandStart,
  watch: commandWatch,
  status: commandStatus,
  executions: commandExecutions,
  plan: commandPlan,
};
