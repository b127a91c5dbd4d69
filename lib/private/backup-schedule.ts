/**
 * The backup schedule: an EventBridge Scheduler schedule that starts the state machine with `{"mode":"backup"}`,
 * through a role that may start this state machine only, retrying a failed start a few times within the hour
 * and then keeping it in an SQS dead-letter queue.
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { BACKUP_SCHEDULE } from './defaults.js';
import type { ResolvedBackupSchedule } from './props-validation.js';

/** What the schedule starts: the state machine, and the key its data is encrypted with. */
export interface BackupScheduleTarget {
  readonly stateMachine: sfn.StateMachine;
  /** The key of the state machine's CustomerManagedEncryptionConfiguration. */
  readonly encryptionKey: kms.IKey;
}

/** The schedule, its dead-letter queue and its role. */
export interface BackupScheduleResources {
  readonly schedule: scheduler.Schedule;
  readonly deadLetterQueue: sqs.Queue;
  readonly role: iam.Role;
}

/** Creates the schedule as `scope`'s children `BackupSchedule`, `BackupScheduleRole` and `BackupDeadLetterQueue`. */
export function createBackupSchedule(
  scope: Construct,
  options: ResolvedBackupSchedule,
  { stateMachine, encryptionKey }: BackupScheduleTarget,
): BackupScheduleResources {
  const stack = Stack.of(scope);
  // Undelivered starts only: the schedule's fixed input and the error StartExecution answered, nothing of the
  // database. SQS-managed encryption, so that neither Scheduler nor the role needs the orchestrator's key.
  const deadLetterQueue = new sqs.Queue(scope, 'BackupDeadLetterQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: BACKUP_SCHEDULE.deadLetterRetention,
  });

  // Assumed by EventBridge Scheduler on behalf of the schedules of this account's default group only.
  const role = new iam.Role(scope, 'BackupScheduleRole', {
    assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
      conditions: {
        StringEquals: {
          'aws:SourceAccount': stack.account,
          'aws:SourceArn': stack.formatArn({
            service: 'scheduler',
            resource: 'schedule-group',
            resourceName: 'default',
            arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
          }),
        },
      },
    }),
    description: 'Migration orchestrator: the backup schedule starts backup executions of its state machine',
  });
  // The state machine's data is encrypted with a customer managed key: Step Functions encrypts the execution
  // input with the starter's access to it. Only for this state machine (the key's encryption context).
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'EncryptTheInputOfThisWorkflow',
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: [encryptionKey.keyArn],
      conditions: {
        StringEquals: { 'kms:EncryptionContext:aws:states:stateMachineArn': stateMachine.stateMachineArn },
      },
    }),
  );

  // The target grants the role states:StartExecution on this state machine and sqs:SendMessage on the queue.
  const target = new targets.StepFunctionsStartExecution(stateMachine, {
    role,
    input: scheduler.ScheduleTargetInput.fromObject(BACKUP_SCHEDULE.input),
    retryAttempts: BACKUP_SCHEDULE.retryAttempts,
    maxEventAge: BACKUP_SCHEDULE.maxEventAge,
    deadLetterQueue,
  });
  const schedule = new scheduler.Schedule(scope, 'BackupSchedule', {
    schedule: options.schedule,
    target,
    description: `Starts a backup execution of the migration orchestrator (days counted in ${options.timeZone}).`,
    enabled: true,
    timeWindow: options.flexibleWindow
      ? scheduler.TimeWindow.flexible(options.flexibleWindow)
      : scheduler.TimeWindow.off(),
  });
  return { schedule, deadLetterQueue, role };
}
