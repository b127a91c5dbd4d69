/**
 * How `prisma migrate deploy` reads `_prisma_migrations`, in one place for preflight, the engine and the
 * health probe: a row is applied when it finished and was not rolled back, failed when it neither finished
 * nor was marked rolled back (the state Prisma refuses to go past, P3009). A rolled-back row is neither.
 */
import type { AppliedMigration } from '../contract/contract.js';

export function isFailedRow(row: AppliedMigration): boolean {
  return row.finishedAt === null && row.rolledBackAt === null;
}

export function isAppliedRow(row: AppliedMigration): boolean {
  return row.finishedAt !== null && row.rolledBackAt === null;
}

/**
 * The migrations that resolutions (`input.resolve`, `prisma migrate resolve`) mark applied: the apply step records
 * them instead of running them, and a failed release may take the mark back.
 */
export function markedApplied(
  resolutions: readonly { readonly migration: string; readonly as: 'rolled-back' | 'applied' }[] | undefined,
): Set<string> {
  return new Set((resolutions ?? []).filter((r) => r.as === 'applied').map((r) => r.migration));
}
