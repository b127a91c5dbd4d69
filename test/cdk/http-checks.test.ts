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

  it('fails when bakeTime does not leave 5 minutes of stepTimeout', () => {
    expect(() =>
      orchestrate(() => ({ bakeTime: Duration.minutes(6), stepTimeout: Duration.minutes(10) })),
    ).toThrow(/bakeTime must be at most 5 minutes .*received 6 minutes/);
    expect(() => orchestrate(() => ({ bakeTime: Duration.minutes(11) }))).toThrow(
      /bakeTime must be at most 10 minutes/,
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
