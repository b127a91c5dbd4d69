/**
 * How a local run ends (its outcomes and their exit codes, which the AWS operator commands share) and the runner's
 * defaults: what the CLI needs of the runner before, or without, loading it (`--help`, the AWS commands).
 */
import { OutcomeErrors, type WorkflowState } from '../../lambdas/shared/contract/contract.js';

/** How a local run ended, and the process exit code the CLI uses for it. */
export const Outcomes = {
  succeeded: { exitCode: 0, summary: 'migrations applied' },
  'nothing-to-do': { exitCode: 0, summary: 'every migration is already applied' },
  'dry-run': { exitCode: 0, summary: 'dry run: plan computed, nothing applied' },
  'preflight-refused': { exitCode: 1, summary: 'preflight refused the release; nothing was touched' },
  'migration-rolled-back': {
    exitCode: 2,
    summary: 'migration failed and was rolled back: the snapshot was restored and swapped into place',
  },
  'rollback-failed': {
    exitCode: 3,
    summary: 'ROLLBACK FAILED: the database may hold the failed release; operator action required',
  },
  'failed-without-snapshot': {
    exitCode: 3,
    summary:
      'the release failed and there is no snapshot to restore (skipSnapshot): the database holds what the ' +
      'failed release left; operator action required',
  },
  'snapshot-failed': { exitCode: 4, summary: 'the snapshot could not be taken; nothing was applied' },
  'release-failed-unchanged': {
    exitCode: 5,
    summary:
      'the release failed and nothing of it committed: the database is unchanged, nothing was restored',
  },
  'outcome-unknown': {
    exitCode: 6,
    summary:
      'the release failed and what it committed could not be read: nothing was restored on a guess; operator ' +
      'action required',
  },
  'backup-taken': {
    exitCode: 0,
    summary: 'backup taken and the retention policy applied',
  },
  'backup-restored': {
    exitCode: 0,
    summary: 'the snapshot was restored and swapped into place; the replaced database is kept aside',
  },
  'retention-failed': {
    exitCode: 7,
    summary:
      'backup taken, but the retention policy could not be applied: older snapshots it would delete are still there',
  },
  'restore-failed': {
    exitCode: 8,
    summary:
      'the requested restore failed (no release involved): the database is replaced only by the swap; the cause ' +
      'says where it stands',
  },
  'unfinished-execution': {
    exitCode: 1,
    summary: 'an earlier execution did not finish and left databases behind; nothing was touched',
  },
  interrupted: {
    exitCode: 130,
    summary: 'interrupted (SIGINT/SIGTERM): the run stopped its work on the server; see where things stand',
  },
} as const;

/** The `managed-by` tag value of what local runs create. */
export const LOCAL_MANAGED_BY = 'migration-orchestrator-local';

/** Pre-migration snapshots of successful releases kept per database by default. */
export const DEFAULT_KEEP_SNAPSHOTS = 3;

/** How long the cleanup after an interrupt may take by default. */
export const DEFAULT_CLEANUP_TIMEOUT_MS = 30_000;
export type Outcome = keyof typeof Outcomes;

const OUTCOME_BY_ERROR: Record<string, Outcome> = {
  [OutcomeErrors.PreflightRefused]: 'preflight-refused',
  [OutcomeErrors.SnapshotFailedDatabaseUntouched]: 'snapshot-failed',
  [OutcomeErrors.ReleaseFailedDatabaseUnchanged]: 'release-failed-unchanged',
  [OutcomeErrors.MigrationRolledBack]: 'migration-rolled-back',
  [OutcomeErrors.RollbackFailed]: 'rollback-failed',
  [OutcomeErrors.MigrationFailedWithoutSnapshot]: 'failed-without-snapshot',
  [OutcomeErrors.ReleaseOutcomeUnknown]: 'outcome-unknown',
  [OutcomeErrors.BackupTakenRetentionFailed]: 'retention-failed',
  [OutcomeErrors.BackupRestoreFailed]: 'restore-failed',
};

/**
 * The outcome of an execution that failed with `error` (the error of a terminal Fail state). Any other error
 * (an uncaught step failure, a runtime error of the definition) is treated as a failed rollback: look first.
 */
export function outcomeOfError(error: string | undefined): Outcome {
  return OUTCOME_BY_ERROR[error ?? ''] ?? 'rollback-failed';
}

/** The outcome of an execution that succeeded, from its output (the final state document). */
export function outcomeOfSuccess(output: Pick<WorkflowState, 'plan'> | undefined): Outcome {
  const plan = output?.plan;
  if (plan?.mode === 'backup') return 'backup-taken';
  if (plan?.mode === 'restore') return 'backup-restored';
  if (plan && !plan.proceed) return plan.dryRun && plan.pending.length > 0 ? 'dry-run' : 'nothing-to-do';
  return 'succeeded';
}
