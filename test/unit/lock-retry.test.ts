import { describe, expect, it } from 'vitest';
import { redactedQuery } from '../../lambdas/shared/adapters/prisma/lock-holders.js';
import {
  DEFAULT_LOCK_RETRY,
  lockRetryDelayMs,
  lockRetryPolicy,
} from '../../lambdas/shared/adapters/prisma/lock-retry.js';

describe('lockRetryDelayMs', () => {
  it('doubles from the initial wait, capped, jittered between half and all of it', () => {
    const policy = { attempts: 5, initialDelayMs: 1_000, maxDelayMs: 3_000 };

    expect([1, 2, 3, 4].map((retry) => lockRetryDelayMs(policy, retry, () => 1))).toEqual([
      1_000, 2_000, 3_000, 3_000,
    ]);
    expect([1, 2, 3].map((retry) => lockRetryDelayMs(policy, retry, () => 0))).toEqual([500, 1_000, 1_500]);
  });
});

describe('lockRetryPolicy', () => {
  it('defaults to three attempts', () => {
    expect(lockRetryPolicy(undefined)).toEqual(DEFAULT_LOCK_RETRY);
    expect(DEFAULT_LOCK_RETRY.attempts).toBe(3);
  });

  it('fails when attempts is not an integer from 1 to 10, naming the field', () => {
    expect(() => lockRetryPolicy({ attempts: 0 })).toThrow(/lockRetry\.attempts .* received 0/);
    expect(() => lockRetryPolicy({ attempts: 11 })).toThrow(/lockRetry\.attempts/);
    expect(() => lockRetryPolicy({ maxDelayMs: -1 })).toThrow(/lockRetry\.maxDelayMs/);
  });
});

describe('redactedQuery', () => {
  it('replaces every constant of a query with a parameter and drops comments', () => {
    expect(
      redactedQuery(`UPDATE "User" SET email = 'a@b.c', age = 42 WHERE id IN (1, 2) -- customer Bob`),
    ).toBe('UPDATE "User" SET email = $1, age = $2 WHERE id IN ($3, $4)');
  });

  it('names statements that may carry values outside constants by their command only', () => {
    expect(redactedQuery(`DO $$ BEGIN PERFORM 'secret'; END $$`)).toBe('DO');
    expect(redactedQuery(`COMMENT ON TABLE t IS 'secret'`)).toBe('COMMENT');
  });

  it('shows nothing of a query it cannot parse (cut short, or hidden from this role)', () => {
    expect(redactedQuery(`SELECT * FROM t WHERE name = 'secr`)).toMatch(/^query not shown/);
    expect(redactedQuery('<insufficient privilege>')).toMatch(/^query not shown/);
    expect(redactedQuery(null)).toBe('no query');
  });

  it('keeps to the first characters', () => {
    const long = `SELECT ${Array.from({ length: 40 }, (_, i) => `c${i}`).join(', ')} FROM t`;

    expect(redactedQuery(long)).toHaveLength(80);
    expect(redactedQuery(long).endsWith('...')).toBe(true);
  });
});
