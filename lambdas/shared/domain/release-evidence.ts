/**
 * What a failed release committed, judged from `_prisma_migrations` as read on a fresh connection after the
 * migration's own session is gone. The first principle: a restore is a production operation, so it follows
 * only from evidence that the release changed the database.
 *
 * How Prisma records a migration: it inserts the row (autocommit), runs the script (one implicit
 * transaction, or the release transaction), then sets `finished_at`. So, for each pending migration:
 * - a finished row: its script committed;
 * - an unfinished row whose `logs` record an error: its script failed, and an atomic script then left
 *   nothing behind (PostgreSQL rolled its implicit transaction back);
 * - an unfinished row without logs: interrupted, possibly between the script's commit and the bookkeeping:
 *   uncertain;
 * - no row: never started (or rolled back with the release transaction).
 *
 * The rows of the migrations applied before the release are evidence too: "nothing committed" is read from a
 * history that must still hold them. A script that deleted them (or dropped the table) committed that.
 */
import { createHash } from 'node:crypto';
import type {
  AppliedMigration,
  ApplyResult,
  CaughtError,
  ExecutionInfo,
  Plan,
  ReleaseEvidence,
} from '../contract/contract.js';
import {
  MigrationFailedDatabaseUnchangedError,
  MigrationFailedError,
  messageOf,
  OrchestratorError,
  ReleaseOutcomeUnknownError,
} from '../contract/errors.js';
import type { ReleaseInspector } from '../contract/ports.js';
import { isAppliedRow, isFailedRow, markedApplied } from './history.js';

/** PostgreSQL truncates `application_name` to 63 bytes. */
const MAX_APPLICATION_NAME = 63;

/**
 * The `application_name` of the apply step's migration session for one execution: how a later step finds
 * that session on the server (`pg_stat_activity`) to end it. Unique per execution, ASCII, within 63 bytes.
 */
export function applySessionName(execution: Pick<ExecutionInfo, 'id' | 'startedAt'>): string {
  const hash = createHash('sha256').update(`${execution.id}\n${execution.startedAt}`).digest('hex');
  return `prisma-orchestrator-apply-${hash.slice(0, 16)}`.slice(0, MAX_APPLICATION_NAME);
}

/** Judges what the release of `plan` committed from the history read after it failed. */
export function judgeRelease(plan: Plan, history: readonly AppliedMigration[]): ReleaseEvidence {
  const pending = new Set(plan.pending);
  const nonAtomic = new Set(plan.nonAtomic ?? []);
  const committed = [
    ...new Set(history.filter((row) => pending.has(row.name) && isAppliedRow(row)).map((row) => row.name)),
  ];
  const failedRows = history.filter((row) => pending.has(row.name) && isFailedRow(row));
  const failed = [...new Set(failedRows.map((row) => row.name))];
  const uncertain = [
    ...new Set(
      failedRows
        .filter((row) => nonAtomic.has(row.name) || row.logs === null || row.logs.trim() === '')
        .map((row) => row.name),
    ),
  ];
  // A migration the input resolves as applied is marked by the apply step, and a failed release may undo the mark.
  const resolvedApplied = markedApplied(plan.resolve);
  const stillApplied = new Set(history.filter(isAppliedRow).map((row) => row.name));
  const historyLost = plan.applied.filter((name) => !resolvedApplied.has(name) && !stillApplied.has(name));
  return {
    committed,
    failed,
    uncertain,
    ...(historyLost.length > 0 ? { historyLost } : {}),
    unchanged: committed.length === 0 && uncertain.length === 0 && historyLost.length === 0,
  };
}

/** `a, b and c`, or `none`. */
export function listOfNames(names: readonly string[]): string {
  if (names.length === 0) return 'none';
  if (names.length === 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/** The message of an error as Step Functions caught it (the Lambda error JSON, or plain text), one sentence. */
export function messageOfCaught(error: CaughtError): string {
  let message = error.Cause ?? '';
  try {
    const parsed = JSON.parse(message) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') message = parsed.errorMessage;
  } catch {
    // Not the Lambda error JSON (a States.Timeout cause is plain text).
  }
  const trimmed = message.trim();
  return trimmed === '' ? `${error.Error}.` : trimmed.replace(/\.?$/, '.');
}

/** How long the evidence step waits for the migration session to end after terminating it. */
export const SESSION_END_TIMEOUT_MS = 30_000;

/** The failure that sent the workflow looking for evidence, as it is told in messages. */
export interface FailureSummary {
  readonly name: string;
  readonly message: string;
}

/** The one next step after a release that committed part of itself. */
function afterPartialCommit(plan: Plan, failed: readonly string[]): string {
  if (plan.snapshotRequired) {
    return 'The pre-migration snapshot is restored and swapped in next; the failed database is kept aside.';
  }
  const first = failed[0] ?? '<migration>';
  return (
    `No snapshot was taken (skipSnapshot: ${plan.skipSnapshotReason ?? 'no reason given'}), so nothing can be ` +
    'restored: repair the database by hand, then run ' +
    `\`prisma migrate resolve --rolled-back ${first}\` (or \`--applied ${first}\` if you completed it) and deploy again.`
  );
}

/**
 * What the evidence means: everything committed (the step failed after the work was done), nothing committed
 * (no restore), or part of it (the restore path), with the message that says so.
 */
export interface Verdict {
  readonly evidence: ReleaseEvidence;
  /** Migrations whose unfinished rows were marked rolled back because they left nothing behind. */
  readonly markedRolledBack: readonly string[];
  /** The message for the outcome. */
  readonly message: string;
  readonly kind: 'complete' | 'unchanged' | 'committed';
}

export function verdictOf(
  plan: Plan,
  evidence: ReleaseEvidence,
  failure: FailureSummary,
  markedRolledBack: readonly string[],
): Verdict {
  if (evidence.unchanged) {
    const marked =
      markedRolledBack.length > 0
        ? ` The failed row of ${listOfNames(markedRolledBack)} in _prisma_migrations is marked rolled back (as ` +
          '`prisma migrate resolve --rolled-back` would), so the next deploy is not blocked.'
        : '';
    return {
      evidence,
      markedRolledBack,
      kind: 'unchanged',
      message:
        `${failure.message} Nothing of the release committed (read from _prisma_migrations on a fresh ` +
        `connection): database ${plan.databaseName} is unchanged and nothing is restored.${marked} ` +
        'Next: fix the cause and deploy again.',
    };
  }
  const pending = new Set(plan.pending);
  const lost = evidence.historyLost ?? [];
  if (evidence.failed.length === 0 && evidence.committed.length === pending.size && lost.length === 0) {
    return {
      evidence,
      markedRolledBack,
      kind: 'complete',
      message: `Every pending migration is recorded as finished: ${listOfNames(evidence.committed)}.`,
    };
  }
  const historyLost =
    lost.length > 0
      ? ` _prisma_migrations no longer records ${lost.length} migration(s) applied before the release ` +
        `(${listOfNames(lost.slice(0, 3))}${lost.length > 3 ? ', ...' : ''}): the release changed the history itself.`
      : '';
  const uncertain =
    evidence.uncertain.length > 0
      ? ` ${listOfNames(evidence.uncertain)} may have partly committed (a statement that cannot run in a ` +
        'transaction, or interrupted before Prisma recorded its end).'
      : '';
  return {
    evidence,
    markedRolledBack,
    kind: 'committed',
    message:
      `${failure.message} Committed by this release before it failed: ${listOfNames(evidence.committed)}.` +
      `${historyLost}${uncertain} Database ${plan.databaseName} holds part of the release. ${afterPartialCommit(plan, evidence.failed)}`,
  };
}

/**
 * Ends the migration session, reads what committed, and answers or throws as `judgeRelease` decides. Shared
 * by the apply step (after its engine failed) and the evidence step (after the apply step died).
 */
export async function decideOnEvidence(
  plan: Plan,
  inspector: ReleaseInspector,
  sessionName: string,
  failure: FailureSummary,
  cause?: unknown,
): Promise<ApplyResult> {
  let history: Awaited<ReturnType<ReleaseInspector['readHistory']>>;
  try {
    await inspector.endSessions(sessionName, SESSION_END_TIMEOUT_MS);
    history = await inspector.readHistory();
  } catch (error) {
    if (error instanceof ReleaseOutcomeUnknownError) throw error;
    throw new ReleaseOutcomeUnknownError(
      `${failure.message} What the release committed could not be read afterwards (${messageOf(error)}). ` +
        `Nothing was restored on a guess. Next: once database ${plan.databaseName} answers, compare ` +
        "_prisma_migrations with the release's migrations (pending: " +
        `${plan.pending.join(', ')}) and restore the pre-migration snapshot only if some of them are recorded.`,
      { cause: error, details: { failure, pending: plan.pending } },
    );
  }
  const evidence = judgeRelease(plan, history);
  const toMark = evidence.unchanged ? evidence.failed : [];
  await inspector.markRolledBack(toMark);
  const verdict = verdictOf(plan, evidence, failure, toMark);
  const details = {
    ...(cause instanceof OrchestratorError ? cause.details : {}),
    failure: failure.name,
    committed: evidence.committed,
    failed: evidence.failed,
    uncertain: evidence.uncertain,
    ...(evidence.historyLost ? { historyLost: evidence.historyLost } : {}),
    markedRolledBack: toMark,
  };
  if (verdict.kind === 'unchanged') {
    throw new MigrationFailedDatabaseUnchangedError(verdict.message, { cause, details });
  }
  if (verdict.kind === 'committed') {
    throw new MigrationFailedError(verdict.message, { cause, details });
  }
  return {
    applied: evidence.committed,
    transactionMode: plan.transactionMode,
    durationMs: 0,
    assessed: true,
  };
}
