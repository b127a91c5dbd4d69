/**
 * Verify the database after the release (every migration of the plan finished, no failed row, the user's
 * checks pass) or after a rollback (the history is exactly what it was before the release).
 */
import type { HealthReport, WorkflowState } from '../shared/contract.js';
import { HealthCheckFailedError } from '../shared/errors.js';
import type { HealthProbe } from '../shared/ports.js';
import { requirePlan, stateOf } from '../shared/state.js';

export interface VerifyHealthDeps {
  readonly probe: HealthProbe;
}

/** True when the state document is past the swap, i.e. this is the check after a rollback. */
export function isAfterRollback(state: WorkflowState): boolean {
  return state.swap?.complete === true;
}

export async function verifyHealth(event: unknown, deps: VerifyHealthDeps): Promise<HealthReport> {
  const state = stateOf(event, 'verify-health');
  const plan = requirePlan(state, 'verify-health');
  const afterRollback = isAfterRollback(state);
  const migrations = afterRollback
    ? plan.applied
    : [...plan.applied, ...(state.apply?.applied ?? plan.pending)];
  const report = await deps.probe.check({ migrations, exact: afterRollback });
  if (!report.healthy) {
    const failed = report.checks.filter((check) => !check.ok);
    throw new HealthCheckFailedError(
      `${afterRollback ? 'After the rollback, ' : ''}database ${plan.databaseName} is not healthy: ` +
        failed.map((check) => `${check.name}: ${check.detail}`).join('; '),
      { details: { checks: report.checks } },
    );
  }
  return report;
}
