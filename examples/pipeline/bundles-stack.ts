/**
 * Where the example pipeline's build uploads the release bundles, in a stack of its own that the orchestrator's
 * stack depends on: the orchestrator takes the bucket as its `releaseBundles` prop (its functions read only
 * `releases/*` of it), and the bucket, which outlives any release, is not replaced with the pipeline.
 *
 * The bucket has a name of its own, and the other stack names it by its ARN (`byArn`), not through a
 * cross-stack reference: the IAM statements on it are then plain strings, which the cdk-nag acknowledgements of
 * their `releases/*` wildcard name as they are.
 */
import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

/** Where in the bundle bucket the build puts each release's bundle: `releases/<pipeline execution id>/`. */
export const BUNDLE_PREFIX = 'releases/';

/** The bundle bucket's name in an account and region (bucket names are global). */
export function bundleBucketName(account: string, region: string): string {
  return `release-bundles-${account}-${region}`;
}

export interface ReleaseBundlesStackProps extends StackProps {
  /** An explicit environment: the bucket's name is made of its account and region. */
  readonly env: { readonly account: string; readonly region: string };
  /** The AWS partition of the environment. @default 'aws' */
  readonly partition?: string;
}

export class ReleaseBundlesStack extends Stack {
  /** The release bundles (the zips `pack` writes), under `BUNDLE_PREFIX`. */
  public readonly bucket: s3.Bucket;
  /** The bucket's ARN, a plain string (see `byArn`). */
  public readonly bucketArn: string;

  constructor(scope: Construct, id: string, props: ReleaseBundlesStackProps) {
    super(scope, id, props);
    const bucketName = bundleBucketName(props.env.account, props.env.region);
    this.bucketArn = `arn:${props.partition ?? 'aws'}:s3:::${bucketName}`;
    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // SSE-S3: the orchestrator's functions read the bundles without a key grant.
    this.bucket = new s3.Bucket(this, 'ReleaseBundles', {
      bucketName,
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'bundles/',
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /**
   * The bucket as the other stacks name it: by its ARN, a plain string. Each of them must be deployed after this
   * one (`stack.addDependency(bundles)`).
   */
  get byArn(): s3.IBucket {
    this.imported ??= s3.Bucket.fromBucketArn(this, 'ByArn', this.bucketArn);
    return this.imported;
  }

  private imported?: s3.IBucket;
}
