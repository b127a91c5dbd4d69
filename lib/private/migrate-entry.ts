/**
 * The migrate entry: a second Standard state machine that can only start migrations of the workflow, so that IAM
 * can grant "start a migration" without "start a backup or a restore" (IAM cannot condition states:StartExecution
 * on the input). It refuses an input naming another mode, sets `mode: "migrate"`, and starts the workflow with
 * StartExecution.sync:2 under its own execution name, waiting for its end: the entry execution succeeds with the
 * workflow's output, or fails when the workflow execution fails, times out or is aborted (States.TaskFailed, the
 * workflow execution's description, with its error and cause, as the cause).
 *
 * Idle, it costs nothing (Standard workflows are billed per state transition), and it grants nothing to anyone:
 * only who is given states:StartExecution on it (`grantStartMigrate`) can use it. So it is always created.
 */
import { ArnFormat, Aws, Names, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ENTRY_METADATA_KEY } from '../asl.js';
import { workflowDataKeyStatement } from './execution-permissions.js';
import { type Allow, acknowledgeCdkWildcards, LOG_DELIVERY_ACTIONS, XRAY_ACTIONS } from './nag.js';

/** The state names of the migrate entry. */
export const MigrateEntryStates = {
  checkMode: 'Check the mode is migrate',
  refuseMode: 'Refuse a mode other than migrate',
  forceMode: 'Set mode migrate',
  startMigration: 'Start the migration and wait for its end',
} as const;

/** The error of an entry execution whose input names another mode than `migrate`. */
export const MODE_NOT_MIGRATE_ERROR = 'ModeNotMigrate';

/** The Metadata value of `ENTRY_METADATA_KEY` on the migrate entry's state machine. */
export const MIGRATE_ENTRY_METADATA = 'migrate';

/** The suffix of the entry's name after the workflow's: `<workflow name>-migrate`. */
const NAME_SUFFIX = '-migrate';

export interface MigrateEntryProps {
  /** The workflow it starts. */
  readonly stateMachine: sfn.StateMachine;
  /** The workflow's fixed name (its executions' ARNs are built from it). */
  readonly stateMachineName: string;
  /** The orchestrator's key: it encrypts the workflow's data, and the entry's data and logs. */
  readonly encryptionKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  readonly allow: Allow;
}

/**
 * The entry's name: `<workflow name>-migrate` when that fits in 80 characters, else a unique name from the
 * construct path. Fixed (not left to CloudFormation): its role's use of the key is conditioned on its ARN.
 */
export function migrateEntryName(scope: Construct, stateMachineName: string): string {
  if (!Token.isUnresolved(stateMachineName) && stateMachineName.length + NAME_SUFFIX.length <= 80) {
    return `${stateMachineName}${NAME_SUFFIX}`;
  }
  return Names.uniqueResourceName(scope, { maxLength: 80, separator: '-' });
}

/** Creates the entry as `scope`'s child `MigrateEntry` (role, log group, state machine). */
export function createMigrateEntry(scope: Construct, props: MigrateEntryProps): sfn.StateMachine {
  const { stateMachine, stateMachineName, encryptionKey, allow } = props;
  const entry = new Construct(scope, 'MigrateEntry');
  const stack = Stack.of(scope);
  const name = migrateEntryName(entry, stateMachineName);
  const arnOf = (resource: 'stateMachine' | 'execution', resourceName: string) =>
    stack.formatArn({ service: 'states', resource, resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });

  // Assumed by Step Functions for this state machine only.
  const role = new iam.Role(entry, 'Role', {
    assumedBy: new iam.ServicePrincipal('states.amazonaws.com', {
      conditions: {
        StringEquals: { 'aws:SourceAccount': stack.account, 'aws:SourceArn': arnOf('stateMachine', name) },
      },
    }),
    description:
      'Migration orchestrator: the migrate entry starts migrations of its workflow and waits for them',
  });
  // What StartExecution.sync:2 needs (AWS: "IAM policies for calling AWS Step Functions"), on the workflow only:
  // start it, follow and (when the entry execution is stopped) stop its executions, and the managed rule through
  // which Step Functions hears that an execution ended.
  allow(role, {
    sid: 'StartTheWorkflow',
    actions: ['states:StartExecution'],
    resources: [stateMachine.stateMachineArn],
  });
  allow(
    role,
    {
      sid: 'FollowTheWorkflowExecutions',
      actions: ['states:DescribeExecution', 'states:StopExecution'],
      resources: [arnOf('execution', `${stateMachineName}:*`)],
    },
    `Executions of the workflow only (execution:${stateMachineName}:<execution name>): StartExecution.sync ` +
      'follows the execution it started, named after the entry execution at run time, and stops it when the ' +
      'entry execution is stopped.',
  );
  allow(role, {
    sid: 'HearWhenTheWorkflowExecutionEnds',
    actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
    resources: [
      stack.formatArn({
        service: 'events',
        resource: 'rule',
        resourceName: 'StepFunctionsGetEventsForStepFunctionsExecutionRule',
      }),
    ],
  });
  // The workflow's input is encrypted with the orchestrator's key as the entry starts it, and its output
  // decrypted as the entry reads it.
  allow(
    role,
    workflowDataKeyStatement('EncryptTheDataOfTheWorkflow', encryptionKey, stateMachine.stateMachineArn, {
      decrypt: true,
    }),
  );

  const logGroup = new logs.LogGroup(entry, 'Logs', { retention: props.logRetention, encryptionKey });
  const refuse = new sfn.Fail(entry, MigrateEntryStates.refuseMode, {
    error: MODE_NOT_MIGRATE_ERROR,
    cause:
      `The input field mode names another mode than "migrate": this state machine (${name}) starts migrations ` +
      `only. Remove mode from the input, or set it to "migrate"; backups and restores are started on ` +
      `${stateMachineName}, with the permission to start any mode.`,
  });
  const force = new sfn.Pass(entry, MigrateEntryStates.forceMode, {
    result: sfn.Result.fromString('migrate'),
    resultPath: '$.mode',
  });
  // A Task of its own rather than CDK's StepFunctionsStartExecution, whose grant covers execution:<name>*, i.e.
  // the executions of every state machine whose name begins with the workflow's (this one's included).
  const start = new sfn.CustomState(entry, MigrateEntryStates.startMigration, {
    stateJson: {
      Type: 'Task',
      Resource: `arn:${Aws.PARTITION}:states:::states:startExecution.sync:2`,
      Parameters: {
        StateMachineArn: stateMachine.stateMachineArn,
        // The entry execution's name: a redriven entry starts no second migration (StartExecution of a name
        // already used answers the running execution, or ExecutionAlreadyExists once it has ended).
        'Name.$': '$$.Execution.Name',
        'Input.$': '$',
      },
      // The workflow execution's output (the release's outcome), as the entry execution's.
      OutputPath: '$.Output',
    },
  });
  const definition = new sfn.Choice(entry, MigrateEntryStates.checkMode)
    .when(
      sfn.Condition.and(
        sfn.Condition.isPresent('$.mode'),
        sfn.Condition.not(sfn.Condition.stringEquals('$.mode', 'migrate')),
      ),
      refuse,
    )
    .otherwise(force.next(start));

  const machine = new sfn.StateMachine(entry, 'StateMachine', {
    stateMachineName: name,
    comment: `Starts migrations of ${stateMachineName} only (mode "migrate"), and waits for their end.`,
    stateMachineType: sfn.StateMachineType.STANDARD,
    queryLanguage: sfn.QueryLanguage.JSON_PATH,
    definitionBody: sfn.DefinitionBody.fromChainable(definition),
    role,
    tracingEnabled: true,
    // As the workflow's: every transition, without the state documents.
    logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    encryptionConfiguration: new sfn.CustomerManagedEncryptionConfiguration(encryptionKey),
    // No timeout of its own: the workflow's bounds the migration, and an entry timing out first would stop it.
  });
  (machine.node.defaultChild as sfn.CfnStateMachine).addMetadata(ENTRY_METADATA_KEY, MIGRATE_ENTRY_METADATA);

  const policy = role.node.tryFindChild('DefaultPolicy');
  if (policy instanceof iam.Policy) {
    acknowledgeCdkWildcards(
      policy,
      [...LOG_DELIVERY_ACTIONS, ...XRAY_ACTIONS],
      `${LOG_DELIVERY_ACTIONS.join('/')} (vended logs delivery of Step Functions) and X-Ray (tracing): no ` +
        'resource-level permission.',
    );
  }
  return machine;
}
