/**
 * The checks of MigrationOrchestratorProps, run in the constructor before anything is created. Each error
 * says what is wrong, the value received and the fix; unresolved tokens are skipped (they resolve at deploy
 * time). `resolveProps` returns the props with their defaults applied.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Duration, Token } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type { Construct } from 'constructs';
import { type TransactionMode, TransactionModes } from '../../lambdas/shared/contract/contract.js';
import { DriftPolicies, type DriftPolicy } from '../../lambdas/shared/domain/drift.js';
import { httpCheckProblems, MAX_BAKE_SECONDS } from '../../lambdas/shared/domain/http-checks.js';
import { isValidRdsIdentifier } from '../../lambdas/shared/domain/identifiers.js';
import { checkLintPolicy } from '../../lambdas/shared/domain/lint/policy.js';
import {
  DEFAULT_RELEASE_BUNDLE_LIMITS,
  MAX_RELEASE_BUNDLE_BYTES,
  MIN_RELEASE_BUNDLE_BYTES,
} from '../../lambdas/shared/domain/release-bundle.js';
import { type RetentionPolicy, resolveRetentionPolicy } from '../../lambdas/shared/domain/retention.js';
import type {
  BackupScheduleOptions,
  HealthCheck,
  HttpHealthCheck,
  MigrationOrchestratorProps,
  RetentionOptions,
  TargetKind,
} from '../orchestrator.js';
import { checkDatabaseAuth, type ResolvedDatabaseAuth } from './database-auth.js';
import type { DatabaseSettings } from './database-permissions.js';
import { BACKUP_SCHEDULE, DEFAULTS, MAX_LAMBDA_TIMEOUT } from './defaults.js';
import type { ReleaseBundlesOptions, ResolvedReleaseBundles } from './release-bundles.js';
import { STEP_PROFILES, verifyExtraSeconds } from './step-profiles.js';

/** Lambda's limit on the whole environment is 4 KB: the health checks must leave room for the rest. */
export const MAX_HEALTH_CHECKS_JSON_LENGTH = 3000;

/** The target database, whichever of `instance` and `cluster` was given. */
export interface ResolvedTarget {
  readonly kind: TargetKind;
  readonly identifier: string;
  readonly connections: ec2.Connections;
  /** For messages: `RDS DB instance <path>` or `Aurora cluster <path>`. */
  readonly description: string;
}

/** The backup schedule once checked: its expression, the time zone it runs in, and its flexible window. */
export interface ResolvedBackupSchedule {
  readonly schedule: scheduler.ScheduleExpression;
  /** The expression's IANA time zone (UTC when it names none): also the retention policy's. */
  readonly timeZone: string;
  readonly flexibleWindow?: Duration;
}

/** The props once checked, with their defaults applied. */
export interface ResolvedProps {
  readonly target: ResolvedTarget;
  readonly transactionMode: TransactionMode;
  readonly stepTimeout: Duration;
  readonly snapshotTimeout: Duration;
  readonly restoreTimeout: Duration;
  readonly lockTimeout: Duration;
  /** The health checks as the functions' environment carries them. */
  readonly healthChecksJson: string;
  /** The drift policy, and the ignore list as JSON. */
  readonly drift: { readonly policy: DriftPolicy; readonly ignore: string };
  /** The lint's policy overrides as JSON; absent when the prop is not given (the functions' defaults apply). */
  readonly lintPolicyJson?: string;
  /** The absolute path of the migrations directory. */
  readonly migrationsPath: string;
  readonly checkSchemaDrift: boolean;
  readonly rollbackConcurrency: number;
  readonly logRetention: logs.RetentionDays;
  /** Absent when backups are not scheduled. */
  readonly backupSchedule?: ResolvedBackupSchedule;
  /** The retention policy the functions apply, in the schedule's time zone. */
  readonly retention: RetentionPolicy;
  /** Absent when the functions read no release bundles. */
  readonly releaseBundles?: ResolvedReleaseBundles;
  /** What the target uses and a restore may pass on (empty: any of each kind). */
  readonly databaseSettings: DatabaseSettings;
  /** How the functions that connect log in: the secret, or IAM database authentication. */
  readonly databaseAuth: ResolvedDatabaseAuth;
}

/** Checks every prop (in the order they are documented) and applies the defaults. */
export function resolveProps(props: MigrationOrchestratorProps): ResolvedProps {
  const target = resolveTarget(props);
  if (!Token.isUnresolved(target.identifier) && !isValidRdsIdentifier(target.identifier.toLowerCase())) {
    throw new Error(
      `MigrationOrchestrator: the identifier of ${target.description} is not a valid RDS identifier, received ` +
        `${JSON.stringify(target.identifier)}. Pass the identifier RDS shows for it (letters, digits and single ` +
        'hyphens, starting with a letter, at most 63 characters).',
    );
  }
  const transactionMode = props.transactionMode ?? DEFAULTS.transactionMode;
  if (!TransactionModes.includes(transactionMode)) {
    throw new Error(
      `MigrationOrchestrator: transactionMode must be one of ${TransactionModes.map((m) => `'${m}'`).join(', ')}, ` +
        `received ${JSON.stringify(transactionMode)}.`,
    );
  }
  const stepTimeout = props.stepTimeout ?? DEFAULTS.stepTimeout;
  checkDuration('stepTimeout', stepTimeout, {
    min: Duration.minutes(1),
    max: MAX_LAMBDA_TIMEOUT,
    maxReason: "Lambda's limit; split the release into smaller ones",
  });
  const snapshotTimeout = props.snapshotTimeout ?? DEFAULTS.snapshotTimeout;
  checkDuration('snapshotTimeout', snapshotTimeout, { min: Duration.minutes(5) });
  const restoreTimeout = props.restoreTimeout ?? DEFAULTS.restoreTimeout;
  checkDuration('restoreTimeout', restoreTimeout, { min: Duration.minutes(10) });
  const lockTimeout = props.lockTimeout ?? DEFAULTS.lockTimeout;
  checkDuration('lockTimeout', lockTimeout, {
    max: stepTimeout.isUnresolved() ? undefined : stepTimeout,
    maxReason: 'it must be shorter than stepTimeout',
  });
  checkLockTimeoutAttempts(props.lockTimeoutAttempts);
  checkHttpHealthChecks(props.httpHealthChecks ?? []);
  checkDuration('bakeTime', props.bakeTime, {
    max: Duration.seconds(MAX_BAKE_SECONDS),
    maxReason: 'the verify function waits through it, and its timeout grows by as much',
  });
  const verifyTimeout =
    STEP_PROFILES['verify-health'].timeout.toSeconds() +
    verifyExtraSeconds(props.bakeTime, props.httpHealthChecks);
  if (verifyTimeout > MAX_LAMBDA_TIMEOUT.toSeconds()) {
    throw new Error(
      `MigrationOrchestrator: the verify function would need ${verifyTimeout} s (its own 120 s, bakeTime, and each ` +
        "HTTP check's timeoutMs twice), more than Lambda's 900 s. Shorten bakeTime or the HTTP checks' timeoutMs.",
    );
  }
  checkDuration('endIdleLockHoldersAfter', props.endIdleLockHoldersAfter, { min: Duration.seconds(1) });
  checkDuration('statementTimeout', props.statementTimeout, {
    max: stepTimeout.isUnresolved() ? undefined : stepTimeout,
    maxReason: 'it must be shorter than stepTimeout',
  });
  if (props.databaseName !== undefined && !Token.isUnresolved(props.databaseName)) {
    if (props.databaseName.length === 0 || props.databaseName.length > 63) {
      throw new Error(
        `MigrationOrchestrator: databaseName must be 1 to 63 characters (a PostgreSQL identifier), received ` +
          `${JSON.stringify(props.databaseName)}. Pass the database name, or omit it to use the secret's dbname.`,
      );
    }
  }
  const databaseAuth = checkDatabaseAuth(props, () =>
    props.instance
      ? props.instance.instanceEndpoint
      : (props.cluster as rds.IDatabaseCluster).clusterEndpoint,
  );
  const rollbackConcurrency = props.rollbackConcurrency ?? DEFAULTS.rollbackConcurrency;
  if (!Number.isInteger(rollbackConcurrency) || rollbackConcurrency < 0) {
    throw new Error(
      `MigrationOrchestrator: rollbackConcurrency must be a whole number >= 0, received ${rollbackConcurrency}. ` +
        'Pass 0 to reserve no concurrency.',
    );
  }
  if (
    props.stateMachineName !== undefined &&
    !Token.isUnresolved(props.stateMachineName) &&
    !/^[A-Za-z0-9_-]{1,80}$/.test(props.stateMachineName)
  ) {
    throw new Error(
      `MigrationOrchestrator: stateMachineName must be 1 to 80 letters, digits, hyphens or underscores, received ` +
        `${JSON.stringify(props.stateMachineName)}. Pass a valid name, or omit it for a generated one.`,
    );
  }
  const healthChecksJson = checkHealthChecks(props.healthChecks ?? []);
  const drift = checkDrift(props.schemaDriftPolicy, props.schemaDriftIgnore ?? []);
  const lintPolicyJson = checkLintPolicyProp(props.lintPolicy);
  const migrations = checkMigrationsDirectory(props.migrationsDirectory);
  const backupSchedule = checkBackupSchedule(props.backupSchedule);
  const releaseBundles = checkReleaseBundles(props.releaseBundles);
  const retention = checkRetention(props.retention, backupSchedule?.timeZone ?? BACKUP_SCHEDULE.timeZone);
  const databaseSettings = checkDatabaseSettings(props.databaseSettings ?? {}, target);
  return {
    target,
    transactionMode,
    stepTimeout,
    snapshotTimeout,
    restoreTimeout,
    lockTimeout,
    healthChecksJson,
    drift,
    ...(lintPolicyJson === undefined ? {} : { lintPolicyJson }),
    migrationsPath: migrations.path,
    checkSchemaDrift: props.checkSchemaDrift ?? DEFAULTS.checkSchemaDrift,
    rollbackConcurrency,
    logRetention: props.logRetention ?? DEFAULTS.logRetention,
    ...(backupSchedule ? { backupSchedule } : {}),
    retention,
    ...(releaseBundles ? { releaseBundles } : {}),
    databaseSettings,
    databaseAuth,
  };
}

/**
 * RDS group names: letters, digits, `.`, `_`, `-`, spaces (subnet groups) and `:` (default option groups,
 * `default:postgres-16`); never a pattern or an ARN.
 */
const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9._: -]{0,254}$/;

/**
 * Checks `databaseSettings`: group names are plain names (IAM would read `*` or `?` as a pattern), and each
 * group is of a kind the target's restore passes.
 */
function checkDatabaseSettings(settings: DatabaseSettings, target: ResolvedTarget): DatabaseSettings {
  const notFor = target.kind === 'cluster' ? 'optionGroupName' : 'clusterParameterGroupName';
  if (settings[notFor] !== undefined) {
    throw new Error(
      `MigrationOrchestrator: databaseSettings.${notFor} does not apply to ${target.description}, received ` +
        `${JSON.stringify(settings[notFor])}. ` +
        (target.kind === 'cluster'
          ? 'An Aurora restore passes no option group: remove it.'
          : 'Only an Aurora cluster has a cluster parameter group: pass parameterGroupName for an instance.'),
    );
  }
  for (const key of [
    'subnetGroupName',
    'parameterGroupName',
    'clusterParameterGroupName',
    'optionGroupName',
  ] as const) {
    const name = settings[key];
    if (name === undefined || Token.isUnresolved(name)) continue;
    if (!GROUP_NAME.test(name) || name.startsWith('arn:')) {
      throw new Error(
        `MigrationOrchestrator: databaseSettings.${key} must be the name of the group as RDS shows it (letters, ` +
          `digits, '.', '_', ':', '-', at most 255 characters; no ARN, no wildcard), received ${JSON.stringify(name)}. ` +
          'Pass the exact name, or omit it to allow any group of that kind.',
      );
    }
  }
  return settings;
}

/**
 * Checks that `directory` is a Prisma migrations directory (migration_lock.toml with provider postgresql,
 * at least one `<name>/migration.sql`) and returns its absolute path and the migration names.
 */
export function checkMigrationsDirectory(directory: string): { path: string; migrations: string[] } {
  const path = resolve(directory);
  const fix =
    'Set migrationsDirectory to your Prisma migrations folder (the one `prisma migrate dev` writes, usually ' +
    'prisma/migrations), relative to the directory you synthesize from.';
  if (!existsSync(path) || !statSync(path).isDirectory()) {
    throw new Error(
      `MigrationOrchestrator: migrationsDirectory ${path} (from "${directory}") does not exist. ${fix}`,
    );
  }
  const lock = join(path, 'migration_lock.toml');
  if (!existsSync(lock)) {
    throw new Error(
      `MigrationOrchestrator: migrationsDirectory ${path} is not in Prisma's layout: migration_lock.toml is ` +
        `missing. Prisma writes it with the first migration; commit it with your migrations. ${fix}`,
    );
  }
  const provider = /^\s*provider\s*=\s*"([^"]+)"\s*$/m.exec(readFileSync(lock, 'utf8'))?.[1];
  if (provider !== 'postgresql') {
    throw new Error(
      `MigrationOrchestrator: ${lock} says provider = "${provider ?? '(none)'}"; the orchestrator deploys ` +
        'PostgreSQL migrations only. Point migrationsDirectory at the migrations of a PostgreSQL datasource.',
    );
  }
  const migrations = readdirSync(path, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const missing = migrations.filter((name) => !existsSync(join(path, name, 'migration.sql')));
  if (missing.length > 0) {
    throw new Error(
      `MigrationOrchestrator: ${missing.map((name) => join(path, name)).join(', ')} has no migration.sql. ` +
        'Every folder of the migrations directory must hold one: remove the folder or restore its migration.sql.',
    );
  }
  if (migrations.length === 0) {
    throw new Error(
      `MigrationOrchestrator: migrationsDirectory ${path} holds no migration. Create one with ` +
        '`prisma migrate dev`, or point migrationsDirectory at the right folder.',
    );
  }
  return { path, migrations };
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value && typeof value === 'object' && 'node' in value) return (value as Construct).node.path;
  return JSON.stringify(value);
}

function resolveTarget(props: MigrationOrchestratorProps): ResolvedTarget {
  const { instance, cluster } = props;
  if (instance && cluster) {
    throw new Error(
      `MigrationOrchestrator: pass either instance or cluster, not both (received instance ${describeValue(instance)} ` +
        `and cluster ${describeValue(cluster)}). Give the RDS DB instance for a single instance, the Aurora cluster for Aurora.`,
    );
  }
  if (instance) {
    return {
      kind: 'instance',
      identifier: instance.instanceIdentifier,
      connections: instance.connections,
      description: `RDS DB instance ${describeValue(instance)}`,
    };
  }
  if (cluster) {
    return {
      kind: 'cluster',
      identifier: cluster.clusterIdentifier,
      connections: cluster.connections,
      description: `Aurora cluster ${describeValue(cluster)}`,
    };
  }
  throw new Error(
    'MigrationOrchestrator: the target database is missing (received neither instance nor cluster). Pass ' +
      'instance (an rds.IDatabaseInstance) or cluster (an rds.IDatabaseCluster), e.g. from ' +
      'DatabaseInstance.fromDatabaseInstanceAttributes.',
  );
}

/** `httpHealthChecks`: valid URLs (http/https, no credentials), status codes, timeouts; unique names. */
function checkHttpHealthChecks(checks: readonly HttpHealthCheck[]): void {
  const seen = new Set<string>();
  checks.forEach((check, index) => {
    if (Token.isUnresolved(check?.url)) return;
    const problems = httpCheckProblems(check, `httpHealthChecks[${index}]`);
    if (problems.length > 0) {
      throw new Error(`MigrationOrchestrator: ${problems.join('; ')}.`);
    }
    if (seen.has(check.name)) {
      throw new Error(
        `MigrationOrchestrator: two HTTP health checks are named "${check.name}". Give each a unique name.`,
      );
    }
    seen.add(check.name);
  });
}

/** `lockTimeoutAttempts`: an integer from 1 (never retried) to 10. */
function checkLockTimeoutAttempts(attempts: number | undefined): void {
  if (attempts === undefined || Token.isUnresolved(attempts)) return;
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > 10) {
    throw new Error(
      `MigrationOrchestrator: lockTimeoutAttempts must be an integer from 1 (never retry) to 10, received ` +
        `${attempts}. Pass e.g. 3, or omit it for the default.`,
    );
  }
}

function checkDuration(
  name: string,
  value: Duration | undefined,
  limits: { min?: Duration; max?: Duration; maxReason?: string },
): void {
  if (value === undefined || value.isUnresolved()) return;
  const seconds = value.toSeconds();
  if (limits.min && seconds < limits.min.toSeconds()) {
    throw new Error(
      `MigrationOrchestrator: ${name} must be at least ${limits.min.toHumanString()}, received ${value.toHumanString()}. ` +
        `Pass a longer ${name}.`,
    );
  }
  if (limits.max && seconds > limits.max.toSeconds()) {
    throw new Error(
      `MigrationOrchestrator: ${name} must be at most ${limits.max.toHumanString()}${limits.maxReason ? ` (${limits.maxReason})` : ''}, ` +
        `received ${value.toHumanString()}. Pass a shorter ${name}.`,
    );
  }
}

/** `lintPolicy`: rule ids of docs/lint.md to block, warn or off; as the functions' LINT_POLICY (JSON). */
function checkLintPolicyProp(policy: unknown): string | undefined {
  if (policy === undefined) return undefined;
  const checked = checkLintPolicy(policy);
  if ('problems' in checked) {
    throw new Error(
      `MigrationOrchestrator: lintPolicy is invalid: ${checked.problems.join('; ')}, received ` +
        `${JSON.stringify(policy)}. Pass an object of rule ids to 'block', 'warn' or 'off', e.g. ` +
        `{ 'add-foreign-key': 'block' }.`,
    );
  }
  return JSON.stringify(checked.overrides);
}

function checkDrift(policy: unknown, ignore: readonly unknown[]): { policy: DriftPolicy; ignore: string } {
  if (policy !== undefined && !(DriftPolicies as readonly unknown[]).includes(policy)) {
    throw new Error(
      `MigrationOrchestrator: schemaDriftPolicy must be one of ${DriftPolicies.join(', ')}, received ` +
        `${JSON.stringify(policy)}.`,
    );
  }
  ignore.forEach((entry, index) => {
    if (typeof entry !== 'string' || !/^(?:"?[^".\s]+"?)(?:\.(?:"?[^".\s]+"?|\*))?$/.test(entry)) {
      throw new Error(
        `MigrationOrchestrator: schemaDriftIgnore[${index}] must be a table (audit_log, public.audit_log) or a ` +
          `schema (analytics.*), received ${JSON.stringify(entry)}.`,
      );
    }
  });
  return {
    policy: (policy as DriftPolicy | undefined) ?? DEFAULTS.schemaDriftPolicy,
    ignore: JSON.stringify(ignore),
  };
}

function checkHealthChecks(checks: readonly HealthCheck[]): string {
  const seen = new Set<string>();
  checks.forEach((check, index) => {
    if (typeof check?.name !== 'string' || check.name.trim() === '') {
      throw new Error(
        `MigrationOrchestrator: healthChecks[${index}] has no name (received ${JSON.stringify(check)}). Give each ` +
          'check a name, shown in the health report.',
      );
    }
    if (typeof check.sql !== 'string' || check.sql.trim() === '') {
      throw new Error(
        `MigrationOrchestrator: health check "${check.name}" has no sql. Give a query returning one boolean row.`,
      );
    }
    if (seen.has(check.name)) {
      throw new Error(
        `MigrationOrchestrator: two health checks are named "${check.name}". Give each a unique name.`,
      );
    }
    seen.add(check.name);
  });
  const json = JSON.stringify(checks.map(({ name, sql }) => ({ name, sql })));
  if (json.length > MAX_HEALTH_CHECKS_JSON_LENGTH) {
    throw new Error(
      `MigrationOrchestrator: the health checks take ${json.length} characters as JSON, more than the ` +
        `${MAX_HEALTH_CHECKS_JSON_LENGTH} the Lambda environment (4 KB in all) leaves them. Move long queries ` +
        'into a SQL function or view and call it from a short check.',
    );
  }
  return json;
}

/** EventBridge Scheduler's cron: six fields (minutes hours day-of-month month day-of-week year). */
const CRON = /^cron\((\S+(?: \S+){5})\)$/;
/** EventBridge Scheduler's rate: a positive whole number of minutes, hours or days (singular for 1). */
const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;

function checkBackupSchedule(options: BackupScheduleOptions | undefined): ResolvedBackupSchedule | undefined {
  if (options === undefined) return undefined;
  const schedule = options.schedule as scheduler.ScheduleExpression | undefined;
  const fix =
    "Pass a recurring expression: ScheduleExpression.cron({ hour: '3', minute: '0', timeZone: TimeZone.EUROPE_BERLIN }), " +
    "ScheduleExpression.rate(Duration.days(1)) or ScheduleExpression.expression('cron(0 3 * * ? *)').";
  if (typeof schedule?.expressionString !== 'string') {
    throw new Error(
      `MigrationOrchestrator: backupSchedule.schedule must be a ScheduleExpression (aws-cdk-lib/aws-scheduler), ` +
        `received ${describeValue(schedule)}. ${fix}`,
    );
  }
  const expression = schedule.expressionString;
  if (!Token.isUnresolved(expression)) checkScheduleExpression(expression, fix);
  const timeZone = schedule.timeZone?.timezoneName ?? BACKUP_SCHEDULE.timeZone;
  if (!Token.isUnresolved(timeZone)) {
    try {
      resolveRetentionPolicy({ timeZone });
    } catch (cause) {
      throw new Error(
        `MigrationOrchestrator: the time zone of backupSchedule.schedule is not an IANA time zone, received ` +
          `${JSON.stringify(timeZone)}. Use one such as TimeZone.EUROPE_BERLIN or TimeZone.of('America/New_York'), ` +
          'or name none for UTC; it is also the time zone in which the retention policy counts days.',
        { cause },
      );
    }
  }
  const { flexibleWindow } = options;
  checkDuration('backupSchedule.flexibleWindow', flexibleWindow, {
    min: BACKUP_SCHEDULE.minFlexibleWindow,
    max: BACKUP_SCHEDULE.maxFlexibleWindow,
    maxReason: "EventBridge Scheduler's limit",
  });
  if (
    flexibleWindow &&
    !flexibleWindow.isUnresolved() &&
    !Number.isInteger(flexibleWindow.toSeconds() / 60)
  ) {
    throw new Error(
      `MigrationOrchestrator: backupSchedule.flexibleWindow must be whole minutes, received ` +
        `${flexibleWindow.toHumanString()}. Pass e.g. Duration.minutes(30), or omit it to start on time.`,
    );
  }
  return { schedule, timeZone, ...(flexibleWindow ? { flexibleWindow } : {}) };
}

function checkScheduleExpression(expression: string, fix: string): void {
  const received = `received ${JSON.stringify(expression)}`;
  if (expression.startsWith('at(')) {
    throw new Error(
      `MigrationOrchestrator: backupSchedule.schedule must recur, ${received} (a one-time schedule). ${fix}`,
    );
  }
  const rate = RATE.exec(expression);
  if (rate) {
    const value = Number(rate[1]);
    const unit = rate[2] as string;
    if (value === 0 || (value === 1) !== !unit.endsWith('s')) {
      throw new Error(
        `MigrationOrchestrator: backupSchedule.schedule is not a valid rate expression, ${received}. A rate is a ` +
          'positive whole number with a singular unit for 1 (rate(1 day)) and a plural one otherwise (rate(12 hours)). ' +
          fix,
      );
    }
    return;
  }
  const fields = CRON.exec(expression)?.[1]?.split(' ');
  if (!fields) {
    throw new Error(
      `MigrationOrchestrator: backupSchedule.schedule is neither a cron(...) expression of six fields nor a ` +
        `rate(...) expression, ${received}. ${fix}`,
    );
  }
  const [, , dayOfMonth, , dayOfWeek] = fields;
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    throw new Error(
      `MigrationOrchestrator: backupSchedule.schedule is not a valid cron expression, ${received}: exactly one of ` +
        "day-of-month (third field) and day-of-week (fifth field) must be '?', e.g. cron(0 3 * * ? *). " +
        fix,
    );
  }
}

const RETENTION_COUNTS = ['daily', 'weekly', 'monthly', 'preMigration'] as const;

/** The retention policy: the counts of `options` over the defaults, in `timeZone` (checked already). */
function checkRetention(options: RetentionOptions | undefined, timeZone: string): RetentionPolicy {
  const policy: { -readonly [K in keyof RetentionPolicy]: RetentionPolicy[K] } = {
    ...DEFAULTS.retention,
    timeZone,
  };
  for (const field of RETENTION_COUNTS) {
    const value: unknown = options?.[field];
    if (value === undefined) continue;
    if (typeof value === 'number' && Token.isUnresolved(value)) {
      policy[field] = value;
      continue;
    }
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw new Error(
        `MigrationOrchestrator: retention.${field} must be a whole number >= 0, received ${describeValue(value)}. ` +
          `Pass 0 to keep none of them, or omit it for the default (${DEFAULTS.retention[field]}).`,
      );
    }
    policy[field] = value;
  }
  return policy;
}

/**
 * `releaseBundles`: a bucket, a key prefix without a leading "/" or IAM wildcards (it becomes the resource
 * `<bucket>/<prefix>*`), and a size limit between 1 KiB and 512 MiB (the zip is held in memory while read).
 */
function checkReleaseBundles(options: ReleaseBundlesOptions | undefined): ResolvedReleaseBundles | undefined {
  if (options === undefined) return undefined;
  if (options.bucket === undefined || options.bucket === null) {
    throw new Error(
      'MigrationOrchestrator: releaseBundles.bucket is required: the s3.IBucket the pipeline uploads release ' +
        'bundles to (s3.Bucket.fromBucketName(...) for an existing one).',
    );
  }
  const prefix = options.prefix ?? '';
  if (!Token.isUnresolved(prefix)) {
    const problem = prefix.startsWith('/')
      ? 'starts with "/" (S3 keys do not)'
      : /[*?]/.test(prefix)
        ? 'contains * or ?, which IAM reads as wildcards'
        : prefix.length > 1000
          ? 'is longer than 1000 characters'
          : undefined;
    if (problem) {
      throw new Error(
        `MigrationOrchestrator: releaseBundles.prefix ${problem}, received ${JSON.stringify(prefix)}. Pass the key ` +
          'prefix the bundles are uploaded under, e.g. "releases/" (the functions may read <bucket>/<prefix>*).',
      );
    }
  }
  const maxSize = options.maxSize;
  const maxBytes =
    maxSize === undefined || maxSize.isUnresolved()
      ? DEFAULT_RELEASE_BUNDLE_LIMITS.maxCompressedBytes
      : maxSize.toBytes();
  if (
    !Number.isInteger(maxBytes) ||
    maxBytes < MIN_RELEASE_BUNDLE_BYTES ||
    maxBytes > MAX_RELEASE_BUNDLE_BYTES
  ) {
    throw new Error(
      `MigrationOrchestrator: releaseBundles.maxSize must be between 1 KiB and 512 MiB, received ${maxBytes} bytes. ` +
        'Pass e.g. Size.mebibytes(50) (the default), or omit it.',
    );
  }
  return { bucket: options.bucket, prefix, maxBytes };
}
