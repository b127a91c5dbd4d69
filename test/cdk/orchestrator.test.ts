import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import { beforeAll, describe, expect, it } from 'vitest';
import { Steps } from '../../lambdas/shared/contract/contract.js';
import { STEP_METADATA_KEY } from '../../lib/asl.js';
import { RDS_CA_BUNDLE } from '../../lib/orchestrator.js';
import { stackPropsFromContext } from '../../lib/stack.js';
import { MIGRATIONS_DIR, orchestrate, SECRET_ARN, synthesize } from './support.js';

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}

let template: Template;
let resources: Record<string, Resource>;

/** The step functions of a bare stack's orchestrator (the report function is not a step). */
function stepFunctions(stack: Stack) {
  return Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')).filter(
    (fn) => fn.Metadata?.[STEP_METADATA_KEY],
  );
}

function functionsByStep(): Map<string, [string, Resource]> {
  const byStep = new Map<string, [string, Resource]>();
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::Lambda::Function' || !resource.Metadata?.[STEP_METADATA_KEY]) continue;
    byStep.set(resource.Metadata?.[STEP_METADATA_KEY] as string, [id, resource]);
  }
  return byStep;
}

beforeAll(() => {
  // Prepare
  const synthesized = synthesize({
    context: { transactionMode: 'per-migration' },
  });
  template = synthesized.template;
  resources = synthesized.json.Resources as Record<string, Resource>;
});

describe('MigrationOrchestrator resources', () => {
  it('creates one Node.js 22 arm64 function per step, tagged with its step in Metadata', () => {
    // Assess
    // One function per step, and the report function (not a step: EventBridge invokes it).
    template.resourceCountIs('AWS::Lambda::Function', Steps.length + 1);
    const byStep = functionsByStep();
    expect(new Set(byStep.keys())).toEqual(new Set(Steps));
    for (const [step, [, fn]] of byStep) {
      expect(fn.Properties, step).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
      });
    }
  });

  it('runs every function in the private subnets with the orchestrator security group', () => {
    // Assess
    for (const [step, [, fn]] of functionsByStep()) {
      expect(fn.Properties.VpcConfig, step).toEqual({
        SubnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
        SecurityGroupIds: [
          { 'Fn::GetAtt': [expect.stringMatching(/^OrchestratorSecurityGroup/), 'GroupId'] },
        ],
      });
    }
  });

  it('allows the functions into the database on its port, and out on HTTPS only', () => {
    // Assess
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: 'sg-0123456789abcdef0',
      IpProtocol: 'tcp',
      FromPort: 5432,
      ToPort: 5432,
      SourceSecurityGroupId: {
        'Fn::GetAtt': [Match.stringLikeRegexp('^OrchestratorSecurityGroup'), 'GroupId'],
      },
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443 })],
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      DestinationSecurityGroupId: 'sg-0123456789abcdef0',
      FromPort: 5432,
    });
  });

  it('sets the environment of every function, with the secret ARN and never a secret value', () => {
    // Assess
    for (const [step, [, fn]] of functionsByStep()) {
      const variables = (fn.Properties.Environment as { Variables: Record<string, string> }).Variables;
      expect(variables, step).toEqual({
        TARGET_KIND: 'instance',
        TARGET_IDENTIFIER: 'app-production',
        DATABASE_SECRET_ARN: SECRET_ARN,
        TRANSACTION_MODE: 'per-migration',
        SNAPSHOT_TIMEOUT_SECONDS: '7200',
        RESTORE_TIMEOUT_SECONDS: '10800',
        LOCK_TIMEOUT_MS: '10000',
        STATEMENT_TIMEOUT_MS: '0',
        HEALTH_CHECKS: '[]',
        CHECK_SCHEMA_DRIFT: 'false',
        DRIFT_POLICY: 'warn',
        DRIFT_IGNORE: '[]',
        MANAGED_BY: 'MigrationOrchestrator',
        NODE_EXTRA_CA_CERTS: RDS_CA_BUNDLE,
        // The steps that tag or prune snapshots by the retention policy get it (its defaults here).
        ...(step === 'create-snapshot' || step === 'prune-snapshots'
          ? {
              RETENTION_DAILY: '7',
              RETENTION_WEEKLY: '4',
              RETENTION_MONTHLY: '12',
              RETENTION_PRE_MIGRATION: '10',
              RETENTION_TIME_ZONE: 'UTC',
            }
          : {}),
      });
      expect(JSON.stringify(variables), step).not.toMatch(/password|postgres(ql)?:\/\//i);
    }
  });

  it('writes each function and the workflow to its own KMS-encrypted log group with a retention', () => {
    // Assess
    const logGroups = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Logs::LogGroup');
    // Each step's function, the report function, the workflow and the migrate entry.
    expect(logGroups).toHaveLength(Steps.length + 3);
    for (const [id, group] of logGroups) {
      expect(group.Properties, id).toMatchObject({
        RetentionInDays: 365,
        KmsKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^OrchestratorKey/), 'Arn'] },
      });
    }
    for (const [step, [, fn]] of functionsByStep()) {
      const ref = (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(resources[ref]?.Type, step).toBe('AWS::Logs::LogGroup');
    }
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('lets CloudWatch Logs of this account use the key, and nothing else outside the account', () => {
    // Assess
    const key = Object.values(resources).find((r) => r.Type === 'AWS::KMS::Key') as Resource;
    const statements = (
      key.Properties.KeyPolicy as { Statement: { Principal: unknown; Condition?: unknown }[] }
    ).Statement;
    const logs = statements.find((s) => JSON.stringify(s.Principal).includes('logs.'));
    expect(logs?.Condition).toEqual({
      ArnLike: {
        'kms:EncryptionContext:aws:logs:arn': expect.objectContaining({ 'Fn::Join': expect.anything() }),
      },
    });
  });

  it('gives the apply step the step timeout and the other steps short ones', () => {
    // Assess
    const byStep = functionsByStep();
    expect(byStep.get('apply-migrations')?.[1].Properties.Timeout).toBe(900);
    for (const step of Steps.filter((s) => s !== 'apply-migrations')) {
      expect(byStep.get(step)?.[1].Properties.Timeout, step).toBeLessThanOrEqual(300);
    }
  });

  it('reserves concurrency for the rollback path only', () => {
    // Assess
    const byStep = functionsByStep();
    for (const step of ['restore-snapshot', 'check-restore', 'swap', 'verify-health']) {
      expect(byStep.get(step)?.[1].Properties.ReservedConcurrentExecutions, step).toBe(2);
    }
    for (const step of ['preflight', 'create-snapshot', 'check-snapshot', 'apply-migrations']) {
      expect(byStep.get(step)?.[1].Properties.ReservedConcurrentExecutions, step).toBeUndefined();
    }
  });

  it('creates a Standard, traced, encrypted state machine logging every event without execution data', () => {
    // Assess
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      StateMachineName: Match.stringLikeRegexp('^[A-Za-z0-9_-]{1,80}$'),
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: false,
        Destinations: [
          {
            CloudWatchLogsLogGroup: {
              LogGroupArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OrchestratorWorkflowLogs'), 'Arn'] },
            },
          },
        ],
      },
      EncryptionConfiguration: {
        Type: 'CUSTOMER_MANAGED_KMS_KEY',
        KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OrchestratorKey'), 'Arn'] },
      },
    });
  });

  it("conditions the state machine role's use of the key on its own ARN (which needs its name)", () => {
    // Assess
    const machine = Object.values(resources).find(
      (r) => r.Type === 'AWS::StepFunctions::StateMachine',
    ) as Resource;
    const name = machine.Properties.StateMachineName as string;
    const policies = Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Policy');
    const kms = policies
      .flatMap(
        (p) =>
          (
            p.Properties.PolicyDocument as {
              Statement: { Condition?: Record<string, Record<string, unknown>> }[];
            }
          ).Statement,
      )
      .find((s) => s.Condition?.StringEquals?.['kms:EncryptionContext:aws:states:stateMachineArn']);
    expect(JSON.stringify(kms?.Condition)).toContain(`:stateMachine:${name}`);
  });

  it('takes the target from an Aurora cluster too', () => {
    // Act
    const { json } = synthesize({ targetKind: 'cluster' });
    // Assess
    const functions = Object.values(json.Resources as Record<string, Resource>).filter(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.[STEP_METADATA_KEY],
    );
    expect(functions).toHaveLength(Steps.length);
    for (const fn of functions) {
      expect((fn.Properties.Environment as { Variables: Record<string, string> }).Variables).toMatchObject({
        TARGET_KIND: 'cluster',
        TARGET_IDENTIFIER: 'app-production',
      });
    }
  });
});

describe('MigrationOrchestrator props', () => {
  it('passes the database name, timeouts and health checks to the functions', () => {
    // Act
    const { stack } = orchestrate(() => ({
      databaseName: 'app',
      lockTimeout: Duration.seconds(3),
      statementTimeout: Duration.minutes(5),
      snapshotTimeout: Duration.hours(1),
      healthChecks: [{ name: 'users exist', sql: 'SELECT count(*) > 0 FROM "User"' }],
    }));
    // Assess
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          DATABASE_NAME: 'app',
          LOCK_TIMEOUT_MS: '3000',
          STATEMENT_TIMEOUT_MS: '300000',
          SNAPSHOT_TIMEOUT_SECONDS: '3600',
          HEALTH_CHECKS: JSON.stringify([{ name: 'users exist', sql: 'SELECT count(*) > 0 FROM "User"' }]),
        }),
      },
    });
  });

  it('uses the given security groups without touching the database security group', () => {
    // Act
    const { stack } = orchestrate((base) => ({
      securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(base.stack, 'Mine', 'sg-0aaaaaaaaaaaaaaaa')],
    }));
    // Assess
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::SecurityGroup', 0);
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    template.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: Match.objectLike({ SecurityGroupIds: ['sg-0aaaaaaaaaaaaaaaa'] }),
    });
  });

  it('skips the validation of unresolved tokens', () => {
    // Act
    const act = () =>
      orchestrate(() => ({ stepTimeout: Duration.seconds(Lazy.number({ produce: () => 1200 })) }));
    // Assess
    expect(act).not.toThrow();
  });

  it('reserves no concurrency when rollbackConcurrency is 0', () => {
    // Act
    const { stack } = orchestrate(() => ({ rollbackConcurrency: 0 }));
    // Assess
    const functions = Template.fromStack(stack).findResources('AWS::Lambda::Function');
    for (const fn of Object.values(functions))
      expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
  });

  it('turns the schema drift check on for the functions when checkSchemaDrift is true', () => {
    // Act
    const { stack } = orchestrate(() => ({ checkSchemaDrift: true }));
    // Assess
    const functions = stepFunctions(stack);
    expect(functions.length).toBeGreaterThan(0);
    for (const fn of functions) expect(fn.Properties.Environment.Variables.CHECK_SCHEMA_DRIFT).toBe('true');
  });

  it('passes the drift policy and ignore list to the functions', () => {
    // Act
    const { stack } = orchestrate(() => ({
      checkSchemaDrift: true,
      schemaDriftPolicy: 'fail',
      schemaDriftIgnore: ['audit_log', 'analytics.*'],
    }));
    // Assess
    const functions = stepFunctions(stack);
    for (const fn of functions) {
      expect(fn.Properties.Environment.Variables.DRIFT_POLICY).toBe('fail');
      expect(JSON.parse(fn.Properties.Environment.Variables.DRIFT_IGNORE)).toEqual([
        'audit_log',
        'analytics.*',
      ]);
    }
  });

  it('fails when the drift policy or an ignore entry is not valid, naming it', () => {
    expect(() => orchestrate(() => ({ schemaDriftPolicy: 'strict' as never }))).toThrow(
      /schemaDriftPolicy must be one of fail, warn, off, received "strict"/,
    );
    expect(() => orchestrate(() => ({ schemaDriftIgnore: ['audit log; DROP'] }))).toThrow(
      /schemaDriftIgnore\[0\] must be a table/,
    );
  });

  it('fails when both instance and cluster are given', () => {
    // Act
    const act = () => orchestrate((base) => ({ instance: base.instance, cluster: base.cluster }));
    // Assess
    expect(act).toThrow(
      /pass either instance or cluster, not both \(received instance Test\/Instance and cluster Test\/Cluster\)/,
    );
  });

  it('fails when neither instance nor cluster is given', () => {
    // Act
    const act = () => orchestrate(() => ({ instance: undefined }));
    // Assess
    expect(act).toThrow(
      /the target database is missing \(received neither instance nor cluster\)\. Pass instance/,
    );
  });

  it('fails when the target identifier is not a valid RDS identifier', () => {
    // Act
    const act = () =>
      orchestrate((base) => ({
        instance: rds.DatabaseInstance.fromDatabaseInstanceAttributes(base.stack, 'Bad', {
          instanceIdentifier: 'app_production',
          instanceEndpointAddress: 'x.rds.amazonaws.com',
          port: 5432,
          securityGroups: [],
        }),
      }));
    // Assess
    expect(act).toThrow(
      /the identifier of RDS DB instance Test\/Bad is not a valid RDS identifier, received "app_production"/,
    );
  });

  it('fails when stepTimeout is longer than 15 minutes', () => {
    // Act
    const act = () => orchestrate(() => ({ stepTimeout: Duration.minutes(20) }));
    // Assess
    expect(act).toThrow(/stepTimeout must be at most 15 minutes \(Lambda's limit; .*\), received 20 minutes/);
  });

  it('fails when stepTimeout is shorter than a minute', () => {
    // Act
    const act = () => orchestrate(() => ({ stepTimeout: Duration.seconds(10) }));
    // Assess
    expect(act).toThrow(/stepTimeout must be at least 1 minute, received 10 seconds/);
  });

  it('fails when lockTimeout is not shorter than stepTimeout', () => {
    // Act
    const act = () =>
      orchestrate(() => ({ stepTimeout: Duration.minutes(5), lockTimeout: Duration.minutes(6) }));
    // Assess
    expect(act).toThrow(/lockTimeout must be at most 5 minutes \(it must be shorter than stepTimeout\)/);
  });

  it('fails when the migrations directory does not exist', () => {
    // Prepare
    const missing = join(tmpdir(), 'no-such-migrations-dir');
    // Act
    const act = () => orchestrate(() => ({ migrationsDirectory: missing }));
    // Assess
    expect(act).toThrow(
      new RegExp(
        `migrationsDirectory ${missing} \\(from "${missing}"\\) does not exist\\. Set migrationsDirectory`,
      ),
    );
  });

  it("fails when the migrations directory is not in Prisma's layout", () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
    mkdirSync(join(dir, '20250101000000_init'));
    writeFileSync(join(dir, '20250101000000_init', 'migration.sql'), 'SELECT 1;');
    // Act
    const act = () => orchestrate(() => ({ migrationsDirectory: dir }));
    // Assess
    expect(act).toThrow(new RegExp(`${dir} is not in Prisma's layout: migration_lock.toml is missing`));
  });

  it('fails when a migration folder has no migration.sql', () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
    writeFileSync(join(dir, 'migration_lock.toml'), 'provider = "postgresql"\n');
    mkdirSync(join(dir, '20250101000000_init'));
    // Act
    const act = () => orchestrate(() => ({ migrationsDirectory: dir }));
    // Assess
    expect(act).toThrow(/20250101000000_init has no migration\.sql/);
  });

  it('fails when the migrations are not for PostgreSQL', () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
    writeFileSync(join(dir, 'migration_lock.toml'), 'provider = "mysql"\n');
    // Act
    const act = () => orchestrate(() => ({ migrationsDirectory: dir }));
    // Assess
    expect(act).toThrow(/says provider = "mysql"; the orchestrator deploys PostgreSQL migrations only/);
  });

  it('fails when two health checks have the same name', () => {
    // Act
    const act = () =>
      orchestrate(() => ({
        healthChecks: [
          { name: 'users', sql: 'SELECT true' },
          { name: 'users', sql: 'SELECT false' },
        ],
      }));
    // Assess
    expect(act).toThrow(/two health checks are named "users"/);
  });

  it('fails when the health checks do not fit in the Lambda environment', () => {
    // Act
    const act = () =>
      orchestrate(() => ({ healthChecks: [{ name: 'long', sql: `SELECT ${'1 + '.repeat(1000)}1 > 0` }] }));
    // Assess
    expect(act).toThrow(/the health checks take \d+ characters as JSON, more than the 3000/);
  });

  it('fails when the cluster port is unknown and no security group is given', () => {
    // Act
    const act = () =>
      orchestrate((base) => ({
        instance: undefined,
        cluster: rds.DatabaseCluster.fromDatabaseClusterAttributes(base.stack, 'NoPort', {
          clusterIdentifier: 'app-aurora',
          securityGroups: [
            ec2.SecurityGroup.fromSecurityGroupId(base.stack, 'NoPortSg', 'sg-0bbbbbbbbbbbbbbbb'),
          ],
        }),
      }));
    // Assess
    expect(act).toThrow(/the port of Aurora cluster Test\/NoPort is unknown.*Pass port to/);
  });

  it('fails when the state machine name is not valid', () => {
    // Act
    const act = () => orchestrate(() => ({ stateMachineName: 'has spaces' }));
    // Assess
    expect(act).toThrow(
      /stateMachineName must be 1 to 80 letters, digits, hyphens or underscores, received "has spaces"/,
    );
  });
});

describe('stackPropsFromContext', () => {
  it('fails when targetKind is neither instance nor cluster', () => {
    // Prepare
    const stack = new Stack();
    stack.node.setContext('targetKind', 'serverless');
    // Act
    const act = () => stackPropsFromContext(stack);
    // Assess
    expect(act).toThrow(/Context targetKind must be 'instance' or 'cluster', received "serverless"/);
  });

  it('accepts comma-separated lists from the command line', () => {
    // Prepare
    const stack = new Stack();
    const context: Record<string, unknown> = {
      targetKind: 'cluster',
      targetIdentifier: 'app-aurora',
      endpoint: 'app-aurora.cluster-x.us-east-1.rds.amazonaws.com',
      port: '5432',
      securityGroupId: 'sg-1',
      secretArn: SECRET_ARN,
      vpcId: 'vpc-1',
      availabilityZones: 'us-east-1a, us-east-1b',
      privateSubnetIds: 'subnet-1,subnet-2',
      migrationsDirectory: MIGRATIONS_DIR,
    };
    for (const [key, value] of Object.entries(context)) stack.node.setContext(key, value);
    // Act
    const props = stackPropsFromContext(stack);
    // Assess
    expect(props.database).toMatchObject({
      targetKind: 'cluster',
      port: 5432,
      availabilityZones: ['us-east-1a', 'us-east-1b'],
      privateSubnetIds: ['subnet-1', 'subnet-2'],
    });
    expect(props.orchestrator?.transactionMode).toBe('release');
  });
});
