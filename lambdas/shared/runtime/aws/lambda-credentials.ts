/**
 * The credentials of a step's AWS SDK clients on Lambda: the execution role's, from the environment.
 *
 * Every function bundle replaces `@aws-sdk/credential-provider-node` (the SDK's default chain: environment, SSO,
 * shared ini files, process, web identity, container and instance metadata) with this module
 * (`BUNDLE_SETTINGS.alias`, lib/private/bundling.ts). Lambda puts the execution role's credentials in
 * `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` of every execution environment, which is
 * the first link of the default chain and the only one that answers on Lambda; the rest of the chain (with the
 * STS, SSO and sign-in clients it embeds) was a third of an RDS-only step's bundle and of its cold start
 * (bench/README.md). Outside Lambda nothing is replaced: the CLI and the local runner use the full chain.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

/** The subset of the default chain's options the environment provider reads. */
type ProviderInit = Parameters<typeof fromEnv>[0];
type Provider = ReturnType<typeof fromEnv>;

/** Same signature as the default chain's `defaultProvider`: the clients' runtime config calls it. */
export const defaultProvider = (init?: ProviderInit): Provider => {
  const fromEnvironment = fromEnv(init);
  return async () => {
    try {
      return await fromEnvironment();
    } catch (error) {
      throw new Error(
        'No AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): this bundle is built ' +
          'for Lambda, which sets them from the function execution role. Run the step on Lambda, or run it ' +
          'locally through the local runner (npm start), which uses the SDK default credential chain.',
        { cause: error },
      );
    }
  };
};
