import { createRequire } from 'node:module';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ErrorNames,
  OutcomeErrors,
  ResultPaths,
  StateNames,
  type Step,
  Steps,
} from '../../lambdas/shared/contract/contract.js';
import {
  type AslDefinition,
  type AslState,
  definitionFromTemplate,
  type TemplateDefinition,
} from '../../lib/asl.js';
import {
  buildWorkflowDefinition,
  LAMBDA_RETRY_ERRORS,
  TASK_TIMEOUT_MARGIN,
  workflowTimeout,
} from '../../lib/workflow.js';
import { reachable, state, successors, synthesize, terminalsFrom } from './support.js';

type AslValidator = (
  definition: unknown,
  options?: { checkPaths?: boolean; checkArn?: boolean },
) => { isValid: boolean; errorsText: (separator?: string) => string };
const aslValidator = createRequire(import.meta.url)('asl-validator') as AslValidator;

const S = StateNames;

let parsed: TemplateDefinition;
let definition: AslDefinition;
let functionTimeouts: Map<string, number>;

/** The step of the function a Task state invokes. */
function stepOf(name: string): string | undefined {
  const resource = state(definition, name).Resource;
  return resource ? parsed.resourceToStep.get(resource) : undefined;
}

/** The Task states that invoke a step's Lambda function (every Task but the rollback-started notification). */
function taskNames(): string[] {
  return Object.entries(definition.States)
    .filter(([, s]) => s.Type === 'Task' && s.Resource?.startsWith('arn:aws:lambda:'))
    .map(([name]) => name);
}

function catchOf(name: string, error: string) {
  return (state(definition, name).Catch ?? []).find((c) => c.ErrorEquals.includes(error));
}

beforeAll(() => {
  // Prepare
  const { json } = synthesize();
  // Act
  parsed = definitionFromTemplate(json);
  definition = parsed.definition;
  functionTimeouts = new Map();
  const resources = json.Resources as Record<string, { Type: string; Properties: { Timeout?: number } }>;
  for (const [arn, logicalId] of parsed.resourceToLogicalId) {
    functionTimeouts.set(arn, resources[logicalId]?.Properties.Timeout ?? Number.NaN);
  }
});

describe('the synthesized workflow definition', () => {
  it('is valid Amazon States Language (asl-validator)', () => {
    // Assess
    const result = aslValidator(definition, { checkPaths: true, checkArn: true });
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('uses JSONPath only, never JSONata', () => {
    // Assess
    const text = JSON.stringify(definition);
    expect(definition.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
    expect(text).not.toMatch(/JSONata/i);
    expect(text).not.toContain('{%');
    for (const [name, s] of Object.entries(definition.States)) {
      expect(s.QueryLanguage ?? 'JSONPath', name).toBe('JSONPath');
      expect(s.Arguments, name).toBeUndefined();
      expect(s.Output, name).toBeUndefined();
      expect(s.Assign, name).toBeUndefined();
    }
  });

  it('names every state from StateNames, and uses every one of them', () => {
    // Assess
    expect(new Set(Object.keys(definition.States))).toEqual(new Set(Object.values(StateNames)));
  });

  it('starts by recording the input and the execution identity', () => {
    // Assess
    expect(definition.StartAt).toBe(S.start);
    const start = state(definition, S.start);
    expect(start.Type).toBe('Pass');
    expect(start.Parameters).toEqual({
      'input.$': '$',
      execution: {
        'id.$': '$$.Execution.Id',
        'name.$': '$$.Execution.Name',
        'startedAt.$': '$$.Execution.StartTime',
      },
    });
    expect(start.Next).toBe(S.preflight);
  });

  it('times out after the snapshot and restore timeouts plus two hours', () => {
    // Assess
    expect(definition.TimeoutSeconds).toBe(2 * 3600 + 3 * 3600 + 2 * 3600);
    expect(workflowTimeout({ snapshot: Duration.hours(1), restore: Duration.hours(1) }).toSeconds()).toBe(
      4 * 3600,
    );
  });

  it('invokes each step function directly with the whole state document, its result under its key', () => {
    // Prepare
    const expected: Record<string, { step: Step; resultPath: string }> = {
      [S.preflight]: { step: 'preflight', resultPath: ResultPaths.preflight },
      [S.createSnapshot]: { step: 'create-snapshot', resultPath: ResultPaths['create-snapshot'] },
      [S.checkSnapshot]: { step: 'check-snapshot', resultPath: ResultPaths['check-snapshot'] },
      [S.applyMigrations]: { step: 'apply-migrations', resultPath: ResultPaths['apply-migrations'] },
      [S.assessRelease]: { step: 'assess-release', resultPath: ResultPaths['assess-release'] },
      [S.verifyHealth]: { step: 'verify-health', resultPath: ResultPaths['verify-health'] },
      [S.restoreSnapshot]: { step: 'restore-snapshot', resultPath: ResultPaths['restore-snapshot'] },
      [S.checkRestore]: { step: 'check-restore', resultPath: ResultPaths['check-restore'] },
      [S.swap]: { step: 'swap', resultPath: ResultPaths.swap },
      [S.verifyRollbackHealth]: { step: 'verify-health', resultPath: '$.rollbackHealth' },
      [S.pruneSnapshots]: { step: 'prune-snapshots', resultPath: ResultPaths['prune-snapshots'] },
    };
    // Assess
    expect(new Set(taskNames())).toEqual(new Set(Object.keys(expected)));
    for (const [name, { step, resultPath }] of Object.entries(expected)) {
      const task = state(definition, name);
      // payloadResponseOnly: the Resource is the function ARN itself, no Parameters, no InputPath.
      expect(task.Resource, name).toMatch(/^arn:aws:lambda:/);
      expect(stepOf(name), name).toBe(step);
      expect(task.Parameters, name).toBeUndefined();
      expect(task.InputPath, name).toBeUndefined();
      expect(task.ResultPath, name).toBe(resultPath);
    }
    expect(new Set(taskNames().map(stepOf))).toEqual(new Set(Steps));
  });

  it('gives every Task its function timeout plus the margin', () => {
    // Assess
    for (const name of taskNames()) {
      const task = state(definition, name);
      const fnTimeout = functionTimeouts.get(task.Resource as string);
      expect(fnTimeout, name).toBeGreaterThan(0);
      expect(task.TimeoutSeconds, name).toBe((fnTimeout as number) + TASK_TIMEOUT_MARGIN.toSeconds());
    }
    expect(state(definition, S.applyMigrations).TimeoutSeconds).toBe(15 * 60 + 30);
  });

  it('retries Lambda throttling, service faults and TransientFault on every Task', () => {
    // Assess
    for (const name of taskNames()) {
      const retrier = (state(definition, name).Retry ?? []).find((r) =>
        r.ErrorEquals.includes('Lambda.TooManyRequestsException'),
      );
      expect(retrier, name).toEqual({
        ErrorEquals: [
          'Lambda.TooManyRequestsException',
          'Lambda.ServiceException',
          'Lambda.AWSLambdaException',
          'Lambda.SdkClientException',
          ErrorNames.TransientFault,
        ],
        IntervalSeconds: 2,
        BackoffRate: 2,
        MaxAttempts: 6,
        JitterStrategy: 'FULL',
      });
    }
    expect(LAMBDA_RETRY_ERRORS).toContain(ErrorNames.TransientFault);
  });

  it('catches every Task failure, keeping the input (resultPath under $.error or $.rollbackError)', () => {
    // Assess
    for (const name of taskNames()) {
      const catchers = state(definition, name).Catch ?? [];
      expect(catchers.length, name).toBeGreaterThan(0);
      expect(catchers.at(-1)?.ErrorEquals, name).toEqual(['States.ALL']);
      for (const catcher of catchers)
        expect(['$.error', '$.rollbackError'], name).toContain(catcher.ResultPath);
    }
  });

  describe('forward path', () => {
    it('ends as refused when preflight throws anything', () => {
      // Assess
      expect(state(definition, S.preflight).Catch).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: S.preflightRefused },
      ]);
      expect(state(definition, S.preflightRefused)).toMatchObject({
        Type: 'Fail',
        Error: OutcomeErrors.PreflightRefused,
        CausePath: '$.error.Cause',
      });
      expect(state(definition, S.preflight).Next).toBe(S.operation);
    });

    it("routes on the plan's mode: a backup to the snapshot, a restore to the restore, a migration to its plan", () => {
      // Assess
      expect(state(definition, S.operation)).toMatchObject({
        Type: 'Choice',
        Choices: [
          { Variable: '$.plan.mode', StringEquals: 'backup', Next: S.createSnapshot },
          { Variable: '$.plan.mode', StringEquals: 'restore', Next: S.restoreSnapshot },
        ],
        Default: S.anythingToApply,
      });
    });

    it('stops with nothing to do when the plan does not proceed, else asks whether to snapshot', () => {
      // Assess
      expect(state(definition, S.anythingToApply)).toMatchObject({
        Type: 'Choice',
        Choices: [{ Variable: '$.plan.proceed', BooleanEquals: false, Next: S.nothingToDo }],
        Default: S.snapshotRequested,
      });
      expect(state(definition, S.nothingToDo).Type).toBe('Succeed');
      expect(state(definition, S.snapshotRequested)).toMatchObject({
        Type: 'Choice',
        Choices: [{ Variable: '$.plan.snapshotRequired', BooleanEquals: true, Next: S.createSnapshot }],
        Default: S.applyMigrations,
      });
    });

    it('creates the snapshot, then waits and checks until it is available', () => {
      // Assess
      for (const name of [S.createSnapshot, S.checkSnapshot]) {
        expect(state(definition, name).Catch, name).toEqual([
          { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: S.snapshotFailed },
        ]);
      }
      expect(state(definition, S.createSnapshot).Next).toBe(S.waitForSnapshot);
      expect(state(definition, S.waitForSnapshot)).toMatchObject({
        Type: 'Wait',
        SecondsPath: '$.snapshot.waitSeconds',
        Next: S.checkSnapshot,
      });
      expect(state(definition, S.checkSnapshot).Next).toBe(S.snapshotReady);
      expect(state(definition, S.snapshotReady)).toMatchObject({
        Type: 'Choice',
        Choices: [
          {
            And: [
              { Variable: '$.snapshot.status', StringEquals: 'available' },
              { Variable: '$.plan.mode', StringEquals: 'backup' },
            ],
            Next: S.pruneSnapshots,
          },
          { Variable: '$.snapshot.status', StringEquals: 'available', Next: S.applyMigrations },
        ],
        Default: S.waitForSnapshot,
      });
      expect(state(definition, S.snapshotFailed)).toMatchObject({
        Type: 'Fail',
        Error: OutcomeErrors.SnapshotFailedDatabaseUntouched,
        CausePath: '$.error.Cause',
      });
    });

    it('never reaches apply once the snapshot failed', () => {
      // Assess
      for (const name of [S.createSnapshot, S.checkSnapshot]) {
        for (const catcher of state(definition, name).Catch ?? []) {
          expect(
            reachable(definition, catcher.Next).has(S.applyMigrations),
            `${name} -> ${catcher.Next}`,
          ).toBe(false);
        }
      }
    });

    it('restores only on evidence that the release committed: unchanged, restore, or find out first', () => {
      // Assess
      const apply = state(definition, S.applyMigrations);
      expect(apply.Retry?.[0]).toMatchObject({
        ErrorEquals: [ErrorNames.DatabaseUnreachable],
        MaxAttempts: 2,
      });
      expect(apply.Catch).toEqual([
        {
          ErrorEquals: [
            ErrorNames.MigrationFailedDatabaseUnchanged,
            ErrorNames.MigrationHistoryBlocked,
            ErrorNames.MigrationsInvalid,
            ErrorNames.InvalidInput,
            ErrorNames.DatabaseUnreachable,
          ],
          ResultPath: '$.error',
          Next: S.releaseFailedUnchanged,
        },
        { ErrorEquals: [ErrorNames.MigrationFailed], ResultPath: '$.error', Next: S.snapshotToRestore },
        // Died without answering (timeout, out of memory), or could not read what it committed.
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: S.assessRelease },
      ]);
      expect(state(definition, S.releaseFailedUnchanged)).toMatchObject({
        Type: 'Fail',
        Error: OutcomeErrors.ReleaseFailedDatabaseUnchanged,
        CausePath: '$.error.Cause',
      });
      expect(reachable(definition, S.releaseFailedUnchanged).has(S.restoreSnapshot)).toBe(false);
      expect(reachable(definition, S.snapshotToRestore).has(S.restoreSnapshot)).toBe(true);
      expect(apply.Next).toBe(S.verifyHealth);
    });

    it('finds out what a dead apply step committed before deciding, and never restores on a guess', () => {
      // Assess
      const assess = state(definition, S.assessRelease);
      expect(assess.Retry?.[0]).toMatchObject({
        ErrorEquals: [ErrorNames.DatabaseUnreachable, ErrorNames.ReleaseOutcomeUnknown],
        MaxAttempts: 5,
      });
      expect(assess.Catch).toEqual([
        {
          ErrorEquals: [ErrorNames.MigrationFailedDatabaseUnchanged],
          ResultPath: '$.error',
          Next: S.releaseFailedUnchanged,
        },
        { ErrorEquals: [ErrorNames.MigrationFailed], ResultPath: '$.error', Next: S.snapshotToRestore },
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: S.releaseOutcomeUnknown },
      ]);
      expect(assess.Next).toBe(S.verifyHealth);
      expect(state(definition, S.releaseOutcomeUnknown)).toMatchObject({
        Type: 'Fail',
        Error: OutcomeErrors.ReleaseOutcomeUnknown,
        CausePath: '$.error.Cause',
      });
    });

    it('verifies health, retrying an unreachable database twice, and restores when unhealthy', () => {
      // Assess
      const verify = state(definition, S.verifyHealth);
      expect(verify.Retry?.[0]).toMatchObject({
        ErrorEquals: [ErrorNames.DatabaseUnreachable],
        MaxAttempts: 2,
      });
      expect(verify.Catch).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: S.snapshotToRestore },
      ]);
      expect(stepOf(S.verifyHealth)).toBe('verify-health');
      expect(verify.Next).toBe(S.succeeded);
      expect(state(definition, S.succeeded).Type).toBe('Succeed');
    });

    it('restores only when a snapshot was taken, and otherwise ends as failed without a snapshot', () => {
      // Assess
      expect(state(definition, S.snapshotToRestore)).toMatchObject({
        Type: 'Choice',
        Choices: [{ Variable: '$.snapshot.snapshotId', IsPresent: true, Next: S.notifyRollback }],
        Default: S.failedWithoutSnapshot,
      });
      expect(state(definition, S.failedWithoutSnapshot)).toMatchObject({
        Type: 'Fail',
        Error: OutcomeErrors.MigrationFailedWithoutSnapshot,
        CausePath: '$.error.Cause',
      });
    });

    it('reaches the restore from both an apply failure and a verify failure', () => {
      // Assess
      for (const name of [S.applyMigrations, S.verifyHealth]) {
        const target = catchOf(name, 'States.ALL')?.Next as string;
        expect(reachable(definition, target).has(S.restoreSnapshot), name).toBe(true);
      }
    });

    it('ends successfully only after the health was verified', () => {
      // Assess
      const intoSucceeded = Object.entries(definition.States)
        .filter(([, s]) => successors(s).includes(S.succeeded))
        .map(([name]) => name);
      expect(intoSucceeded).toEqual([S.verifyHealth]);
    });
  });

  describe('rollback path', () => {
    it('restores, waits and checks until the restored database is available', () => {
      // Assess
      expect(state(definition, S.restoreSnapshot).Next).toBe(S.waitForRestore);
      expect(state(definition, S.waitForRestore)).toMatchObject({
        Type: 'Wait',
        SecondsPath: '$.restore.waitSeconds',
        Next: S.checkRestore,
      });
      expect(state(definition, S.checkRestore).Next).toBe(S.restoreReady);
      expect(state(definition, S.restoreReady)).toMatchObject({
        Type: 'Choice',
        Choices: [{ Variable: '$.restore.status', StringEquals: 'available', Next: S.swap }],
        Default: S.waitForRestore,
      });
    });

    it('swaps step by step until complete, then verifies health again', () => {
      // Assess
      expect(state(definition, S.swap).Next).toBe(S.swapDone);
      expect(state(definition, S.swapDone)).toMatchObject({
        Type: 'Choice',
        Choices: [{ Variable: '$.swap.complete', BooleanEquals: true, Next: S.verifyRollbackHealth }],
        Default: S.waitForSwap,
      });
      expect(state(definition, S.waitForSwap)).toMatchObject({
        Type: 'Wait',
        SecondsPath: '$.swap.waitSeconds',
        Next: S.swap,
      });
    });

    it('verifies the rollback with the same function, patiently (the renamed endpoint takes minutes)', () => {
      // Assess
      const verify = state(definition, S.verifyRollbackHealth);
      expect(verify.Resource).toBe(state(definition, S.verifyHealth).Resource);
      expect(verify.ResultPath).toBe('$.rollbackHealth');
      expect(verify.Retry?.[0]).toEqual({
        ErrorEquals: [ErrorNames.HealthCheckFailed, ErrorNames.DatabaseUnreachable],
        IntervalSeconds: 30,
        BackoffRate: 2,
        MaxAttempts: 6,
      });
      expect(verify.Next).toBe(S.restoreRequested);
      expect(state(definition, S.restoreRequested)).toMatchObject({
        Type: 'Choice',
        Choices: [{ Variable: '$.plan.mode', StringEquals: 'restore', Next: S.backupRestored }],
        Default: S.rolledBack,
      });
      expect(state(definition, S.backupRestored).Type).toBe('Succeed');
    });

    it("ends as rolled back with the verified rollback's account (state, original failure, next action) as cause", () => {
      // Assess
      expect(state(definition, S.rolledBack)).toMatchObject({
        Type: 'Fail',
        Error: OutcomeErrors.MigrationRolledBack,
        CausePath: '$.rollbackHealth.summary',
      });
    });

    it("sends every failure on the restore path, under $.rollbackError, to a rollback's or a requested restore's end", () => {
      // Assess
      for (const name of [S.restoreSnapshot, S.checkRestore, S.swap, S.verifyRollbackHealth]) {
        expect(state(definition, name).Catch, name).toEqual([
          { ErrorEquals: ['States.ALL'], ResultPath: '$.rollbackError', Next: S.whichRestoreFailed },
        ]);
      }
      expect(state(definition, S.whichRestoreFailed)).toMatchObject({
        Type: 'Choice',
        Choices: [{ Variable: '$.plan.mode', StringEquals: 'restore', Next: S.backupRestoreFailed }],
        Default: S.rollbackFailed,
      });
      expect(state(definition, S.rollbackFailed)).toMatchObject({
        Type: 'Fail',
        Error: OutcomeErrors.RollbackFailed,
        CausePath: '$.rollbackError.Cause',
      });
      expect(state(definition, S.backupRestoreFailed)).toMatchObject({
        Type: 'Fail',
        Error: OutcomeErrors.BackupRestoreFailed,
        CausePath: '$.rollbackError.Cause',
      });
    });

    it("ends only as rolled back, restored or failed (a rollback's or a requested restore's) once the restore started", () => {
      // Assess
      expect(terminalsFrom(definition, S.restoreSnapshot)).toEqual(
        new Set([S.rolledBack, S.backupRestored, S.rollbackFailed, S.backupRestoreFailed]),
      );
      expect(reachable(definition, S.restoreSnapshot).has(S.applyMigrations)).toBe(false);
    });
  });

  describe('rollback-started notification', () => {
    it('publishes to the topic between "Is there a snapshot to restore?" and the restore, on the rollback path only', () => {
      // Prepare
      const notify = state(definition, S.notifyRollback);
      // Assess
      expect(notify).toMatchObject({
        Type: 'Task',
        Resource: 'arn:aws:states:::sns:publish',
        ResultPath: null,
        TimeoutSeconds: 30,
        Next: S.restoreSnapshot,
      });
      expect(notify.Parameters).toMatchObject({
        TopicArn: expect.stringContaining('NotificationTopic'),
        MessageStructure: 'json',
        'Subject.$': "States.Format('Rollback started: {}', $.plan.targetIdentifier)",
      });
      const into = Object.entries(definition.States)
        .filter(([, s]) => successors(s).includes(S.notifyRollback))
        .map(([name]) => name);
      expect(into).toEqual([S.snapshotToRestore]);
      // A restore the input asked for goes straight to the restore.
      expect(state(definition, S.operation).Choices).toContainEqual(
        expect.objectContaining({ StringEquals: 'restore', Next: S.restoreSnapshot }),
      );
    });

    it('never blocks the rollback: any failure goes on to the restore, the error under $.notifyError', () => {
      // Assess
      expect(state(definition, S.notifyRollback).Catch).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.notifyError', Next: S.restoreSnapshot },
      ]);
      expect(state(definition, S.notifyRollback).Retry).toBeUndefined();
    });

    it('sends e-mail plain text and every other subscriber (Chatbot) a custom notification, from paths the rollback path always has', () => {
      // Prepare
      const message = state(definition, S.notifyRollback).Parameters?.Message as Record<string, string>;
      // Assess
      expect(Object.keys(message).sort()).toEqual(['default.$', 'email.$']);
      for (const expression of Object.values(message)) {
        const paths = [...expression.matchAll(/\$[.$][A-Za-z.]+/g)].map((match) => match[0]);
        expect(new Set(paths)).toEqual(
          new Set([
            '$.plan.targetIdentifier',
            '$.execution.name',
            '$.error.Error',
            '$.snapshot.snapshotId',
            '$$.Execution.Id',
          ]),
        );
      }
      expect(message['default.$']).toContain('"source":"custom"');
      expect(message['default.$']).toContain('\\{"version":"1.0"');
    });
  });

  describe('backup path', () => {
    it('applies the retention policy once the backup is available, and never reaches apply or a restore', () => {
      // Assess
      const prune = state(definition, S.pruneSnapshots);
      expect(prune.Next).toBe(S.backupTaken);
      expect(prune.Catch).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: S.retentionFailed },
      ]);
      expect(state(definition, S.backupTaken).Type).toBe('Succeed');
      expect(state(definition, S.retentionFailed)).toMatchObject({
        Type: 'Fail',
        Error: OutcomeErrors.BackupTakenRetentionFailed,
        CausePath: '$.error.Cause',
      });
      expect(terminalsFrom(definition, S.pruneSnapshots)).toEqual(
        new Set([S.backupTaken, S.retentionFailed]),
      );
      for (const never of [S.applyMigrations, S.restoreSnapshot, S.swap])
        expect(reachable(definition, S.pruneSnapshots).has(never), never).toBe(false);
    });
  });

  it('has every state reachable from the start', () => {
    // Assess
    expect(reachable(definition, definition.StartAt)).toEqual(new Set(Object.keys(definition.States)));
  });

  it('routes only on error names of the contract (or the Lambda and States built-ins)', () => {
    // Prepare
    const known = new Set<string>([...Object.values(ErrorNames), ...LAMBDA_RETRY_ERRORS, 'States.ALL']);
    const outcomes = new Set<string>(Object.values(OutcomeErrors));
    // Assess
    for (const [name, s] of Object.entries(definition.States) as [string, AslState][]) {
      for (const rule of [...(s.Retry ?? []), ...(s.Catch ?? [])]) {
        for (const error of rule.ErrorEquals) expect(known.has(error), `${name}: ${error}`).toBe(true);
      }
      if (s.Type === 'Fail') expect(outcomes.has(s.Error as string), name).toBe(true);
    }
  });
});

describe('buildWorkflowDefinition', () => {
  it('builds the same workflow for imported functions in any stack', () => {
    // Prepare
    const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'Standalone');
    const functions = Object.fromEntries(
      Steps.map((step) => [
        step,
        lambda.Function.fromFunctionArn(
          stack,
          step,
          `arn:aws:lambda:us-east-1:123456789012:function:${step}`,
        ),
      ]),
    ) as Record<Step, lambda.IFunction>;
    const timeouts = Object.fromEntries(Steps.map((step) => [step, Duration.minutes(1)])) as Record<
      Step,
      Duration
    >;
    // Act
    new sfn.StateMachine(stack, 'Machine', {
      definitionBody: sfn.DefinitionBody.fromChainable(
        buildWorkflowDefinition(stack, {
          functions,
          timeouts: { functions: timeouts, snapshot: Duration.hours(1), restore: Duration.hours(1) },
          notificationTopic: sns.Topic.fromTopicArn(
            stack,
            'Topic',
            'arn:aws:sns:us-east-1:123456789012:migrations',
          ),
        }),
      ),
    });
    const standalone = definitionFromTemplate(Template.fromStack(stack).toJSON()).definition;
    // Assess
    expect(new Set(Object.keys(standalone.States))).toEqual(new Set(Object.keys(definition.States)));
    expect(state(standalone, S.applyMigrations).Resource).toBe(
      'arn:aws:lambda:us-east-1:123456789012:function:apply-migrations',
    );
    for (const name of Object.keys(definition.States)) {
      expect(successors(state(standalone, name)), name).toEqual(successors(state(definition, name)));
    }
  });

  it('fails when a step has no function', () => {
    // Prepare
    const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'Incomplete');
    const only = {
      preflight: lambda.Function.fromFunctionArn(stack, 'P', 'arn:aws:lambda:us-east-1:1:function:p'),
    };
    // Act
    const act = () =>
      buildWorkflowDefinition(stack, {
        functions: only as unknown as Record<Step, lambda.IFunction>,
        timeouts: {
          functions: {} as Record<Step, Duration>,
          snapshot: Duration.hours(1),
          restore: Duration.hours(1),
        },
        notificationTopic: sns.Topic.fromTopicArn(stack, 'Topic', 'arn:aws:sns:us-east-1:1:migrations'),
      });
    // Assess
    expect(act).toThrow(/no function for step "create-snapshot" \(received steps: preflight\)/);
  });
});

describe('definitionFromTemplate', () => {
  it('maps each substituted function ARN to its logical id and step', () => {
    // Assess
    expect(parsed.resourceToLogicalId.size).toBe(Steps.length);
    expect(new Set(parsed.resourceToStep.values())).toEqual(new Set(Steps));
    for (const [arn, logicalId] of parsed.resourceToLogicalId) {
      expect(arn).toBe(`arn:aws:lambda:us-east-1:123456789012:function:${logicalId}`);
    }
  });

  it('fails when the template has no state machine', () => {
    // Act
    const act = () => definitionFromTemplate({ Resources: { Bucket: { Type: 'AWS::S3::Bucket' } } });
    // Assess
    expect(act).toThrow(/expected exactly one AWS::StepFunctions::StateMachine, found 0 \(none\)/);
  });
});
