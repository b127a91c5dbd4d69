/**
 * A release bundle read from S3 (`s3://bucket/key.zip`), streamed with one GetObject. The functions may read only
 * the bucket and prefix of the construct's `releaseBundles` prop (their IAM grant says the same): any other
 * location is refused before a call is made, naming the prop. Limits, digest and zip checks are
 * `ReleaseBundleSource`'s.
 */
import { GetObjectCommand, type GetObjectCommandOutput, S3Client } from '@aws-sdk/client-s3';
import { InvalidInputError, MigrationsInvalidError, TransientFaultError } from '../../contract/errors.js';
import { parseReleaseBundleUri } from '../../domain/release-bundle.js';
import { faultName, faultSummary, isAccessDenied, isTransientFault } from '../rds/faults.js';
import {
  type OpenedBundle,
  ReleaseBundleSource,
  type ReleaseBundleSourceOptions,
} from '../release-bundle/release-bundle-source.js';

/** Where the functions may read bundles: the `releaseBundles` prop, from RELEASE_BUNDLE_BUCKET/PREFIX. */
export interface ReleaseBundleLocationAllowed {
  readonly bucket: string;
  /** @default '' (the whole bucket) */
  readonly prefix?: string;
}

export interface S3ReleaseBundleSourceOptions extends ReleaseBundleSourceOptions {
  /** The input's `migrations.s3Uri`. */
  readonly uri: string;
  /** undefined when the construct has no `releaseBundles` prop: every bundle is refused. */
  readonly allowed: ReleaseBundleLocationAllowed | undefined;
  readonly client?: S3Client;
}

const NOT_FOUND = new Set(['NoSuchKey', 'NotFound', 'NoSuchBucket']);

export class S3ReleaseBundleSource extends ReleaseBundleSource {
  readonly uri: string;
  private readonly allowed: ReleaseBundleLocationAllowed | undefined;
  private readonly client: S3Client;

  constructor(options: S3ReleaseBundleSourceOptions) {
    super(options);
    this.uri = options.uri;
    this.allowed = options.allowed;
    this.client = options.client ?? new S3Client({});
  }

  protected async open(): Promise<OpenedBundle> {
    const { bucket, key } = this.location();
    let output: GetObjectCommandOutput;
    try {
      output = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    } catch (error) {
      throw this.readFailure(error);
    }
    const body = output.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
    if (!body || typeof body[Symbol.asyncIterator] !== 'function') {
      throw new MigrationsInvalidError(`S3 returned no readable body for the release bundle ${this.uri}.`, {
        details: { bundle: this.uri },
      });
    }
    return {
      body: this.guarded(body),
      ...(typeof output.ContentLength === 'number' ? { size: output.ContentLength } : {}),
      abort: () => body.destroy?.(),
    };
  }

  /** The bucket and key, once they are known to be where the functions may read. */
  private location(): { bucket: string; key: string } {
    const location = parseReleaseBundleUri(this.uri);
    if (typeof location === 'string') {
      throw new InvalidInputError(
        `input.migrations.s3Uri: ${location} (received ${JSON.stringify(this.uri)}).`,
      );
    }
    if (location.scheme === 'file') {
      throw new InvalidInputError(
        `input.migrations.s3Uri: ${this.uri} is a file: URI, which only the local runner reads. On AWS upload the ` +
          'bundle to the bucket of the releaseBundles prop and pass its s3://<bucket>/<key>.',
      );
    }
    const allowed = this.allowed;
    if (allowed === undefined) {
      throw new InvalidInputError(
        `input.migrations names the release bundle ${this.uri}, but this orchestrator reads no release bundles: ` +
          'its construct has no releaseBundles prop. Set releaseBundles: { bucket, prefix } on the ' +
          'MigrationOrchestrator and deploy it, or start the execution without "migrations" (the migrations ' +
          'bundled at deploy time are then used).',
      );
    }
    const prefix = allowed.prefix ?? '';
    if (location.bucket !== allowed.bucket || !location.key.startsWith(prefix)) {
      throw new InvalidInputError(
        `input.migrations.s3Uri: ${this.uri} is outside where this orchestrator may read release bundles, ` +
          `s3://${allowed.bucket}/${prefix}* (the releaseBundles prop). Upload the bundle there, or change the prop ` +
          'and deploy.',
      );
    }
    return { bucket: location.bucket, key: location.key };
  }

  /** A read failure as one of our errors: retried when transient, otherwise naming the object and the fix. */
  private readFailure(error: unknown): Error {
    const name = faultName(error);
    if (NOT_FOUND.has(name)) {
      return new MigrationsInvalidError(
        `The release bundle ${this.uri} does not exist (${name}). Upload it (aws s3 cp <bundle.zip> ${this.uri}) ` +
          'before starting the execution, or fix input.migrations.s3Uri.',
        { cause: error, details: { bundle: this.uri } },
      );
    }
    if (isAccessDenied(error)) {
      return new MigrationsInvalidError(
        `The release bundle ${this.uri} could not be read: access denied (${faultSummary(error)}). The function's ` +
          'role may read the releaseBundles bucket and prefix: check the bucket policy, and the key policy of the ' +
          "bucket's KMS key (kms:Decrypt).",
        { cause: error, details: { bundle: this.uri } },
      );
    }
    if (isTransientFault(error)) {
      return new TransientFaultError(
        `S3 GetObject of the release bundle ${this.uri} failed with a transient fault (${faultSummary(error)}). ` +
          'Nothing was read or changed; the workflow retries it.',
        { cause: error, details: { bundle: this.uri, fault: name } },
      );
    }
    return new MigrationsInvalidError(
      `The release bundle ${this.uri} could not be read (${faultSummary(error)}).`,
      { cause: error, details: { bundle: this.uri } },
    );
  }

  /** The body's chunks; a connection lost mid-download becomes a transient fault (retried). */
  private async *guarded(body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
    try {
      yield* body;
    } catch (error) {
      throw new TransientFaultError(
        `The download of the release bundle ${this.uri} broke off (${faultSummary(error)}). Nothing was applied; ` +
          'the workflow retries it.',
        { cause: error, details: { bundle: this.uri } },
      );
    }
  }
}
