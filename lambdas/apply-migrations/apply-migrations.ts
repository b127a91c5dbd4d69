/**
 * Apply the pending migrations with Prisma's own migration engine, in the transaction mode the plan chose.
 *
 * When the engine fails, the step does not guess what that means for the database: it ends its own migration
 * session on the server, reads `_prisma_migrations` on a fresh connection and reports what committed
 * (`judgeRelease`). Nothing committed: `MigrationFailedDatabaseUnchanged` (no restore). Something committed:
 * `MigrationFailed` (the restore path). A database unreachable before anything started stays
 * `DatabaseUnreachable` (retried, then nothing to restore).
 */
import {
  type ApplyResult,
  ErrorNames,
  MAX_MIGRATION_TIMINGS,
  type MigrationTiming,
} from '../shared/contract/contract.js';
import { DatabaseUnreachableError, messageOf, OrchestratorError } from '../shared/contract/errors.js';
import type { Clock, MigrationEngine, MigrationSource, ReleaseInspector } from '../shared/contract/ports.js';
import { requireExecution, requirePlan, stateOf } from '../shared/contract/state.js';
import {
  applySessionName,
  decideOnEvidence,
  type FailureSummary,
} from '../shared/domain/release-evidence.js';

export interface ApplyMigrationsDeps {
  readonly source: MigrationSource;
  readonly engine: MigrationEngine;
  /** Reads what a failed release committed, on fresh connections. */
  readonly inspector: ReleaseInspector;
  readonly clock: Clock;
}

/** Errors that say the release never started: the database is untouched, no evidence is needed. */
const NOT_STARTED: ReadonlySet<string> = new Set([
  ErrorNames.InvalidInput,
  ErrorNames.MigrationsInvalid,
  ErrorNames.MigrationHistoryBlocked,
]);

export async function applyMigrations(event: unknown, deps: ApplyMigrationsDeps): Promise<ApplyResult> {
  const state = stateOf(event, 'apply-migrations');
  const plan = requirePlan(state, 'apply-migrations');
  const sessionName = applySessionName(requireExecution(state, 'apply-migrations'));
  const bundle = await deps.source.load();
  const started = deps.clock.now().getTime();
  try {
    const resolve = (plan.resolve ?? []).map(({ migration, as }) => ({ migration, as }));
    const outcome = await deps.engine.applyPending(bundle, {
      transactionMode: plan.transactionMode,
      applicationName: sessionName,
      // After the snapshot, on the migration session: marked in the release transaction in `release` mode.
      ...(resolve.length > 0 ? { resolve } : {}),
      // What preflight's parse found, used when the pending scripts are still exactly those it read.
      ...(plan.analysedDigest
        ? { verdicts: { digest: plan.analysedDigest, nonAtomic: plan.nonAtomic ?? [] } }
        : {}),
    });
    return {
      applied: outcome.applied,
      transactionMode: outcome.transactionMode,
      durationMs: deps.clock.now().getTime() - started,
      ...(outcome.lockRetries?.length ? { lockRetries: outcome.lockRetries } : {}),
      ...(outcome.resolved?.length ? { resolved: outcome.resolved } : {}),
      ...cappedTimings(outcome.timings ?? []),
    };
  } catch (error) {
    if (error instanceof OrchestratorError && NOT_STARTED.has(error.name)) throw error;
    if (error instanceof DatabaseUnreachableError && error.details.started !== true) throw error;
    const failure: FailureSummary = { name: (error as Error).name, message: messageOf(error) };
    const result = await decideOnEvidence(plan, deps.inspector, sessionName, failure, error);
    // The engine failed, yet every pending migration is recorded as finished (it failed after the last one).
    return { ...result, durationMs: deps.clock.now().getTime() - started };
  }
}

/**
 * The timings the state document carries: all of them up to `max`, else the `max` slowest (in the order applied)
 * and how many were left out, so that a release of hundreds of migrations stays far below the 256 KB state limit.
 */
export function cappedTimings(
  timings: readonly MigrationTiming[],
  max = MAX_MIGRATION_TIMINGS,
): Pick<ApplyResult, 'timings' | 'timingsOmitted'> {
  if (timings.length === 0) return {};
  if (timings.length <= max) return { timings: [...timings] };
  const kept = new Set(
    timings
      .map((timing, index) => ({ index, durationMs: timing.durationMs }))
      .sort((a, b) => b.durationMs - a.durationMs || a.index - b.index)
      .slice(0, max)
      .map((entry) => entry.index),
  );
  return {
    timings: timings.filter((_, index) => kept.has(index)),
    timingsOmitted: timings.length - max,
  };
}
