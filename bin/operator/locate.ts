/**
 * Which state machine and which execution a command is about: `--state-machine ARN`, `--stack NAME` (the
 * stack's `StateMachineArn` output), ORCHESTRATOR_STATE_MACHINE_ARN, or the default stack; an execution by ARN,
 * or by name on that state machine.
 */
import {
  type CloudFormationClient,
  DescribeStacksCommand,
  type DescribeStacksCommandOutput,
} from '@aws-sdk/client-cloudformation';
import { DEFAULT_STACK_NAME } from '../../lib/stack-name.js';
import { UsageError } from '../errors.js';
import { aws, OperatorError } from './errors.js';
import { STATE_MACHINE_ENV, STATE_MACHINE_OUTPUT_KEY } from './usage.js';

export { STATE_MACHINE_ENV, STATE_MACHINE_OUTPUT_KEY };

const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:([a-z0-9-]+):(\d{12}):stateMachine:([A-Za-z0-9_-]{1,80})$/;
const EXECUTION_ARN =
  /^arn:aws[a-z-]*:states:([a-z0-9-]+):(\d{12}):execution:([A-Za-z0-9_-]{1,80}):([A-Za-z0-9_-]{1,80})$/;
const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;

export function isStateMachineArn(value: string): boolean {
  return STATE_MACHINE_ARN.test(value);
}

/** The region in an ARN (`arn:aws:states:eu-west-1:...` -> `eu-west-1`). */
export function regionOfArn(arn: string): string | undefined {
  return arn.split(':')[3] || undefined;
}

/** Where the state machine comes from, in this order: the flags, then the environment, then the default stack. */
export interface StateMachineSource {
  readonly stateMachine?: string | undefined;
  readonly stack?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cloudFormation: () => CloudFormationClient;
  readonly region?: string | undefined;
}

export async function locateStateMachine(source: StateMachineSource): Promise<string> {
  if (source.stateMachine !== undefined && source.stack !== undefined)
    throw new UsageError('Pass --state-machine ARN or --stack NAME, not both.');
  if (source.stateMachine !== undefined) return checkedArn(source.stateMachine, '--state-machine');
  if (source.stack !== undefined) return await stateMachineOfStack(source.stack, source);
  const fromEnv = source.env[STATE_MACHINE_ENV];
  if (fromEnv) return checkedArn(fromEnv, STATE_MACHINE_ENV);
  return await stateMachineOfStack(DEFAULT_STACK_NAME, source, true);
}

function checkedArn(value: string, from: string): string {
  if (!STATE_MACHINE_ARN.test(value))
    throw new UsageError(
      `${from} takes a state machine ARN, arn:aws:states:REGION:ACCOUNT:stateMachine:NAME (received "${value}")`,
    );
  return value;
}

/** The state machine ARN among the outputs of `stackName` (`StateMachineArn`, or the only state machine ARN). */
async function stateMachineOfStack(
  stackName: string,
  source: StateMachineSource,
  byDefault = false,
): Promise<string> {
  const call = {
    action: 'cloudformation:DescribeStacks',
    resource: stackName,
    ...(source.region ? { region: source.region } : {}),
  };
  let described: DescribeStacksCommandOutput;
  try {
    described = await aws(call, () =>
      source.cloudFormation().send(new DescribeStacksCommand({ StackName: stackName })),
    );
  } catch (error) {
    if (byDefault && /does not exist/.test((error as Error).message))
      throw new OperatorError(
        `No state machine given, and the default stack ${stackName} does not exist${call.region ? ` in ${call.region}` : ''}: ` +
          `pass --stack NAME, --state-machine ARN, or set ${STATE_MACHINE_ENV}.`,
        { cause: error },
      );
    throw error;
  }
  const outputs = described.Stacks?.[0]?.Outputs ?? [];
  const named = outputs.find((output) => output.OutputKey === STATE_MACHINE_OUTPUT_KEY)?.OutputValue;
  if (named && STATE_MACHINE_ARN.test(named)) return named;
  const machines = outputs
    .map((output) => output.OutputValue ?? '')
    .filter((value) => STATE_MACHINE_ARN.test(value));
  if (machines.length === 1 && machines[0]) return machines[0];
  throw new OperatorError(
    `Stack ${stackName} has no ${STATE_MACHINE_OUTPUT_KEY} output${machines.length > 1 ? ` (and ${machines.length} state machine ARNs among its outputs)` : ''}: ` +
      `add new CfnOutput(this, '${STATE_MACHINE_OUTPUT_KEY}', { value: orchestrator.stateMachine.stateMachineArn }) to it ` +
      'and deploy, or pass --state-machine ARN.',
  );
}

/** True when `value` is an execution ARN (otherwise it must be a name on the located state machine). */
export function isExecutionArn(value: string): boolean {
  return EXECUTION_ARN.test(value);
}

/** An execution ARN from an ARN, or from a name and the state machine it ran on. */
export function executionArnOf(execution: string, stateMachineArn: string): string {
  if (isExecutionArn(execution)) return execution;
  if (!EXECUTION_NAME.test(execution))
    throw new UsageError(
      `"${execution}" is neither an execution ARN nor an execution name (letters, digits, - and _, at most 80)`,
    );
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${execution}`;
}

/** The state machine an execution ARN belongs to. */
export function stateMachineOfExecution(executionArn: string): string {
  const match = EXECUTION_ARN.exec(executionArn);
  if (!match) throw new UsageError(`Not an execution ARN: ${executionArn}`);
  return executionArn.replace(':execution:', ':stateMachine:').replace(/:[^:]+$/, '');
}

/** The AWS console page of an execution. */
export function consoleUrl(executionArn: string): string {
  const region = regionOfArn(executionArn) ?? 'us-east-1';
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}
