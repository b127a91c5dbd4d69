/**
 * The MigrationOrchestrator construct: one Lambda function per workflow step, in the database's VPC, and the
 * Step Functions state machine that drives them (see workflow.ts). Give it the target database, its
 * credentials and the Prisma migrations directory.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArnFormat, Duration, Names, Stack, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  type Step,
  Steps,
  TagKeys,
  type TransactionMode,
  TransactionModes,
} from '../lambdas/shared/contract.js';
import { DEFAULT_DRIFT_POLICY, DriftPolicies, type DriftPolicy } from '../lambdas/shared/drift.js';
import {
  asideIdentifier,
  isValidRdsIdentifier,
  preMigrationSnapshotId,
  restoredIdentifier,
} from '../lambdas/shared/identifiers.js';
import { STEP_METADATA_KEY } from './asl.js';
import { buildWorkflowDefinition, workflowTimeout } from './workflow.js';

/** A user health check: SQL returning one row whose first column is a boolean (`true` when healthy). */
export interface HealthCheck {
  /** Shown in the health report. */
  readonly name: string;
  /** The query, e.g. `SELECT count(*) > 0 FROM "User"`. */
  readonly sql: string;
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
   * a customer managed key that is not part of the secret construct, grant `kms:Decrypt` on it yourself.
   */
  readonly credentials: secretsmanager.ISecret;
  /**
   * The database to migrate.
   *
   * @default - the secret's `dbname`
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
}

/** Default durations and settings (also documented on the props). */
export const DEFAULTS = {
  transactionMode: 'release' as TransactionMode,
  snapshotTimeout: Duration.hours(2),
  restoreTimeout: Duration.hours(3),
  stepTimeout: Duration.minutes(15),
  lockTimeout: Duration.seconds(10),
  logRetention: logs.RetentionDays.ONE_YEAR,
  rollbackConcurrency: 2,
} as const;

/** Lambda's maximum function timeout. */
export const MAX_LAMBDA_TIMEOUT = Duration.minutes(15);

/** Lambda's limit on the whole environment is 4 KB: the health checks must leave room for the rest. */
export const MAX_HEALTH_CHECKS_JSON_LENGTH = 3000;

/** The tag every resource the workflow creates carries, with the stack name as value. */
export const MANAGED_BY_TAG = TagKeys.managedBy;

/** Where the CA bundle of RDS lives in the Lambda runtime (Node 20+ runtimes no longer load it by default). */
export const RDS_CA_BUNDLE = '/var/runtime/ca-cert.pem';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
const LAMBDAS_DIR = join(PROJECT_ROOT, 'lambdas');
const requireHere = createRequire(import.meta.url);

/** What a step's function is and what its bundle must carry besides the JavaScript. */
interface StepProfile {
  readonly description: string;
  readonly memorySize: number;
  /** The function timeout (the apply step's comes from `stepTimeout`). */
  readonly timeout: Duration;
  /** Connects to the database with the credentials. */
  readonly connects: boolean;
  /** Bundles the migrations directory, Prisma's schema engine and libpg-query's WebAssembly. */
  readonly migrations: boolean;
  /** On the rollback path: gets reserved concurrency. */
  readonly rollbackPath: boolean;
}

const STEP_PROFILES: Record<Step, StepProfile> = {
  preflight: {
    description: 'Checks the release plan: migrations, _prisma_migrations, locks taken.',
    memorySize: 1024,
    timeout: Duration.minutes(5),
    connects: true,
    migrations: true,
    rollbackPath: false,
  },
  'create-snapshot': {
    description: 'Starts the pre-migration snapshot of the target database.',
    memorySize: 256,
    timeout: Duration.minutes(1),
    connects: false,
    migrations: false,
    rollbackPath: false,
  },
  'check-snapshot': {
    description: 'Reads the pre-migration snapshot status.',
    memorySize: 256,
    timeout: Duration.minutes(1),
    connects: false,
    migrations: false,
    rollbackPath: false,
  },
  'apply-migrations': {
    description: "Applies the pending Prisma migrations with Prisma's schema engine (WebAssembly).",
    memorySize: 1769, // one full vCPU
    timeout: DEFAULTS.stepTimeout,
    connects: true,
    migrations: true,
    rollbackPath: false,
  },
  'assess-release': {
    description: "Ends a dead apply step's migration session and reads what the release committed.",
    memorySize: 256,
    timeout: Duration.minutes(2),
    connects: true,
    migrations: false,
    rollbackPath: true,
  },
  'verify-health': {
    description: 'Verifies the database health after the release or after a rollback.',
    memorySize: 512,
    timeout: Duration.minutes(2),
    connects: true,
    migrations: false,
    rollbackPath: true,
  },
  'restore-snapshot': {
    description: 'Restores the pre-migration snapshot next to the original database.',
    memorySize: 256,
    timeout: Duration.minutes(2),
    connects: false,
    migrations: false,
    rollbackPath: true,
  },
  'check-restore': {
    description: "Reads the restored database status and applies the original's remaining settings.",
    memorySize: 256,
    timeout: Duration.minutes(2),
    connects: false,
    migrations: false,
    rollbackPath: true,
  },
  swap: {
    description: 'Swaps the restored database into place (renames), one step per call.',
    memorySize: 256,
    timeout: Duration.minutes(2),
    connects: false,
    migrations: false,
    rollbackPath: true,
  },
};

/** The construct id of a step: `apply-migrations` -> `ApplyMigrations`. */
export function stepConstructId(step: Step): string {
  return step
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** Identifier patterns (for IAM) of what the workflow creates for `targetIdentifier`. */
export interface ManagedIdentifierPatterns {
  /** Pre-migration snapshots: `<target>-premigration-*`. */
  readonly snapshot: string;
  /** Restored copies: `<target>-restored-*`. */
  readonly restored: string;
  /** Failed originals kept aside: `<target>-rolledback-*`. */
  readonly aside: string;
}

/**
 * The identifier patterns of the snapshots, restored copies and aside copies of `targetIdentifier`, derived
 * from the very helpers the functions name them with (so a long identifier, shortened by them, still
 * matches). For an unresolved token, `<token>-<kind>-*`.
 */
export function managedIdentifierPatterns(targetIdentifier: string): ManagedIdentifierPatterns {
  if (Token.isUnresolved(targetIdentifier)) {
    return {
      snapshot: `${targetIdentifier}-premigration-*`,
      restored: `${targetIdentifier}-restored-*`,
      aside: `${targetIdentifier}-rolledback-*`,
    };
  }
  const upTo = (id: string, marker: string) => `${id.slice(0, id.lastIndexOf(marker) + marker.length)}*`;
  return {
    snapshot: upTo(preMigrationSnapshotId(targetIdentifier, 'execution'), '-premigration-'),
    restored: upTo(restoredIdentifier(targetIdentifier, 'execution'), '-restored-'),
    aside: upTo(asideIdentifier(targetIdentifier, new Date(0)), '-rolledback-'),
  };
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

/** A file of an installed package (resolved from this project), or an error naming the package and the fix. */
function packageFile(pkg: string, file: string): string {
  let root: string;
  try {
    root = dirname(requireHere.resolve(`${pkg}/package.json`));
  } catch {
    root = join(PROJECT_ROOT, 'node_modules', pkg);
  }
  const path = join(root, file);
  if (!existsSync(path)) {
    throw new Error(
      `MigrationOrchestrator: ${path} is missing, so the functions cannot be bundled. Install the project's ` +
        `dependencies (npm ci); ${pkg} must be a dependency.`,
    );
  }
  return path;
}

/** POSIX shell single quoting. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The files the bundle of a step that reads the migrations carries beside index.mjs. */
export const BUNDLED_FILES = {
  /** Prisma's schema engine (WebAssembly), loaded by the migration engine adapter. */
  schemaEngine: { package: 'prisma', file: 'build/schema_engine_bg.wasm', as: 'schema_engine_bg.wasm' },
  /**
   * libpg-query (pgsql-parser's parser): its Emscripten loader reads `<__dirname>/libpg-query.wasm` when the
   * module is imported; the bundle defines `__dirname` as the bundle's directory, so the file goes beside
   * index.mjs of every bundle that contains the loader.
   */
  pgQuery: { package: 'libpg-query', file: 'wasm/libpg-query.wasm', as: 'libpg-query.wasm' },
  /** The migrations directory. */
  migrations: 'migrations',
} as const;

interface ResolvedTarget {
  readonly kind: 'instance' | 'cluster';
  readonly identifier: string;
  readonly connections: ec2.Connections;
  readonly description: string;
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
    policy: (policy as DriftPolicy | undefined) ?? DEFAULT_DRIFT_POLICY,
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

const XRAY_REASON =
  'xray:PutTraceSegments/PutTelemetryRecords (and GetSamplingRules/GetSamplingTargets) have no resource-level permission.';

/**
 * A resource as cdk-nag names it in a finding id (`Resource::<...>`): the resolved value with `Ref` as
 * `<Id>`, `Fn::GetAtt` as `<Id.Attr>`, and `Fn::Join` concatenated (cdk-nag's own flattening).
 */
export function flattenForNag(stack: Stack, value: unknown): string {
  const visit = (node: unknown): string => {
    if (node === undefined) return '';
    if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
    if (node && typeof node === 'object') {
      const token = node as Record<string, unknown>;
      const join = token['Fn::Join'];
      if (Array.isArray(join)) return (join[1] as unknown[]).map(visit).join(join[0] as string);
      if ('Fn::Sub' in token) return visit(token['Fn::Sub']);
      const getAtt = token['Fn::GetAtt'];
      if (Array.isArray(getAtt)) return `<${visit(getAtt[0])}.${visit(getAtt[1])}>`;
      if ('Fn::ImportValue' in token) return visit(token['Fn::ImportValue']);
      if ('Ref' in token) return `<${visit(token.Ref)}>`;
    }
    return JSON.stringify(node);
  };
  return visit(stack.resolve(value));
}

/** The reasons of the wildcard resources of each role, acknowledged on its default policy at the end. */
class WildcardAcknowledgements {
  private readonly byRole = new Map<iam.Role, Map<string, Set<string>>>();

  record(role: iam.Role, resource: string, reason: string): void {
    const id = flattenForNag(Stack.of(role), resource);
    let reasons = this.byRole.get(role);
    if (!reasons) {
      reasons = new Map();
      this.byRole.set(role, reasons);
    }
    const set = reasons.get(id) ?? new Set<string>();
    set.add(reason);
    reasons.set(id, set);
  }

  acknowledge(): void {
    for (const [role, reasons] of this.byRole) {
      const policy = role.node.tryFindChild('DefaultPolicy');
      if (!policy) continue;
      for (const [resource, why] of reasons) {
        Validations.of(policy).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${resource}]`,
          reason: [...why].join(' '),
        });
      }
    }
  }
}

/**
 * Snapshots the target database, applies the pending Prisma migrations, verifies health, and on failure
 * restores the snapshot and swaps it into place: a Step Functions Standard workflow over Lambda functions.
 */
export class MigrationOrchestrator extends Construct {
  /** The workflow. Start an execution (input documented in the README) to release. */
  public readonly stateMachine: sfn.StateMachine;
  /** The function of each workflow step. */
  public readonly functions: Readonly<Record<Step, lambda.IFunction>>;
  /** The key that encrypts the logs and the state machine's data. */
  public readonly encryptionKey: kms.IKey;
  /** The security groups of the functions. */
  public readonly securityGroups: readonly ec2.ISecurityGroup[];
  /** 'instance' or 'cluster'. */
  public readonly targetKind: 'instance' | 'cluster';

  private readonly wildcardReasons = new WildcardAcknowledgements();

  constructor(scope: Construct, id: string, props: MigrationOrchestratorProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const target = resolveTarget(props);
    this.targetKind = target.kind;

    // ---------------------------------------------------------------------------------------------------
    // Validation (tokens are skipped: they resolve at deploy time)

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
    const migrations = checkMigrationsDirectory(props.migrationsDirectory);

    // ---------------------------------------------------------------------------------------------------
    // Encryption, network

    this.encryptionKey = props.encryptionKey ?? this.createKey();

    let securityGroups = props.securityGroups;
    if (!securityGroups || securityGroups.length === 0) {
      const group = new ec2.SecurityGroup(this, 'SecurityGroup', {
        vpc: props.vpc,
        description: 'Migration orchestrator functions: database port to the target, HTTPS to the AWS APIs',
        allowAllOutbound: false,
      });
      group.addEgressRule(
        ec2.Peer.anyIpv4(),
        ec2.Port.tcp(443),
        'HTTPS to the AWS APIs (Secrets Manager, RDS, X-Ray) through NAT or VPC endpoints',
      );
      const port = target.connections.defaultPort;
      if (!port) {
        throw new Error(
          `MigrationOrchestrator: the port of ${target.description} is unknown, so the functions cannot be allowed ` +
            'into it. Pass port to fromDatabaseInstanceAttributes/fromDatabaseClusterAttributes, or pass ' +
            'securityGroups that are already allowed in.',
        );
      }
      target.connections.allowDefaultPortFrom(group, 'Migration orchestrator functions');
      securityGroups = [group];
    }
    this.securityGroups = securityGroups;

    // ---------------------------------------------------------------------------------------------------
    // Functions

    const environment: Record<string, string> = {
      TARGET_KIND: target.kind,
      TARGET_IDENTIFIER: target.identifier,
      DATABASE_SECRET_ARN: props.credentials.secretArn,
      ...(props.databaseName !== undefined ? { DATABASE_NAME: props.databaseName } : {}),
      TRANSACTION_MODE: transactionMode,
      SNAPSHOT_TIMEOUT_SECONDS: String(snapshotTimeout.toSeconds()),
      RESTORE_TIMEOUT_SECONDS: String(restoreTimeout.toSeconds()),
      LOCK_TIMEOUT_MS: String(lockTimeout.toMilliseconds()),
      STATEMENT_TIMEOUT_MS: String(props.statementTimeout?.toMilliseconds() ?? 0),
      HEALTH_CHECKS: healthChecksJson,
      CHECK_SCHEMA_DRIFT: String(props.checkSchemaDrift ?? false),
      DRIFT_POLICY: drift.policy,
      DRIFT_IGNORE: drift.ignore,
      MANAGED_BY: stack.stackName,
      NODE_EXTRA_CA_CERTS: RDS_CA_BUNDLE,
    };

    const logRetention = props.logRetention ?? DEFAULTS.logRetention;
    const functions: Partial<Record<Step, lambda.Function>> = {};
    const timeouts: Partial<Record<Step, Duration>> = {};
    const roles: Partial<Record<Step, iam.Role>> = {};
    for (const step of Steps) {
      const profile = STEP_PROFILES[step];
      const name = stepConstructId(step);
      const timeout = step === 'apply-migrations' ? stepTimeout : profile.timeout;
      const logGroup = new logs.LogGroup(this, `${name}Logs`, {
        retention: logRetention,
        encryptionKey: this.encryptionKey,
      });
      const role = new iam.Role(this, `${name}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `Migration orchestrator, step ${step}`,
      });
      logGroup.grantWrite(role);
      this.grantNetworkInterfaces(role);

      const fn = new nodejs.NodejsFunction(this, `${name}Function`, {
        entry: join(LAMBDAS_DIR, step, 'handler.ts'),
        handler: 'handler',
        projectRoot: PROJECT_ROOT,
        depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
        description: profile.description,
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: profile.memorySize,
        timeout,
        vpc: props.vpc,
        vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        securityGroups,
        tracing: lambda.Tracing.ACTIVE,
        logGroup,
        role,
        environment,
        ...(profile.rollbackPath && rollbackConcurrency > 0
          ? { reservedConcurrentExecutions: rollbackConcurrency }
          : {}),
        bundling: this.bundlingOptions(
          profile.migrations || (step === 'verify-health' && props.checkSchemaDrift === true)
            ? migrations.path
            : undefined,
        ),
      });
      (fn.node.defaultChild as lambda.CfnFunction).addMetadata(STEP_METADATA_KEY, step);
      if (profile.connects) props.credentials.grantRead(fn);
      functions[step] = fn;
      timeouts[step] = timeout;
      roles[step] = role;
    }
    const allFunctions = functions as Record<Step, lambda.Function>;
    const allRoles = roles as Record<Step, iam.Role>;
    this.functions = allFunctions;
    this.grantDatabaseOperations(allRoles, target, props.databaseEncryptionKey);

    // ---------------------------------------------------------------------------------------------------
    // State machine

    const workflowLogs = new logs.LogGroup(this, 'WorkflowLogs', {
      retention: logRetention,
      encryptionKey: this.encryptionKey,
    });
    // Named: CDK conditions the role's use of the key on the state machine ARN, which needs the name; the
    // preflight function's permission to list the running executions is built from it too (referencing the
    // state machine resource itself would make a dependency cycle through the definition).
    const stateMachineName =
      props.stateMachineName ?? Names.uniqueResourceName(this, { maxLength: 80, separator: '-' });
    this.allow(allRoles.preflight, {
      sid: 'ListRunningExecutionsOfThisWorkflow',
      actions: ['states:ListExecutions'],
      resources: [
        Stack.of(this).formatArn({
          service: 'states',
          resource: 'stateMachine',
          resourceName: stateMachineName,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName,
      comment: `Prisma migrations for ${target.kind} ${target.identifier}: snapshot, apply, verify, roll back.`,
      stateMachineType: sfn.StateMachineType.STANDARD,
      queryLanguage: sfn.QueryLanguage.JSON_PATH,
      definitionBody: sfn.DefinitionBody.fromChainable(
        buildWorkflowDefinition(this, {
          functions: allFunctions,
          timeouts: {
            functions: timeouts as Record<Step, Duration>,
            snapshot: snapshotTimeout,
            restore: restoreTimeout,
          },
        }),
      ),
      timeout: workflowTimeout({ snapshot: snapshotTimeout, restore: restoreTimeout }),
      tracingEnabled: true,
      // Every state transition, without the state documents: they hold no secret, but they do hold SQL
      // error messages and schema names, already kept (encrypted) in the execution history; the logs stay
      // lean and readable by a wider audience.
      logs: { destination: workflowLogs, level: sfn.LogLevel.ALL, includeExecutionData: false },
      encryptionConfiguration: new sfn.CustomerManagedEncryptionConfiguration(this.encryptionKey),
    });

    this.acknowledgeFindings(allFunctions, allRoles);
  }

  /** A key for the logs and the state machine, with the key policy CloudWatch Logs needs. */
  private createKey(): kms.Key {
    const stack = Stack.of(this);
    const key = new kms.Key(this, 'Key', {
      description: 'Migration orchestrator: encrypts its log groups and state machine data',
      enableKeyRotation: true,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchLogsOfThisAccount',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    return key;
  }

  /** Adds `statement` to `role`; each wildcard resource is acknowledged for cdk-nag with `reason`. */
  private allow(role: iam.Role, statement: iam.PolicyStatementProps, reason?: string): void {
    role.addToPolicy(new iam.PolicyStatement(statement));
    for (const resource of statement.resources ?? []) {
      if (!flattenForNag(Stack.of(this), resource).includes('*')) continue;
      if (!reason) {
        throw new Error(
          `MigrationOrchestrator: internal error, wildcard resource ${resource} without a reason.`,
        );
      }
      this.wildcardReasons.record(role, resource, reason);
    }
  }

  /** The ENI permissions a function in a VPC needs (what AWSLambdaVPCAccessExecutionRole grants). */
  private grantNetworkInterfaces(role: iam.Role): void {
    this.allow(
      role,
      {
        sid: 'LambdaVpcNetworkInterfaces',
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSubnets',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        resources: ['*'],
      },
      'ec2 network interface actions of a Lambda function in a VPC (the content of AWSLambdaVPCAccessExecutionRole, ' +
        'inline so that no logs:* on * comes with it): Describe* has no resource-level permission, and Lambda ' +
        'checks Create/DeleteNetworkInterface on the execution role before the interface exists.',
    );
  }

  private bundlingOptions(migrationsPath: string | undefined): nodejs.BundlingOptions {
    return {
      format: nodejs.OutputFormat.ESM,
      mainFields: ['module', 'main'],
      // ESM output: CommonJS dependencies still call require(), and Emscripten/wasm-bindgen loaders read
      // __dirname/__filename, which ESM lacks: give them the bundle's own (import.meta.dirname, Node 20.11+).
      banner:
        "import { createRequire as __orchestratorCreateRequire } from 'node:module'; " +
        'const require = __orchestratorCreateRequire(import.meta.url);',
      define: { __dirname: 'import.meta.dirname', __filename: 'import.meta.filename' },
      minify: false,
      sourceMap: false,
      keepNames: true,
      commandHooks: {
        beforeBundling: () => [],
        beforeInstall: () => [],
        afterBundling: (_inputDir: string, outputDir: string) => {
          const { schemaEngine, pgQuery } = BUNDLED_FILES;
          const index = shellQuote(join(outputDir, 'index.mjs'));
          // libpg-query loads its wasm when its module is imported: whichever bundle holds it needs the file.
          const commands = [
            `if grep -q ${shellQuote(pgQuery.as)} ${index}; then cp ${shellQuote(packageFile(pgQuery.package, pgQuery.file))} ${shellQuote(join(outputDir, pgQuery.as))}; fi`,
          ];
          if (!migrationsPath) return commands;
          const migrationsOut = join(outputDir, BUNDLED_FILES.migrations);
          return [
            ...commands,
            `cp ${shellQuote(packageFile(schemaEngine.package, schemaEngine.file))} ${shellQuote(join(outputDir, schemaEngine.as))}`,
            `mkdir -p ${shellQuote(migrationsOut)}`,
            `cp -R ${shellQuote(`${migrationsPath}/.`)} ${shellQuote(migrationsOut)}`,
          ];
        },
      },
    };
  }

  /**
   * RDS permissions, per step, scoped to the target and to the identifier patterns of what the workflow
   * creates; only the functions that need an action get it. Mirrors the calls of the RDS gateways
   * (lambdas/shared/adapters/rds-*-snapshot-gateway.ts).
   */
  private grantDatabaseOperations(
    roles: Record<Step, iam.Role>,
    target: ResolvedTarget,
    databaseKey: kms.IKey | undefined,
  ): void {
    const stack = Stack.of(this);
    const id = Token.isUnresolved(target.identifier) ? target.identifier : target.identifier.toLowerCase();
    const patterns = managedIdentifierPatterns(id);
    const arn = (resource: string, name: string) =>
      stack.formatArn({
        service: 'rds',
        resource,
        resourceName: name,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    const isCluster = target.kind === 'cluster';
    const dbType = isCluster ? 'cluster' : 'db';
    const targetArn = arn(dbType, id);
    const restoredArn = arn(dbType, patterns.restored);
    const asideArn = arn(dbType, patterns.aside);
    const snapshotArn = arn(isCluster ? 'cluster-snapshot' : 'snapshot', patterns.snapshot);
    const managedBy = (key: string) => ({ StringEquals: { [key]: stack.stackName } });
    const describeDb = isCluster ? 'rds:DescribeDBClusters' : 'rds:DescribeDBInstances';
    const describeSnapshots = isCluster ? 'rds:DescribeDBClusterSnapshots' : 'rds:DescribeDBSnapshots';
    const modifyDb = isCluster ? 'rds:ModifyDBCluster' : 'rds:ModifyDBInstance';
    const restoreAction = isCluster
      ? 'rds:RestoreDBClusterFromSnapshot'
      : 'rds:RestoreDBInstanceFromDBSnapshot';
    const patternReason =
      'Identifier pattern of what this workflow itself creates and names (lambdas/shared/identifiers.ts): ' +
      `pre-migration snapshots ${patterns.snapshot}, restored copies ${patterns.restored}, failed originals kept ` +
      `aside ${patterns.aside}; the exact names depend on the execution.`;
    const groupReason =
      "A restore reuses the original's subnet group, parameter group and option group, whose names are read " +
      'from the original at run time (unknown at synth); they are referenced, never modified.';
    const membersReason =
      'Aurora cluster members: DescribeDBInstances filtered by cluster id (the API authorizes it on db:*), and ' +
      "creating the restored cluster's instances, whose names derive from the original members' names read at " +
      'run time (restoredMemberIdentifier); creation is limited to the restored clusters (cluster ARN pattern) ' +
      'and to requests tagged managed-by this stack.';
    const passRoleReason =
      "iam:PassRole of the original's monitoring role, directory role and feature roles (s3Import, ...), read " +
      'from the original at run time, only to RDS (iam:PassedToService).';
    const passRole: iam.PolicyStatementProps = {
      sid: 'PassOriginalRolesToRds',
      actions: ['iam:PassRole'],
      resources: ['*'],
      conditions: {
        StringEquals: { 'iam:PassedToService': ['rds.amazonaws.com', 'monitoring.rds.amazonaws.com'] },
      },
    };
    const describeMembers: iam.PolicyStatementProps = {
      sid: 'DescribeClusterMembers',
      actions: ['rds:DescribeDBInstances'],
      resources: [arn('db', '*')],
    };

    // create-snapshot: read the target, snapshot it as <target>-premigration-*, tagged managed-by.
    const create = roles['create-snapshot'];
    this.allow(create, { sid: 'DescribeTarget', actions: [describeDb], resources: [targetArn] });
    if (isCluster) this.allow(create, describeMembers, membersReason);
    this.allow(
      create,
      {
        sid: 'CreatePreMigrationSnapshot',
        actions: [isCluster ? 'rds:CreateDBClusterSnapshot' : 'rds:CreateDBSnapshot'],
        resources: [targetArn, snapshotArn],
      },
      patternReason,
    );
    this.allow(
      create,
      {
        sid: 'TagPreMigrationSnapshotOnCreate',
        actions: ['rds:AddTagsToResource'],
        resources: [snapshotArn],
        conditions: managedBy(`aws:RequestTag/${MANAGED_BY_TAG}`),
      },
      patternReason,
    );
    this.allow(
      create,
      { sid: 'DescribePreMigrationSnapshot', actions: [describeSnapshots], resources: [snapshotArn] },
      patternReason,
    );

    // check-snapshot: read the snapshot.
    this.allow(
      roles['check-snapshot'],
      { sid: 'DescribePreMigrationSnapshot', actions: [describeSnapshots], resources: [snapshotArn] },
      patternReason,
    );

    // restore-snapshot: read the original's settings, restore as <target>-restored-*, tagged managed-by.
    const restore = roles['restore-snapshot'];
    this.allow(
      restore,
      { sid: 'DescribeOriginalAndRestored', actions: [describeDb], resources: [targetArn, restoredArn] },
      patternReason,
    );
    // The restore step proves by its execution tag that the snapshot is this execution's own.
    this.allow(
      restore,
      { sid: 'ProveSnapshotOwnership', actions: [describeSnapshots], resources: [snapshotArn] },
      patternReason,
    );
    this.allow(
      restore,
      { sid: 'RestorePreMigrationSnapshot', actions: [restoreAction], resources: [restoredArn, snapshotArn] },
      patternReason,
    );
    this.allow(
      restore,
      {
        sid: 'RestoreWithOriginalGroups',
        actions: [restoreAction],
        resources: [arn('subgrp', '*'), arn(isCluster ? 'cluster-pg' : 'pg', '*'), arn('og', '*')],
      },
      groupReason,
    );
    this.allow(
      restore,
      {
        sid: 'TagRestoredCopyOnCreate',
        actions: ['rds:AddTagsToResource'],
        resources: [restoredArn],
        conditions: managedBy(`aws:RequestTag/${MANAGED_BY_TAG}`),
      },
      patternReason,
    );
    this.allow(restore, passRole, passRoleReason);
    if (databaseKey) {
      this.allow(restore, {
        sid: 'DescribeDatabaseKey',
        actions: ['kms:DescribeKey'],
        resources: [databaseKey.keyArn],
      });
      this.allow(restore, {
        sid: 'LetRdsUseDatabaseKey',
        actions: ['kms:CreateGrant'],
        resources: [databaseKey.keyArn],
        conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      });
    }

    // check-restore: read the restored copy (and the original, for what a restore does not take), then
    // apply it to the restored copy (Aurora: create its instances), recording progress in a tag.
    const check = roles['check-restore'];
    this.allow(
      check,
      { sid: 'DescribeRestoredAndOriginal', actions: [describeDb], resources: [restoredArn, targetArn] },
      patternReason,
    );
    this.allow(
      check,
      {
        sid: 'ApplyOriginalSettingsToRestoredCopy',
        actions: isCluster ? [modifyDb] : [modifyDb, 'rds:AddRoleToDBInstance'],
        resources: [restoredArn],
      },
      patternReason,
    );
    this.allow(
      check,
      {
        sid: 'TagRestoredCopyProgress',
        actions: ['rds:AddTagsToResource'],
        resources: [restoredArn],
        conditions: managedBy(`aws:ResourceTag/${MANAGED_BY_TAG}`),
      },
      patternReason,
    );
    if (isCluster) {
      this.allow(check, describeMembers, membersReason);
      this.allow(
        check,
        {
          sid: 'CreateRestoredClusterMembers',
          actions: ['rds:CreateDBInstance', 'rds:AddTagsToResource'],
          resources: [arn('db', '*')],
          conditions: managedBy(`aws:RequestTag/${MANAGED_BY_TAG}`),
        },
        membersReason,
      );
      this.allow(
        check,
        {
          sid: 'CreateMembersInRestoredClusterOnly',
          actions: ['rds:CreateDBInstance'],
          resources: [restoredArn],
        },
        patternReason,
      );
      this.allow(
        check,
        {
          sid: 'CreateMembersWithOriginalGroups',
          actions: ['rds:CreateDBInstance'],
          resources: [arn('subgrp', '*'), arn('pg', '*'), arn('og', '*')],
        },
        groupReason,
      );
    }
    this.allow(check, passRole, passRoleReason);

    // swap: rename the original aside (<target>-rolledback-*), then the restored copy to the original's name.
    const swapArns = [targetArn, restoredArn, asideArn];
    this.allow(
      roles.swap,
      { sid: 'DescribeSwapped', actions: [describeDb], resources: swapArns },
      patternReason,
    );
    if (isCluster) this.allow(roles.swap, describeMembers, membersReason);
    this.allow(roles.swap, { sid: 'RenameSwapped', actions: [modifyDb], resources: swapArns }, patternReason);
  }

  /**
   * cdk-nag AwsSolutions acknowledgements, each on the construct it concerns, with its reason: wildcards
   * that AWS gives no resource-level permission for, names read at run time, or this stack's own resources.
   */
  private acknowledgeFindings(functions: Record<Step, lambda.Function>, roles: Record<Step, iam.Role>): void {
    const stack = Stack.of(this);
    for (const step of Steps) {
      // Tracing.ACTIVE adds this statement to every function's role.
      this.wildcardReasons.record(roles[step], '*', XRAY_REASON);
      Validations.of(functions[step]).acknowledge({
        id: 'AwsSolutions-L1',
        reason:
          'Node.js 22 is the runtime the bundles are built and tested for (esbuild target node22); moving to a ' +
          'newer runtime is a deliberate, tested upgrade.',
      });
    }
    this.wildcardReasons.acknowledge();

    // The state machine's role: invoke of its own functions (CDK's LambdaInvoke grant adds the `:*`
    // version qualifier), vended logs delivery and X-Ray, which have no resource-level permission.
    const machinePolicy = this.stateMachine.role.node.tryFindChild('DefaultPolicy');
    if (machinePolicy) {
      for (const step of Steps) {
        const logicalId = stack.getLogicalId(functions[step].node.defaultChild as lambda.CfnFunction);
        Validations.of(machinePolicy).acknowledge({
          id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
          reason: `lambda:InvokeFunction on the versions and aliases of this stack's own ${step} function (CDK's LambdaInvoke grant).`,
        });
      }
      Validations.of(machinePolicy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'logs:CreateLogDelivery/GetLogDelivery/UpdateLogDelivery/DeleteLogDelivery/ListLogDeliveries/' +
          'PutResourcePolicy/DescribeResourcePolicies/DescribeLogGroups (vended logs delivery of Step Functions) ' +
          `and ${XRAY_REASON}`,
      });
    }
  }
}
