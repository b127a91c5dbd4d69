import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultProvider } from '../../lambdas/shared/runtime/aws/lambda-credentials.js';

describe("the bundles' credential provider (Lambda's environment credentials)", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('returns the execution role credentials Lambda puts in the environment', async () => {
    // Prepare: what Lambda sets for every execution environment.
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'ASIAEXAMPLEKEY');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'example-secret');
    vi.stubEnv('AWS_SESSION_TOKEN', 'example-session-token');
    // Act
    const credentials = await defaultProvider()();
    // Assess
    expect(credentials).toMatchObject({
      accessKeyId: 'ASIAEXAMPLEKEY',
      secretAccessKey: 'example-secret',
      sessionToken: 'example-session-token',
    });
  });

  it('says what is missing and where the full chain is used when the environment has no credentials', async () => {
    // Prepare
    vi.stubEnv('AWS_ACCESS_KEY_ID', '');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', '');
    // Act
    const failure = defaultProvider()();
    // Assess
    await expect(failure).rejects.toThrow(/AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY.*execution role/);
  });
});
