/**
 * The routing table of the contract against the synthesized definition: every Task state retries and catches
 * exactly as the table says, and every Task state is in the table.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { StateNames } from '../../lambdas/shared/contract/contract.js';
import {
  LAMBDA_RETRY,
  type RetryRule,
  Routing,
  type TaskKey,
} from '../../lambdas/shared/contract/routing.js';
import { type AslDefinition, definitionFromTemplate } from '../../lib/asl.js';
import { synthesize } from './support.js';

let definition: AslDefinition;
let resourceToStep: Map<string, string>;

beforeAll(() => {
  const parsed = definitionFromTemplate(synthesize().json);
  definition = parsed.definition;
  resourceToStep = parsed.resourceToStep;
});

describe('the routing table', () => {
  it('lists every Task state of the definition, and nothing else', () => {
    const tasks = Object.entries(definition.States)
      .filter(([, state]) => state.Type === 'Task')
      .map(([name]) => name);
    expect(new Set(tasks)).toEqual(new Set(Object.keys(Routing).map((key) => StateNames[key as TaskKey])));
  });

  it.each(Object.keys(Routing) as TaskKey[])('is what the definition does for %s', (key) => {
    // Prepare
    const routing = Routing[key];
    const state = definition.States[StateNames[key]];

    // Assess
    if ('integration' in routing) {
      // A service integration of Step Functions itself: no Lambda, and only its own retries.
      expect(state?.Resource).toBe(`arn:aws:states:::${routing.integration}`);
    } else {
      expect(resourceToStep.get(state?.Resource ?? '')).toBe(routing.step);
    }
    expect(state?.ResultPath).toBe(routing.resultPath);
    const retries: readonly RetryRule[] =
      'integration' in routing ? routing.retries : [...routing.retries, LAMBDA_RETRY];
    expect(state?.Retry ?? []).toEqual(
      retries.map((rule) => ({
        ErrorEquals: [...rule.errors],
        IntervalSeconds: rule.intervalSeconds,
        BackoffRate: rule.backoffRate,
        MaxAttempts: rule.maxAttempts,
        ...('jitter' in rule && rule.jitter ? { JitterStrategy: 'FULL' } : {}),
      })),
    );
    expect(state?.Catch).toEqual(
      routing.catches.map((rule) => ({
        ErrorEquals: [...rule.errors],
        ResultPath: rule.resultPath,
        Next: StateNames[rule.next],
      })),
    );
  });
});
