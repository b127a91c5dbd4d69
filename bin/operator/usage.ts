/**
 * The usage of the operator commands, and the names they locate the state machine by: on their own, so that
 * `--help` answers without loading the AWS SDK (the commands themselves are in aws-commands.ts).
 */
import { PROGRAM } from './errors.js';

/** The output of the stack (lib/stack.ts) that holds the state machine's ARN. */
export const STATE_MACHINE_OUTPUT_KEY = 'StateMachineArn';

/** The environment variable that names the state machine when no flag does. */
export const STATE_MACHINE_ENV = 'ORCHESTRATOR_STATE_MACHINE_ARN';

const LOCATE_USAGE = `  --stack NAME             the orchestrator's stack; its ${STATE_MACHINE_OUTPUT_KEY} output names the state machine
  --state-machine ARN      the state machine itself
                           (neither: ${STATE_MACHINE_ENV}, else the stack MigrationOrchestrator)
  --region REGION          the stack's region (default: AWS_REGION, or the one in an ARN)`;

export const OPERATOR_USAGE = {
  start: `Usage: ${PROGRAM} start [--input JSON] [--mode migrate|backup|restore] [--release LABEL] [--dry-run]
         [--name NAME] [--wait [--interval SECONDS]] [--json] [--stack NAME | --state-machine ARN] [--region REGION]

Starts an execution on AWS with a unique generated name (--name to choose it: names are unique for 90 days,
so a retried start does not run the release twice). --input is the execution input (checked before it is
sent); --mode, --release and --dry-run set its fields. --wait follows the execution state by state and exits
with its outcome's code, as a local run does.

${LOCATE_USAGE}
  --wait                   follow the execution to its end
  --interval SECONDS       between two reads of the history while waiting (default 2)
  --json                   one JSON object instead of text (with --wait: when it ends)`,
  watch: `Usage: ${PROGRAM} watch <execution> [--interval SECONDS] [--json] [--stack NAME | --state-machine ARN]

Follows an execution (its ARN, or its name on the state machine) from its history, state by state, until it
ends, and exits with its outcome's code, as a local run does.

${LOCATE_USAGE}
  --interval SECONDS       between two reads of the history (default 2)
  --json                   one JSON object when it ends, instead of text`,
  status: `Usage: ${PROGRAM} status <execution> [--json] [--stack NAME | --state-machine ARN]

One summary of an execution (its ARN, or its name on the state machine): state machine, status, outcome,
start and stop, duration, and the terminal error and cause.

${LOCATE_USAGE}
  --json                   one JSON object instead of text`,
  executions: `Usage: ${PROGRAM} executions [--limit N] [--status STATUS] [--json] [--stack NAME | --state-machine ARN]

The most recent executions, newest first, with their outcome and duration.

${LOCATE_USAGE}
  --limit N                how many (default 10, at most 100)
  --status STATUS          only RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED or PENDING_REDRIVE ones
  --json                   a JSON array instead of a table`,
  plan: `Usage: ${PROGRAM} plan [--release LABEL] [--json] [--stack NAME | --state-machine ARN]

A dry run on AWS: starts an execution with {"dryRun": true}, follows it, and prints the plan preflight
computed against the real database (pending migrations, locks, warnings). Nothing is applied.

${LOCATE_USAGE}
  --interval SECONDS       between two reads of the history (default 2)
  --json                   one JSON object (the execution and its plan) instead of text`,
} as const;

export type OperatorCommand = keyof typeof OPERATOR_USAGE;
