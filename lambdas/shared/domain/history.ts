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
