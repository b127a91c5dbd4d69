/**
 * The execution input, as documented in the README, and its validation at the edge (preflight): a bad input
 * ends with an error that names the field and the allowed values. Everything is optional: the target
 * database, its credentials and the migrations are configured on the construct, never passed in the input.
 * Only the steps that validate the input load the schema library.
 */
import { z } from 'zod';
import { TransactionModes } from './contract.js';
import { InvalidInputError } from './errors.js';

const identifierLike = /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/;

export const WorkflowInputSchema = z
  .object({
    /** A release label: the pipeline execution id or the git revision. Tagged on the snapshot. */
    release: z
      .string()
      .min(1)
      .max(128)
      .regex(identifierLike, 'letters, digits and . _ : / - only, starting with a letter or digit')
      .optional(),
    /**
     * Migrate without a snapshot. Only with a reason, which goes into the report. Without a snapshot a
     * failure that a transaction cannot undo cannot be rolled back.
     */
    skipSnapshot: z
      .object({ reason: z.string().trim().min(10, 'give a reason of at least 10 characters') })
      .strict()
      .optional(),
    /** Overrides the construct's transaction mode for this execution. */
    transactionMode: z.enum(TransactionModes).optional(),
    /** Plan only: run preflight and stop, even when migrations are pending. */
    dryRun: z.boolean().optional(),
  })
  .strict();
export type WorkflowInput = z.infer<typeof WorkflowInputSchema>;

/** One line per problem: `release: letters, digits ... (received "a b")`. */
export function describeIssues(error: z.ZodError, root: string): string {
  return error.issues
    .map((issue) => {
      const path = [root, ...issue.path.map(String)].filter(Boolean).join('.');
      return `${path || '(input)'}: ${issue.message}`;
    })
    .join('; ');
}

export function parseWorkflowInput(raw: unknown): WorkflowInput {
  const parsed = WorkflowInputSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    throw new InvalidInputError(
      `The execution input is invalid: ${describeIssues(parsed.error, 'input')}. ` +
        'Allowed fields: release (string), skipSnapshot ({ "reason": string }), ' +
        'transactionMode ("release" | "per-migration"), dryRun (boolean). See the README for an example.',
      {
        details: {
          issues: parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })),
        },
      },
    );
  }
  return parsed.data;
}
