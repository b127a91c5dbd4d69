import { stepHandler } from '../shared/handler-factory.js';
import { systemClock } from '../shared/ports.js';
import { applyMigrations } from './apply-migrations.js';

/**
 * Time the function keeps to report after a statement is cancelled: reading what committed takes a fresh
 * connection and one query. Without a `statementTimeout` prop, no statement may run past the function's
 * remaining time minus this margin, so the step answers instead of dying.
 */
export const REPORT_MARGIN_MS = 60_000;

/** The `statement_timeout` for a function with `remainingMs` left: its remaining time minus the margin. */
export function reportingStatementTimeoutMs(remainingMs: number): number {
  return Math.max(1_000, Math.floor(remainingMs - REPORT_MARGIN_MS));
}

export const handler = stepHandler('apply-migrations', async (event, runtime, context) => {
  const statementTimeoutMs = reportingStatementTimeoutMs(context.getRemainingTimeInMillis());
  const engine = await runtime.engine({ statementTimeoutMs });
  try {
    return await applyMigrations(event, {
      source: runtime.migrationSource(),
      engine,
      inspector: await runtime.releaseInspector(),
      clock: systemClock,
    });
  } finally {
    await engine.close();
  }
});
