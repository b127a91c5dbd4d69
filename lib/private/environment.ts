/**
 * The functions' environment: what lambdas/shared/runtime/env.ts reads and validates. Never a secret here, only the
 * secret's ARN (or, with IAM database authentication, the user and endpoint the tokens are signed for). Every
 * function gets the common variables; those that apply the retention policy get it too.
 */
import { Tokenization } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { MigrationOrchestratorProps } from '../orchestrator.js';
import { databaseAuthEnvironment } from './database-auth.js';
import { managedByValue } from './managed-by.js';
import type { ResolvedProps } from './props-validation.js';

/** Where the CA bundle of RDS lives in the Lambda runtime (Node 20+ runtimes no longer load it by default). */
export const RDS_CA_BUNDLE = '/var/runtime/ca-cert.pem';

/** The environment every step's function gets (the same for all of them). */
export function functionEnvironment(
  scope: IConstruct,
  props: MigrationOrchestratorProps,
  resolved: ResolvedProps,
): Record<string, string> {
  return {
    TARGET_KIND: resolved.target.kind,
    TARGET_IDENTIFIER: resolved.target.identifier,
    ...databaseAuthEnvironment(resolved.databaseAuth),
    ...(props.databaseName !== undefined ? { DATABASE_NAME: props.databaseName } : {}),
    TRANSACTION_MODE: resolved.transactionMode,
    SNAPSHOT_TIMEOUT_SECONDS: String(resolved.snapshotTimeout.toSeconds()),
    RESTORE_TIMEOUT_SECONDS: String(resolved.restoreTimeout.toSeconds()),
    LOCK_TIMEOUT_MS: String(resolved.lockTimeout.toMilliseconds()),
    STATEMENT_TIMEOUT_MS: String(props.statementTimeout?.toMilliseconds() ?? 0),
    ...(props.lockTimeoutAttempts === undefined
      ? {}
      : { LOCK_TIMEOUT_ATTEMPTS: Tokenization.stringifyNumber(props.lockTimeoutAttempts) }),
    ...(props.endIdleLockHoldersAfter === undefined
      ? {}
      : { END_IDLE_LOCK_HOLDERS_AFTER_SECONDS: String(props.endIdleLockHoldersAfter.toSeconds()) }),
    ...(props.httpHealthChecks === undefined || props.httpHealthChecks.length === 0
      ? {}
      : {
          HTTP_HEALTH_CHECKS: JSON.stringify(
            props.httpHealthChecks.map(({ name, url, expectedStatus, bodyContains, timeoutMs }) => ({
              name,
              url,
              expectedStatus,
              bodyContains,
              timeoutMs,
            })),
          ),
        }),
    ...(props.bakeTime === undefined ? {} : { BAKE_TIME_SECONDS: String(props.bakeTime.toSeconds()) }),
    HEALTH_CHECKS: resolved.healthChecksJson,
    CHECK_SCHEMA_DRIFT: String(resolved.checkSchemaDrift),
    DRIFT_POLICY: resolved.drift.policy,
    DRIFT_IGNORE: resolved.drift.ignore,
    ...(resolved.lintPolicyJson === undefined ? {} : { LINT_POLICY: resolved.lintPolicyJson }),
    MANAGED_BY: managedByValue(scope),
    NODE_EXTRA_CA_CERTS: RDS_CA_BUNDLE,
  };
}

/**
 * The retention policy, for the functions that read it (`StepProfile.retentionPolicy`): always every variable,
 * defaults included, so that what a function applies is what the template says.
 */
export function retentionEnvironment(resolved: ResolvedProps): Record<string, string> {
  const { retention } = resolved;
  return {
    RETENTION_DAILY: Tokenization.stringifyNumber(retention.daily),
    RETENTION_WEEKLY: Tokenization.stringifyNumber(retention.weekly),
    RETENTION_MONTHLY: Tokenization.stringifyNumber(retention.monthly),
    RETENTION_PRE_MIGRATION: Tokenization.stringifyNumber(retention.preMigration),
    RETENTION_TIME_ZONE: retention.timeZone,
  };
}
