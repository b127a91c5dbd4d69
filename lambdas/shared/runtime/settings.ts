/**
 * The settings every step core receives. On AWS they come from the Lambda environment (env.ts, set by the
 * construct); locally from the runner's options. Never a secret here.
 */
import type { TransactionMode } from '../contract/contract.js';
import type { Clock, SnapshotGateway } from '../contract/ports.js';
import { DEFAULT_DRIFT_SETTINGS, type DriftSettings } from '../domain/drift.js';
import type { LintPolicyOverrides } from '../domain/lint/policy.js';
import { DEFAULT_RETENTION_POLICY, type RetentionPolicy } from '../domain/retention.js';

export interface HealthCheckDefinition {
  /** Shown in reports. */
  readonly name: string;
  /** A query returning one row whose first column is `true` when healthy. */
  readonly sql: string;
}

/** An HTTP health check: a GET of `url` that must answer `expectedStatus` (and hold `bodyContains`). */
export interface HttpHealthCheckDefinition {
  /** Shown in reports. */
  readonly name: string;
  /** An http:// or https:// URL, without user name or password. */
  readonly url: string;
  /** The status code that means healthy. @default 200 */
  readonly expectedStatus?: number;
  /** Text the response body must contain (the body itself is never reported). @default - not checked */
  readonly bodyContains?: string;
  /** How long to wait for the answer. @default 5000 */
  readonly timeoutMs?: number;
}

export interface WorkflowSettings {
  /** RDS instance id, Aurora cluster id, or local database name. */
  readonly targetIdentifier: string;
  readonly transactionMode: TransactionMode;
  readonly snapshotTimeoutSeconds: number;
  readonly restoreTimeoutSeconds: number;
  /** First wait between two status checks; doubles on each check up to `maxPollSeconds`. */
  readonly initialPollSeconds: number;
  readonly maxPollSeconds: number;
  /** Tag value of `managed-by` on what the workflow creates (the stack name). */
  readonly managedBy: string;
  readonly healthChecks: readonly HealthCheckDefinition[];
  /** How schema drift is judged (where a drift check runs: locally always, on AWS with `checkSchemaDrift`). */
  readonly drift: DriftSettings;
  /** Which managed snapshots the `backup` mode keeps (and deletes the rest of). */
  readonly retention: RetentionPolicy;
  /** The lint's policy per rule, over `DEFAULT_LINT_POLICY` (docs/lint.md). @default - the defaults */
  readonly lintPolicy?: LintPolicyOverrides;
  /**
   * Preflight ends a session holding Prisma's migration lock that has been idle (or idle in transaction) longer
   * than this. @default - never: preflight refuses while the lock is held
   */
  readonly endIdleLockHoldersAfterSeconds?: number;
  /** HTTP checks run before the release (a baseline), after it, during the bake and after a rollback. */
  readonly httpHealthChecks?: readonly HttpHealthCheckDefinition[];
  /**
   * After a healthy verification of a release, wait this long and run every check again before declaring
   * success. @default - no bake
   */
  readonly bakeSeconds?: number;
}

/** `lock_timeout` of the migration session: a migration waiting longer for a lock fails. */
export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
/** `statement_timeout` of the migration session; 0 means none (the apply function sets its own margin). */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 0;
/** `managed-by` tag value where none is configured (the construct sets the stack name). */
export const DEFAULT_MANAGED_BY = 'prisma-migration-orchestrator';

export const DEFAULT_SETTINGS = {
  transactionMode: 'release',
  snapshotTimeoutSeconds: 2 * 60 * 60,
  restoreTimeoutSeconds: 3 * 60 * 60,
  initialPollSeconds: 15,
  maxPollSeconds: 120,
  healthChecks: [],
  drift: DEFAULT_DRIFT_SETTINGS,
  retention: DEFAULT_RETENTION_POLICY,
} as const satisfies Partial<WorkflowSettings>;

/** Wait before the next status check: `initial * 2^attempts`, capped at `max`. */
export function backoffSeconds(settings: WorkflowSettings, attempts: number): number {
  const raw = settings.initialPollSeconds * 2 ** Math.max(0, attempts);
  return Math.max(1, Math.min(settings.maxPollSeconds, Math.round(raw)));
}

/** Where a Wait -> Check -> Choice loop starts: its deadline and the first wait (1 s when already done). */
export function startPolling(
  settings: WorkflowSettings,
  now: Date,
  timeoutSeconds: number,
  done: boolean,
): { startedAt: string; deadline: string; attempts: number; waitSeconds: number } {
  return {
    startedAt: now.toISOString(),
    deadline: new Date(now.getTime() + timeoutSeconds * 1000).toISOString(),
    attempts: 0,
    waitSeconds: done ? 1 : backoffSeconds(settings, 0),
  };
}

/** One more check of such a loop: its count, the next wait, and whether the loop's deadline has passed. */
export function nextPoll(
  settings: WorkflowSettings,
  progress: { readonly attempts: number; readonly deadline: string },
  now: Date,
): { attempts: number; waitSeconds: number; overdue: boolean } {
  const attempts = progress.attempts + 1;
  return {
    attempts,
    waitSeconds: backoffSeconds(settings, attempts),
    overdue: now.getTime() > Date.parse(progress.deadline),
  };
}

/** What the snapshot, restore and swap cores depend on. */
export interface SnapshotStepDeps {
  readonly gateway: SnapshotGateway;
  readonly settings: WorkflowSettings;
  readonly clock: Clock;
}
