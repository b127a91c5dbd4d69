/**
 * The migration workflow: a Standard Step Functions definition (JSONPath only) whose Task states invoke one
 * Lambda function per step. State names, error names and result paths all come from the shared contract
 * (lambdas/shared/contract/contract.ts), so what the code throws and what the state machine routes on cannot drift.
 *
 * The same definition runs on AWS and, taken from the synthesized template, in the local runner.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import {
  OutcomeErrors,
  runbookArticle,
  StateNames,
  type Step,
  Steps,
} from '../lambdas/shared/contract/contract.js';
import {
  LAMBDA_RETRY,
  type LambdaTaskKey,
  type RetryRule,
  Routing,
  type StateKey,
  type TaskKey,
} from '../lambdas/shared/contract/routing.js';

export { LAMBDA_RETRY_ERRORS, NOTHING_COMMITTED_ERRORS } from '../lambdas/shared/contract/routing.js';

/** How much longer than its function's timeout a Task state waits before it gives up on the invocation. */
export const TASK_TIMEOUT_MARGIN = Duration.seconds(30);

/** How long the rollback-started notification may take before the rollback goes on without it. */
export const NOTIFY_TIMEOUT = Duration.seconds(30);

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
  /** The topic the workflow tells that a rollback starts (Step Functions' SNS integration, no Lambda). */
  readonly notificationTopic: sns.ITopic;
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

  const retryProps = (rule: RetryRule): sfn.RetryProps => ({
    errors: [...rule.errors],
    interval: Duration.seconds(rule.intervalSeconds),
    backoffRate: rule.backoffRate,
    maxAttempts: rule.maxAttempts,
    ...(rule.jitter ? { jitterStrategy: sfn.JitterType.FULL } : {}),
  });
  /**
   * The Lambda task of `key`, as the routing table says: its step, where its result goes, its own retriers
   * first, then the retrier every task has (Lambda throttling and service faults, and our TransientFault).
   * Its catches are added once every state exists (`routeFailures`).
   */
  const invoke = (key: LambdaTaskKey, comment: string) => {
    const routing = Routing[key];
    const task = tasks.LambdaInvoke.jsonPath(root, stateId(key), {
      stateName: StateNames[key],
      comment,
      lambdaFunction: props.functions[routing.step],
      // The result is the handler's return value, placed under the step's own key of the state document.
      payloadResponseOnly: true,
      resultPath: routing.resultPath,
      taskTimeout: sfn.Timeout.duration(props.timeouts.functions[routing.step].plus(TASK_TIMEOUT_MARGIN)),
      // Our own retrier below replaces the default one, so that throttling and TransientFault are covered.
      retryOnServiceExceptions: false,
    });
    for (const retry of [...routing.retries, LAMBDA_RETRY]) task.addRetry(retryProps(retry));
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
    OutcomeErrors.SnapshotFailedDatabaseUntouched,
    '$.error.Cause',
    'The snapshot could not be taken. Nothing was applied.',
  );
  const releaseFailedUnchanged = fail(
    'releaseFailedUnchanged',
    OutcomeErrors.ReleaseFailedDatabaseUnchanged,
    '$.error.Cause',
    'The release transaction was rolled back: the database is exactly as before.',
  );
  const failedWithoutSnapshot = fail(
    'failedWithoutSnapshot',
    OutcomeErrors.MigrationFailedWithoutSnapshot,
    '$.error.Cause',
    'The release ran without a snapshot (skipSnapshot): nothing can be restored. Operator action required.',
  );
  const rollbackFailed = fail(
    'rollbackFailed',
    OutcomeErrors.RollbackFailed,
    '$.rollbackError.Cause',
    `The rollback itself failed. Operator action required (${runbookArticle(OutcomeErrors.RollbackFailed)}).`,
  );
  const backupRestoreFailed = fail(
    'backupRestoreFailed',
    OutcomeErrors.BackupRestoreFailed,
    '$.rollbackError.Cause',
    `The requested restore failed; no release is involved. The cause says where the database stands (${runbookArticle(OutcomeErrors.BackupRestoreFailed)}).`,
  );
  // The restore path serves rollbacks and the restores the input asks for: a failure ends as the one it was.
  const whichRestoreFailed = sfn.Choice.jsonPath(root, stateId('whichRestoreFailed'), {
    stateName: StateNames.whichRestoreFailed,
  })
    .when(sfn.Condition.stringEquals('$.plan.mode', 'restore'), backupRestoreFailed)
    .otherwise(rollbackFailed);
  const releaseOutcomeUnknown = fail(
    'releaseOutcomeUnknown',
    OutcomeErrors.ReleaseOutcomeUnknown,
    '$.error.Cause',
    'What the release committed could not be read: nothing was restored on a guess. Operator action required.',
  );
  const retentionFailed = fail(
    'retentionFailed',
    OutcomeErrors.BackupTakenRetentionFailed,
    '$.error.Cause',
    `The backup is taken and available; older snapshots the retention policy would delete are still there (${runbookArticle(OutcomeErrors.BackupTakenRetentionFailed)}).`,
  );
  const backupTaken = sfn.Succeed.jsonPath(root, stateId('backupTaken'), {
    stateName: StateNames.backupTaken,
    comment: 'The backup is available and the retention policy is applied.',
  });
  const backupRestored = sfn.Succeed.jsonPath(root, stateId('backupRestored'), {
    stateName: StateNames.backupRestored,
    comment:
      'The requested snapshot serves under the original identifier; the replaced database is kept aside.',
  });
  const rolledBack = fail(
    'rolledBack',
    OutcomeErrors.MigrationRolledBack,
    // The verified rollback's own account: the database's state, the original failure, the one next action.
    '$.rollbackHealth.summary',
    'The snapshot was restored and swapped into place; the execution fails so the pipeline stops.',
  );

  // ---------------------------------------------------------------------------------------------------
  // Tasks (their retries and catches come from the routing table)

  const preflight = invoke(
    'preflight',
    'Validates the input, loads the migrations, reads _prisma_migrations and computes the plan.',
  );
  const createSnapshot = invoke(
    'createSnapshot',
    'Starts the pre-migration snapshot (adopts it when a retry finds it already started).',
  );
  const checkSnapshot = invoke(
    'checkSnapshot',
    'Reads the snapshot status; fails with SnapshotTimedOut past the snapshot timeout.',
  );
  const applyMigrations = invoke(
    'applyMigrations',
    "Applies the pending migrations with Prisma's schema engine; on failure reports what committed.",
  );
  const assessRelease = invoke(
    'assessRelease',
    "Ends the apply step's migration session, reads _prisma_migrations on a fresh connection and decides.",
  );
  const verifyHealth = invoke(
    'verifyHealth',
    'Checks the database answers, the history is complete with no failed row, and the user checks pass.',
  );
  const restoreSnapshot = invoke(
    'restoreSnapshot',
    'Restores the pre-migration snapshot under a temporary identifier; the original keeps serving.',
  );
  const checkRestore = invoke(
    'checkRestore',
    'Reads the restored database status; fails with RestoreTimedOut past the restore timeout.',
  );
  const swap = invoke(
    'swap',
    'Renames the original aside, then the restored copy to the original identifier (one step per call).',
  );
  const verifyRollbackHealth = invoke(
    'verifyRollbackHealth',
    'Checks the restored database answers under the original endpoint with the pre-release history.',
  );
  const pruneSnapshots = invoke(
    'pruneSnapshots',
    'Lists the managed snapshots of the target and deletes those the retention policy does not keep.',
  );

  // Tells the topic's subscribers that a rollback starts, before the restore (which takes minutes to hours).
  // Only on the rollback path: a restore the input asked for goes straight to the restore. Best effort: any
  // failure goes on to the restore (its Catch, from the routing table), the state document unchanged.
  const notifyRollback = new tasks.SnsPublish(root, stateId('notifyRollback'), {
    stateName: StateNames.notifyRollback,
    comment: 'Tells the notification topic that the rollback starts; a failure never holds up the rollback.',
    topic: props.notificationTopic,
    messagePerSubscriptionType: true,
    message: sfn.TaskInput.fromObject(rollbackStartedMessage(Stack.of(scope).region)),
    subject: sfn.JsonPath.format('Rollback started: {}', sfn.JsonPath.stringAt('$.plan.targetIdentifier')),
    resultPath: sfn.JsonPath.DISCARD,
    taskTimeout: sfn.Timeout.duration(NOTIFY_TIMEOUT),
  });

  // ---------------------------------------------------------------------------------------------------
  // Rollback path: (notify ->) restore -> wait/check loop -> swap loop -> verify -> rolledBack

  const waitForRestore = wait('waitForRestore', '$.restore.waitSeconds');
  const waitForSwap = wait('waitForSwap', '$.swap.waitSeconds');
  notifyRollback.next(restoreSnapshot);
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
  // A restore the input asked for ends as a success; a rollback fails the execution so the pipeline stops.
  verifyRollbackHealth.next(
    sfn.Choice.jsonPath(root, stateId('restoreRequested'), { stateName: StateNames.restoreRequested })
      .when(sfn.Condition.stringEquals('$.plan.mode', 'restore'), backupRestored)
      .otherwise(rolledBack),
  );

  // Only a release that took a snapshot can be rolled back.
  const snapshotToRestore = sfn.Choice.jsonPath(root, stateId('snapshotToRestore'), {
    stateName: StateNames.snapshotToRestore,
  })
    .when(sfn.Condition.isPresent('$.snapshot.snapshotId'), notifyRollback)
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

  const waitForSnapshot = wait('waitForSnapshot', '$.snapshot.waitSeconds');
  createSnapshot.next(waitForSnapshot);
  waitForSnapshot.next(checkSnapshot);
  checkSnapshot.next(
    sfn.Choice.jsonPath(root, stateId('snapshotReady'), { stateName: StateNames.snapshotReady })
      .when(
        sfn.Condition.and(
          sfn.Condition.stringEquals('$.snapshot.status', 'available'),
          sfn.Condition.stringEquals('$.plan.mode', 'backup'),
        ),
        pruneSnapshots,
      )
      .when(sfn.Condition.stringEquals('$.snapshot.status', 'available'), applyMigrations)
      .otherwise(waitForSnapshot),
  );
  pruneSnapshots.next(backupTaken);
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
  // Backups and restores share the snapshot and rollback paths; a migration goes on to its plan.
  const operation = sfn.Choice.jsonPath(root, stateId('operation'), { stateName: StateNames.operation })
    .when(sfn.Condition.stringEquals('$.plan.mode', 'backup'), createSnapshot)
    .when(sfn.Condition.stringEquals('$.plan.mode', 'restore'), restoreSnapshot)
    .otherwise(anythingToApply);

  // ---------------------------------------------------------------------------------------------------
  // Failure routing, as the routing table says

  const tasksByKey: Record<TaskKey, sfn.TaskStateBase> = {
    preflight,
    createSnapshot,
    checkSnapshot,
    applyMigrations,
    assessRelease,
    verifyHealth,
    restoreSnapshot,
    checkRestore,
    swap,
    verifyRollbackHealth,
    pruneSnapshots,
    notifyRollback,
  };
  const targets: Partial<Record<StateKey, sfn.IChainable>> = {
    preflightRefused,
    snapshotFailed,
    releaseFailedUnchanged,
    releaseOutcomeUnknown,
    whichRestoreFailed,
    snapshotToRestore,
    assessRelease,
    retentionFailed,
    restoreSnapshot,
  };
  for (const [key, task] of Object.entries(tasksByKey) as [TaskKey, sfn.TaskStateBase][]) {
    for (const rule of Routing[key].catches) {
      const target = targets[rule.next];
      if (!target) throw new Error(`Routing.${key}: no state "${rule.next}" to catch into.`);
      task.addCatch(target, { errors: [...rule.errors], resultPath: rule.resultPath });
    }
  }

  return start.next(preflight).next(operation);
}

/**
 * The rollback-started message, one per subscription type (SNS `MessageStructure: json`): e-mail gets plain text,
 * every other subscriber (AWS Chatbot's HTTPS endpoint among them) a Chatbot custom notification, threaded by the
 * execution ARN with the report Lambda's final message. Built with `States.Format` from paths that always exist
 * on the rollback path (a missing one would fail the state, and with it the notification): the target, the
 * execution, the caught error and the snapshot. None of them can hold a quote or a backslash (RDS identifiers,
 * Step Functions execution names, error names), so the JSON stays valid.
 */
export function rollbackStartedMessage(region: string): Record<string, string> {
  const target = sfn.JsonPath.stringAt('$.plan.targetIdentifier');
  const execution = sfn.JsonPath.stringAt('$.execution.name');
  const error = sfn.JsonPath.stringAt('$.error.Error');
  const snapshot = sfn.JsonPath.stringAt('$.snapshot.snapshotId');
  const arn = sfn.JsonPath.executionId;
  const link = `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/{}`;
  const what =
    'The release of execution {} failed with {} after it changed the database {}. The pre-migration snapshot {} ' +
    'is being restored next to it and will be swapped in (the failed database is kept aside); expect minutes of ' +
    'outage while the identifiers are swapped. A second message says how the execution ended.';
  return {
    default: sfn.JsonPath.format(
      `\\{"version":"1.0","source":"custom","content":\\{"textType":"client-markdown","title":"Rollback started: {}",` +
        `"description":"${what} ${link}"\\},"metadata":\\{"threadId":"{}","summary":"Rollback started: {}"\\}\\}`,
      target,
      execution,
      error,
      target,
      snapshot,
      arn,
      arn,
      target,
    ),
    email: sfn.JsonPath.format(
      `Rollback started: {}. ${what} Follow it: ${link}`,
      target,
      execution,
      error,
      target,
      snapshot,
      arn,
    ),
  };
}
