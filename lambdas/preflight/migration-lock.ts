/**
 * Preflight's check of Prisma's migration lock: a session holding it (another `prisma migrate deploy`, or a
 * migration session that never closed) would make the apply step wait and then fail. Preflight names the holders
 * and refuses, touching nothing; with `endIdleAfterSeconds`, holders idle longer than that are ended first
 * (`pg_terminate_backend`), and what was ended is reported in the plan.
 */
import type { ExecutionInfo } from '../shared/contract/contract.js';
import { ConcurrentExecutionError } from '../shared/contract/errors.js';
import type { MigrationLockHolder, MigrationLockInspector } from '../shared/contract/ports.js';
import { applySessionName } from '../shared/domain/release-evidence.js';

export interface MigrationLockDeps {
  readonly inspector: MigrationLockInspector;
  /**
   * End a holder whose session is `idle` or `idle in transaction` for longer than this many seconds (an
   * active one is never ended). @default - never end a holder
   */
  readonly endIdleAfterSeconds?: number;
}

/** States in which a holder runs nothing: ending it interrupts no statement. */
const IDLE_STATES: ReadonlySet<string> = new Set([
  'idle',
  'idle in transaction',
  'idle in transaction (aborted)',
]);

export function describeHolder(holder: MigrationLockHolder): string {
  const state =
    holder.state === undefined
      ? 'state not visible to this role'
      : `${holder.state} for ${holder.stateSeconds ?? '?'} s`;
  return (
    `pid ${holder.pid} (application "${holder.applicationName || 'unnamed'}", client ` +
    `${holder.clientAddress ?? 'local socket'}, ${state}, connected ${holder.connectedSeconds ?? '?'} s)`
  );
}

function isStaleHolder(holder: MigrationLockHolder, afterSeconds: number): boolean {
  return (
    holder.state !== undefined &&
    IDLE_STATES.has(holder.state) &&
    holder.stateSeconds !== undefined &&
    holder.stateSeconds > afterSeconds
  );
}

/** The sessions other than this execution's own that hold Prisma's migration lock. Reads only. */
export async function otherLockHolders(
  inspector: MigrationLockInspector,
  execution: ExecutionInfo,
): Promise<MigrationLockHolder[]> {
  const own = applySessionName(execution);
  return (await inspector.holders()).filter((holder) => holder.applicationName !== own);
}

/** Who holds Prisma's migration lock on `databaseName`, for a message. */
export function lockHeldBy(databaseName: string, holders: readonly MigrationLockHolder[]): string {
  return (
    `Prisma's migration lock (advisory lock 72707369) on database ${databaseName} is held by ` +
    `${holders.map(describeHolder).join('; ')}: another \`prisma migrate deploy\` is running, or a migration ` +
    'session did not close.'
  );
}

/**
 * Refuses (`ConcurrentExecution`) while a session other than this execution's own holds Prisma's migration lock
 * on `databaseName`; a dry run only warns. Sessions ended on `endIdleAfterSeconds` are reported in `warnings`.
 */
export async function checkMigrationLock(
  deps: MigrationLockDeps,
  execution: ExecutionInfo,
  databaseName: string,
  dryRun: boolean,
  warnings: string[],
): Promise<void> {
  const holders = await otherLockHolders(deps.inspector, execution);
  if (holders.length === 0) return;
  const after = deps.endIdleAfterSeconds;
  const stale = after === undefined || dryRun ? [] : holders.filter((holder) => isStaleHolder(holder, after));
  const results = stale.length > 0 ? await deps.inspector.end(stale.map((holder) => holder.pid)) : [];
  const ended = stale.filter((holder) => results.some((result) => result.pid === holder.pid && result.ended));
  for (const holder of ended) {
    warnings.push(
      `Ended ${describeHolder(holder)}: it held Prisma's migration lock on ${databaseName} and had been idle ` +
        `longer than ${after} s (endIdleLockHoldersAfter).`,
    );
  }
  const remaining = holders.filter((holder) => !ended.includes(holder));
  if (remaining.length === 0) return;
  const notEnded = results
    .filter((result) => !result.ended)
    .map((result) => ` Could not end pid ${result.pid}${result.message ? ` (${result.message})` : ''}.`)
    .join('');
  const what = lockHeldBy(databaseName, remaining);
  if (dryRun) {
    warnings.push(`${what} A release now would be refused.`);
    return;
  }
  const endedText =
    ended.length > 0
      ? ` Ended before refusing: ${ended.map((holder) => `pid ${holder.pid}`).join(', ')}.`
      : '';
  throw new ConcurrentExecutionError(
    `${what}${notEnded}${endedText} Nothing was applied: the database was not touched. Wait for it to finish, ` +
      'or end a stale session (SELECT pg_terminate_backend(<pid>)), then start the release again; the ' +
      'endIdleLockHoldersAfter setting ends holders idle longer than a given time.',
    { details: { lockHolders: remaining, ended: ended.map((holder) => holder.pid) } },
  );
}
