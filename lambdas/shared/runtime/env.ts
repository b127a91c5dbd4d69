/**
 * The Lambda environment, read in this one place and validated. The construct sets these variables; a
 * missing or wrong one is a deployment bug, reported with the variable's name and the fix.
 */
import { z } from 'zod';
import { TransactionModes } from '../contract/contract.js';
import { InvalidInputError } from '../contract/errors.js';
import { DEFAULT_DRIFT_POLICY, DriftPolicies } from '../domain/drift.js';
import {
  DEFAULT_LOCK_TIMEOUT_MS,
  DEFAULT_MANAGED_BY,
  DEFAULT_SETTINGS,
  DEFAULT_STATEMENT_TIMEOUT_MS,
  type WorkflowSettings,
} from './settings.js';

const positiveInt = z.coerce.number().int().positive();

/** A variable holding a JSON array (`[]` when unset) of `item`s; `message` says what a bad one should be. */
function jsonArrayOf<T extends z.ZodType>(item: T, message: string) {
  return z
    .string()
    .default('[]')
    .transform((raw, ctx) => {
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message });
        return z.NEVER;
      }
    })
    .pipe(z.array(item));
}

const EnvSchema = z.object({
  TARGET_KIND: z.enum(['instance', 'cluster']),
  TARGET_IDENTIFIER: z.string().min(1),
  DATABASE_SECRET_ARN: z.string().startsWith('arn:', 'must be a Secrets Manager secret ARN'),
  DATABASE_NAME: z.string().min(1).optional(),
  MIGRATIONS_DIR: z.string().min(1).optional(),
  TRANSACTION_MODE: z.enum(TransactionModes).default(DEFAULT_SETTINGS.transactionMode),
  SNAPSHOT_TIMEOUT_SECONDS: positiveInt.default(DEFAULT_SETTINGS.snapshotTimeoutSeconds),
  RESTORE_TIMEOUT_SECONDS: positiveInt.default(DEFAULT_SETTINGS.restoreTimeoutSeconds),
  POLL_INITIAL_SECONDS: positiveInt.default(DEFAULT_SETTINGS.initialPollSeconds),
  POLL_MAX_SECONDS: positiveInt.default(DEFAULT_SETTINGS.maxPollSeconds),
  LOCK_TIMEOUT_MS: z.coerce.number().int().nonnegative().default(DEFAULT_LOCK_TIMEOUT_MS),
  STATEMENT_TIMEOUT_MS: z.coerce.number().int().nonnegative().default(DEFAULT_STATEMENT_TIMEOUT_MS),
  HEALTH_CHECKS: jsonArrayOf(
    z.object({ name: z.string().min(1), sql: z.string().min(1) }).strict(),
    'must be a JSON array of { "name", "sql" }',
  ),
  CHECK_SCHEMA_DRIFT: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
  DRIFT_POLICY: z.enum(DriftPolicies).default(DEFAULT_DRIFT_POLICY),
  DRIFT_IGNORE: jsonArrayOf(z.string().min(1), 'must be a JSON array of table or schema names'),
  MANAGED_BY: z.string().min(1).default(DEFAULT_MANAGED_BY),
});

export type LambdaEnv = z.infer<typeof EnvSchema>;

export function readEnv(env: NodeJS.ProcessEnv = process.env): LambdaEnv {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
      .join('; ');
    throw new InvalidInputError(
      `The function's environment is invalid (${problems}). These variables are set by the ` +
        'MigrationOrchestrator construct: redeploy the stack rather than editing them by hand.',
    );
  }
  return parsed.data;
}

export function settingsFromEnv(env: LambdaEnv): WorkflowSettings {
  return {
    targetIdentifier: env.TARGET_IDENTIFIER,
    transactionMode: env.TRANSACTION_MODE,
    snapshotTimeoutSeconds: env.SNAPSHOT_TIMEOUT_SECONDS,
    restoreTimeoutSeconds: env.RESTORE_TIMEOUT_SECONDS,
    initialPollSeconds: env.POLL_INITIAL_SECONDS,
    maxPollSeconds: env.POLL_MAX_SECONDS,
    managedBy: env.MANAGED_BY,
    healthChecks: env.HEALTH_CHECKS,
    drift: { policy: env.DRIFT_POLICY, ignore: env.DRIFT_IGNORE },
  };
}
