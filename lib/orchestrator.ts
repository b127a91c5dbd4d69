/**
 * The MigrationOrchestrator construct: one Lambda function per workflow step, in the database's VPC, and the
 * Step Functions state machine that drives them (see workflow.ts). Give it the target database, its
 * credentials and the Prisma migrations directory.
 *
 * This file holds the construct and its props; what changes for its own reasons lives under private/:
 * props-validation.ts (the prop checks), defaults.ts, step-profiles.ts, bundling.ts, environment.ts,
 * network.ts, database-auth.ts (the login: secret or IAM), database-permissions.ts, execution-permissions.ts,
 * encryption-key.ts, backup-schedule.ts and nag.ts (cdk-nag acknowledgements).
 */
import { type Duration, Names } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { type Step, Steps, type TransactionMode } from '../lambdas/shared/contract/contract.js';
import type { DriftPolicy } from '../lambdas/shared/domain/drift.js';
import type { LintPolicyOverrides } from '../lambdas/shared/domain/lint/policy.js';
import type { HealthCheckDefinition, HttpHealthCheckDefinition } from '../lambdas/shared/runtime/settings.js';
import { STEP_METADATA_KEY } from './asl.js';
import { type AlarmName, type AlarmOptions, Monitoring } from './private/alarms.js';
import { createBackupSchedule } from './private/backup-schedule.js';
import { stepCode } from './private/bundling.js';
import { type DatabaseAuth, grantDatabaseLogin } from './private/database-auth.js';
import { type DatabaseSettings, grantDatabaseOperations } from './private/database-permissions.js';
import { DEFAULTS } from './private/defaults.js';
import { createEncryptionKey } from './private/encryption-key.js';
import { functionEnvironment, retentionEnvironment } from './private/environment.js';
import { grantExecutionReads, workflowDataKeyStatement } from './private/execution-permissions.js';
import { createMigrateEntry } from './private/migrate-entry.js';
import { acknowledgeFindings, WildcardAcknowledgements } from './private/nag.js';
import { functionSecurityGroups, grantNetworkInterfaces } from './private/network.js';
import type { NotificationOptions } from './private/notifications.js';
import { resolveProps } from './private/props-validation.js';
import { grantReleaseBundleReads, type ReleaseBundlesOptions } from './private/release-bundles.js';
import { Reporting, type ReportOptions } from './private/reports.js';
import {
  preflightExtraSeconds,
  STEP_ARCHITECTURE,
  STEP_PROFILES,
  STEP_RUNTIME,
  stepBundlesMigrations,
  stepConstructId,
  stepFunctionTimeout,
  verifyExtraSeconds,
} from './private/step-profiles.js';
import { buildWorkflowDefinition, workflowTimeout } from './workflow.js';

export { type AlarmName, AlarmNames, type AlarmOptions } from './private/alarms.js';
export { BUNDLED_FILES } from './private/bundling.js';
export { DatabaseAuth, type IamDatabaseAuthOptions } from './private/database-auth.js';
export {
  type DatabaseSettings,
  type ManagedIdentifierPatterns,
  managedIdentifierPatterns,
} from './private/database-permissions.js';
export { DEFAULTS, MAX_LAMBDA_TIMEOUT } from './private/defaults.js';
export { RDS_CA_BUNDLE } from './private/environment.js';
export { MANAGED_BY_TAG } from './private/managed-by.js';
export { MigrateEntryStates, MODE_NOT_MIGRATE_ERROR } from './private/migrate-entry.js';
export { flattenForNag } from './private/nag.js';
export type { NotificationOptions } from './private/notifications.js';
export { checkMigrationsDirectory, MAX_HEALTH_CHECKS_JSON_LENGTH } from './private/props-validation.js';
export type { ReleaseBundlesOptions } from './private/release-bundles.js';
export type { ReportOptions } from './private/reports.js';
export { stepConstructId } from './private/step-profiles.js';

/** What the orchestrator migrates: an RDS DB instance or an Aurora cluster. */
export type TargetKind = 'instance' | 'cluster';

/**
 * A user health check: SQL returning one row whose first column is a boolean (`true` when healthy), e.g.
 * `{ name: 'users', sql: 'SELECT count(*) > 0 FROM "User"' }`. The name is shown in the health report. The
 * functions read the same shape from their environment.
 */
export type HealthCheck = HealthCheckDefinition;

/**
 * An HTTP health check of the application: a GET of `url` (http or https, no credentials in it) from the
 * verify function, inside the VPC, that must answer `expectedStatus` (default 200) within `timeoutMs` (default
 * 5000), and contain `bodyContains` when given. Redirects are not followed.
 */
export type HttpHealthCheck = HttpHealthCheckDefinition;

/** When managed backups are taken (`MigrationOrchestratorProps.backupSchedule`). */
export interface BackupScheduleOptions {
  /**
   * When a backup execution starts: a recurring EventBridge Scheduler expression, e.g.
   * `ScheduleExpression.cron({ hour: '3', minute: '0', timeZone: TimeZone.EUROPE_BERLIN })`,
   * `ScheduleExpression.rate(Duration.hours(12))` or `ScheduleExpression.expression('cron(0 3 * * ? *)')`. A
   * one-time `at(...)` schedule is refused. The expression's time zone is also the retention policy's: its days,
   * ISO weeks and months begin there (UTC when the expression names none; a rate's is UTC).
   */
  readonly schedule: scheduler.ScheduleExpression;
  /**
   * Lets EventBridge Scheduler start each backup at any time within this window after the scheduled time (1
   * minute to 24 hours, whole minutes), to spread the load of many schedules.
   *
   * @default - off: each backup starts at the scheduled time
   */
  readonly flexibleWindow?: Duration;
}

/**
 * How many managed snapshots of the target the retention policy keeps after each backup (`retention`). A
 * backup counts for a day, an ISO week or a month only if it is the newest of it; the tiers overlap.
 */
export interface RetentionOptions {
  /**
   * The newest backup of each of the most recent days that have one.
   *
   * @default 7
   */
  readonly daily?: number;
  /**
   * The newest backup of each of the most recent ISO weeks (Monday to Sunday) that have one.
   *
   * @default 4
   */
  readonly weekly?: number;
  /**
   * The newest backup of each of the most recent calendar months that have one.
   *
   * @default 12
   */
  readonly monthly?: number;
  /**
   * The newest pre-migration snapshots (taken before each release).
   *
   * @default 10
   */
  readonly preMigration?: number;
}

export interface MigrationOrchestratorProps {
  /**
   * The target RDS DB instance. Give exactly one of `instance` and `cluster`.
   *
   * @default - none; `cluster` must be given
   */
  readonly instance?: rds.IDatabaseInstance;
  /**
   * The target Aurora PostgreSQL cluster. Give exactly one of `instance` and `cluster`.
   *
   * @default - none; `instance` must be given
   */
  readonly cluster?: rds.IDatabaseCluster;
  /**
   * The database credentials: an RDS-style JSON secret (`username`, `password`, `host`, `port`, `dbname`).
   * The functions read it at run time; only its ARN is in their environment. If the secret is encrypted with
   * a customer managed key that is not part of the secret construct, grant `kms:Decrypt` on it yourself. Give
   * exactly one of `credentials` and `databaseAuth`.
   *
   * @default - none; `databaseAuth` must be given
   */
  readonly credentials?: secretsmanager.ISecret;
  /**
   * Log in with IAM database authentication instead of a secret's password:
   * `DatabaseAuth.iam({ username: 'migrator' })`. Each connection gets a fresh token signed with the function's
   * role (`rds-db:connect` as that user), over TLS verified against the RDS CA; no secret is read. Requires
   * `databaseName`, and IAM database authentication enabled on the target. Give exactly one of `credentials` and
   * `databaseAuth`.
   *
   * @default - password authentication with `credentials`
   */
  readonly databaseAuth?: DatabaseAuth;
  /**
   * The database to migrate.
   *
   * @default - the secret's `dbname`; required with `databaseAuth`
   */
  readonly databaseName?: string;
  /** The VPC the functions run in (the database's). */
  readonly vpc: ec2.IVpc;
  /**
   * Where in the VPC the functions run. They need the database's port and HTTPS to the AWS APIs
   * (Secrets Manager, RDS, X-Ray) through a NAT gateway or VPC endpoints.
   *
   * @default - private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Security groups of the functions. When given, they must already allow the database's port into the
   * database and HTTPS out.
   *
   * @default - a new group, allowed into the database on its port (through `connections`) and out on HTTPS
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * The Prisma migrations directory (the one `prisma migrate dev` writes, with `migration_lock.toml`),
   * relative to the working directory of the synthesis. It is bundled beside the functions that read it.
   */
  readonly migrationsDirectory: string;
  /**
   * How the pending migrations are applied: all in one transaction (`release`: a failure leaves the
   * database exactly as before, no restore needed) or one transaction per migration (`per-migration`, what
   * `prisma migrate deploy` does). An execution input may override it.
   *
   * @default 'release'
   */
  readonly transactionMode?: TransactionMode;
  /**
   * How long the pre-migration snapshot may take before the release is abandoned (nothing applied).
   *
   * @default Duration.hours(2)
   */
  readonly snapshotTimeout?: Duration;
  /**
   * How long restoring the snapshot may take during a rollback before the rollback is declared failed.
   *
   * @default Duration.hours(3)
   */
  readonly restoreTimeout?: Duration;
  /**
   * Timeout of the function that applies the migrations (at most 15 minutes, Lambda's limit).
   *
   * @default Duration.minutes(15)
   */
  readonly stepTimeout?: Duration;
  /**
   * PostgreSQL `lock_timeout` while applying: a migration waiting longer for a lock fails instead of
   * blocking the application's queries behind it.
   *
   * @default Duration.seconds(10)
   */
  readonly lockTimeout?: Duration;
  /**
   * How many times a release that hit `lockTimeout` is tried, when the failed attempt left nothing behind (the
   * release transaction rolled back, or in per-migration mode the first migration failed). Waits between attempts
   * double from 1 s up to 15 s, jittered; 1 never retries. The final failure names the sessions that block.
   *
   * @default 3
   */
  readonly lockTimeoutAttempts?: number;
  /**
   * Preflight refuses while a session holds Prisma's migration advisory lock (72707369), naming it. With this
   * set, a holder that has been `idle` or `idle in transaction` longer than this is ended first
   * (`pg_terminate_backend`; the database user needs to be allowed to signal it, e.g. `pg_signal_backend`), and
   * the plan reports what was ended. An active holder is never ended.
   *
   * @default - never end a holder: preflight refuses while the lock is held
   */
  readonly endIdleLockHoldersAfter?: Duration;
  /**
   * PostgreSQL `statement_timeout` while applying.
   *
   * @default - no statement timeout (the function timeout bounds the release)
   */
  readonly statementTimeout?: Duration;
  /**
   * Your own health checks, run after the migrations and after a rollback.
   *
   * @default - none (connectivity and migration history are always checked)
   */
  readonly healthChecks?: HealthCheck[];
  /**
   * HTTP checks of the application, run in preflight (a baseline: a check already failing then is reported
   * after the release, never acted on), after the release (a failure restores the snapshot), during the bake,
   * and after a rollback (reported only). The functions' default security group allows outbound HTTPS (443)
   * only: for another port, pass `securityGroups` that allow it.
   *
   * @default - none
   */
  readonly httpHealthChecks?: HttpHealthCheck[];
  /**
   * After the release verified healthy, wait this long and run every check again (database, history, drift,
   * SQL and HTTP checks) before declaring success; a failure then restores the snapshot. The verify function
   * waits through it (its timeout grows by the bake time, so a bake never ends in a function timeout, which
   * would restore a healthy release); at most 10 minutes.
   *
   * @default - no bake time
   */
  readonly bakeTime?: Duration;
  /**
   * Also check, after the release and after a rollback, that the live schema is exactly what the migrations
   * produce (Prisma's engine replays them in a temporary shadow database, then diffs). The database user
   * needs CREATEDB, and the verify-health function then carries the engine and the migrations.
   *
   * @default false
   */
  readonly checkSchemaDrift?: boolean;
  /**
   * How schema drift is judged when `checkSchemaDrift` is on. Drift is measured before the release too, and
   * only drift the release introduced can fail it: `fail` (verification fails, the snapshot is restored),
   * `warn` (reported in the execution output), `off` (not checked).
   *
   * @default 'warn'
   */
  readonly schemaDriftPolicy?: DriftPolicy;
  /**
   * Tables (`audit_log`, `public.audit_log`) or whole schemas (`analytics.*`) the migrations do not manage:
   * their drift is left out.
   *
   * @default - none
   */
  readonly schemaDriftIgnore?: string[];
  /**
   * The lint of the pending migrations (docs/lint.md): `block`, `warn` or `off` per rule, over the defaults. A
   * `block` finding stops the release in preflight, touching nothing, unless the execution input acknowledges it
   * (`acknowledge: [{ rule, migration, reason }]`); `warn` findings are shown in the plan.
   *
   * @default - drop-table, drop-column, rename-table, rename-column, truncate and delete-without-where block; the
   * other rules warn
   */
  readonly lintPolicy?: LintPolicyOverrides;
  /**
   * The key that encrypts the log groups and the state machine's data. If you pass an imported key, its
   * key policy must allow CloudWatch Logs (`logs.<region>.amazonaws.com`) and Step Functions to use it.
   *
   * @default - a new key with rotation enabled
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * The customer managed key the target database's storage (and so its snapshots) is encrypted with: the
   * restore function gets `kms:CreateGrant` and `kms:DescribeKey` on it, which a restore needs.
   *
   * @default - none (the AWS managed key `aws/rds` needs no grant)
   */
  readonly databaseEncryptionKey?: kms.IKey;
  /**
   * What the target database uses and a restore passes on (its IAM roles; its subnet, parameter, cluster
   * parameter and option groups), so that the restore functions may pass exactly these and nothing else.
   *
   * @default - each one not given is any of its kind in this account (roles passed to RDS only)
   */
  readonly databaseSettings?: DatabaseSettings;
  /**
   * How long the functions' and the state machine's logs are kept.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * The state machine's name. It is set (not left to CloudFormation) because the state machine role's
   * permission on the encryption key is conditioned on the state machine's ARN.
   *
   * @default - a unique name derived from the construct path
   */
  readonly stateMachineName?: string;
  /**
   * Concurrency reserved for each function of the rollback path (restore, check-restore, swap,
   * verify-health), so that a rollback is not throttled by the application's own functions during an
   * incident. 0 reserves none (for accounts whose concurrency limit is still 10).
   *
   * @default 2
   */
  readonly rollbackConcurrency?: number;
  /**
   * Take managed backups on a schedule: an EventBridge Scheduler schedule starts the state machine with the
   * input `{"mode":"backup"}` (a snapshot of the target, then the retention policy). Its own role may only start
   * this state machine; a start that fails is retried 3 times within an hour, then kept 14 days in an SQS
   * dead-letter queue (`deadLetterQueue`).
   *
   * @default - no schedule: start backup executions yourself with the input `{"mode":"backup"}`
   */
  readonly backupSchedule?: BackupScheduleOptions;
  /**
   * Which managed snapshots of the target the workflow keeps after each backup; it deletes the rest. Whatever the
   * counts, it never deletes the newest backup, a snapshot an unresolved execution may still need, or a snapshot it
   * did not take of this target (automated, hand-taken, another target's). Days are counted in the time zone of
   * `backupSchedule`.
   *
   * @default - 7 daily, 4 weekly, 12 monthly backups; the newest 10 pre-migration snapshots
   */
  readonly retention?: RetentionOptions;
  /**
   * Where an execution input may name the migrations of its release (`migrations: { s3Uri, sha256 }`, a zip the
   * `pack` command writes): the functions that load migrations may read `s3:GetObject` on `<bucket>/<prefix>*`
   * only (and decrypt with the bucket's key), and refuse any other location.
   *
   * @default - no release bundles: the migrations bundled at deploy time (`migrationsDirectory`) only; an input
   * naming a bundle is refused
   */
  readonly releaseBundles?: ReleaseBundlesOptions;
  /**
   * Who hears about executions: the topic (`topic`) gets a message when an execution ends (database, release,
   * mode, outcome, duration, console link) and, from the workflow itself, when a rollback starts. Subscribe
   * e-mail addresses here, or AWS Chatbot to route it to Slack.
   *
   * @default - a new topic encrypted with `encryptionKey`, no subscription
   */
  readonly notifications?: NotificationOptions;
  /**
   * Where each execution's JSON report is written (`reportBucket`, `reports/<state machine>/<execution>.json`)
   * and how long it is kept.
   *
   * @default - reports expire after 365 days
   */
  readonly reports?: ReportOptions;
  /**
   * What the alarms (executions failed, timed out, aborted; RollbackFailed, ReleaseOutcomeUnknown,
   * MigrationFailedWithoutSnapshot) do when they fire. With the construct's own topic, its key lets this state
   * machine's alarms publish; a topic of yours encrypted with a customer managed key must allow
   * `cloudwatch.amazonaws.com` in that key's policy.
   *
   * @default - every alarm publishes to the notification topic (`topic`)
   */
  readonly alarms?: AlarmOptions;
}

/**
 * Snapshots the target database, applies the pending Prisma migrations, verifies health, and on failure
 * restores the snapshot and swaps it into place: a Step Functions Standard workflow over Lambda functions. The
 * same workflow takes managed backups (on a schedule with `backupSchedule`), prunes them by a retention policy,
 * and restores a chosen one on demand.
 */
export class MigrationOrchestrator extends Construct {
  /** The workflow. Start an execution (input documented in the README) to release. */
  public readonly stateMachine: sfn.StateMachine;
  /**
   * The migrate entry: a state machine that only starts migrations of `stateMachine` (it refuses an input naming
   * another mode, and waits for the migration's end), so that IAM can grant "release" without "back up or
   * restore": `grantStartMigrate`. Its executions are named as the workflow executions they start.
   */
  public readonly migrateEntry: sfn.StateMachine;
  /** The function of each workflow step. */
  public readonly functions: Readonly<Record<Step, lambda.IFunction>>;
  /** The key that encrypts the logs and the state machine's data. */
  public readonly encryptionKey: kms.IKey;
  /** The security groups of the functions. */
  public readonly securityGroups: readonly ec2.ISecurityGroup[];
  /** 'instance' or 'cluster'. */
  public readonly targetKind: TargetKind;
  /** The schedule that starts the backups; undefined without `backupSchedule`. */
  public readonly backupSchedule?: scheduler.ISchedule;
  /** Where the backup schedule keeps the starts it could not deliver; undefined without `backupSchedule`. */
  public readonly deadLetterQueue?: sqs.IQueue;
  /** The notification topic (yours, when given in `notifications.topic`). */
  public readonly topic: sns.ITopic;
  /** The bucket of the execution reports (`reports/<state machine>/<execution>.json`). */
  public readonly reportBucket: s3.IBucket;
  /** The alarms, by name (each name is the title of its runbook article). */
  public readonly alarms: Readonly<Record<AlarmName, cloudwatch.Alarm>>;
  /** The dashboard: executions by status and outcome, durations, step errors, the alarms. */
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MigrationOrchestratorProps) {
    super(scope, id);
    // Every check runs before anything is created (tokens are skipped: they resolve at deploy time).
    const resolved = resolveProps(props);
    const { target } = resolved;
    this.targetKind = target.kind;
    const wildcards = new WildcardAcknowledgements();

    this.encryptionKey = props.encryptionKey ?? createEncryptionKey(this);
    this.securityGroups = functionSecurityGroups(this, props.vpc, target, props.securityGroups);

    // One function per step, each with its own log group and role.
    const environment = functionEnvironment(this, props, resolved);
    const retention = retentionEnvironment(resolved);
    const functions = {} as Record<Step, lambda.Function>;
    const roles = {} as Record<Step, iam.Role>;
    const timeouts = {} as Record<Step, Duration>;
    for (const step of Steps) {
      const profile = STEP_PROFILES[step];
      const name = stepConstructId(step);
      const timeout = stepFunctionTimeout(step, resolved.stepTimeout, {
        preflight: preflightExtraSeconds(props.httpHealthChecks),
        'verify-health': verifyExtraSeconds(props.bakeTime, props.httpHealthChecks),
      });
      const logGroup = new logs.LogGroup(this, `${name}Logs`, {
        retention: resolved.logRetention,
        encryptionKey: this.encryptionKey,
      });
      const role = new iam.Role(this, `${name}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `Migration orchestrator, step ${step}`,
      });
      logGroup.grantWrite(role);
      grantNetworkInterfaces(role, wildcards.allow);

      const bundlesMigrations = stepBundlesMigrations(step, resolved.checkSchemaDrift === true);
      const fn = new nodejs.NodejsFunction(this, `${name}Function`, {
        ...stepCode(step, bundlesMigrations ? resolved.migrationsPath : undefined),
        description: profile.description,
        runtime: STEP_RUNTIME,
        architecture: STEP_ARCHITECTURE,
        memorySize: profile.memorySize,
        timeout,
        vpc: props.vpc,
        vpcSubnets: props.vpcSubnets ?? DEFAULTS.vpcSubnets,
        securityGroups: [...this.securityGroups],
        tracing: lambda.Tracing.ACTIVE,
        logGroup,
        role,
        environment: profile.retentionPolicy ? { ...environment, ...retention } : environment,
        ...(profile.rollbackPath && resolved.rollbackConcurrency > 0
          ? { reservedConcurrentExecutions: resolved.rollbackConcurrency }
          : {}),
      });
      (fn.node.defaultChild as lambda.CfnFunction).addMetadata(STEP_METADATA_KEY, step);
      if (profile.connects) grantDatabaseLogin(fn, role, resolved.databaseAuth, target.kind, wildcards.allow);
      functions[step] = fn;
      roles[step] = role;
      timeouts[step] = timeout;
    }
    this.functions = functions;
    grantDatabaseOperations(
      roles,
      target,
      props.databaseEncryptionKey,
      wildcards.allow,
      resolved.databaseSettings,
    );
    if (resolved.releaseBundles) {
      const { releaseBundles, checkSchemaDrift } = resolved;
      grantReleaseBundleReads({ functions, roles }, releaseBundles, checkSchemaDrift, wildcards.allow);
    }

    // The state machine. Named: CDK conditions the role's use of the key on the state machine ARN, which
    // needs the name; the functions' permissions on its executions are built from it too (referencing the state
    // machine resource itself would make a dependency cycle through the definition).
    const workflowLogs = new logs.LogGroup(this, 'WorkflowLogs', {
      retention: resolved.logRetention,
      encryptionKey: this.encryptionKey,
    });
    const stateMachineName =
      props.stateMachineName ?? Names.uniqueResourceName(this, { maxLength: 80, separator: '-' });
    grantExecutionReads(roles, stateMachineName, wildcards.allow);
    // The notification topic, the report bucket and the report function (wired to the state machine below).
    const reporting = new Reporting(this, 'Reports', {
      reports: props.reports,
      notifications: props.notifications,
      encryptionKey: this.encryptionKey,
      stateMachineName,
      logRetention: resolved.logRetention,
      allow: wildcards.allow,
    });
    this.topic = reporting.topic;
    this.reportBucket = reporting.bucket;
    const durations = { snapshot: resolved.snapshotTimeout, restore: resolved.restoreTimeout };
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName,
      comment: `Prisma migrations for ${target.kind} ${target.identifier}: snapshot, apply, verify, roll back; back up, restore.`,
      stateMachineType: sfn.StateMachineType.STANDARD,
      queryLanguage: sfn.QueryLanguage.JSON_PATH,
      definitionBody: sfn.DefinitionBody.fromChainable(
        buildWorkflowDefinition(this, {
          functions,
          timeouts: { functions: timeouts, ...durations },
          notificationTopic: reporting.topic,
        }),
      ),
      timeout: workflowTimeout(durations),
      tracingEnabled: true,
      // Every state transition, without the state documents: they hold no secret, but they do hold SQL
      // error messages and schema names, already kept (encrypted) in the execution history; the logs stay
      // lean and readable by a wider audience.
      logs: { destination: workflowLogs, level: sfn.LogLevel.ALL, includeExecutionData: false },
      encryptionConfiguration: new sfn.CustomerManagedEncryptionConfiguration(this.encryptionKey),
    });
    reporting.attach(this.stateMachine);
    const monitoring = new Monitoring(this, 'Monitoring', {
      options: props.alarms,
      stateMachine: this.stateMachine,
      stateMachineName,
      functions,
      topic: this.topic,
    });
    this.alarms = monitoring.alarms;
    this.dashboard = monitoring.dashboard;

    // The backup schedule starts the state machine: after it, so that its role's grant names the state machine.
    const backups =
      resolved.backupSchedule &&
      createBackupSchedule(this, resolved.backupSchedule, {
        stateMachine: this.stateMachine,
        encryptionKey: this.encryptionKey,
      });
    this.backupSchedule = backups?.schedule;
    this.deadLetterQueue = backups?.deadLetterQueue;

    this.migrateEntry = createMigrateEntry(this, {
      stateMachine: this.stateMachine,
      stateMachineName,
      encryptionKey: this.encryptionKey,
      logRetention: resolved.logRetention,
      allow: wildcards.allow,
    });

    acknowledgeFindings({
      functions,
      roles,
      stateMachine: this.stateMachine,
      wildcards,
      deadLetterQueue: backups?.deadLetterQueue,
    });
  }

  /**
   * Lets `grantee` start migrations, and nothing else: states:StartExecution on the migrate entry (`migrateEntry`)
   * only, and kms:GenerateDataKey on the key for its input only (the key's encryption context names the entry).
   * Backups and restores need states:StartExecution on `stateMachine`, which this does not give.
   */
  public grantStartMigrate(grantee: iam.IGrantable): iam.Grant {
    const start = this.migrateEntry.grantStartExecution(grantee);
    const statement = workflowDataKeyStatement(
      'EncryptTheInputOfTheMigrateEntry',
      this.encryptionKey,
      this.migrateEntry.stateMachineArn,
      { decrypt: false },
    );
    const key = iam.Grant.addToPrincipal({
      grantee,
      actions: statement.actions ?? [],
      resourceArns: statement.resources ?? [],
      conditions: statement.conditions,
    });
    return start.combine(key);
  }
}
