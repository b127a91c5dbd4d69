/**
 * Verify the database after the release (every migration of the plan finished, no failed row, the user's
 * checks pass, no drift the release introduced under the `fail` policy) or after a rollback (the database
 * answers and its history is the one from before the release).
 *
 * A verification that fails a healthy release is as harmful as one that passes a broken one: drift that was
 * there before the release is reported, never acted on; after a rollback, only what a restore must bring
 * back (the database and its history) can fail it, and the rest is reported.
 */
import {
  type HealthCheckResult,
  type HealthReport,
  OutcomeErrors,
  runbookArticle,
  type WorkflowState,
} from '../shared/contract/contract.js';
import { HealthCheckFailedError } from '../shared/contract/errors.js';
import type { HealthExpectation, HealthProbe } from '../shared/contract/ports.js';
import {
  isAfterRollback,
  modeOf,
  requirePlan,
  requireRestorePlan,
  stateOf,
} from '../shared/contract/state.js';
import type { DriftSettings } from '../shared/domain/drift.js';
import { messageOfCaught } from '../shared/domain/release-evidence.js';

export interface VerifyHealthDeps {
  readonly probe: HealthProbe;
  /** How drift is judged. @default the `warn` policy, nothing ignored */
  readonly drift?: DriftSettings;
  /** The user's HTTP checks (their results are of kind `http`). @default - none */
  readonly http?: HealthProbe;
  /**
   * After a healthy verification of a release, wait this long, then run every check again: success only when
   * they pass again (the bake time). Not after a rollback or a restore. @default - no bake
   */
  readonly bakeSeconds?: number;
  /** Waits through the bake time. @default a timer */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What may fail the check after a rollback: what the restore must have brought back. */
const RESTORED_KINDS = new Set<HealthCheckResult['kind']>(['database', 'history']);

/** The terminal message of a verified rollback: what happened, the state of the database, the next action. */
function rollbackSummary(state: WorkflowState, warnings: readonly string[]): string {
  const plan = requirePlan(state, 'verify-health');
  const swap = state.swap;
  const why = state.error ? `(${state.error.Error}) ${messageOfCaught(state.error)}` : 'unknown.';
  const notes = warnings.length > 0 ? ` Reported, not acted on: ${warnings.join(' ')}` : '';
  return (
    `Rolled back: database ${plan.databaseName} (${swap?.originalIdentifier ?? plan.targetIdentifier}) again holds ` +
    `the data of snapshot ${state.snapshot?.snapshotId ?? '(unknown)'}, taken before the release, and its ` +
    `_prisma_migrations has no row of this release (${plan.pending.join(', ')}). The failed database is kept as ` +
    `${swap?.asideIdentifier ?? '(unknown)'} for forensics, never deleted by this workflow; writes made after the ` +
    `snapshot are only there. Why the release failed: ${why} Next: fix the release and deploy again; there is ` +
    `nothing to resolve with prisma migrate resolve.${notes}`
  );
}

/** The terminal message of a verified `restore`: what serves now, where the replaced database is, what next. */
function restoreSummary(state: WorkflowState, warnings: readonly string[]): string {
  const { source, targetIdentifier } = requireRestorePlan(state, 'verify-health');
  const notes = warnings.length > 0 ? ` Reported, not acted on: ${warnings.join(' ')}` : '';
  return (
    `Restored: ${state.swap?.originalIdentifier ?? targetIdentifier} now holds the data of snapshot ` +
    `${source.snapshotId} (${source.kind}, taken ${source.createdAt}). The database it replaced is kept as ` +
    `${state.swap?.asideIdentifier ?? '(unknown)'}, never deleted by this workflow; writes made after ` +
    `${source.createdAt} are only there. Next: check the application; if the snapshot predates releases, ` +
    `deploy them again (their rows are not in this _prisma_migrations).${notes}`
  );
}

/** The database's state and the one next action, after a failed verification. */
function whatNow(state: WorkflowState, afterRollback: boolean): string {
  if (modeOf(state) === 'restore') {
    const { source, targetIdentifier } = requireRestorePlan(state, 'verify-health');
    return (
      `The restored copy of snapshot ${source.snapshotId} serves as ${state.swap?.originalIdentifier ?? targetIdentifier}; ` +
      `the database it replaced is kept as ${state.swap?.asideIdentifier ?? '(unknown)'}. Next: check by hand that the ` +
      `endpoint answers (${runbookArticle(OutcomeErrors.BackupRestoreFailed)}).`
    );
  }
  const plan = requirePlan(state, 'verify-health');
  if (afterRollback) {
    return (
      `The restored copy of snapshot ${state.snapshot?.snapshotId ?? '(unknown)'} serves as ` +
      `${state.swap?.originalIdentifier ?? plan.targetIdentifier}; the failed database is kept as ` +
      `${state.swap?.asideIdentifier ?? '(unknown)'}. Next: check by hand that the endpoint answers and that ` +
      `_prisma_migrations holds the history from before the release (${runbookArticle(OutcomeErrors.RollbackFailed)}).`
    );
  }
  return plan.snapshotRequired
    ? 'The release is committed; the pre-migration snapshot is restored and swapped in next.'
    : `The release is committed and no snapshot was taken (skipSnapshot: ${plan.skipSnapshotReason ?? 'no reason'}): ` +
        'nothing can be restored. Next: fix forward with a new migration, or repair the database by hand.';
}

/** `database <name>` of a release, the target's identifier otherwise. */
function databaseOf(state: WorkflowState): string {
  return modeOf(state) === 'migrate'
    ? `database ${requirePlan(state, 'verify-health').databaseName}`
    : (state.plan?.targetIdentifier ?? 'the database');
}

/** What the check expects: after a restore, only a database that answers (its history is the snapshot's). */
function expectationOf(
  state: WorkflowState,
  afterRollback: boolean,
  drift: DriftSettings,
): HealthExpectation {
  // The restored schema is the snapshot's, whatever the migrations directory holds today: no drift check.
  if (modeOf(state) === 'restore')
    return { migrations: [], drift: { settings: { ...drift, policy: 'off' }, mode: 'report' } };
  const plan = requirePlan(state, 'verify-health');
  // A failed row the input resolved was there before the release: the snapshot brings it back, unresolved.
  const resolved = (plan.resolve ?? []).map((r) => r.migration);
  const expected = plan.expectedSchemas ? { expected: plan.expectedSchemas } : {};
  return afterRollback
    ? {
        migrations: plan.applied.filter((name) => !resolved.includes(name)),
        absent: plan.pending,
        ...(resolved.length > 0 ? { failedBefore: resolved } : {}),
        drift: { settings: drift, mode: 'report', ...expected },
      }
    : {
        migrations: [...plan.applied, ...(state.apply?.applied ?? plan.pending)],
        drift: {
          settings: drift,
          mode: 'release',
          ...(plan.driftBaseline ? { baseline: plan.driftBaseline } : {}),
          ...expected,
        },
      };
}

/** Every check once: the database probe's, then the HTTP checks. */
async function runChecks(
  deps: VerifyHealthDeps,
  expectation: HealthExpectation,
): Promise<HealthCheckResult[]> {
  const report = await deps.probe.check(expectation);
  const http = deps.http ? (await deps.http.check(expectation)).checks : [];
  return [...report.checks, ...http];
}

/**
 * Which failed checks fail the verification, and what is only reported. After a rollback only what a restore
 * must bring back counts; an HTTP check that already failed before the release (preflight) never counts: the
 * release did not break it.
 */
function judge(
  checks: readonly HealthCheckResult[],
  afterRollback: boolean,
  failingBefore: ReadonlySet<string>,
): { blocking: HealthCheckResult[]; warnings: string[] } {
  const before = (check: HealthCheckResult) => check.kind === 'http' && failingBefore.has(check.name);
  const blocking = checks.filter(
    (check) => !check.ok && (!afterRollback || RESTORED_KINDS.has(check.kind)) && !before(check),
  );
  const warnings = checks.flatMap((check) =>
    check.warning !== undefined
      ? [`${check.name}: ${check.warning}.`]
      : !check.ok && blocking.indexOf(check) < 0
        ? [
            `${check.name}: ${check.detail}${before(check) ? ' (already failing before the release: not acted on)' : ''}.`,
          ]
        : [],
  );
  return { blocking, warnings };
}

export async function verifyHealth(event: unknown, deps: VerifyHealthDeps): Promise<HealthReport> {
  const state = stateOf(event, 'verify-health');
  const afterRollback = isAfterRollback(state);
  const drift = deps.drift ?? { policy: 'warn', ignore: [] };
  const expectation = expectationOf(state, afterRollback, drift);
  const failingBefore = new Set(
    modeOf(state) === 'migrate' ? (requirePlan(state, 'verify-health').httpChecksFailingBefore ?? []) : [],
  );
  const fail = (
    blocking: readonly HealthCheckResult[],
    checks: readonly HealthCheckResult[],
    during: string,
  ) => {
    throw new HealthCheckFailedError(
      `${during}${afterRollback ? `After the ${modeOf(state) === 'restore' ? 'restore' : 'rollback'}, ` : ''}` +
        `${databaseOf(state)} is not healthy: ` +
        `${blocking.map((check) => `${check.name}: ${check.detail}`).join('; ')}. ${whatNow(state, afterRollback)}`,
      { details: { checks } },
    );
  };
  let checks = await runChecks(deps, expectation);
  let { blocking, warnings } = judge(checks, afterRollback, failingBefore);
  if (blocking.length > 0) fail(blocking, checks, '');
  const bake = !afterRollback && modeOf(state) === 'migrate' ? (deps.bakeSeconds ?? 0) : 0;
  if (bake > 0) {
    const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    await sleep(bake * 1000);
    checks = await runChecks(deps, expectation);
    ({ blocking, warnings } = judge(checks, afterRollback, failingBefore));
    if (blocking.length > 0) {
      fail(blocking, checks, `Healthy right after the release, but not after the bake time (${bake} s): `);
    }
  }
  return {
    healthy: true,
    checks,
    ...(warnings.length > 0 ? { warnings } : {}),
    ...(bake > 0 ? { bakedSeconds: bake } : {}),
    ...(afterRollback
      ? {
          summary:
            modeOf(state) === 'restore' ? restoreSummary(state, warnings) : rollbackSummary(state, warnings),
        }
      : {}),
  };
}
