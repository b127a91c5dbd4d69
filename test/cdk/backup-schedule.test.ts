/**
 * The backup schedule (EventBridge Scheduler, its role, retry policy and dead-letter queue), the retention
 * policy the functions get, and the checks of both props.
 */
import { Duration, Lazy, type Stack, TimeZone } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { describe, expect, it } from 'vitest';
import { type Step, Steps } from '../../lambdas/shared/contract/contract.js';
import { STEP_METADATA_KEY } from '../../lib/asl.js';
import type {
  BackupScheduleOptions,
  MigrationOrchestrator,
  RetentionOptions,
} from '../../lib/orchestrator.js';
import { orchestrate, synthesize } from './support.js';

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
  Principal?: unknown;
}

const BERLIN_AT_THREE: BackupScheduleOptions = {
  schedule: ScheduleExpression.cron({ hour: '3', minute: '0', timeZone: TimeZone.EUROPE_BERLIN }),
  flexibleWindow: Duration.minutes(30),
};

function list<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}

/** An orchestrator on a bare stack with `backupSchedule` and `retention`, and its template. */
function withBackups(
  backupSchedule: BackupScheduleOptions | undefined,
  retention?: RetentionOptions,
): {
  orchestrator: MigrationOrchestrator;
  stack: Stack;
  template: Template;
  resources: Record<string, Resource>;
} {
  const { stack, orchestrator } = orchestrate(() => ({
    ...(backupSchedule ? { backupSchedule } : {}),
    ...(retention ? { retention } : {}),
  }));
  const template = Template.fromStack(stack);
  return {
    orchestrator,
    stack,
    template,
    resources: template.toJSON().Resources as Record<string, Resource>,
  };
}

function only(resources: Record<string, Resource>, type: string): [string, Resource] {
  const found = Object.entries(resources).filter(([, r]) => r.Type === type);
  expect(found, type).toHaveLength(1);
  return found[0] as [string, Resource];
}

/** The environment of each step's function. */
function environments(resources: Record<string, Resource>): Map<Step, Record<string, string>> {
  const byStep = new Map<Step, Record<string, string>>();
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const variables = (resource.Properties.Environment as { Variables: Record<string, string> }).Variables;
    byStep.set(resource.Metadata?.[STEP_METADATA_KEY] as Step, variables);
  }
  return byStep;
}

/** The statements of the policies attached to the role with logical id `roleId`. */
function policyOf(resources: Record<string, Resource>, roleId: string): Statement[] {
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .filter((r) => (r.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

describe('backupSchedule', () => {
  const { orchestrator, stack, template, resources } = withBackups(BERLIN_AT_THREE, {
    daily: 14,
    weekly: 8,
    monthly: 24,
    preMigration: 5,
  });
  const stateMachineId = stack.getLogicalId(orchestrator.stateMachine.node.defaultChild as never);
  const [, schedule] = only(resources, 'AWS::Scheduler::Schedule');
  const target = schedule.Properties.Target as Record<string, unknown>;

  it('creates one enabled schedule with the expression, its time zone and the flexible window', () => {
    // Assess
    expect(schedule.Properties).toMatchObject({
      ScheduleExpression: 'cron(0 3 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 30 },
      State: 'ENABLED',
    });
    expect(orchestrator.backupSchedule).toBeDefined();
  });

  it('starts this state machine with exactly {"mode":"backup"}', () => {
    // Assess
    expect(target.Arn).toEqual({ Ref: stateMachineId });
    expect(target.Input).toBe('{"mode":"backup"}');
  });

  it('retries a failed start 3 times within an hour, then sends it to the dead-letter queue', () => {
    // Prepare
    const [queueId] = only(resources, 'AWS::SQS::Queue');
    // Assess
    expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 });
    expect(target.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } });
    expect(orchestrator.deadLetterQueue).toBeDefined();
  });

  it('gives the schedule its own role, assumed by Scheduler for this account, that may start only this state machine', () => {
    // Prepare
    const roleId = (target.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const role = resources[roleId] as Resource;
    const [queueId] = only(resources, 'AWS::SQS::Queue');
    const statements = policyOf(resources, roleId);
    // Assess: trusted by EventBridge Scheduler, for this account's schedules only.
    const trust = (role.Properties.AssumeRolePolicyDocument as { Statement: Statement[] }).Statement;
    expect(trust).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: {
          StringEquals: {
            'aws:SourceAccount': { Ref: 'AWS::AccountId' },
            'aws:SourceArn': expect.objectContaining({
              'Fn::Join': ['', expect.arrayContaining([':schedule-group/default'])],
            }),
          },
        },
      },
    ]);
    // Assess: start this state machine, write to the queue, and encrypt the input with the state machine's key
    // for this state machine only; nothing else, nothing on '*'.
    const byAction = new Map(statements.flatMap((s) => list(s.Action).map((a) => [a, s] as const)));
    expect(new Set(byAction.keys())).toEqual(
      new Set(['states:StartExecution', 'sqs:SendMessage', 'kms:GenerateDataKey', 'kms:Decrypt']),
    );
    expect(byAction.get('states:StartExecution')?.Resource).toEqual({ Ref: stateMachineId });
    expect(byAction.get('sqs:SendMessage')?.Resource).toEqual({ 'Fn::GetAtt': [queueId, 'Arn'] });
    expect(byAction.get('kms:GenerateDataKey')?.Condition).toEqual({
      StringEquals: { 'kms:EncryptionContext:aws:states:stateMachineArn': { Ref: stateMachineId } },
    });
    for (const statement of statements) expect(statement.Resource).not.toBe('*');
    // No other role of the stack may start the state machine, but the migrate entry's (which starts migrations
    // only, and refuses the other modes before).
    const entryRoleId = stack.getLogicalId(orchestrator.migrateEntry.role.node.defaultChild as never);
    const starters = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .filter((r) =>
        (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement.some((s) =>
          list(s.Action).includes('states:StartExecution'),
        ),
      );
    expect(new Set(starters.map((r) => (r.Properties.Roles as { Ref: string }[])[0]?.Ref))).toEqual(
      new Set([roleId, entryRoleId]),
    );
  });

  it('encrypts the dead-letter queue, refuses plain HTTP to it and keeps its messages 14 days', () => {
    // Prepare
    const [queueId, queue] = only(resources, 'AWS::SQS::Queue');
    // Assess
    expect(queue.Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sqs:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Principal: { AWS: '*' },
          }),
        ]),
      },
    });
  });

  it('gives the retention policy, in the schedule time zone, to create-snapshot and prune-snapshots only', () => {
    // Prepare
    const env = environments(resources);
    // Assess
    for (const step of Steps) {
      const variables = env.get(step) ?? {};
      if (step === 'create-snapshot' || step === 'prune-snapshots') {
        expect(variables, step).toMatchObject({
          RETENTION_DAILY: '14',
          RETENTION_WEEKLY: '8',
          RETENTION_MONTHLY: '24',
          RETENTION_PRE_MIGRATION: '5',
          RETENTION_TIME_ZONE: 'Europe/Berlin',
        });
      } else {
        expect(
          Object.keys(variables).filter((key) => key.startsWith('RETENTION_')),
          step,
        ).toEqual([]);
      }
    }
  });

  it('never allows an RDS delete without the managed-tag condition, in any policy of the stack', () => {
    // Assess
    const deletes = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
      .filter((s) => list(s.Action).some((a) => a.startsWith('rds:Delete')));
    expect(deletes).toHaveLength(1);
    expect(deletes[0]?.Condition).toEqual({
      StringEquals: {
        'aws:ResourceTag/managed-by': 'Test',
        'aws:ResourceTag/source-identifier': 'app-production',
      },
    });
  });
});

describe('without backupSchedule', () => {
  it('creates no schedule, no role for it and no queue', () => {
    // Act
    const { orchestrator, resources } = withBackups(undefined);
    // Assess
    const types = new Set(Object.values(resources).map((r) => r.Type));
    expect(types.has('AWS::Scheduler::Schedule')).toBe(false);
    expect(types.has('AWS::SQS::Queue')).toBe(false);
    expect(orchestrator.backupSchedule).toBeUndefined();
    expect(orchestrator.deadLetterQueue).toBeUndefined();
    expect(Object.keys(resources).some((id) => id.includes('BackupSchedule'))).toBe(false);
  });

  it('gives create-snapshot and prune-snapshots the default retention policy, in UTC', () => {
    // Act
    const { resources } = withBackups(undefined);
    // Assess
    for (const step of ['create-snapshot', 'prune-snapshots'] as const) {
      expect(environments(resources).get(step), step).toMatchObject({
        RETENTION_DAILY: '7',
        RETENTION_WEEKLY: '4',
        RETENTION_MONTHLY: '12',
        RETENTION_PRE_MIGRATION: '10',
        RETENTION_TIME_ZONE: 'UTC',
      });
    }
  });

  it('is what the example stack has unless its context sets backupSchedule', () => {
    // Act
    const plain = synthesize();
    const scheduled = synthesize({
      context: { backupSchedule: 'cron(30 2 ? * SUN *)', backupTimeZone: 'America/New_York' },
    });
    // Assess
    plain.template.resourceCountIs('AWS::Scheduler::Schedule', 0);
    scheduled.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 2 ? * SUN *)',
      ScheduleExpressionTimezone: 'America/New_York',
      FlexibleTimeWindow: { Mode: 'OFF' },
    });
    scheduled.template.hasOutput('BackupDeadLetterQueueUrl', {});
  });
});

describe('backupSchedule and retention props', () => {
  it('counts days in UTC for a rate expression (CDK gives it Etc/UTC)', () => {
    // Act
    const { resources } = withBackups({ schedule: ScheduleExpression.rate(Duration.hours(12)) });
    // Assess
    const [, schedule] = only(resources, 'AWS::Scheduler::Schedule');
    expect(schedule.Properties.ScheduleExpression).toBe('rate(12 hours)');
    expect(environments(resources).get('prune-snapshots')?.RETENTION_TIME_ZONE).toBe('Etc/UTC');
  });

  it('accepts 0 (keep none of that kind) and skips unresolved tokens', () => {
    // Act
    const { resources } = withBackups(undefined, {
      daily: 0,
      weekly: Lazy.number({ produce: () => 3 }),
    });
    // Assess
    expect(environments(resources).get('prune-snapshots')).toMatchObject({
      RETENTION_DAILY: '0',
      RETENTION_WEEKLY: '3',
    });
  });

  it('fails when the schedule is a one-time at() schedule', () => {
    // Act
    const act = () => withBackups({ schedule: ScheduleExpression.at(new Date('2030-01-01T03:00:00Z')) });
    // Assess
    expect(act).toThrow(
      /backupSchedule\.schedule must recur, received "at\(2030-01-01T03:00:00\)".*ScheduleExpression\.cron/,
    );
  });

  it('fails when the schedule is neither a cron nor a rate expression', () => {
    // Act
    const act = () => withBackups({ schedule: ScheduleExpression.expression('every day at 3') });
    // Assess
    expect(act).toThrow(/backupSchedule\.schedule is neither a cron\(\.\.\.\).*received "every day at 3"/);
  });

  it('fails when a cron expression gives both day fields, or neither', () => {
    // Assess
    expect(() => withBackups({ schedule: ScheduleExpression.expression('cron(0 3 * * * *)') })).toThrow(
      /exactly one of day-of-month .* and day-of-week .* must be '\?', e\.g\. cron\(0 3 \* \* \? \*\)/,
    );
    expect(() => withBackups({ schedule: ScheduleExpression.expression('cron(0 3 ? * ? *)') })).toThrow(
      /received "cron\(0 3 \? \* \? \*\)"/,
    );
  });

  it('fails when a cron expression has not six fields, or a rate misuses its unit', () => {
    // Assess
    expect(() => withBackups({ schedule: ScheduleExpression.expression('cron(0 3 * * ?)') })).toThrow(
      /neither a cron\(\.\.\.\) expression of six fields/,
    );
    expect(() => withBackups({ schedule: ScheduleExpression.expression('rate(1 days)') })).toThrow(
      /not a valid rate expression, received "rate\(1 days\)"/,
    );
    expect(() => withBackups({ schedule: ScheduleExpression.expression('rate(0 hours)') })).toThrow(
      /not a valid rate expression/,
    );
  });

  it('fails when the time zone is not an IANA time zone', () => {
    // Act
    const act = () =>
      withBackups({
        schedule: ScheduleExpression.expression('cron(0 3 * * ? *)', TimeZone.of('Mars/Olympus')),
      });
    // Assess
    expect(act).toThrow(
      /time zone of backupSchedule\.schedule is not an IANA time zone, received "Mars\/Olympus"/,
    );
  });

  it('fails when the flexible window is not 1 minute to 24 hours in whole minutes', () => {
    // Prepare
    const schedule = ScheduleExpression.expression('cron(0 3 * * ? *)');
    // Assess
    expect(() => withBackups({ schedule, flexibleWindow: Duration.hours(25) })).toThrow(
      /backupSchedule\.flexibleWindow must be at most 1 day \(EventBridge Scheduler's limit\), received 1 day 1 hour/,
    );
    expect(() => withBackups({ schedule, flexibleWindow: Duration.seconds(30) })).toThrow(
      /backupSchedule\.flexibleWindow must be at least 1 minute/,
    );
    expect(() => withBackups({ schedule, flexibleWindow: Duration.seconds(90) })).toThrow(
      /backupSchedule\.flexibleWindow must be whole minutes, received 1 minute 30 seconds/,
    );
  });

  it('fails when the schedule is not a ScheduleExpression', () => {
    // Act
    const act = () => withBackups({ schedule: 'cron(0 3 * * ? *)' as unknown as ScheduleExpression });
    // Assess
    expect(act).toThrow(
      /backupSchedule\.schedule must be a ScheduleExpression .*received "cron\(0 3 \* \* \? \*\)"/,
    );
  });

  it('fails when a retention count is negative or not a whole number, naming it', () => {
    // Assess
    expect(() => withBackups(undefined, { daily: -1 })).toThrow(
      /retention\.daily must be a whole number >= 0, received -1\. Pass 0 to keep none of them, or omit it for the default \(7\)/,
    );
    expect(() => withBackups(undefined, { monthly: 1.5 })).toThrow(
      /retention\.monthly must be a whole number >= 0, received 1\.5/,
    );
    expect(() => withBackups(undefined, { preMigration: Number.NaN })).toThrow(/retention\.preMigration/);
    expect(() => withBackups(undefined, { weekly: '4' as unknown as number })).toThrow(
      /retention\.weekly must be a whole number >= 0, received "4"/,
    );
  });
});
