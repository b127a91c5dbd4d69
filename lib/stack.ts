/**
 * The example stack: a MigrationOrchestrator for an existing database, referenced from attributes only (no
 * lookups), so that `cdk synth` works offline with no account. bin/app.ts builds it from the context of
 * cdk.json; the local runner synthesizes it in-process with `synthesizeTemplate`.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { App, CfnOutput, Stack, type StackProps, TimeZone, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct } from 'constructs';
import { type TransactionMode, TransactionModes } from '../lambdas/shared/contract/contract.js';
import {
  DatabaseAuth,
  DEFAULTS,
  MigrationOrchestrator,
  type MigrationOrchestratorProps,
  type TargetKind,
} from './orchestrator.js';
import { PROJECT_ROOT } from './private/paths.js';
import { DEFAULT_STACK_NAME } from './stack-name.js';

export type { TargetKind } from './orchestrator.js';

/** What the stack needs to know about the existing database and its network (the cdk.json context keys). */
export interface DatabaseReference {
  /** 'instance' (RDS for PostgreSQL) or 'cluster' (Aurora PostgreSQL). */
  readonly targetKind: TargetKind;
  /** The DB instance or cluster identifier. */
  readonly targetIdentifier: string;
  /** The instance or cluster (writer) endpoint address. */
  readonly endpoint: string;
  /** The database port. */
  readonly port: number;
  /** A security group of the database, into which the functions are allowed. */
  readonly securityGroupId: string;
  /**
   * The complete ARN of the RDS-style credentials secret (with its 6-character suffix). Give exactly one of
   * `secretArn` and `databaseUser`.
   */
  readonly secretArn?: string;
  /** IAM database authentication as this database user instead of a secret (`DatabaseAuth.iam`). */
  readonly databaseUser?: string;
  /** The database to migrate (required with `databaseUser`; otherwise the secret's dbname). */
  readonly databaseName?: string;
  readonly vpcId: string;
  readonly availabilityZones: string[];
  /** Private subnets with egress (NAT or VPC endpoints), one per availability zone. */
  readonly privateSubnetIds: string[];
}

export interface MigrationOrchestratorStackProps extends StackProps {
  readonly database: DatabaseReference;
  /** The Prisma migrations directory; relative paths are resolved from the project root. */
  readonly migrationsDirectory: string;
  /** Further construct props (timeouts, health checks, ...). */
  readonly orchestrator?: Partial<
    Omit<MigrationOrchestratorProps, 'instance' | 'cluster' | 'credentials' | 'vpc' | 'migrationsDirectory'>
  >;
}

export class MigrationOrchestratorStack extends Stack {
  public readonly orchestrator: MigrationOrchestrator;

  constructor(scope: Construct, id: string, props: MigrationOrchestratorStackProps) {
    super(scope, id, props);
    const db = props.database;
    const vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: db.vpcId,
      availabilityZones: db.availabilityZones,
      privateSubnetIds: db.privateSubnetIds,
    });
    Validations.of(vpc).acknowledge({
      id: 'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId',
      reason:
        'The orchestrator only places its functions in these subnets; it reads no route table and adds no ' +
        'route or VPC endpoint, so the route table ids are not needed.',
    });
    const securityGroups = [
      ec2.SecurityGroup.fromSecurityGroupId(this, 'DatabaseSecurityGroup', db.securityGroupId, {
        mutable: true,
      }),
    ];
    const target =
      db.targetKind === 'cluster'
        ? {
            cluster: rds.DatabaseCluster.fromDatabaseClusterAttributes(this, 'Database', {
              clusterIdentifier: db.targetIdentifier,
              clusterEndpointAddress: db.endpoint,
              port: db.port,
              securityGroups,
            }),
          }
        : {
            instance: rds.DatabaseInstance.fromDatabaseInstanceAttributes(this, 'Database', {
              instanceIdentifier: db.targetIdentifier,
              instanceEndpointAddress: db.endpoint,
              port: db.port,
              securityGroups,
            }),
          };
    this.orchestrator = new MigrationOrchestrator(this, 'Orchestrator', {
      ...props.orchestrator,
      ...target,
      ...(db.secretArn !== undefined
        ? { credentials: secretsmanager.Secret.fromSecretCompleteArn(this, 'DatabaseSecret', db.secretArn) }
        : {}),
      ...(db.databaseUser !== undefined
        ? { databaseAuth: DatabaseAuth.iam({ username: db.databaseUser }) }
        : {}),
      ...(db.databaseName !== undefined ? { databaseName: db.databaseName } : {}),
      vpc,
      migrationsDirectory: isAbsolute(props.migrationsDirectory)
        ? props.migrationsDirectory
        : resolve(PROJECT_ROOT, props.migrationsDirectory),
    });
    new CfnOutput(this, 'StateMachineArn', {
      value: this.orchestrator.stateMachine.stateMachineArn,
      description: 'Start an execution of this state machine to release the pending migrations.',
    });
    new CfnOutput(this, 'MigrateEntryStateMachineArn', {
      value: this.orchestrator.migrateEntry.stateMachineArn,
      description:
        'Start an execution of this state machine to release the pending migrations, with the permission to migrate only.',
    });
    if (this.orchestrator.deadLetterQueue) {
      new CfnOutput(this, 'BackupDeadLetterQueueUrl', {
        value: this.orchestrator.deadLetterQueue.queueUrl,
        description: 'Scheduled backups that could not be started land here (kept 14 days).',
      });
    }
  }
}

/** The context of cdk.json (example defaults for every key). */
export function projectContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

function list(name: string, value: unknown): string[] {
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value;
  if (typeof value === 'string' && value.trim() !== '') return value.split(',').map((item) => item.trim());
  throw new Error(
    `Context ${name} must be a list of strings (or a comma-separated string), received ${JSON.stringify(value)}. ` +
      `Set it in cdk.json or pass -c ${name}=a,b.`,
  );
}

function text(name: string, value: unknown): string {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  throw new Error(
    `Context ${name} is missing or empty (received ${JSON.stringify(value)}). Set it in cdk.json or pass -c ${name}=...`,
  );
}

function optionalText(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  throw new Error(
    `Context ${name} must be a non-empty string when set, received ${JSON.stringify(value)}. Set it in cdk.json, ` +
      `pass -c ${name}=..., or leave it out.`,
  );
}

/** The stack props from the app's context (cdk.json, `-c key=value`). Errors name the key and the fix. */
export function stackPropsFromContext(
  scope: Construct,
): Pick<MigrationOrchestratorStackProps, 'database' | 'migrationsDirectory' | 'orchestrator'> {
  const get = (key: string) => scope.node.tryGetContext(key) as unknown;
  const kind = text('targetKind', get('targetKind'));
  if (kind !== 'instance' && kind !== 'cluster') {
    throw new Error(`Context targetKind must be 'instance' or 'cluster', received ${JSON.stringify(kind)}.`);
  }
  const port = Number(get('port'));
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`Context port must be a TCP port number, received ${JSON.stringify(get('port'))}.`);
  }
  const backupSchedule = optionalText('backupSchedule', get('backupSchedule'));
  const backupTimeZone = optionalText('backupTimeZone', get('backupTimeZone'));
  if (backupTimeZone !== undefined && backupSchedule === undefined) {
    throw new Error(
      `Context backupTimeZone (${JSON.stringify(backupTimeZone)}) is set but backupSchedule is not. Set ` +
        "backupSchedule too (e.g. -c backupSchedule='cron(0 3 * * ? *)'), or remove backupTimeZone.",
    );
  }
  // The login: the secret (secretArn), or IAM database authentication (databaseUser, with databaseName).
  const databaseUser = optionalText('databaseUser', get('databaseUser'));
  const databaseName = optionalText('databaseName', get('databaseName'));
  const secretArn = databaseUser === undefined ? text('secretArn', get('secretArn')) : undefined;
  const secretGiven = !['', null, undefined].includes(get('secretArn') as string | null | undefined);
  if (databaseUser !== undefined && secretGiven) {
    throw new Error(
      `Context databaseUser (${JSON.stringify(databaseUser)}, IAM database authentication) and secretArn are both ` +
        'set. Remove secretArn from cdk.json (or pass -c secretArn=) to log in with IAM, or remove databaseUser to ' +
        "log in with the secret's password.",
    );
  }
  const mode = get('transactionMode') ?? DEFAULTS.transactionMode;
  if (!TransactionModes.includes(mode as TransactionMode)) {
    throw new Error(
      `Context transactionMode must be one of ${TransactionModes.join(', ')}, received ${JSON.stringify(mode)}.`,
    );
  }
  return {
    database: {
      targetKind: kind,
      targetIdentifier: text('targetIdentifier', get('targetIdentifier')),
      endpoint: text('endpoint', get('endpoint')),
      port,
      securityGroupId: text('securityGroupId', get('securityGroupId')),
      ...(secretArn !== undefined ? { secretArn } : {}),
      ...(databaseUser !== undefined ? { databaseUser } : {}),
      ...(databaseName !== undefined ? { databaseName } : {}),
      vpcId: text('vpcId', get('vpcId')),
      availabilityZones: list('availabilityZones', get('availabilityZones')),
      privateSubnetIds: list('privateSubnetIds', get('privateSubnetIds')),
    },
    migrationsDirectory: text('migrationsDirectory', get('migrationsDirectory') ?? 'prisma/migrations'),
    orchestrator: {
      transactionMode: mode as TransactionMode,
      ...(backupSchedule !== undefined
        ? {
            backupSchedule: {
              schedule: scheduler.ScheduleExpression.expression(
                backupSchedule,
                backupTimeZone !== undefined ? TimeZone.of(backupTimeZone) : undefined,
              ),
            },
          }
        : {}),
    },
  };
}

export interface BuildAppOptions {
  /** Overrides the context's transactionMode. */
  readonly transactionMode?: TransactionMode;
  /** Overrides the context's targetKind (the example endpoint is reused). */
  readonly targetKind?: TargetKind;
  /** Bundle the functions (esbuild). @default false: bundling is skipped, the assets are placeholders */
  readonly bundle?: boolean;
  /** Run cdk-nag's AwsSolutions checks at synthesis. @default true */
  readonly nag?: boolean;
  /** More context, over cdk.json's. */
  readonly context?: Record<string, unknown>;
  /**
   * Run CDK's built-in CloudFormation template validation (about 9 s the first time in a process).
   * @default false
   */
  readonly cloudFormationValidation?: boolean;
  /** Where to write the cloud assembly. @default - a temporary directory */
  readonly outdir?: string;
  /** The stack's id. @default 'MigrationOrchestrator' */
  readonly stackName?: string;
}

export { DEFAULT_STACK_NAME };

/** An app with the example stack, from cdk.json's context; what bin/app.ts, the tests and the local runner use. */
export function buildApp(options: BuildAppOptions = {}): { app: App; stack: MigrationOrchestratorStack } {
  const context: Record<string, unknown> = {
    ...projectContext(),
    ...options.context,
    ...(options.transactionMode ? { transactionMode: options.transactionMode } : {}),
    ...(options.targetKind ? { targetKind: options.targetKind } : {}),
    // Which stacks bundle their assets: none unless asked (bundling takes seconds per function).
    ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
  };
  const app = new App({
    context,
    builtinCloudFormationValidation: options.cloudFormationValidation ?? false,
    ...(options.outdir ? { outdir: options.outdir } : {}),
  });
  return { app, stack: addStack(app, options.stackName ?? DEFAULT_STACK_NAME, options.nag ?? true) };
}

/** Adds the example stack (from the app's context) and, unless `nag` is false, cdk-nag's AwsSolutions checks. */
export function addStack(app: App, stackName: string, nag = true): MigrationOrchestratorStack {
  const stack = new MigrationOrchestratorStack(app, stackName, {
    ...stackPropsFromContext(app),
    description: 'Safe production Prisma migrations: snapshot, apply, verify, roll back (Step Functions).',
  });
  if (nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}

/**
 * Synthesizes the example stack in-process and returns its CloudFormation template. Bundling is skipped
 * unless `bundle` is true, so this takes about a second; the state machine definition is the real one.
 */
export function synthesizeTemplate(options: BuildAppOptions = {}): Record<string, unknown> {
  const { app, stack } = buildApp({ nag: false, ...options });
  const assembly = app.synth();
  return assembly.getStackByName(stack.stackName).template as Record<string, unknown>;
}
