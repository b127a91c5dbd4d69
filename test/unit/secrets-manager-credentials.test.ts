import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SecretsManagerCredentials } from '../../lambdas/shared/adapters/aws/secrets-manager-credentials.js';
import { ErrorNames } from '../../lambdas/shared/contract/contract.js';

const secretsManager = mockClient(SecretsManagerClient);
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders-db-AbCdEf';
const SECRET = {
  username: 'app',
  password: 'hunter2-very-secret',
  host: 'orders.cluster-x.eu-west-1.rds.amazonaws.com',
  port: 5432,
  dbname: 'orders',
};

beforeEach(() => secretsManager.reset());

describe('SecretsManagerCredentials', () => {
  it('reads the RDS-style secret once and returns verified-TLS pg settings', async () => {
    secretsManager
      .on(GetSecretValueCommand, { SecretId: SECRET_ARN })
      .resolves({ SecretString: JSON.stringify(SECRET) });
    const credentials = new SecretsManagerCredentials({
      secretArn: SECRET_ARN,
      client: new SecretsManagerClient({}),
    });
    const config = await credentials.connection();
    await credentials.connection();
    expect(config).toEqual({
      host: SECRET.host,
      port: 5432,
      user: 'app',
      password: SECRET.password,
      database: 'orders',
      ssl: { rejectUnauthorized: true },
    });
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('reads the secret again after the cache expires (rotation)', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(SECRET) });
    let now = 0;
    const credentials = new SecretsManagerCredentials({
      secretArn: SECRET_ARN,
      client: new SecretsManagerClient({}),
      now: () => now,
      cacheTtlMs: 1000,
    });
    await credentials.connection();
    now = 1001;
    await credentials.connection();
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('fails when the secret has the wrong shape, without echoing its content', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ user: 'app', password: 'hunter2-very-secret' }) });
    const error = await new SecretsManagerCredentials({
      secretArn: SECRET_ARN,
      client: new SecretsManagerClient({}),
    })
      .connection()
      .catch((e: Error) => e);
    expect(error).toMatchObject({ name: ErrorNames.InvalidInput });
    expect((error as Error).message).toContain(SECRET_ARN);
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('fails when the secret does not exist, naming it and the permission to check', async () => {
    secretsManager.on(GetSecretValueCommand).rejects(
      new ResourceNotFoundException({
        message: "Secrets Manager can't find the specified secret.",
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const error = await new SecretsManagerCredentials({
      secretArn: SECRET_ARN,
      client: new SecretsManagerClient({}),
    })
      .connection()
      .catch((e: Error) => e);
    expect(error).toMatchObject({
      name: ErrorNames.InvalidInput,
      message: expect.stringContaining('ResourceNotFoundException'),
    });
  });

  it('reports throttling as a transient fault the state machine retries', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400 },
    });
    secretsManager.on(GetSecretValueCommand).rejects(throttled);
    const error = await new SecretsManagerCredentials({
      secretArn: SECRET_ARN,
      client: new SecretsManagerClient({}),
    })
      .connection()
      .catch((e: Error) => e);
    expect(error).toMatchObject({ name: ErrorNames.TransientFault });
  });

  it('uses the configured database name over the secret dbname', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ ...SECRET, dbname: undefined }) });
    const config = await new SecretsManagerCredentials({
      secretArn: SECRET_ARN,
      databaseName: 'reporting',
      client: new SecretsManagerClient({}),
    }).connection();
    expect(config.database).toBe('reporting');
  });

  it.each([
    ['a numeric-string port', { ...SECRET, port: '6543' }, 6543],
    ['no port', { ...SECRET, port: undefined }, 5432],
  ])('reads %s as RDS writes it', async (_case, secret, port) => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(secret) });
    const config = await new SecretsManagerCredentials({
      secretArn: SECRET_ARN,
      client: new SecretsManagerClient({}),
    }).connection();
    expect(config.port).toBe(port);
  });

  it.each([
    ['a port that is not a number', { ...SECRET, port: 'five' }],
    ['an empty password', { ...SECRET, password: '' }],
    ['an empty dbname', { ...SECRET, dbname: '' }],
    ['not JSON', 'username=app'],
  ])('fails on %s, without echoing the content', async (_case, secret) => {
    secretsManager
      .on(GetSecretValueCommand)
      .resolves({ SecretString: typeof secret === 'string' ? secret : JSON.stringify(secret) });
    const error = await new SecretsManagerCredentials({
      secretArn: SECRET_ARN,
      client: new SecretsManagerClient({}),
    })
      .connection()
      .catch((e: Error) => e);
    expect(error).toMatchObject({ name: ErrorNames.InvalidInput });
    expect((error as Error).message).not.toContain('hunter2');
  });
});
