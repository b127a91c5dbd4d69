/**
 * Failure routing as data: for each Task state, the step it invokes, its own retries and where each error
 * goes, with what the workflow knows about the database when it takes that route. The workflow
 * (lib/workflow.ts) is built from this table, a test compares the synthesized definition with it, and the
 * README's failure table is checked against it: "what happens when step X fails" is answered here.
 *
 * Every Lambda Task also retries `LAMBDA_RETRY_ERRORS` (Lambda throttling and service faults, and our
 * TransientFault) after its own retries. A Task of a service integration (the rollback-started notification)
 * has only its own.
 */
import { ErrorNames, ResultPaths, type StateNames, type Step } from './contract.js';

/** Every error, as Step Functions names it. */
export const ALL_ERRORS = 'States.ALL';

/** Errors of the Lambda service itself (and our own transient faults): always worth retrying. */
export const LAMBDA_RETRY_ERRORS: readonly string[] = [
  'Lambda.TooManyRequestsException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  ErrorNames.TransientFault,
];

/** The retrier every Task has, after its own. */
export const LAMBDA_RETRY: RetryRule = {
  errors: LAMBDA_RETRY_ERRORS,
  intervalSeconds: 2,
  backoffRate: 2,
  maxAttempts: 6,
  jitter: true,
};

export type StateKey = keyof typeof StateNames;

export interface RetryRule {
  readonly errors: readonly string[];
  readonly intervalSeconds: number;
  readonly backoffRate: number;
  readonly maxAttempts: number;
  /** Full jitter. */
  readonly jitter?: boolean;
}

/** What the workflow knows about the database when a route is taken. */
export type DatabaseChanged = 'no' | 'yes' | 'unknown';

export interface CatchRule {
  readonly errors: readonly string[];
  /** The state the error goes to. */
  readonly next: StateKey;
  /**
   * Where the error is put: the rollback's own errors never overwrite the original failure, nor does a
   * notification's.
   */
  readonly resultPath: '$.error' | '$.rollbackError' | '$.notifyError';
  readonly databaseChanged: DatabaseChanged;
}

/** A Task that invokes a step's Lambda function. */
export interface LambdaTaskRouting {
  readonly step: Step;
  /** Where the step's result goes in the state document. */
  readonly resultPath: string;
  readonly retries: readonly RetryRule[];
  readonly catches: readonly CatchRule[];
}

/** The service integrations the workflow calls directly (`arn:aws:states:::<integration>`), without a Lambda. */
export const Integrations = { snsPublish: 'sns:publish' } as const;

/** A Task that calls an AWS service through Step Functions' own integration. */
export interface IntegrationTaskRouting {
  readonly integration: (typeof Integrations)[keyof typeof Integrations];
  /** `null`: the result is discarded, the state document passes through unchanged. */
  readonly resultPath: null;
  readonly retries: readonly RetryRule[];
  readonly catches: readonly CatchRule[];
}

export type TaskRouting = LambdaTaskRouting | IntegrationTaskRouting;

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

/** A failure on the restore path: a rollback's ends "Rollback failed", a requested restore's "Backup restore failed". */
const toRollbackFailed: CatchRule = {
  errors: [ALL_ERRORS],
  next: 'whichRestoreFailed',
  resultPath: '$.rollbackError',
  databaseChanged: 'yes',
};

/** The Task states, in the order they run, with their routing. */
export const Routing = {
  preflight: {
    step: 'preflight',
    resultPath: ResultPaths.preflight,
    retries: [],
    catches: [
      { errors: [ALL_ERRORS], next: 'preflightRefused', resultPath: '$.error', databaseChanged: 'no' },
    ],
  },
  createSnapshot: {
    step: 'create-snapshot',
    resultPath: ResultPaths['create-snapshot'],
    retries: [],
    catches: [{ errors: [ALL_ERRORS], next: 'snapshotFailed', resultPath: '$.error', databaseChanged: 'no' }],
  },
  checkSnapshot: {
    step: 'check-snapshot',
    resultPath: ResultPaths['check-snapshot'],
    retries: [],
    catches: [{ errors: [ALL_ERRORS], next: 'snapshotFailed', resultPath: '$.error', databaseChanged: 'no' }],
  },
  applyMigrations: {
    step: 'apply-migrations',
    resultPath: ResultPaths['apply-migrations'],
    // A connection that fails before the release started: nothing was touched, try again.
    retries: [
      { errors: [ErrorNames.DatabaseUnreachable], intervalSeconds: 5, backoffRate: 2, maxAttempts: 2 },
    ],
    catches: [
      {
        errors: NOTHING_COMMITTED_ERRORS,
        next: 'releaseFailedUnchanged',
        resultPath: '$.error',
        databaseChanged: 'no',
      },
      {
        errors: [ErrorNames.MigrationFailed],
        next: 'snapshotToRestore',
        resultPath: '$.error',
        databaseChanged: 'yes',
      },
      // Died without answering (timeout, out of memory), or could not read what it committed.
      { errors: [ALL_ERRORS], next: 'assessRelease', resultPath: '$.error', databaseChanged: 'unknown' },
    ],
  },
  assessRelease: {
    step: 'assess-release',
    resultPath: ResultPaths['assess-release'],
    retries: [
      {
        errors: [ErrorNames.DatabaseUnreachable, ErrorNames.ReleaseOutcomeUnknown],
        intervalSeconds: 10,
        backoffRate: 2,
        maxAttempts: 5,
      },
    ],
    catches: [
      {
        errors: [ErrorNames.MigrationFailedDatabaseUnchanged],
        next: 'releaseFailedUnchanged',
        resultPath: '$.error',
        databaseChanged: 'no',
      },
      {
        errors: [ErrorNames.MigrationFailed],
        next: 'snapshotToRestore',
        resultPath: '$.error',
        databaseChanged: 'yes',
      },
      {
        errors: [ALL_ERRORS],
        next: 'releaseOutcomeUnknown',
        resultPath: '$.error',
        databaseChanged: 'unknown',
      },
    ],
  },
  verifyHealth: {
    step: 'verify-health',
    resultPath: ResultPaths['verify-health'],
    retries: [
      { errors: [ErrorNames.DatabaseUnreachable], intervalSeconds: 10, backoffRate: 2, maxAttempts: 2 },
    ],
    catches: [
      { errors: [ALL_ERRORS], next: 'snapshotToRestore', resultPath: '$.error', databaseChanged: 'yes' },
    ],
  },
  // Best effort: a notification that cannot be sent never holds up the rollback.
  notifyRollback: {
    integration: Integrations.snsPublish,
    resultPath: null,
    retries: [],
    catches: [
      { errors: [ALL_ERRORS], next: 'restoreSnapshot', resultPath: '$.notifyError', databaseChanged: 'yes' },
    ],
  },
  restoreSnapshot: {
    step: 'restore-snapshot',
    resultPath: ResultPaths['restore-snapshot'],
    retries: [],
    catches: [toRollbackFailed],
  },
  checkRestore: {
    step: 'check-restore',
    resultPath: ResultPaths['check-restore'],
    retries: [],
    catches: [toRollbackFailed],
  },
  swap: { step: 'swap', resultPath: ResultPaths.swap, retries: [], catches: [toRollbackFailed] },
  verifyRollbackHealth: {
    step: 'verify-health',
    resultPath: '$.rollbackHealth',
    // The renamed endpoint's DNS name takes minutes to follow: be patient before declaring the rollback failed.
    retries: [
      {
        errors: [ErrorNames.HealthCheckFailed, ErrorNames.DatabaseUnreachable],
        intervalSeconds: 30,
        backoffRate: 2,
        maxAttempts: 6,
      },
    ],
    // The restored data is in place, but the database or its history did not check out.
    catches: [{ ...toRollbackFailed, databaseChanged: 'unknown' }],
  },
  pruneSnapshots: {
    step: 'prune-snapshots',
    resultPath: ResultPaths['prune-snapshots'],
    retries: [],
    // The backup is taken and available; only older snapshots may be left that the policy would delete.
    catches: [
      { errors: [ALL_ERRORS], next: 'retentionFailed', resultPath: '$.error', databaseChanged: 'no' },
    ],
  },
} as const satisfies Partial<Record<StateKey, TaskRouting>>;

export type TaskKey = keyof typeof Routing;

/** The Tasks that invoke a step's Lambda function. */
export type LambdaTaskKey = {
  [K in TaskKey]: (typeof Routing)[K] extends { readonly step: Step } ? K : never;
}[TaskKey];
