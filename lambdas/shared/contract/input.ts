/**
 * The execution input, as documented in the README, and its validation at the edge (preflight): a bad input
 * ends with an error that names the field and the allowed values. Everything is optional: the target
 * database, its credentials and the migrations are configured on the construct, never passed in the input.
 * Only the steps that validate the input load the schema library.
 */
import { z } from 'zod';
import { LintRuleIds } from '../domain/lint/policy.js';
import { parseReleaseBundleUri, RELEASE_BUNDLE_URI_SHAPE, SHA256_HEX } from '../domain/release-bundle.js';
import { Modes, TransactionModes } from './contract.js';
import { InvalidInputError } from './errors.js';

const identifierLike = /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/;

/** Fields that only a migration reads: refused in the other modes, so that a mistaken input does not pass silently. */
const MIGRATE_ONLY = [
  'release',
  'skipSnapshot',
  'transactionMode',
  'dryRun',
  'migrations',
  'rerun',
  'resolve',
] as const;

/** How a failed migration (its row in `_prisma_migrations`, P3009) may be resolved before the release. */
export const ResolutionKinds = ['rolled-back', 'applied'] as const;
export type ResolutionKind = (typeof ResolutionKinds)[number];

export const WorkflowInputSchema = z
  .object({
    /**
     * What the execution does: `migrate` (the default), `backup` (take a managed snapshot and apply the
     * retention policy; never touches the migrations) or `restore` (restore `snapshot` and swap it in).
     */
    mode: z.enum(Modes).optional(),
    /** `restore` only: the managed snapshot to restore (its identifier), or `latest`. */
    snapshot: z
      .string()
      .min(1)
      .max(255)
      .regex(/^[A-Za-z][A-Za-z0-9-]*$/, 'a snapshot identifier (letters, digits and hyphens) or "latest"')
      .optional(),
    /** `restore` only: the target's identifier, typed again, as the confirmation that it may be replaced. */
    confirm: z.string().min(1).max(255).optional(),
    /** A release label: the pipeline execution id or the git revision. Tagged on the snapshot. */
    release: z
      .string()
      .min(1)
      .max(128)
      .regex(identifierLike, 'letters, digits and . _ : / - only, starting with a letter or digit')
      .optional(),
    /**
     * Runs `release` again after an earlier execution of it on this target did not succeed: the name of that
     * execution (the latest one), as preflight's refusal names it. Without it, such a release is refused.
     */
    rerun: z
      .string()
      .min(1)
      .max(80)
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'the name of an execution (letters, digits and . _ -)')
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
    /**
     * The migrations of this release: a zip of the prisma/migrations directory (see `pack`) and its sha256.
     * @default - the migrations bundled into the functions at deploy time
     */
    migrations: z
      .object({
        s3Uri: z
          .string()
          .max(2048)
          .superRefine((uri, context) => {
            const location = parseReleaseBundleUri(uri);
            if (typeof location === 'string') {
              context.addIssue({
                code: 'custom',
                message: `${location}; expected ${RELEASE_BUNDLE_URI_SHAPE} (received ${JSON.stringify(uri)})`,
              });
            }
          }),
        sha256: z
          .string()
          .regex(SHA256_HEX, '64 hexadecimal digits: the sha256 of the zip, as `pack` prints it'),
      })
      .strict()
      .optional(),
    /**
     * Findings of the lint (docs/lint.md) accepted for this release: each names a rule and a pending migration,
     * with a reason, which the plan shows and the report records. One that matches no finding is refused.
     */
    acknowledge: z
      .array(
        z
          .object({
            rule: z.enum(LintRuleIds),
            migration: z
              .string()
              .min(1)
              .max(255)
              .regex(/^[^/\\\0]+$/, 'the name of a migration directory (no / or \\)'),
            reason: z.string().trim().min(10, 'give a reason of at least 10 characters').max(500),
          })
          .strict(),
      )
      .max(100)
      .optional(),
    /**
     * Resolves the failed migration that blocks every deploy (P3009) before this release, as
     * `prisma migrate resolve` would, through Prisma's engine: `rolled-back` (it left nothing behind, or you
     * undid it: it is applied again) or `applied` (you completed it by hand). Only the migration that has the
     * failed row, only when the schema shows it (preflight compares the database with the migrations up to it),
     * and with a reason; the plan shows the evidence, the apply step marks it after the snapshot.
     */
    resolve: z
      .array(
        z
          .object({
            migration: z
              .string()
              .min(1)
              .max(255)
              .regex(/^[^/\\\0]+$/, 'the name of a migration directory (no / or \\)'),
            as: z.enum(ResolutionKinds),
            reason: z.string().trim().min(10, 'give a reason of at least 10 characters').max(500),
          })
          .strict(),
      )
      .min(1, 'name the failed migration, or remove resolve')
      .max(10)
      .optional(),
  })
  .strict()
  .superRefine((input, context) => {
    const mode = input.mode ?? 'migrate';
    if (mode !== 'migrate' && input.acknowledge !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['acknowledge'],
        message: `only for mode "migrate" (this execution's mode is "${mode}"); remove it`,
      });
    }
    if (mode !== 'migrate') {
      for (const field of MIGRATE_ONLY) {
        if (input[field] !== undefined) {
          context.addIssue({
            code: 'custom',
            path: [field],
            message: `only for mode "migrate" (this execution's mode is "${mode}"); remove it`,
          });
        }
      }
    }
    const named = new Map<string, number>();
    for (const [index, entry] of (input.resolve ?? []).entries()) {
      const first = named.get(entry.migration);
      if (first !== undefined) {
        context.addIssue({
          code: 'custom',
          path: ['resolve', index, 'migration'],
          message: `${entry.migration} is already resolved by resolve[${first}]; a migration is resolved once, remove one`,
        });
      } else named.set(entry.migration, index);
    }
    if (input.rerun !== undefined && input.release === undefined && mode === 'migrate') {
      context.addIssue({
        code: 'custom',
        path: ['rerun'],
        message:
          'only with release: it names the earlier execution of that release to run again; add the release label',
      });
    }
    if (mode === 'restore') {
      if (input.snapshot === undefined) {
        context.addIssue({
          code: 'custom',
          path: ['snapshot'],
          message:
            'required for mode "restore": the identifier of a managed snapshot of the target, or "latest"',
        });
      }
      if (input.confirm === undefined) {
        context.addIssue({
          code: 'custom',
          path: ['confirm'],
          message:
            'required for mode "restore": the identifier of the target database, as the confirmation that it ' +
            'is replaced by the snapshot',
        });
      }
    } else {
      for (const field of ['snapshot', 'confirm'] as const) {
        if (input[field] !== undefined) {
          context.addIssue({
            code: 'custom',
            path: [field],
            message: `only for mode "restore" (this execution's mode is "${mode}"); remove it`,
          });
        }
      }
    }
  });
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
        'Allowed fields: mode ("migrate" | "backup" | "restore"); for migrate: release (string), ' +
        'skipSnapshot ({ "reason": string }), transactionMode ("release" | "per-migration"), dryRun (boolean), ' +
        'migrations ({ "s3Uri": "s3://<bucket>/<key>", "sha256": "<64 hex>" }), rerun (the execution to run ' +
        'again), acknowledge ([{ "rule": a lint rule, "migration": string, "reason": string }], docs/lint.md), ' +
        'resolve ([{ "migration": the failed migration, "as": "rolled-back" | "applied", "reason": string }]); ' +
        'for restore: snapshot (identifier or "latest") and confirm (the target identifier). See the README for ' +
        'an example of each.',
      {
        details: {
          issues: parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })),
        },
      },
    );
  }
  return parsed.data;
}
