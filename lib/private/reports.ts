/**
 * The execution reports and the notifications of their end: an S3 bucket (the construct's key, no public access,
 * TLS only, versioned, expiring), the report function (not a workflow step: EventBridge invokes it when an
 * execution of this state machine ends) and its rule, and what the state machine itself needs to tell the topic
 * that a rollback starts.
 *
 * The report function writes `reports/<state machine name>/<execution name>.json` (SSE-KMS) from
 * DescribeExecution and GetExecutionHistory, then publishes the readable message to the topic.
 */
import { ArnFormat, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { functionCode } from './bundling.js';
import type { Allow } from './nag.js';
import { type NotificationOptions, notificationTopic, publishStatements } from './notifications.js';
import { STEP_ARCHITECTURE, STEP_RUNTIME } from './step-profiles.js';

/** Where execution reports are kept (`MigrationOrchestratorProps.reports`). */
export interface ReportOptions {
  /**
   * How long a report (and each older version of it) is kept before S3 deletes it: whole days.
   *
   * @default Duration.days(365)
   */
  readonly expiration?: Duration;
}

/** The default of `reports.expiration`. */
export const DEFAULT_REPORT_EXPIRATION = Duration.days(365);

/** The execution statuses that end an execution: each gets its report and its message. */
export const TERMINAL_STATUSES = ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] as const;

/** The folder of the report function under `lambdas/`. */
const REPORT_FUNCTION = 'report';

export interface ReportingProps {
  readonly reports?: ReportOptions;
  readonly notifications?: NotificationOptions;
  readonly encryptionKey: kms.IKey;
  /** The state machine's fixed name (its executions' ARNs are built from it). */
  readonly stateMachineName: string;
  readonly logRetention: logs.RetentionDays;
  /** Adds a statement to a role, its wildcard resources acknowledged for cdk-nag with their reason. */
  readonly allow: Allow;
}

/** Checks the props of reports and notifications; errors name the prop, the value and the fix. */
export function checkReportingProps(reports?: ReportOptions, notifications?: NotificationOptions): void {
  const expiration = reports?.expiration;
  if (expiration && !Token.isUnresolved(expiration.toMinutes({ integral: false }))) {
    const days = expiration.toHours({ integral: false }) / 24;
    if (!Number.isInteger(days) || days < 1) {
      throw new Error(
        `MigrationOrchestrator: reports.expiration must be a whole number of days, at least 1 (received ` +
          `${expiration.toHumanString()}). Pass Duration.days(n).`,
      );
    }
  }
  for (const email of notifications?.emails ?? []) {
    if (Token.isUnresolved(email)) continue;
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
      throw new Error(
        `MigrationOrchestrator: notifications.emails holds ${JSON.stringify(email)}, which is not an e-mail ` +
          'address. Give addresses like ops@example.com.',
      );
    }
  }
}

/** The topic, the bucket and the report function; `attach` wires them to the state machine once it exists. */
export class Reporting extends Construct {
  readonly topic: sns.ITopic;
  readonly bucket: s3.Bucket;
  readonly reportFunction: lambda.Function;
  readonly role: iam.Role;
  private readonly key: kms.IKey;
  private readonly allow: Allow;
  private readonly stateMachineName: string;

  constructor(scope: Construct, id: string, props: ReportingProps) {
    super(scope, id);
    checkReportingProps(props.reports, props.notifications);
    const stack = Stack.of(this);
    this.key = props.encryptionKey;
    this.allow = props.allow;
    this.stateMachineName = props.stateMachineName;
    const expiration = props.reports?.expiration ?? DEFAULT_REPORT_EXPIRATION;

    this.topic = notificationTopic(scope, props.notifications, props.encryptionKey);

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      versioned: true,
      lifecycleRules: [
        {
          id: 'ExpireReports',
          expiration,
          noncurrentVersionExpiration: expiration,
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      // The record of what each release did outlives the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Only the report function writes here (one object per execution, each write in its log with the key), and ' +
        'people read the reports with their own IAM access, which CloudTrail records (enable S3 data events for ' +
        'per-object reads). A server access log bucket would hold nothing else and itself need logging.',
    });

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      encryptionKey: props.encryptionKey,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Migration orchestrator: writes the execution reports and publishes their notifications',
    });
    logGroup.grantWrite(this.role);
    this.reportFunction = new nodejs.NodejsFunction(this, 'Function', {
      ...functionCode(REPORT_FUNCTION),
      description:
        'Writes the report of each ended execution of the migration workflow and notifies the topic.',
      runtime: STEP_RUNTIME,
      architecture: STEP_ARCHITECTURE,
      memorySize: 256,
      timeout: Duration.minutes(1),
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      role: this.role,
      environment: {
        REPORT_BUCKET: this.bucket.bucketName,
        REPORT_KEY_ARN: props.encryptionKey.keyArn,
        TOPIC_ARN: this.topic.topicArn,
      },
    });
    Validations.of(this.reportFunction).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is the runtime the bundles are built and tested for (esbuild target node22); moving to a ' +
        'newer runtime is a deliberate, tested upgrade.',
    });

    const executions = stack.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${props.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    props.allow(
      this.role,
      {
        sid: 'ReadTheExecutionsOfThisWorkflow',
        actions: ['states:DescribeExecution', 'states:GetExecutionHistory'],
        resources: [executions],
      },
      `Executions of this workflow only (execution:${props.stateMachineName}:<execution name>): the execution ` +
        'that ended is named by the event, known only at run time.',
    );
    props.allow(
      this.role,
      {
        sid: 'WriteTheReportsOfThisWorkflow',
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects(`reports/${props.stateMachineName}/*`)],
      },
      'Reports of this workflow only (reports/<state machine>/<execution name>.json): the execution name is ' +
        'known only at run time.',
    );
    props.allow(this.role, {
      sid: 'EncryptTheReports',
      actions: ['kms:GenerateDataKey'],
      resources: [props.encryptionKey.keyArn],
      conditions: {
        StringEquals: {
          'kms:ViaService': `s3.${stack.region}.amazonaws.com`,
          'kms:EncryptionContext:aws:s3:arn': this.bucket.bucketArn,
        },
      },
    });
    for (const statement of publishStatements(this.topic)) this.role.addToPolicy(statement);
  }

  /**
   * Wires the state machine in: the rule on its execution status changes invokes the report function, which may
   * decrypt its executions' data (the key's encryption context names the state machine); the state machine may
   * publish to the topic (the rollback-started message).
   */
  attach(stateMachine: sfn.StateMachine): events.Rule {
    // Built from the fixed name, as the state machine role's own key condition is.
    const stateMachineArn = Stack.of(this).formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: this.stateMachineName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.allow(this.role, {
      sid: 'DecryptTheExecutionDataOfThisWorkflow',
      actions: ['kms:Decrypt'],
      resources: [this.key.keyArn],
      conditions: {
        StringEquals: { 'kms:EncryptionContext:aws:states:stateMachineArn': stateMachineArn },
      },
    });
    // SnsPublish grants sns:Publish; the key of an encrypted topic is granted here.
    for (const statement of publishStatements(this.topic)) {
      if (statement.sid !== 'PublishToTheNotificationTopic') stateMachine.addToRolePolicy(statement);
    }
    return new events.Rule(this, 'ExecutionEnded', {
      description: `Writes the report of each ended execution of ${this.stateMachineName} and notifies the topic.`,
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { stateMachineArn: [stateMachine.stateMachineArn], status: [...TERMINAL_STATUSES] },
      },
      targets: [
        new eventTargets.LambdaFunction(this.reportFunction, {
          retryAttempts: 4,
          maxEventAge: Duration.hours(2),
        }),
      ],
    });
  }
}
