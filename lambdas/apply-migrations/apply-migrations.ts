/**
 * Apply the pending migrations with Prisma's own migration engine, in the transaction mode the plan chose.
 */
import type { ApplyResult } from '../shared/contract.js';
import type { Clock, MigrationEngine, MigrationSource } from '../shared/ports.js';
import { requirePlan, stateOf } from '../shared/state.js';

export interface ApplyMigrationsDeps {
  readonly source: MigrationSource;
  readonly engine: MigrationEngine;
  readonly clock: Clock;
}

export async function applyMigrations(event: unknown, deps: ApplyMigrationsDeps): Promise<ApplyResult> {
  const state = stateOf(event, 'apply-migrations');
  const plan = requirePlan(state, 'apply-migrations');
  const bundle = await deps.source.load();
  const started = deps.clock.now().getTime();
  const outcome = await deps.engine.applyPending(bundle, { transactionMode: plan.transactionMode });
  return {
    applied: outcome.applied,
    transactionMode: outcome.transactionMode,
    durationMs: deps.clock.now().getTime() - started,
  };
}
