/**
 * The retry guard of a release: a retried or repeated execution never starts a second migration of a release
 * that an earlier execution on the same target tried and did not bring to success. A CodePipeline retry starts a
 * new execution (a new action execution id, so a new name), and the release may have failed for a reason that
 * is still there, or left the database in a state someone must look at first. Such an execution is refused
 * before anything is touched, naming the earlier execution and how it ended; `rerun` (the earlier execution's
 * name) runs the release again deliberately.
 *
 * The earlier executions of a release are those that took a pre-migration snapshot of the target tagged with it
 * (`TagKeys.release`); how they ended comes from the execution history. A release already applied never gets
 * here: it has nothing pending, and its execution succeeds with nothing to do.
 */
import { TagKeys } from '../contract/contract.js';
import type { ExecutionEnding, ManagedSnapshot } from '../contract/ports.js';

/** An earlier execution of the release on the target (the one that took `snapshotId`). */
export interface EarlierAttempt {
  /** The execution id (on AWS its ARN), from the snapshot's execution tag. */
  readonly executionId: string;
  /** The execution's name (the last part of its ARN): what the operator sees and `rerun` names. */
  readonly executionName: string;
  readonly snapshotId: string;
  /** When its snapshot was taken (ISO 8601), when known. */
  readonly at?: string;
}

/** What the guard decided. */
export type RetryDecision =
  | { readonly proceed: true; readonly rerunOf?: EarlierAttempt & { readonly ending: ExecutionEnding } }
  | {
      readonly proceed: false;
      /** `not-rerun`: the latest attempt did not succeed and no `rerun` names it; `wrong-rerun`: `rerun` names another. */
      readonly reason: 'not-rerun' | 'wrong-rerun';
      readonly latest?: EarlierAttempt & { readonly ending: ExecutionEnding };
    };

/** The execution name of an execution id: the last part of an ARN (`...:execution:<machine>:<name>`). */
export function executionNameOf(executionId: string): string {
  return executionId.split(':').at(-1) ?? executionId;
}

/** The execution that took `snapshot`, a pre-migration snapshot with an execution tag; undefined for any other. */
function attemptOf(snapshot: ManagedSnapshot): EarlierAttempt | undefined {
  const executionId = snapshot.tags[TagKeys.execution];
  if (snapshot.kind !== 'pre-migration' || !executionId) return undefined;
  return {
    executionId,
    executionName: executionNameOf(executionId),
    snapshotId: snapshot.snapshotId,
    ...(snapshot.createdAt ? { at: snapshot.createdAt } : {}),
  };
}

/** Oldest first; a snapshot without a time sorts first (it cannot be shown to be the latest). */
function oldestFirst(attempts: EarlierAttempt[]): EarlierAttempt[] {
  return attempts.sort(
    (a, b) =>
      (Date.parse(a.at ?? '') || 0) - (Date.parse(b.at ?? '') || 0) ||
      a.executionName.localeCompare(b.executionName),
  );
}

/**
 * The earlier executions of `release` on the target, oldest first: the pre-migration snapshots tagged with it,
 * other than the current execution's.
 */
export function earlierAttemptsOf(
  snapshots: readonly ManagedSnapshot[],
  release: string,
  currentExecutionId: string,
): EarlierAttempt[] {
  return oldestFirst(
    snapshots
      .filter((snapshot) => snapshot.tags[TagKeys.release] === release)
      .map(attemptOf)
      .filter(
        (attempt): attempt is EarlierAttempt =>
          attempt !== undefined && attempt.executionId !== currentExecutionId,
      ),
  );
}

/**
 * The execution whose pre-migration snapshot of the target is the newest taken before `startedAt`: for a
 * migration left unfinished, the execution that was most likely applying it (an execution applies right after
 * its snapshot), and the snapshot that holds the database as it was before. Undefined when no snapshot with a
 * time was taken before then.
 */
export function attemptBefore(
  snapshots: readonly ManagedSnapshot[],
  startedAt: string,
): EarlierAttempt | undefined {
  const started = Date.parse(startedAt);
  if (Number.isNaN(started)) return undefined;
  const before = snapshots
    .map(attemptOf)
    .filter(
      (attempt): attempt is EarlierAttempt => attempt?.at !== undefined && Date.parse(attempt.at) <= started,
    );
  return oldestFirst(before).at(-1);
}

/**
 * Whether the release may run: yes when it has no earlier attempt on the target, or the latest one succeeded
 * (the release then only has migrations added since). When the latest one did not succeed (failed, stopped,
 * timed out, still running, or its end is unknown), only with `rerun` naming it. A `rerun` naming any other
 * execution is refused: it is a decision about that execution, not a password.
 */
export function decideRetry(
  attempts: readonly (EarlierAttempt & { readonly ending: ExecutionEnding })[],
  rerun: string | undefined,
): RetryDecision {
  const latest = attempts.at(-1);
  if (rerun === undefined) {
    if (!latest || latest.ending.status === 'succeeded') return { proceed: true };
    return { proceed: false, reason: 'not-rerun', latest };
  }
  if (latest && latest.ending.status !== 'succeeded' && latest.executionName === rerun) {
    return { proceed: true, rerunOf: latest };
  }
  return { proceed: false, reason: 'wrong-rerun', ...(latest ? { latest } : {}) };
}

/** How an earlier execution ended, for a message. */
export function describeEnding(ending: ExecutionEnding): string {
  switch (ending.status) {
    case 'succeeded':
      return 'it succeeded';
    case 'running':
      return `it is still running${ending.how ? ` (${ending.how})` : ''}`;
    case 'failed':
      return `it did not succeed: ${ending.how ?? 'failed'}`;
    default:
      return 'how it ended is not known (Step Functions keeps executions for 90 days; a local run may have been killed)';
  }
}
