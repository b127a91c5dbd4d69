/**
 * The operator CLI's failures: one line each, naming what went wrong and the fix. AWS SDK errors are translated
 * here (no credentials, access denied, an execution or state machine that does not exist, ...), so every
 * command ends the same way: the line on stderr, exit 1.
 */

/** What the CLI prints, and only that: a failure whose message already names the fix. Exit 1. */
export class OperatorError extends Error {
  override name = 'OperatorError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** The AWS call that failed: its IAM action (`states:StartExecution`) and what it was about. */
export interface AwsCall {
  readonly action: string;
  /** The ARN or name the call was about. */
  readonly resource: string;
  readonly region?: string;
}

/** The program name, as the package's `bin` installs it. */
export const PROGRAM = 'prisma-migration-orchestrator';

const CREDENTIAL_REJECTIONS = new Set([
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
]);

const ACCESS_DENIALS = new Set(['AccessDeniedException', 'AccessDenied', 'UnauthorizedOperation']);

function where(call: AwsCall): string {
  return call.region ? ` in ${call.region}` : '';
}

/** The one-line explanation of an error an AWS call threw, with the fix. */
export function explainAwsError(error: unknown, call: AwsCall): OperatorError {
  const { name, message } =
    error instanceof Error ? error : { name: 'Error', message: String(error) as string };
  const say = (text: string) => new OperatorError(text, { cause: error });
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message))
    return say(
      'No AWS credentials found: sign in (aws sso login --profile NAME, then AWS_PROFILE=NAME) or set ' +
        'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, then run again.',
    );
  if (/region is missing/i.test(message))
    return say(
      'No AWS region: pass --region REGION or set AWS_REGION (the region the stack is deployed in).',
    );
  if (CREDENTIAL_REJECTIONS.has(name))
    return say(
      `AWS rejected the credentials (${name}) on ${call.action}: they are invalid or expired; sign in again ` +
        '(aws sso login) or refresh AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN.',
    );
  if (ACCESS_DENIALS.has(name))
    return say(
      `Access denied: the caller may not ${call.action} on ${call.resource}${where(call)}. Grant ${call.action} ` +
        'on it in the IAM policy of your role or user, or use a profile that has it (AWS_PROFILE).',
    );
  switch (name) {
    case 'ExecutionDoesNotExist':
      return say(
        `Execution ${call.resource} does not exist${where(call)}: check its name or ARN, or list the recent ones ` +
          `with: ${PROGRAM} executions`,
      );
    case 'StateMachineDoesNotExist':
      return say(
        `State machine ${call.resource} does not exist${where(call)}: check --state-machine, --stack or ` +
          'ORCHESTRATOR_STATE_MACHINE_ARN, and the region (--region or AWS_REGION).',
      );
    case 'ExecutionAlreadyExists':
      return say(
        `An execution named ${call.resource} already exists (names are unique for 90 days): follow it with ` +
          `${PROGRAM} watch ${call.resource}, or leave out --name to get a new one.`,
      );
    case 'InvalidArn':
      return say(`${call.resource} is not a valid ARN for ${call.action}: ${message}`);
    case 'InvalidExecutionInput':
      return say(`The state machine refused the input: ${message}`);
    case 'ValidationError':
      if (call.action === 'cloudformation:DescribeStacks' && /does not exist/i.test(message))
        return say(
          `Stack ${call.resource} does not exist${where(call)}: pass the name cdk deploy printed (--stack NAME), ` +
            'or the state machine itself (--state-machine ARN), and check the region (--region or AWS_REGION).',
        );
      break;
  }
  return say(`${call.action} on ${call.resource}${where(call)} failed: ${name}: ${message}`);
}

/** Runs one AWS call, turning what it throws into the one-line `OperatorError`. */
export async function aws<T>(call: AwsCall, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw explainAwsError(error, call);
  }
}
