/**
 * One class per failure the workflow routes on. The class `name` is the error name Step Functions sees
 * (the Lambda `errorType`), taken from `ErrorNames` in the contract. Messages name the resource and the
 * next action, and never carry a secret or a connection string.
 */
import { type ErrorName, ErrorNames } from './contract.js';

export interface OrchestratorErrorOptions {
  readonly cause?: unknown;
  /** Structured details for the report (no secrets). */
  readonly details?: Record<string, unknown>;
}

export abstract class OrchestratorError extends Error {
  abstract override readonly name: ErrorName;
  readonly details: Record<string, unknown>;

  constructor(message: string, options: OrchestratorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.details = options.details ?? {};
  }
}

export class InvalidInputError extends OrchestratorError {
  override readonly name = ErrorNames.InvalidInput;
}

export class MigrationsInvalidError extends OrchestratorError {
  override readonly name = ErrorNames.MigrationsInvalid;
}

export class DatabaseUnreachableError extends OrchestratorError {
  override readonly name = ErrorNames.DatabaseUnreachable;
}

export class MigrationHistoryBlockedError extends OrchestratorError {
  override readonly name = ErrorNames.MigrationHistoryBlocked;
}

export class ConcurrentExecutionError extends OrchestratorError {
  override readonly name = ErrorNames.ConcurrentExecution;
}

export class TargetNotAvailableError extends OrchestratorError {
  override readonly name = ErrorNames.TargetNotAvailable;
}

export class SnapshotFailedError extends OrchestratorError {
  override readonly name = ErrorNames.SnapshotFailed;
}

export class SnapshotTimedOutError extends OrchestratorError {
  override readonly name = ErrorNames.SnapshotTimedOut;
}

export class SnapshotQuotaExceededError extends OrchestratorError {
  override readonly name = ErrorNames.SnapshotQuotaExceeded;
}

export class MigrationFailedError extends OrchestratorError {
  override readonly name = ErrorNames.MigrationFailed;
}

export class MigrationFailedDatabaseUnchangedError extends OrchestratorError {
  override readonly name = ErrorNames.MigrationFailedDatabaseUnchanged;
}

export class HealthCheckFailedError extends OrchestratorError {
  override readonly name = ErrorNames.HealthCheckFailed;
}

export class RestoreFailedError extends OrchestratorError {
  override readonly name = ErrorNames.RestoreFailed;
}

export class RestoreTimedOutError extends OrchestratorError {
  override readonly name = ErrorNames.RestoreTimedOut;
}

export class SwapFailedError extends OrchestratorError {
  override readonly name = ErrorNames.SwapFailed;
}

export class TransientFaultError extends OrchestratorError {
  override readonly name = ErrorNames.TransientFault;
}

export class ReleaseOutcomeUnknownError extends OrchestratorError {
  override readonly name = ErrorNames.ReleaseOutcomeUnknown;
}

export class RetentionFailedError extends OrchestratorError {
  override readonly name = ErrorNames.RetentionFailed;
}

/** The message of any thrown value, for reports. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
