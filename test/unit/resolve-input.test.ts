/**
 * `resolve` in the execution input: the failed migration to resolve, how, and why; validated at the edge, each
 * field named when it is wrong.
 */
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../lambdas/shared/contract/errors.js';
import { parseWorkflowInput } from '../../lambdas/shared/contract/input.js';

function refusal(input: unknown): string {
  try {
    parseWorkflowInput(input);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return (error as Error).message;
  }
  throw new Error('the input was accepted');
}

const ESTIMATES = '20250226090000_task_estimates';
const REASON = 'the failed script left nothing behind';

describe('input.resolve', () => {
  it('accepts a migration, rolled-back or applied, and a reason', () => {
    // Act
    const rolledBack = parseWorkflowInput({
      resolve: [{ migration: ESTIMATES, as: 'rolled-back', reason: REASON }],
    });
    const applied = parseWorkflowInput({
      resolve: [{ migration: ESTIMATES, as: 'applied', reason: REASON }],
    });

    // Assess
    expect(rolledBack.resolve).toEqual([{ migration: ESTIMATES, as: 'rolled-back', reason: REASON }]);
    expect(applied.resolve?.[0]?.as).toBe('applied');
  });

  it('fails when as is neither rolled-back nor applied, naming the field and the values', () => {
    expect(refusal({ resolve: [{ migration: ESTIMATES, as: 'deleted', reason: REASON }] })).toMatch(
      /input\.resolve\.0\.as: .*"rolled-back".*"applied"/,
    );
  });

  it('fails without a reason of at least 10 characters, naming the field', () => {
    expect(refusal({ resolve: [{ migration: ESTIMATES, as: 'applied', reason: '   fixed  ' }] })).toMatch(
      /input\.resolve\.0\.reason: give a reason of at least 10 characters/,
    );
    expect(refusal({ resolve: [{ migration: ESTIMATES, as: 'applied' }] })).toMatch(
      /input\.resolve\.0\.reason/,
    );
  });

  it('fails when a migration is named twice, naming the second entry', () => {
    const message = refusal({
      resolve: [
        { migration: ESTIMATES, as: 'applied', reason: REASON },
        { migration: ESTIMATES, as: 'rolled-back', reason: REASON },
      ],
    });
    expect(message).toMatch(
      /input\.resolve\.1\.migration: 20250226090000_task_estimates is already resolved by resolve\[0\]/,
    );
  });

  it('fails when the migration is a path, or the list is empty', () => {
    expect(refusal({ resolve: [{ migration: '../etc', as: 'applied', reason: REASON }] })).toMatch(
      /input\.resolve\.0\.migration: the name of a migration directory/,
    );
    expect(refusal({ resolve: [] })).toMatch(/input\.resolve: name the failed migration, or remove resolve/);
  });

  it('fails with an unknown field of an entry', () => {
    expect(
      refusal({ resolve: [{ migration: ESTIMATES, as: 'applied', reason: REASON, force: true }] }),
    ).toMatch(/input\.resolve\.0/);
  });

  it('fails in the backup and restore modes, naming the field', () => {
    expect(
      refusal({ mode: 'backup', resolve: [{ migration: ESTIMATES, as: 'applied', reason: REASON }] }),
    ).toMatch(/input\.resolve: only for mode "migrate" \(this execution's mode is "backup"\)/);
  });

  it('is listed among the allowed fields of a refused input', () => {
    expect(refusal({ resolv: [] })).toContain('resolve ([{ "migration": the failed migration');
  });
});
