/**
 * `acknowledge` in the execution input: validated at the edge, each field named when it is wrong.
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

const SPLIT = '20250122090000_split_user_name';

describe('input.acknowledge', () => {
  it('accepts a rule, a migration and a reason', () => {
    const input = parseWorkflowInput({
      acknowledge: [
        { rule: 'drop-column', migration: SPLIT, reason: 'the data was copied into firstName first' },
      ],
    });
    expect(input.acknowledge).toEqual([
      { rule: 'drop-column', migration: SPLIT, reason: 'the data was copied into firstName first' },
    ]);
  });

  it('fails when the rule is not a lint rule, naming the field and the rules', () => {
    expect(
      refusal({ acknowledge: [{ rule: 'drop-database', migration: SPLIT, reason: 'a long enough reason' }] }),
    ).toMatch(/input\.acknowledge\.0\.rule: .*"drop-table"/);
  });

  it('fails without a reason of at least 10 characters, naming the field', () => {
    expect(refusal({ acknowledge: [{ rule: 'truncate', migration: SPLIT, reason: '  ok  ' }] })).toMatch(
      /input\.acknowledge\.0\.reason: give a reason of at least 10 characters/,
    );
  });

  it('fails on a migration that is a path, and on unknown fields', () => {
    expect(
      refusal({
        acknowledge: [{ rule: 'truncate', migration: '../etc/passwd', reason: 'a long enough reason' }],
      }),
    ).toMatch(/input\.acknowledge\.0\.migration: the name of a migration directory/);
    expect(
      refusal({
        acknowledge: [{ rule: 'truncate', migration: SPLIT, reason: 'a long enough reason', policy: 'off' }],
      }),
    ).toMatch(/input\.acknowledge\.0: /);
  });

  it('fails in the modes that apply no migration', () => {
    expect(
      refusal({
        mode: 'backup',
        acknowledge: [{ rule: 'truncate', migration: SPLIT, reason: 'a long enough reason' }],
      }),
    ).toMatch(/input\.acknowledge: only for mode "migrate"/);
  });
});
