/**
 * Release bundles (the `releaseBundles` prop): the functions that load the migrations (preflight, apply, and
 * verify-health when it checks schema drift: `stepBundlesMigrations`) may read `s3:GetObject` on
 * `<bucket>/<prefix>*` only, plus `kms:Decrypt` through S3 when the bucket has a customer managed key; their
 * environment names the bucket, the prefix and the size limit (RELEASE_BUNDLE_*), which they check an input's
 * `migrations.s3Uri` against before any call. No other function gets either.
 */
import { type Size, Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { type Step, Steps } from '../../lambdas/shared/contract/contract.js';
import type { Allow } from './nag.js';
import { stepBundlesMigrations } from './step-profiles.js';

/** Where the functions read release bundles from (`MigrationOrchestratorProps.releaseBundles`). */
export interface ReleaseBundlesOptions {
  /** The bucket the pipeline uploads release bundles to (the zips `pack` writes). */
  readonly bucket: s3.IBucket;
  /**
   * Only keys under this prefix may be read (the functions' grant is `<bucket>/<prefix>*`), e.g. `releases/`.
   *
   * @default - the whole bucket
   */
  readonly prefix?: string;
  /**
   * The largest bundle read (the zip's own size), between 1 KiB and 512 MiB. Larger ones are refused before
   * they are downloaded.
   *
   * @default Size.mebibytes(50)
   */
  readonly maxSize?: Size;
}

/** The `releaseBundles` prop once checked. */
export interface ResolvedReleaseBundles {
  readonly bucket: s3.IBucket;
  /** '' for the whole bucket. */
  readonly prefix: string;
  readonly maxBytes: number;
}

/** The steps whose functions read release bundles. */
export function releaseBundleSteps(checkSchemaDrift: boolean): Step[] {
  return Steps.filter((step) => stepBundlesMigrations(step, checkSchemaDrift));
}

/** Grants the steps that load migrations their read of the bundles, and sets their RELEASE_BUNDLE_* variables. */
export function grantReleaseBundleReads(
  steps: {
    readonly functions: Readonly<Record<Step, lambda.Function>>;
    readonly roles: Readonly<Record<Step, iam.Role>>;
  },
  bundles: ResolvedReleaseBundles,
  checkSchemaDrift: boolean,
  allow: Allow,
): void {
  const { bucket, prefix, maxBytes } = bundles;
  for (const step of releaseBundleSteps(checkSchemaDrift)) {
    const fn = steps.functions[step];
    fn.addEnvironment('RELEASE_BUNDLE_BUCKET', bucket.bucketName);
    if (prefix !== '') fn.addEnvironment('RELEASE_BUNDLE_PREFIX', prefix);
    fn.addEnvironment('RELEASE_BUNDLE_MAX_BYTES', String(maxBytes));
    const role = steps.roles[step];
    allow(
      role,
      {
        sid: 'ReadReleaseBundles',
        actions: ['s3:GetObject'],
        resources: [bucket.arnForObjects(`${prefix}*`)],
      },
      'Release bundles are objects under the prefix of the releaseBundles prop, named by each execution input ' +
        '(known only at run time); read only, and the function refuses any other bucket or prefix itself.',
    );
    if (bucket.encryptionKey) {
      allow(role, {
        sid: 'DecryptReleaseBundles',
        actions: ['kms:Decrypt'],
        resources: [bucket.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(role).region}.amazonaws.com` } },
      });
    }
  }
}
