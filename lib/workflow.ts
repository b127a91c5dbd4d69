/**
 * The migration workflow: a Standard Step Functions definition (JSONPath only) whose Task states invoke one
 * Lambda function per step. State names, error names and result paths all come from the shared contract
 * (lambdas/shared/contract.ts), so what the code throws and what the state machine routes on cannot drift.
 *
 * The same definition runs on AWS and, taken from the synthesized template, in the local runner.
 */
import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import {
  ErrorNames,
  OutcomeErrors,
  ResultPaths,
  StateNames,
  type Step,
  Steps,
} from '../lambdas/shared/contract.js';

/** Errors of the Lambda service itself (and our own transient faults): always worth retrying. */
export const LAMBDA_RETRY_ERRORS: readonly string[] = [
  'Lambda.TooManyRequestsException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  ErrorNames.TransientFault,
];

/**
 * Errors of the apply step that mean nothing of the release committed: the release ends "database unchanged",
 * with no restore. `MigrationFailedDatabaseUnchanged` is thrown only on evidence read from `_prisma_migrations`;
 * the others are thrown before the first statement of the release.
 */
export const NOTHING_COMMITTED_ERRORS: readonly string[] = [
  ErrorNames.MigrationFailedDatabaseUnchanged,
  ErrorNames.MigrationHistoryBlocked,
  ErrorNames.MigrationsInvalid,
  ErrorNames.InvalidInput,
  ErrorNames.DatabaseUnreachable,
];

/** How much longer than its function's timeout a Task state waits before it gives up on the invocation. */
export const TASK_TIMEOUT_MARGIN = Duration.seconds(30);

/** What the whole execution may take on top of the snapshot and restore timeouts (apply, checks, swap). */
export const EXECUTION_TIMEOUT_MARGIN = Duration.hours(2);

/** The durations the workflow is built from. */
export interface WorkflowTimeouts {
  /** Timeout of each step's Lambda function; its Task state waits that long plus `TASK_TIMEOUT_MARGIN`. */
  readonly functions: Readonly<Record<Step, Duration>>;
  /** How long the pre-migration snapshot may take (enforced by the check step). */
  readonly snapshot: Duration;
  /** How long the restore may take (enforced by the check step). */
  readonly restore: Duration;
}

export interface WorkflowDefinitionProps {
  /** The function of each step. */
  readonly functions: Readonly<Record<Step, lambda.IFunction>>;
  readonly timeouts: WorkflowTimeouts;
}

/** The overall execution timeout: snapshot and restore timeouts plus `EXECUTION_TIMEOUT_MARGIN`. */
export function workflowTimeout(timeouts: Pick<WorkflowTimeouts, 'snapshot' | 'restore'>): Duration {
  return Duration.seconds(
    timeouts.snapshot.toSeconds() + timeouts.restore.toSeconds() + EXECUTION_TIMEOUT_MARGIN.toSeconds(),
  );
}

/** A construct id for a state: its state-name key in PascalCase (stable, part of the template contract). */
function stateId(key: keyof typeof StateNames): string {
  return key.charAt(0).toUpperCase() + key.slice(1);
}

/**
 * Builds the workflow under `scope` and returns its first state, ready for `DefinitionBody.fromChainable`.
 * The construct and the tests share it.
 */
export function buildWorkflowDefinition(scope: Construct, props: WorkflowDefinitionProps): sfn.IChainable {
  for (const step of Steps) {
    if (!props.functions[step]) {
      throw new Error(
        `buildWorkflowDefinition: no function for step "${step}" (received steps: ` +
          `${Object.keys(props.functions).join(', ') || 'none'}). Pass one function per step of Steps.`,
      );
    }
  }
  const root = new Construct(scope, 'Workflow');

  /**
   * A Lambda task for `step`. Its own retriers (`retries`) come first, then the retrier every task has: Lambda
   * throttling and service faults, and our TransientFault.
   */
  const invoke = (
    key: keyof typeof StateNames,
    step: Step,
    resultPath: string,
    comment: string,
    retries: readonly sfn.RetryProps[] = [],
  ) => {
    const task = tasks.LambdaInvoke.jsonPath(root, stateId(key), {
      stateName: StateNames[key],
      comment,
      lambdaFunction: props.functions[step],
      // The result is the handler's return value, placed under the step's own key of the state document.
      payloadResponseOnly: true,
      resultPath,
      taskTimeout: sfn.Timeout.duration(props.timeouts.functions[step].plus(TASK_TIMEOUT_MARGIN)),
      // Our own retrier below replaces the default one, so that throttling and TransientFault are covered.
      retryOnServiceExceptions: false,
    });
    for (const retry of retries) task.addRetry(retry);
    task.addRetry({
      errors: [...LAMBDA_RETRY_ERRORS],
      interval: Duration.seconds(2),
      backoffRate: 2,
      maxAttempts: 6,
      jitterStrategy: sfn.JitterType.FULL,
    });
    return task;
  };
  const fail = (key: keyof typeof StateNames, error: string, causePath: string, comment: string) =>
    sfn.Fail.jsonPath(root, stateId(key), { stateName: StateNames[key], error, causePath, comment });
  const wait = (key: keyof typeof StateNames, secondsPath: string) =>
    sfn.Wait.jsonPath(root, stateId(key), {
      stateName: StateNames[key],
      time: sfn.WaitTime.secondsPath(secondsPath),
    });

  // ---------------------------------------------------------------------------------------------------
  // Terminal states

  const nothingToDo = sfn.Succeed.jsonPath(root, stateId('nothingToDo'), {
    stateName: StateNames.nothingToDo,
    comment: 'No migration is pending (or this is a dry run): the plan is the result.',
  });
  const succeeded = sfn.Succeed.jsonPath(root, stateId('succeeded'), {
    stateName: StateNames.succeeded,
    comment: 'Every pending migration is applied and the database is healthy.',
  });
  const preflightRefused = fail(
    'preflightRefused',
    OutcomeErrors.PreflightRefused,
    '$.error.Cause',
    'Preflight refused the release. Nothing was touched.',
  );
  const snapshotFailed = fail(
    'snapshotFailed',
    OutcomeErrors.SnapshotFailed,
    '$.error.Cause',
    'The snapshot could not be taken. Nothing was applied.',
  );
  const releaseFailedUnchanged = fail(
    'releaseFailedUnchanged',
    OutcomeErrors.ReleaseFailedUnchanged,
    '$.error.Cause',
    'The release transaction was rolled back: the database is exactly as before.',
  );
  const failedWithoutSnapshot = fail(
    'failedWithoutSnapshot',
    OutcomeErrors.MigrationFailedNoSnapshot,
    '$.error.Cause',
    'The release ran without a snapshot (skipSnapshot): nothing can be restored. Operator action required.',
  );
  const rollbackFailed = fail(
    'rollbackFailed',
    OutcomeErrors.RollbackFailed,
    '$.rollbackError.Cause',
    'The rollback itself failed. Operator action required (see the runbook).',
  );
  const releaseOutcomeUnknown = fail(
    'releaseOutcomeUnknown',
    OutcomeErrors.ReleaseOutcomeUnknown,
    '$.error.Cause',
    'What the release committed could not be read: nothing was restored on a guess. Operator action required.',
  );
  const rolledBack = fail(
    'rolledBack',
    OutcomeErrors.MigrationRolledBack,
    // The verified rollback's own account: the database's state, the original failure, the one next action.
    '$.rollbackHealth.summary',
    'The snapshot was restored and swapped into place; the execution fails so the pipeline stops.',
  );

  // ---------------------------------------------------------------------------------------------------
  // Rollback path: restore -> wait/check loop -> swap loop -> verify -> rolledBack

  const catchRollback = (task: tasks.LambdaInvoke) =>
    task.addCatch(rollbackFailed, { errors: [sfn.Errors.ALL], resultPath: '$.rollbackError' });

  const restoreSnapshot = invoke(
    'restoreSnapshot',
    'restore-snapshot',
    ResultPaths['restore-snapshot'],
    'Restores the pre-migration snapshot under a temporary identifier; the original keeps serving.',
  );
  catchRollback(restoreSnapshot);

  const waitForRestore = wait('waitForRestore', '$.restore.waitSeconds');
  const checkRestore = invoke(
    'checkRestore',
    'check-restore',
    ResultPaths['check-restore'],
    'Reads the restored database status; fails with RestoreTimedOut past the restore timeout.',
  );
  catchRollback(checkRestore);

  const swap = invoke(
    'swap',
    'swap',
    ResultPaths.swap,
    'Renames the original aside, then the restored copy to the original identifier (one step per call).',
  );
  catchRollback(swap);
  const waitForSwap = wait('waitForSwap', '$.swap.waitSeconds');

  const verifyRollbackHealth = invoke(
    'verifyRollbackHealth',
    'verify-health',
    '$.rollbackHealth',
    'Checks the restored database answers under the original endpoint with the pre-release history.',
    // The renamed endpoint's DNS name takes minutes to follow: be patient before declaring the rollback failed.
    [
      {
        errors: [ErrorNames.HealthCheckFailed, ErrorNames.DatabaseUnreachable],
        interval: Duration.seconds(30),
        backoffRate: 2,
        maxAttempts: 6,
      },
    ],
  );
  catchRollback(verifyRollbackHealth);

  restoreSnapshot.next(waitForRestore);
  waitForRestore.next(checkRestore);
  checkRestore.next(
    sfn.Choice.jsonPath(root, stateId('restoreReady'), { stateName: StateNames.restoreReady })
      .when(sfn.Condition.stringEquals('$.restore.status', 'available'), swap)
      .otherwise(waitForRestore),
  );
  swap.next(
    sfn.Choice.jsonPath(root, stateId('swapDone'), { stateName: StateNames.swapDone })
      .when(sfn.Condition.booleanEquals('$.swap.complete', true), verifyRollbackHealth)
      .otherwise(waitForSwap),
  );
  waitForSwap.next(swap);
  verifyRollbackHealth.next(rolledBack);

  // Only a release that took a snapshot can be rolled back.
  const snapshotToRestore = sfn.Choice.jsonPath(root, stateId('snapshotToRestore'), {
    stateName: StateNames.snapshotToRestore,
  })
    .when(sfn.Condition.isPresent('$.snapshot.snapshotId'), restoreSnapshot)
    .otherwise(failedWithoutSnapshot);

  // ---------------------------------------------------------------------------------------------------
  // Forward path: start -> preflight -> (snapshot loop) -> apply -> verify -> succeeded

  const start = sfn.Pass.jsonPath(root, stateId('start'), {
    stateName: StateNames.start,
    comment: 'Keeps the execution input under $.input and records the execution identity.',
    parameters: {
      input: sfn.JsonPath.entirePayload,
      execution: {
        id: sfn.JsonPath.executionId,
        name: sfn.JsonPath.executionName,
        startedAt: sfn.JsonPath.executionStartTime,
      },
    },
  });

  const preflight = invoke(
    'preflight',
    'preflight',
    ResultPaths.preflight,
    'Validates the input, loads the migrations, reads _prisma_migrations and computes the plan.',
  );
  preflight.addCatch(preflightRefused, { errors: [sfn.Errors.ALL], resultPath: '$.error' });

  const createSnapshot = invoke(
    'createSnapshot',
    'create-snapshot',
    ResultPaths['create-snapshot'],
    'Starts the pre-migration snapshot (adopts it when a retry finds it already started).',
  );
  createSnapshot.addCatch(snapshotFailed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });

  const waitForSnapshot = wait('waitForSnapshot', '$.snapshot.waitSeconds');
  const checkSnapshot = invoke(
    'checkSnapshot',
    'check-snapshot',
    ResultPaths['check-snapshot'],
    'Reads the snapshot status; fails with SnapshotTimedOut past the snapshot timeout.',
  );
  checkSnapshot.addCatch(snapshotFailed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });

  const applyMigrations = invoke(
    'applyMigrations',
    'apply-migrations',
    ResultPaths['apply-migrations'],
    "Applies the pending migrations with Prisma's schema engine; on failure reports what committed.",
    // A connection that fails before the release started: nothing was touched, try again.
    [
      {
        errors: [ErrorNames.DatabaseUnreachable],
        interval: Duration.seconds(5),
        backoffRate: 2,
        maxAttempts: 2,
      },
    ],
  );
  // Evidence before destruction: only a release that committed something goes to the restore branch.
  applyMigrations.addCatch(releaseFailedUnchanged, {
    errors: [...NOTHING_COMMITTED_ERRORS],
    resultPath: '$.error',
  });
  applyMigrations.addCatch(snapshotToRestore, {
    errors: [ErrorNames.MigrationFailed],
    resultPath: '$.error',
  });

  const assessRelease = invoke(
    'assessRelease',
    'assess-release',
    ResultPaths['assess-release'],
    "Ends the apply step's migration session, reads _prisma_migrations on a fresh connection and decides.",
    [
      {
        errors: [ErrorNames.DatabaseUnreachable, ErrorNames.ReleaseOutcomeUnknown],
        interval: Duration.seconds(10),
        backoffRate: 2,
        maxAttempts: 5,
      },
    ],
  );
  assessRelease.addCatch(releaseFailedUnchanged, {
    errors: [ErrorNames.MigrationFailedDatabaseUnchanged],
    resultPath: '$.error',
  });
  assessRelease.addCatch(snapshotToRestore, { errors: [ErrorNames.MigrationFailed], resultPath: '$.error' });
  assessRelease.addCatch(releaseOutcomeUnknown, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
  // The apply step died without answering (timeout, out of memory) or could not read what it committed.
  applyMigrations.addCatch(assessRelease, { errors: [sfn.Errors.ALL], resultPath: '$.error' });

  const verifyHealth = invoke(
    'verifyHealth',
    'verify-health',
    ResultPaths['verify-health'],
    'Checks the database answers, the history is complete with no failed row, and the user checks pass.',
    [
      {
        errors: [ErrorNames.DatabaseUnreachable],
        interval: Duration.seconds(10),
        backoffRate: 2,
        maxAttempts: 2,
      },
    ],
  );
  verifyHealth.addCatch(snapshotToRestore, { errors: [sfn.Errors.ALL], resultPath: '$.error' });

  createSnapshot.next(waitForSnapshot);
  waitForSnapshot.next(checkSnapshot);
  checkSnapshot.next(
    sfn.Choice.jsonPath(root, stateId('snapshotReady'), { stateName: StateNames.snapshotReady })
      .when(sfn.Condition.stringEquals('$.snapshot.status', 'available'), applyMigrations)
      .otherwise(waitForSnapshot),
  );
  applyMigrations.next(verifyHealth);
  assessRelease.next(verifyHealth);
  verifyHealth.next(succeeded);

  const snapshotRequested = sfn.Choice.jsonPath(root, stateId('snapshotRequested'), {
    stateName: StateNames.snapshotRequested,
  })
    .when(sfn.Condition.booleanEquals('$.plan.snapshotRequired', true), createSnapshot)
    .otherwise(applyMigrations);
  const anythingToApply = sfn.Choice.jsonPath(root, stateId('anythingToApply'), {
    stateName: StateNames.anythingToApply,
  })
    .when(sfn.Condition.booleanEquals('$.plan.proceed', false), nothingToDo)
    .otherwise(snapshotRequested);

  return start.next(preflight).next(anythingToApply);
}
