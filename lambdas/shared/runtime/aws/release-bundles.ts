/**
 * The migrations of an execution on AWS: the release bundle its input names, read from S3 (only where the
 * `releaseBundles` prop allows), or the directory bundled beside the handler at deploy time. The S3 client and
 * the zip reader are loaded only when an input names a bundle. A bundle is downloaded once per container: its
 * digest, checked on every download, names its content, so preflight's drift check and the plan read one copy.
 */
import type { MigrationBundle, MigrationSource } from '../../contract/ports.js';
import type { ReleaseBundleRef } from '../../domain/release-bundle.js';
import type { LambdaEnv } from '../env.js';

let loaded: { readonly key: string; readonly bundle: Promise<MigrationBundle> } | undefined;

/** The source of `bundle` on S3, within the limits and location of the function's environment. */
export function s3ReleaseBundleSource(bundle: ReleaseBundleRef, env: LambdaEnv): MigrationSource {
  const key = `${bundle.s3Uri}#${bundle.sha256.toLowerCase()}`;
  return {
    load: async () => {
      if (loaded?.key !== key) {
        const { S3ReleaseBundleSource } = await import('../../adapters/aws/s3-release-bundle-source.js');
        const allowed = env.RELEASE_BUNDLES;
        const source = new S3ReleaseBundleSource({
          uri: bundle.s3Uri,
          sha256: bundle.sha256,
          allowed: allowed && { bucket: allowed.bucket, prefix: allowed.prefix },
          ...(allowed ? { limits: { maxCompressedBytes: allowed.maxBytes } } : {}),
        });
        const current = { key, bundle: source.load() };
        loaded = current;
        // A failed read is not kept: the next call (a retry) reads again.
        current.bundle.catch(() => {
          if (loaded === current) loaded = undefined;
        });
      }
      return await loaded.bundle;
    },
  };
}
