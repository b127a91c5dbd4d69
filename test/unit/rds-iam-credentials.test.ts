/**
 * IAM database authentication on the functions' side: the `pg` settings (TLS verified, a token per connection,
 * never a password) and the environment that selects it. The signer signs locally with the credentials it is
 * given (no AWS call, so no client mock): static fake credentials and a fixed clock give a token whose every part
 * can be checked.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Signer } from '@aws-sdk/rds-signer';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RdsIamCredentials } from '../../lambdas/shared/adapters/aws/rds-iam-credentials.js';
import { ErrorNames } from '../../lambdas/shared/contract/contract.js';
import { systemClock } from '../../lambdas/shared/contract/ports.js';
import { databaseCapability } from '../../lambdas/shared/runtime/aws/database.js';
import { readEnv, settingsFromEnv } from '../../lambdas/shared/runtime/env.js';

const HOST = 'orders.cluster-c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com';
const FAKE_CREDENTIALS = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};

function credentials(overrides: Partial<ConstructorParameters<typeof RdsIamCredentials>[0]> = {}) {
  return new RdsIamCredentials({
    host: HOST,
    port: 5432,
    user: 'migrator',
    database: 'orders',
    region: 'eu-west-1',
    credentials: FAKE_CREDENTIALS,
    ...overrides,
  });
}

describe('RdsIamCredentials', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-12-01T21:00:00.000Z'));
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('gives pg the endpoint, the user and the database, TLS verified, and a password that is a function', async () => {
    // Act
    const config = await credentials().connection();
    // Assess
    expect(config).toEqual({
      host: HOST,
      port: 5432,
      user: 'migrator',
      database: 'orders',
      password: expect.any(Function),
      ssl: { rejectUnauthorized: true },
    });
  });

  it('answers each password request with a token for the endpoint and the user, signed for rds-db, valid 15 minutes', async () => {
    // Prepare
    const config = await credentials().connection();
    // Act
    const token = await (config.password as () => Promise<string>)();
    // Assess
    const [address, query = ''] = token.split('/?');
    expect(address).toBe(`${HOST}:5432`);
    const params = new URLSearchParams(query);
    expect(Object.fromEntries(params)).toEqual({
      Action: 'connect',
      DBUser: 'migrator',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': 'AKIAIOSFODNN7EXAMPLE/20261201/eu-west-1/rds-db/aws4_request',
      'X-Amz-Date': '20261201T210000Z',
      'X-Amz-Expires': '900',
      'X-Amz-SignedHeaders': 'host',
      'X-Amz-Signature': expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(token).not.toContain(FAKE_CREDENTIALS.secretAccessKey);
  });

  it('signs a new token for every connection pg opens (tokens are not cached)', async () => {
    // Prepare
    const signs = vi.spyOn(Signer.prototype, 'getAuthToken');
    const config = await credentials().connection();
    const password = config.password as () => Promise<string>;
    // Act
    const first = await password();
    vi.setSystemTime(new Date('2026-12-01T21:20:00.000Z'));
    const second = await password();
    // Assess
    expect(signs).toHaveBeenCalledTimes(2);
    expect(first).toContain('X-Amz-Date=20261201T210000Z');
    expect(second).toContain('X-Amz-Date=20261201T212000Z');
  });

  it('fails as a transient fault naming the user and the endpoint when there are no credentials to sign with', async () => {
    // Prepare
    const config = await credentials({
      credentials: () =>
        Promise.reject(Object.assign(new Error('no creds'), { name: 'CredentialsProviderError' })),
    }).connection();
    // Act
    const signing = (config.password as () => Promise<string>)();
    // Assess
    await expect(signing).rejects.toMatchObject({
      name: ErrorNames.TransientFault,
      message: expect.stringMatching(
        /^Signing an IAM database authentication token for user migrator at orders\.cluster-.*:5432 failed \(CredentialsProviderError\)/,
      ),
    });
  });
});

describe('readEnv, the database login', () => {
  const base = { TARGET_KIND: 'instance', TARGET_IDENTIFIER: 'orders' };
  const iam = {
    ...base,
    DATABASE_AUTH: 'iam',
    DATABASE_USER: 'migrator',
    DATABASE_HOST: HOST,
    DATABASE_PORT: '5432',
    DATABASE_NAME: 'orders',
  };

  it('reads the secret ARN by default', () => {
    const env = readEnv({
      ...base,
      DATABASE_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:1:secret:x-AbCdEf',
    });
    expect(env.DATABASE_LOGIN).toEqual({
      auth: 'secret',
      secretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:x-AbCdEf',
    });
  });

  it('reads the IAM user and endpoint with DATABASE_AUTH=iam, and needs no secret', () => {
    const env = readEnv(iam);
    expect(env.DATABASE_LOGIN).toEqual({ auth: 'iam', user: 'migrator', host: HOST, port: 5432 });
    expect(env.DATABASE_NAME).toBe('orders');
  });

  it.each([
    ['DATABASE_NAME is missing', { DATABASE_NAME: '' }, 'DATABASE_NAME: is required with DATABASE_AUTH=iam'],
    ['DATABASE_USER is missing', { DATABASE_USER: '' }, 'DATABASE_USER: is required'],
    ['DATABASE_HOST is missing', { DATABASE_HOST: '' }, 'DATABASE_HOST: is required'],
    ['DATABASE_PORT is not a port', { DATABASE_PORT: '70000' }, 'DATABASE_PORT: must be a TCP port'],
    [
      'a secret ARN is set too',
      { DATABASE_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:1:secret:x-AbCdEf' },
      'DATABASE_SECRET_ARN: is set with DATABASE_AUTH=iam',
    ],
    ['DATABASE_AUTH is unknown', { DATABASE_AUTH: 'kerberos' }, 'DATABASE_AUTH: must be one of secret, iam'],
  ])('fails when %s, naming the variable', (_case, override, message) => {
    expect(() => readEnv({ ...iam, ...override })).toThrow(
      expect.objectContaining({ name: ErrorNames.InvalidInput, message: expect.stringContaining(message) }),
    );
  });
});

describe('databaseCapability with DATABASE_AUTH=iam', () => {
  it('connects with tokens for the user and endpoint of the environment, and never reads a secret', async () => {
    // Prepare
    const secretsManager = mockClient(SecretsManagerClient);
    const env = readEnv({
      TARGET_KIND: 'instance',
      TARGET_IDENTIFIER: 'orders',
      DATABASE_AUTH: 'iam',
      DATABASE_USER: 'migrator',
      DATABASE_HOST: HOST,
      DATABASE_PORT: '6432',
      DATABASE_NAME: 'orders',
    });
    const database = databaseCapability({
      env,
      settings: settingsFromEnv(env),
      clock: systemClock,
    });
    // Act
    const config = await database.connection();
    // Assess
    expect(config).toMatchObject({ host: HOST, port: 6432, user: 'migrator', database: 'orders' });
    expect(config.ssl).toEqual({ rejectUnauthorized: true });
    expect(typeof config.password).toBe('function');
    expect(await database.databaseName()).toBe('orders');
    expect(secretsManager.calls()).toHaveLength(0);
    secretsManager.restore();
  });
});
