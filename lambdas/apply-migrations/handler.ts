import { awsBase } from '../shared/runtime/aws/base.js';
import { databaseCapability } from '../shared/runtime/aws/database.js';
import { engineCapability } from '../shared/runtime/aws/engine.js';
import { stepHandler } from '../shared/runtime/handler-factory.js';
import { applyMetrics } from '../shared/runtime/step-metrics.js';
import { runApplyMigrations } from './run.js';

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

export const handler = stepHandler(
  'apply-migrations',
  async (event, context) => {
    const base = awsBase();
    const database = databaseCapability(base);
    return await runApplyMigrations(
      event,
      { ...base, ...database, ...engineCapability(base, database) },
      { statementTimeoutMs: reportingStatementTimeoutMs(context.getRemainingTimeInMillis()) },
    );
  },
  { metrics: applyMetrics },
);
