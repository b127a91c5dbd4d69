/**
 * The Lambda environment, read in this one place and validated. The construct sets these variables; a
 * missing or wrong one is a deployment bug, reported with the variable's name and the fix. Read without a
 * schema library: every step, the RDS-only ones included, starts by reading it, and each millisecond of cold
 * start counts there.
 */
import { type TransactionMode, TransactionModes } from '../contract/contract.js';
import { InvalidInputError } from '../contract/errors.js';
import { DEFAULT_DRIFT_POLICY, DriftPolicies, type DriftPolicy } from '../domain/drift.js';
import { isHttpHealthCheck } from '../domain/http-checks.js';
import { checkLintPolicy, type LintPolicyOverrides } from '../domain/lint/policy.js';
import {
  DEFAULT_RELEASE_BUNDLE_LIMITS,
  MIN_RELEASE_BUNDLE_BYTES,
  S3_BUCKET_NAME,
} from '../domain/release-bundle.js';
import {
  DEFAULT_RETENTION_POLICY,
  type RetentionPolicy,
  resolveRetentionPolicy,
} from '../domain/retention.js';
import {
  DEFAULT_LOCK_TIMEOUT_MS,
  DEFAULT_MANAGED_BY,
  DEFAULT_SETTINGS,
  DEFAULT_STATEMENT_TIMEOUT_MS,
  type HealthCheckDefinition,
  type HttpHealthCheckDefinition,
  type WorkflowSettings,
} from './settings.js';

export const TargetKinds = ['instance', 'cluster'] as const;

/**
 * How the steps that connect log in (DATABASE_AUTH): with the password of an RDS-style secret
 * (DATABASE_SECRET_ARN), or with an IAM authentication token signed per connection for DATABASE_USER at
 * DATABASE_HOST:DATABASE_PORT (then DATABASE_NAME is required and no secret is read).
 */
export type DatabaseLogin =
  | { readonly auth: 'secret'; readonly secretArn: string }
  | { readonly auth: 'iam'; readonly user: string; readonly host: string; readonly port: number };

export interface LambdaEnv {
  readonly TARGET_KIND: (typeof TargetKinds)[number];
  readonly TARGET_IDENTIFIER: string;
  /** DATABASE_AUTH (default `secret`) with DATABASE_SECRET_ARN, or `iam` with DATABASE_USER/HOST/PORT. */
  readonly DATABASE_LOGIN: DatabaseLogin;
  readonly DATABASE_NAME?: string;
  readonly MIGRATIONS_DIR?: string;
  readonly TRANSACTION_MODE: TransactionMode;
  readonly SNAPSHOT_TIMEOUT_SECONDS: number;
  readonly RESTORE_TIMEOUT_SECONDS: number;
  readonly POLL_INITIAL_SECONDS: number;
  readonly POLL_MAX_SECONDS: number;
  readonly LOCK_TIMEOUT_MS: number;
  /** How many times a release that hit its lock timeout and left nothing behind is tried. @default 3 */
  readonly LOCK_TIMEOUT_ATTEMPTS?: number;
  /** Preflight ends Prisma's migration-lock holders idle longer than this. @default - never */
  readonly END_IDLE_LOCK_HOLDERS_AFTER_SECONDS?: number;
  /** The `httpHealthChecks` prop: a JSON array of `{ name, url, expectedStatus?, bodyContains?, timeoutMs? }`. */
  readonly HTTP_HEALTH_CHECKS?: HttpHealthCheckDefinition[];
  /** The `bakeTime` prop in seconds. @default - no bake */
  readonly BAKE_TIME_SECONDS?: number;
  readonly STATEMENT_TIMEOUT_MS: number;
  readonly HEALTH_CHECKS: HealthCheckDefinition[];
  readonly CHECK_SCHEMA_DRIFT: boolean;
  readonly DRIFT_POLICY: DriftPolicy;
  readonly DRIFT_IGNORE: string[];
  /** The lint's policy overrides (the `lintPolicy` prop) as JSON, `{"drop-column":"block"}`. Absent: the defaults. */
  readonly LINT_POLICY?: LintPolicyOverrides;
  readonly MANAGED_BY: string;
  /** RETENTION_DAILY, RETENTION_WEEKLY, RETENTION_MONTHLY, RETENTION_PRE_MIGRATION, RETENTION_TIME_ZONE. */
  readonly RETENTION: RetentionPolicy;
  /**
   * Where release bundles may be read (the `releaseBundles` prop): RELEASE_BUNDLE_BUCKET, RELEASE_BUNDLE_PREFIX
   * (default: the whole bucket) and RELEASE_BUNDLE_MAX_BYTES (the zip's size limit). Absent: bundles are refused.
   */
  readonly RELEASE_BUNDLES?: ReleaseBundleEnv;
}

export interface ReleaseBundleEnv {
  readonly bucket: string;
  readonly prefix: string;
  readonly maxBytes: number;
}

/** Reads variables one by one, collecting every problem as `NAME: what is wrong`. */
class EnvReader {
  readonly problems: string[] = [];

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  private raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value === '' ? undefined : value;
  }

  private problem<T>(name: string, message: string, fallback: T): T {
    this.problems.push(`${name}: ${message}`);
    return fallback;
  }

  text(name: string): string {
    return this.raw(name) ?? this.problem(name, 'is required', '');
  }

  optionalText(name: string): string | undefined {
    return this.raw(name);
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback?: T): T {
    const value = this.raw(name) ?? fallback;
    if (value !== undefined && (allowed as readonly string[]).includes(value)) return value as T;
    const received = value === undefined ? 'nothing' : JSON.stringify(value);
    return this.problem(name, `must be one of ${allowed.join(', ')} (received ${received})`, allowed[0] as T);
  }

  integer(name: string, fallback: number, minimum: number): number {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (Number.isInteger(value) && value >= minimum) return value;
    return this.problem(
      name,
      `must be an integer of at least ${minimum} (received ${JSON.stringify(raw)})`,
      fallback,
    );
  }

  jsonArray<T>(name: string, isItem: (item: unknown) => item is T, shape: string): T[] {
    const raw = this.raw(name) ?? '[]';
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return this.problem(name, `must be a JSON array of ${shape}`, []);
    }
    if (!Array.isArray(parsed) || !parsed.every(isItem)) {
      return this.problem(name, `must be a JSON array of ${shape}`, []);
    }
    return parsed;
  }
}

function isHealthCheck(item: unknown): item is HealthCheckDefinition {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return false;
  const keys = Object.keys(item);
  const { name, sql } = item as Record<string, unknown>;
  return (
    keys.every((key) => key === 'name' || key === 'sql') &&
    typeof name === 'string' &&
    name !== '' &&
    typeof sql === 'string' &&
    sql !== ''
  );
}

function isName(item: unknown): item is string {
  return typeof item === 'string' && item !== '';
}

/**
 * The target's identifier (TARGET_IDENTIFIER) for the log lines of a step, read on its own: the lines are written
 * before `readEnv` validates the whole environment, and also when it fails.
 */
export function targetIdentifierOf(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env.TARGET_IDENTIFIER;
  return value === undefined || value === '' ? undefined : value;
}

/** `{ [name]: value }` when the variable is set (validated as an integer >= `minimum`), else nothing. */
function optionalInteger<K extends string>(
  read: EnvReader,
  name: K,
  minimum: number,
): Partial<Record<K, number>> {
  if (read.optionalText(name) === undefined) return {};
  return { [name]: read.integer(name, minimum, minimum) } as Partial<Record<K, number>>;
}

export function readEnv(env: NodeJS.ProcessEnv = process.env): LambdaEnv {
  const read = new EnvReader(env);
  const databaseName = read.optionalText('DATABASE_NAME');
  const login = databaseLoginFrom(read, databaseName);
  const migrationsDir = read.optionalText('MIGRATIONS_DIR');
  const checkDrift = read.oneOf('CHECK_SCHEMA_DRIFT', ['true', 'false'], 'false');
  const parsed: LambdaEnv = {
    TARGET_KIND: read.oneOf('TARGET_KIND', TargetKinds),
    TARGET_IDENTIFIER: read.text('TARGET_IDENTIFIER'),
    DATABASE_LOGIN: login,
    ...(databaseName === undefined ? {} : { DATABASE_NAME: databaseName }),
    ...(migrationsDir === undefined ? {} : { MIGRATIONS_DIR: migrationsDir }),
    TRANSACTION_MODE: read.oneOf('TRANSACTION_MODE', TransactionModes, DEFAULT_SETTINGS.transactionMode),
    SNAPSHOT_TIMEOUT_SECONDS: read.integer(
      'SNAPSHOT_TIMEOUT_SECONDS',
      DEFAULT_SETTINGS.snapshotTimeoutSeconds,
      1,
    ),
    RESTORE_TIMEOUT_SECONDS: read.integer(
      'RESTORE_TIMEOUT_SECONDS',
      DEFAULT_SETTINGS.restoreTimeoutSeconds,
      1,
    ),
    POLL_INITIAL_SECONDS: read.integer('POLL_INITIAL_SECONDS', DEFAULT_SETTINGS.initialPollSeconds, 1),
    POLL_MAX_SECONDS: read.integer('POLL_MAX_SECONDS', DEFAULT_SETTINGS.maxPollSeconds, 1),
    LOCK_TIMEOUT_MS: read.integer('LOCK_TIMEOUT_MS', DEFAULT_LOCK_TIMEOUT_MS, 0),
    STATEMENT_TIMEOUT_MS: read.integer('STATEMENT_TIMEOUT_MS', DEFAULT_STATEMENT_TIMEOUT_MS, 0),
    ...optionalInteger(read, 'LOCK_TIMEOUT_ATTEMPTS', 1),
    ...optionalInteger(read, 'END_IDLE_LOCK_HOLDERS_AFTER_SECONDS', 0),
    ...optionalInteger(read, 'BAKE_TIME_SECONDS', 0),
    ...(read.optionalText('HTTP_HEALTH_CHECKS') === undefined
      ? {}
      : {
          HTTP_HEALTH_CHECKS: read.jsonArray(
            'HTTP_HEALTH_CHECKS',
            isHttpHealthCheck,
            '{ "name", "url" (http/https, no credentials), "expectedStatus"?, "bodyContains"?, "timeoutMs"? }',
          ),
        }),
    HEALTH_CHECKS: read.jsonArray('HEALTH_CHECKS', isHealthCheck, '{ "name", "sql" }'),
    CHECK_SCHEMA_DRIFT: checkDrift === 'true',
    DRIFT_POLICY: read.oneOf('DRIFT_POLICY', DriftPolicies, DEFAULT_DRIFT_POLICY),
    DRIFT_IGNORE: read.jsonArray('DRIFT_IGNORE', isName, 'table or schema names'),
    MANAGED_BY: read.optionalText('MANAGED_BY') ?? DEFAULT_MANAGED_BY,
    RETENTION: retentionFrom(read),
    ...releaseBundlesFrom(read),
    ...lintPolicyFrom(read),
  };
  if (read.problems.length > 0) {
    throw new InvalidInputError(
      `The function's environment is invalid (${read.problems.join('; ')}). These variables are set by the ` +
        'MigrationOrchestrator construct: redeploy the stack rather than editing them by hand.',
    );
  }
  return parsed;
}

/** DATABASE_AUTH and the variables of its kind of login (never a password: IAM tokens are signed at run time). */
function databaseLoginFrom(read: EnvReader, databaseName: string | undefined): DatabaseLogin {
  const auth = read.oneOf('DATABASE_AUTH', ['secret', 'iam'] as const, 'secret');
  if (auth === 'secret') {
    const secretArn = read.text('DATABASE_SECRET_ARN');
    if (secretArn !== '' && !secretArn.startsWith('arn:')) {
      read.problems.push('DATABASE_SECRET_ARN: must be a Secrets Manager secret ARN');
    }
    return { auth, secretArn };
  }
  if (read.optionalText('DATABASE_SECRET_ARN') !== undefined) {
    read.problems.push('DATABASE_SECRET_ARN: is set with DATABASE_AUTH=iam, which reads no secret');
  }
  if (databaseName === undefined) read.problems.push('DATABASE_NAME: is required with DATABASE_AUTH=iam');
  const user = read.text('DATABASE_USER');
  const host = read.text('DATABASE_HOST');
  const port = read.integer('DATABASE_PORT', 5432, 1);
  if (port > 65535) read.problems.push(`DATABASE_PORT: must be a TCP port (received ${port})`);
  return { auth, user, host, port };
}

/** LINT_POLICY: a JSON object of rule ids to block, warn or off. */
function lintPolicyFrom(read: EnvReader): { LINT_POLICY?: LintPolicyOverrides } {
  const raw = read.optionalText('LINT_POLICY');
  if (raw === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = raw;
  }
  const checked = checkLintPolicy(value);
  if ('problems' in checked) {
    read.problems.push(`LINT_POLICY: ${checked.problems.join('; ')}`);
    return {};
  }
  return { LINT_POLICY: checked.overrides };
}

/** The retention policy from its five variables (each optional: the policy's default). */
function retentionFrom(read: EnvReader): RetentionPolicy {
  const policy = {
    daily: read.integer('RETENTION_DAILY', DEFAULT_RETENTION_POLICY.daily, 0),
    weekly: read.integer('RETENTION_WEEKLY', DEFAULT_RETENTION_POLICY.weekly, 0),
    monthly: read.integer('RETENTION_MONTHLY', DEFAULT_RETENTION_POLICY.monthly, 0),
    preMigration: read.integer('RETENTION_PRE_MIGRATION', DEFAULT_RETENTION_POLICY.preMigration, 0),
    timeZone: read.optionalText('RETENTION_TIME_ZONE') ?? DEFAULT_RETENTION_POLICY.timeZone,
  };
  try {
    return resolveRetentionPolicy(policy);
  } catch (error) {
    read.problems.push(`RETENTION_TIME_ZONE: ${(error as Error).message}`);
    return DEFAULT_RETENTION_POLICY;
  }
}

/** RELEASE_BUNDLE_*: a bucket name, a key prefix (only with a bucket) and a size limit. */
function releaseBundlesFrom(read: EnvReader): { RELEASE_BUNDLES?: ReleaseBundleEnv } {
  const bucket = read.optionalText('RELEASE_BUNDLE_BUCKET');
  const prefix = read.optionalText('RELEASE_BUNDLE_PREFIX') ?? '';
  const maxBytes = read.integer(
    'RELEASE_BUNDLE_MAX_BYTES',
    DEFAULT_RELEASE_BUNDLE_LIMITS.maxCompressedBytes,
    MIN_RELEASE_BUNDLE_BYTES,
  );
  if (bucket === undefined) {
    if (prefix !== '') read.problems.push('RELEASE_BUNDLE_PREFIX: is set without RELEASE_BUNDLE_BUCKET');
    return {};
  }
  if (!S3_BUCKET_NAME.test(bucket)) {
    read.problems.push(
      `RELEASE_BUNDLE_BUCKET: must be an S3 bucket name (received ${JSON.stringify(bucket)})`,
    );
  }
  if (prefix.startsWith('/') || /[*?]/.test(prefix)) {
    read.problems.push(
      `RELEASE_BUNDLE_PREFIX: must be a key prefix without a leading "/" or wildcards (received ${JSON.stringify(prefix)})`,
    );
  }
  return { RELEASE_BUNDLES: { bucket, prefix, maxBytes } };
}

export function settingsFromEnv(env: LambdaEnv): WorkflowSettings {
  return {
    targetIdentifier: env.TARGET_IDENTIFIER,
    transactionMode: env.TRANSACTION_MODE,
    snapshotTimeoutSeconds: env.SNAPSHOT_TIMEOUT_SECONDS,
    restoreTimeoutSeconds: env.RESTORE_TIMEOUT_SECONDS,
    initialPollSeconds: env.POLL_INITIAL_SECONDS,
    maxPollSeconds: env.POLL_MAX_SECONDS,
    managedBy: env.MANAGED_BY,
    healthChecks: env.HEALTH_CHECKS,
    drift: { policy: env.DRIFT_POLICY, ignore: env.DRIFT_IGNORE },
    retention: env.RETENTION,
    ...(env.LINT_POLICY ? { lintPolicy: env.LINT_POLICY } : {}),
    ...(env.END_IDLE_LOCK_HOLDERS_AFTER_SECONDS === undefined
      ? {}
      : { endIdleLockHoldersAfterSeconds: env.END_IDLE_LOCK_HOLDERS_AFTER_SECONDS }),
    ...(env.HTTP_HEALTH_CHECKS === undefined ? {} : { httpHealthChecks: env.HTTP_HEALTH_CHECKS }),
    ...(env.BAKE_TIME_SECONDS === undefined ? {} : { bakeSeconds: env.BAKE_TIME_SECONDS }),
  };
}

/** The report function's environment (it is not a workflow step: it reads none of the steps' variables). */
export interface ReportEnv {
  readonly REPORT_BUCKET: string;
  /** The KMS key (ARN) reports are encrypted with. */
  readonly REPORT_KEY_ARN: string;
  readonly TOPIC_ARN: string;
}

export function readReportEnv(env: NodeJS.ProcessEnv = process.env): ReportEnv {
  const read = new EnvReader(env);
  const parsed: ReportEnv = {
    REPORT_BUCKET: read.text('REPORT_BUCKET'),
    REPORT_KEY_ARN: read.text('REPORT_KEY_ARN'),
    TOPIC_ARN: read.text('TOPIC_ARN'),
  };
  for (const name of ['REPORT_KEY_ARN', 'TOPIC_ARN'] as const) {
    if (parsed[name] !== '' && !parsed[name].startsWith('arn:'))
      read.problems.push(`${name}: must be an ARN`);
  }
  if (read.problems.length > 0) {
    throw new InvalidInputError(
      `The report function's environment is invalid (${read.problems.join('; ')}). These variables are set by the ` +
        'MigrationOrchestrator construct: redeploy the stack rather than editing them by hand.',
    );
  }
  return parsed;
}
