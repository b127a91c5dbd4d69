import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { readEnv, settingsFromEnv } from '../../lambdas/shared/runtime/env.js';
import { orchestrate, SECRET_ARN } from './support.js';

const API = {
  name: 'api',
  url: 'https://api.internal.example.com/health',
  bodyContains: 'ok',
  timeoutMs: 3000,
};

describe('MigrationOrchestrator HTTP checks and bake time', () => {
  it('passes httpHealthChecks and bakeTime to the functions, which read them back', () => {
    const { stack } = orchestrate(() => ({ httpHealthChecks: [API], bakeTime: Duration.minutes(2) }));

    const json = JSON.stringify([{ ...API, expectedStatus: undefined }]);
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ HTTP_HEALTH_CHECKS: json, BAKE_TIME_SECONDS: '120' }) },
    });
    const settings = settingsFromEnv(
      readEnv({
        TARGET_KIND: 'instance',
        TARGET_IDENTIFIER: 'app-production',
        DATABASE_SECRET_ARN: SECRET_ARN,
        HTTP_HEALTH_CHECKS: json,
        BAKE_TIME_SECONDS: '120',
      }),
    );
    expect(settings.httpHealthChecks).toEqual([API]);
    expect(settings.bakeSeconds).toBe(120);
  });

  it('fails when a URL holds credentials or is not http(s), naming the field', () => {
    expect(() =>
      orchestrate(() => ({
        httpHealthChecks: [{ name: 'api', url: 'https://admin:hunter2@api.example.com/' }],
      })),
    ).toThrow(/httpHealthChecks\[0\]\.url: must not hold a user name or password/);
    expect(() =>
      orchestrate(() => ({ httpHealthChecks: [{ name: 'api', url: 'file:///etc/passwd' }] })),
    ).toThrow(/httpHealthChecks\[0\]\.url: must use http or https/);
    expect(() => orchestrate(() => ({ httpHealthChecks: [{ ...API, expectedStatus: 42 }] }))).toThrow(
      /httpHealthChecks\[0\]\.expectedStatus: must be an HTTP status code/,
    );
  });

  it('fails when two HTTP checks share a name', () => {
    expect(() => orchestrate(() => ({ httpHealthChecks: [API, API] }))).toThrow(
      /two HTTP health checks are named "api"/,
    );
  });

  it('gives the verify function the bake time on top of its own timeout, the other functions nothing', () => {
    const timeouts = (bakeTime?: Duration) => {
      const { stack } = orchestrate(() => (bakeTime ? { bakeTime } : {}));
      const functions = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'));
      return new Map(functions.map((fn) => [String(fn.Properties?.Description), fn.Properties?.Timeout]));
    };

    const without = timeouts();
    const baked = timeouts(Duration.minutes(5));

    const verify = [...baked.keys()].filter((description) => description.startsWith('Verifies'));
    expect(verify).toHaveLength(1);
    for (const [description, timeout] of baked) {
      const expected = description.startsWith('Verifies')
        ? Number(without.get(description)) + 300
        : without.get(description);
      expect(timeout, description).toBe(expected);
    }
  });

  it('gives the verify function time for each HTTP check to time out, twice with a bake time', () => {
    const verifyTimeout = (props: Parameters<typeof orchestrate>[0]) => {
      const { stack } = orchestrate(props);
      const functions = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'));
      return functions.find((fn) => String(fn.Properties?.Description).startsWith('Verifies'))?.Properties
        ?.Timeout;
    };
    const checks = [API, { name: 'web', url: 'https://web.internal.example.com/' }];

    expect(verifyTimeout(() => ({ httpHealthChecks: checks }))).toBe(120 + 3 + 5);
    const { stack } = orchestrate(() => ({ httpHealthChecks: checks }));
    const preflight = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')).find(
      (fn) => String(fn.Properties?.Description).startsWith('Checks the release plan'),
    );
    expect(preflight?.Properties?.Timeout).toBe(300 + 3 + 5);
    expect(verifyTimeout(() => ({ httpHealthChecks: checks, bakeTime: Duration.minutes(1) }))).toBe(
      120 + 60 + 2 * (3 + 5),
    );
  });

  it('fails when the verify function would need more than Lambda allows', () => {
    const slow = Array.from({ length: 4 }, (_, index) => ({
      ...API,
      name: `api${index}`,
      timeoutMs: 60_000,
    }));

    expect(() => orchestrate(() => ({ httpHealthChecks: slow, bakeTime: Duration.minutes(10) }))).toThrow(
      /the verify function would need 1200 s .* more than Lambda's 900 s/,
    );
  });

  it('fails when bakeTime is longer than 10 minutes', () => {
    expect(() => orchestrate(() => ({ bakeTime: Duration.minutes(11) }))).toThrow(
      /bakeTime must be at most 10 minutes .*received 11 minutes/,
    );
  });

  it('refuses an environment whose HTTP check has credentials in its URL, naming the variable', () => {
    expect(() =>
      readEnv({
        TARGET_KIND: 'instance',
        TARGET_IDENTIFIER: 'app-production',
        DATABASE_SECRET_ARN: SECRET_ARN,
        HTTP_HEALTH_CHECKS: JSON.stringify([{ name: 'api', url: 'https://u:p@x.example.com/' }]),
      }),
    ).toThrow(/HTTP_HEALTH_CHECKS: must be a JSON array of/);
  });
});
