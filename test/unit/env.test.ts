import { describe, expect, it } from 'vitest';
import { ErrorNames } from '../../lambdas/shared/contract/contract.js';
import { readEnv, settingsFromEnv } from '../../lambdas/shared/runtime/env.js';

const valid = {
  TARGET_KIND: 'cluster',
  TARGET_IDENTIFIER: 'orders-cluster',
  DATABASE_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders-AbCdEf',
  HEALTH_CHECKS: JSON.stringify([{ name: 'orders readable', sql: 'SELECT count(*) >= 0 FROM "Order"' }]),
};

describe('readEnv', () => {
  it('reads the construct-set variables with defaults', () => {
    const settings = settingsFromEnv(readEnv(valid));
    expect(settings).toMatchObject({
      targetIdentifier: 'orders-cluster',
      transactionMode: 'release',
      snapshotTimeoutSeconds: 7200,
      healthChecks: [{ name: 'orders readable', sql: 'SELECT count(*) >= 0 FROM "Order"' }],
    });
  });

  it.each([
    ['TARGET_KIND is not instance or cluster', { TARGET_KIND: 'serverless' }, 'TARGET_KIND'],
    ['the secret is not an ARN', { DATABASE_SECRET_ARN: 'orders-secret' }, 'DATABASE_SECRET_ARN'],
    ['HEALTH_CHECKS is not JSON', { HEALTH_CHECKS: '[oops' }, 'HEALTH_CHECKS'],
    ['TRANSACTION_MODE is unknown', { TRANSACTION_MODE: 'both' }, 'TRANSACTION_MODE'],
  ])('fails when %s, naming the variable', (_case, override, variable) => {
    expect(() => readEnv({ ...valid, ...override })).toThrow(
      expect.objectContaining({ name: ErrorNames.InvalidInput, message: expect.stringContaining(variable) }),
    );
  });
});

describe('readEnv, every variable', () => {
  it.each([
    [
      'SNAPSHOT_TIMEOUT_SECONDS is not a positive integer',
      { SNAPSHOT_TIMEOUT_SECONDS: '0' },
      'SNAPSHOT_TIMEOUT_SECONDS',
    ],
    ['LOCK_TIMEOUT_MS is negative', { LOCK_TIMEOUT_MS: '-1' }, 'LOCK_TIMEOUT_MS'],
    [
      'a health check has an unknown field',
      { HEALTH_CHECKS: '[{"name":"a","sql":"SELECT true","x":1}]' },
      'HEALTH_CHECKS',
    ],
    ['DRIFT_POLICY is unknown', { DRIFT_POLICY: 'strict' }, 'DRIFT_POLICY'],
    ['DRIFT_IGNORE is not a list of names', { DRIFT_IGNORE: '[1]' }, 'DRIFT_IGNORE'],
    ['CHECK_SCHEMA_DRIFT is not a boolean', { CHECK_SCHEMA_DRIFT: 'yes' }, 'CHECK_SCHEMA_DRIFT'],
    ['TARGET_IDENTIFIER is missing', { TARGET_IDENTIFIER: '' }, 'TARGET_IDENTIFIER: is required'],
  ])('fails when %s, naming the variable', (_case, override, variable) => {
    expect(() => readEnv({ ...valid, ...override })).toThrow(
      expect.objectContaining({ message: expect.stringContaining(variable) }),
    );
  });

  it('names every wrong variable at once', () => {
    expect(() => readEnv({ ...valid, TARGET_KIND: 'x', DRIFT_POLICY: 'y' })).toThrow(
      /TARGET_KIND: .*; DRIFT_POLICY: /,
    );
  });

  it('reads the drift settings and the numbers it is given', () => {
    const env = readEnv({
      ...valid,
      DRIFT_POLICY: 'fail',
      DRIFT_IGNORE: '["audit_log"]',
      LOCK_TIMEOUT_MS: '2500',
      CHECK_SCHEMA_DRIFT: 'true',
    });
    expect(env).toMatchObject({
      DRIFT_POLICY: 'fail',
      DRIFT_IGNORE: ['audit_log'],
      LOCK_TIMEOUT_MS: 2500,
      CHECK_SCHEMA_DRIFT: true,
    });
  });
});
