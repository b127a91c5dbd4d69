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
