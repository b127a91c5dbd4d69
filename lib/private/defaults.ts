/**
 * The construct's defaults, each defined once (the props document them with `@default`). Where the functions
 * have the same default (settings.ts, drift.ts), it is taken from there.
 */
import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Mode, TransactionMode } from '../../lambdas/shared/contract/contract.js';
import { DEFAULT_DRIFT_POLICY } from '../../lambdas/shared/domain/drift.js';
import { DEFAULT_RETENTION_POLICY } from '../../lambdas/shared/domain/retention.js';
import { DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_SETTINGS } from '../../lambdas/shared/runtime/settings.js';

/** Lambda's maximum function timeout. */
export const MAX_LAMBDA_TIMEOUT = Duration.minutes(15);

/** Default durations and settings (also documented on the props). */
export const DEFAULTS = {
  transactionMode: DEFAULT_SETTINGS.transactionMode as TransactionMode,
  snapshotTimeout: Duration.seconds(DEFAULT_SETTINGS.snapshotTimeoutSeconds),
  restoreTimeout: Duration.seconds(DEFAULT_SETTINGS.restoreTimeoutSeconds),
  stepTimeout: MAX_LAMBDA_TIMEOUT,
  lockTimeout: Duration.millis(DEFAULT_LOCK_TIMEOUT_MS),
  checkSchemaDrift: false,
  schemaDriftPolicy: DEFAULT_DRIFT_POLICY,
  logRetention: logs.RetentionDays.ONE_YEAR,
  rollbackConcurrency: 2,
  vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } as ec2.SubnetSelection,
  /** The functions' own default policy (7 daily, 4 weekly, 12 monthly backups; newest 10 pre-migration). */
  retention: DEFAULT_RETENTION_POLICY,
} as const;

/** How the backup schedule starts its executions: retries, their age limit and the dead-letter queue. */
export const BACKUP_SCHEDULE = {
  /** The time zone of a schedule expression that names none: EventBridge Scheduler's and the policy's default. */
  timeZone: DEFAULT_RETENTION_POLICY.timeZone,
  /** Retries of a StartExecution that failed (throttled, or refused while the key or role is broken). */
  retryAttempts: 3,
  /** A start not delivered within this age goes to the dead-letter queue: a backup an hour late is missed. */
  maxEventAge: Duration.hours(1),
  /** How long an undelivered start stays in the dead-letter queue (SQS's maximum). */
  deadLetterRetention: Duration.days(14),
  /** EventBridge Scheduler's limits on a flexible time window. */
  minFlexibleWindow: Duration.minutes(1),
  maxFlexibleWindow: Duration.minutes(1440),
  /** The execution input of a scheduled backup. */
  input: { mode: 'backup' satisfies Mode },
} as const;
