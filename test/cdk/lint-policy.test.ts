/**
 * The lint policy from the construct to the functions: the `lintPolicy` prop becomes LINT_POLICY in every step's
 * environment, which `readEnv` and `settingsFromEnv` turn into the settings preflight judges findings by.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { readEnv, settingsFromEnv } from '../../lambdas/shared/runtime/env.js';
import { STEP_METADATA_KEY } from '../../lib/asl.js';
import { orchestrate, SECRET_ARN } from './support.js';

function stepEnvironments(props: Parameters<typeof orchestrate>[0]): Record<string, string>[] {
  const { stack } = orchestrate(props);
  return Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))
    .filter((fn) => fn.Metadata?.[STEP_METADATA_KEY])
    .map((fn) => (fn.Properties.Environment as { Variables: Record<string, string> }).Variables);
}

describe('lintPolicy', () => {
  it('reaches every step function as LINT_POLICY, and the settings through readEnv', () => {
    // Act
    const environments = stepEnvironments(() => ({
      lintPolicy: { 'drop-column': 'block', 'update-without-where': 'off' },
    }));
    // Assess
    expect(environments.length).toBeGreaterThan(0);
    for (const variables of environments) {
      expect(JSON.parse(variables.LINT_POLICY ?? '')).toEqual({
        'drop-column': 'block',
        'update-without-where': 'off',
      });
      const settings = settingsFromEnv(readEnv({ ...variables, DATABASE_SECRET_ARN: SECRET_ARN }));
      expect(settings.lintPolicy).toEqual({ 'drop-column': 'block', 'update-without-where': 'off' });
    }
  });

  it('sets no LINT_POLICY when the prop is not given (the functions apply the defaults)', () => {
    // Act
    const environments = stepEnvironments(() => ({}));
    // Assess
    for (const variables of environments) expect(variables.LINT_POLICY).toBeUndefined();
    const settings = settingsFromEnv(readEnv({ ...environments[0], DATABASE_SECRET_ARN: SECRET_ARN }));
    expect(settings.lintPolicy).toBeUndefined();
  });

  it('fails when a rule is not one of the lint rules, naming it and the rules', () => {
    expect(() => orchestrate(() => ({ lintPolicy: { 'drop-everything': 'block' } as never }))).toThrow(
      /lintPolicy is invalid: "drop-everything" is not a rule \(rules: drop-table, drop-column/,
    );
  });

  it('fails when a severity is not block, warn or off, naming the rule and the value', () => {
    expect(() => orchestrate(() => ({ lintPolicy: { truncate: 'allow; rm -rf /' } as never }))).toThrow(
      /lintPolicy is invalid: truncate must be one of block, warn, off \(received "allow; rm -rf \/"\)/,
    );
  });
});

describe('LINT_POLICY', () => {
  const base = {
    TARGET_KIND: 'instance',
    TARGET_IDENTIFIER: 'app-production',
    DATABASE_SECRET_ARN: SECRET_ARN,
  };

  it('is refused when it is not JSON of rule ids to severities, naming the variable', () => {
    for (const value of ['block', '["drop-table"]', '{"drop-table":"maybe"}', '{"__proto__":"off"}']) {
      expect(() => readEnv({ ...base, LINT_POLICY: value }), value).toThrow(/LINT_POLICY: /);
    }
  });
});
