/**
 * Retrying a migration that hit its `lock_timeout` (PostgreSQL 55P03), only when the failed attempt left nothing
 * behind: in `release` mode the whole release was rolled back; in `per-migration` mode only when the failure was
 * on the first migration of the run (nothing of this run committed). Anything else fails at once: a retry after
 * a committed migration would build on a state the evidence has not been read for.
 */
import { InvalidInputError } from '../../contract/errors.js';

/** PostgreSQL's `lock_not_available`: a `lock_timeout` was hit. */
export const LOCK_NOT_AVAILABLE = '55P03';

export interface LockRetryPolicy {
  /** How many times a release is tried in all (1: never retried). @default 3 */
  readonly attempts: number;
  /** Wait before the first retry; doubles for each further one. @default 1_000 */
  readonly initialDelayMs: number;
  /** The longest wait between two attempts. @default 15_000 */
  readonly maxDelayMs: number;
}

export const DEFAULT_LOCK_RETRY: LockRetryPolicy = { attempts: 3, initialDelayMs: 1_000, maxDelayMs: 15_000 };

export type { LockRetry } from '../../contract/contract.js';

export function lockRetryPolicy(overrides: Partial<LockRetryPolicy> | undefined): LockRetryPolicy {
  const policy = { ...DEFAULT_LOCK_RETRY, ...overrides };
  if (!Number.isInteger(policy.attempts) || policy.attempts < 1 || policy.attempts > 10) {
    throw new InvalidInputError(
      `lockRetry.attempts must be an integer from 1 (never retry) to 10; received ${policy.attempts}.`,
    );
  }
  for (const key of ['initialDelayMs', 'maxDelayMs'] as const) {
    const value = policy[key];
    if (!Number.isInteger(value) || value < 0 || value > 300_000) {
      throw new InvalidInputError(
        `lockRetry.${key} must be an integer of milliseconds from 0 to 300000; received ${value}.`,
      );
    }
  }
  return policy;
}

/**
 * The wait before retry number `retry` (1-based): `initial * 2^(retry-1)`, capped at `max`, then jittered to
 * between half and all of it ("equal jitter"), so competing deployers do not retry in step.
 */
export function lockRetryDelayMs(policy: LockRetryPolicy, retry: number, random: () => number): number {
  const capped = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.round(capped / 2 + (capped / 2) * Math.min(1, Math.max(0, random())));
}
