/**
 * The construct's defaults, each defined once (the props document them with `@default`). Where the functions
 * have the same default (settings.ts, drift.ts), it is taken from there.
 */
import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { TransactionMode } from '../../lambdas/shared/contract/contract.js';
import { DEFAULT_DRIFT_POLICY } from '../../lambdas/shared/domain/drift.js';
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
} as const;
