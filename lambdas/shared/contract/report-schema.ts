/**
 * The execution report: one JSON document per execution, written to the report bucket on AWS
 * (`reports/<state machine>/<execution>.json`) and to `.reports/<execution>.json` locally. Its schema is written
 * here, once: the TypeScript type is inferred from it, the tests validate every report they build against it, and
 * `docs/report.schema.json` is generated from it for readers of the bucket.
 *
 * The Lambda that writes reports imports only the type (this module, with the schema library, stays out of its
 * bundle). The step payloads (plan, snapshot, health, ...) are the contract's (`contract.ts`); the schema checks
 * the fields a reader relies on and lets the rest through.
 */
import { z } from 'zod';
import { REPORT_SCHEMA_VERSION } from '../domain/report.js';
import { Modes } from './contract.js';

export { REPORT_SCHEMA_VERSION };

const timestamp = z.iso.datetime({ offset: true });
const milliseconds = z.number().int().nonnegative();

const StepErrorSchema = z.strictObject({
  /** The error's name (`MigrationFailed`, `States.Timeout`). */
  name: z.string().min(1),
  /** What the step said, row values redacted, no stack trace. */
  message: z.string().optional(),
});

const HealthCheckSchema = z.looseObject({
  name: z.string(),
  ok: z.boolean(),
  detail: z.string(),
});

const HealthSchema = z.looseObject({
  healthy: z.boolean(),
  checks: z.array(HealthCheckSchema),
  warnings: z.array(z.string()).optional(),
  summary: z.string().optional(),
});

const LintFindingSchema = z.looseObject({
  rule: z.string().min(1),
  migration: z.string().min(1),
  file: z.string().min(1),
  line: z.number().int().positive(),
  column: z.number().int().positive(),
  statement: z.string(),
  message: z.string(),
});

export const PathEntrySchema = z.strictObject({
  state: z.string().min(1),
  type: z.enum(['Pass', 'Task', 'Choice', 'Wait', 'Succeed', 'Fail', 'Parallel', 'Map']),
  enteredAt: timestamp,
  /** Until the state was left (absent while it runs, or for a terminal Fail state). */
  durationMs: milliseconds.optional(),
  /** `failed`: the state's error was caught (the workflow went on) or ended the execution. */
  result: z.enum(['succeeded', 'failed', 'running']),
  /** Retries of the state's task (throttling, transient faults, the step's own retriers). */
  retries: z.number().int().nonnegative(),
});

export const ExecutionReportSchema = z.strictObject({
  schemaVersion: z.literal(REPORT_SCHEMA_VERSION),
  generatedAt: timestamp,
  /** Where the execution ran: Step Functions, or the local runner. */
  runtime: z.enum(['aws', 'local']),
  execution: z.strictObject({
    name: z.string().min(1),
    arn: z.string().min(1),
    stateMachine: z.string().optional(),
    status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE']),
    startedAt: timestamp,
    stoppedAt: timestamp.optional(),
    durationMs: milliseconds.optional(),
    /** The AWS console page of the execution (AWS only). */
    consoleUrl: z.url().optional(),
  }),
  /** `migrate`, `backup` or `restore`; absent when preflight refused the input before reading it. */
  mode: z.enum(Modes).optional(),
  release: z.string().optional(),
  /** The target: instance or cluster identifier (AWS), database name (local). */
  target: z.string().optional(),
  database: z.string().optional(),
  outcome: z.strictObject({
    succeeded: z.boolean(),
    /** The terminal state (`Migrations applied`, `Migration rolled back`), absent while running. */
    terminalState: z.string().optional(),
    /** The outcome error of a failed execution (`MigrationRolledBack`, `RollbackFailed`, ...). */
    error: z.string().optional(),
    /** Its cause, as the execution ended with it (redacted). */
    cause: z.string().optional(),
    /** One line for a person. */
    summary: z.string().min(1),
  }),
  /** The execution input as given (it never holds credentials: those are the construct's props). */
  input: z.unknown(),
  /** Preflight's plan and its analysis (pending, applied, edited, locked tables, fallback, drift baseline). */
  plan: z.looseObject({ mode: z.enum(Modes), warnings: z.array(z.string()) }).optional(),
  migrations: z
    .strictObject({
      pending: z.array(z.string()),
      applied: z.array(z.string()),
      transactionMode: z.enum(['release', 'per-migration']).optional(),
      /** The whole apply step (Prisma's bookkeeping and the release COMMIT included). */
      durationMs: milliseconds.optional(),
      /**
       * How long each applied migration's script ran, in the order applied (in release mode, inside the one
       * transaction). At most 50: the slowest, with `timingsOmitted` counting the rest.
       */
      timings: z.array(z.strictObject({ name: z.string().min(1), durationMs: milliseconds })).optional(),
      timingsOmitted: z.number().int().positive().optional(),
      /** The release was found complete by reading `_prisma_migrations` after the apply step died. */
      assessed: z.boolean().optional(),
      /**
       * The failed migration the input resolved (`input.resolve`): how, the reason, the schema evidence preflight
       * found, and whether the apply step marked it (`marked`; `found` when a retried step found it done;
       * `not-reported` when the apply step failed or never ran).
       */
      resolved: z
        .array(
          z.strictObject({
            migration: z.string().min(1),
            as: z.enum(['rolled-back', 'applied']),
            reason: z.string().min(1),
            evidence: z.strictObject({
              comparedWith: z.strictObject({
                count: z.number().int().nonnegative(),
                last: z.string().nullable(),
              }),
              matches: z.boolean(),
              differences: z.array(z.string()),
              ignoredCount: z.number().int().nonnegative(),
            }),
            how: z.enum(['marked', 'found', 'not-reported']),
          }),
        )
        .optional(),
    })
    .optional(),
  /**
   * The lint of the pending migrations (docs/lint.md): the findings shown as warnings, and the blocking findings the
   * input acknowledged, each with its reason.
   */
  lint: z
    .strictObject({
      warnings: z.array(LintFindingSchema),
      acknowledged: z.array(LintFindingSchema.extend({ reason: z.string().min(1) })),
    })
    .optional(),
  snapshot: z.looseObject({ snapshotId: z.string(), status: z.string() }).optional(),
  health: HealthSchema.optional(),
  drift: z
    .strictObject({
      /** Drift measured before the release (preflight). */
      baseline: z.unknown().optional(),
      /** The drift checks of the health verification. */
      checks: z.array(HealthCheckSchema),
    })
    .optional(),
  /** The step error the workflow caught and routed on (the original failure). */
  failure: StepErrorSchema.optional(),
  rollback: z
    .strictObject({
      restore: z.looseObject({ snapshotId: z.string() }).optional(),
      swap: z.looseObject({ phase: z.string() }).optional(),
      health: HealthSchema.optional(),
      error: StepErrorSchema.optional(),
    })
    .optional(),
  retention: z.looseObject({ policy: z.string() }).optional(),
  /** What the workflow itself told the notification topic (the rollback-started message). */
  notifications: z.array(
    z.strictObject({ state: z.string(), subject: z.string().optional(), message: z.string() }),
  ),
  /** Why a notification could not be sent (the workflow went on without it). */
  notificationError: StepErrorSchema.optional(),
  /** The states in the order they were entered. */
  path: z.array(PathEntrySchema),
  durations: z.strictObject({
    totalMs: milliseconds.optional(),
    /** Time spent in each state, summed over its visits (Wait loops, retries). */
    byState: z.record(z.string(), milliseconds),
  }),
});

export type ExecutionReport = z.infer<typeof ExecutionReportSchema>;
export type ReportPathEntry = z.infer<typeof PathEntrySchema>;

/** The report's JSON Schema (draft 2020-12), as docs/report.schema.json holds it (`npm run report-schema`). */
export function reportJsonSchema(): Record<string, unknown> {
  return {
    title: `Execution report, version ${REPORT_SCHEMA_VERSION}`,
    ...z.toJSONSchema(ExecutionReportSchema, { io: 'output', unrepresentable: 'any' }),
  };
}
