import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { readEnv, settingsFromEnv } from '../../lambdas/shared/runtime/env.js';
import { orchestrate, SECRET_ARN } from './support.js';

describe('MigrationOrchestrator lock props', () => {
  it('passes lockTimeoutAttempts and endIdleLockHoldersAfter to the functions, which read them back', () => {
    // Act
    const { stack } = orchestrate(() => ({
      lockTimeoutAttempts: 5,
      endIdleLockHoldersAfter: Duration.minutes(10),
    }));

    // Assess
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          LOCK_TIMEOUT_ATTEMPTS: '5',
          END_IDLE_LOCK_HOLDERS_AFTER_SECONDS: '600',
        }),
      },
    });
    const env = readEnv({
      TARGET_KIND: 'instance',
      TARGET_IDENTIFIER: 'app-production',
      DATABASE_SECRET_ARN: SECRET_ARN,
      LOCK_TIMEOUT_ATTEMPTS: '5',
      END_IDLE_LOCK_HOLDERS_AFTER_SECONDS: '600',
    });
    expect(env.LOCK_TIMEOUT_ATTEMPTS).toBe(5);
    expect(settingsFromEnv(env).endIdleLockHoldersAfterSeconds).toBe(600);
  });

  it('sets neither variable by default (3 attempts, holders never ended)', () => {
    const { stack } = orchestrate(() => ({}));

    const functions = Template.fromStack(stack).findResources('AWS::Lambda::Function');
    for (const fn of Object.values(functions)) {
      const variables = (fn.Properties?.Environment?.Variables ?? {}) as Record<string, unknown>;
      expect(variables).not.toHaveProperty('LOCK_TIMEOUT_ATTEMPTS');
      expect(variables).not.toHaveProperty('END_IDLE_LOCK_HOLDERS_AFTER_SECONDS');
    }
  });

  it('fails when lockTimeoutAttempts is not an integer from 1 to 10, naming it', () => {
    expect(() => orchestrate(() => ({ lockTimeoutAttempts: 0 }))).toThrow(
      /lockTimeoutAttempts must be an integer from 1 \(never retry\) to 10, received 0/,
    );
    expect(() => orchestrate(() => ({ lockTimeoutAttempts: 2.5 }))).toThrow(/lockTimeoutAttempts/);
  });

  it('fails when endIdleLockHoldersAfter is zero', () => {
    expect(() => orchestrate(() => ({ endIdleLockHoldersAfter: Duration.seconds(0) }))).toThrow(
      /endIdleLockHoldersAfter must be at least/,
    );
  });
});
