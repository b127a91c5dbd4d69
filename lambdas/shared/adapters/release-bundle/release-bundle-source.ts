/**
 * What every release bundle source does, wherever the zip lives (S3 on AWS, a file for the local runner): read
 * it as a stream, never more than the size limit, hashing while it streams; refuse a digest that differs from
 * the one the input names before a single entry is parsed; then read the migrations out of it
 * (`zip-reader.ts`). A subclass only opens the stream (`open`) and says how it names the bundle.
 */
import { createHash } from 'node:crypto';
import { MigrationsInvalidError } from '../../contract/errors.js';
import type { MigrationBundle, MigrationSource } from '../../contract/ports.js';
import {
  DEFAULT_RELEASE_BUNDLE_LIMITS,
  describeReleaseBundle,
  type ReleaseBundleLimits,
} from '../../domain/release-bundle.js';
import { readMigrationsZip } from './zip-reader.js';

/** An opened bundle: its bytes as a stream, and its size when the store says it up front. */
export interface OpenedBundle {
  readonly body: AsyncIterable<Uint8Array>;
  /** Bytes, when known before reading (S3's Content-Length, a file's size). */
  readonly size?: number;
  /** Stops the stream (called when the limit is passed). */
  readonly abort: () => void;
}

export interface ReleaseBundleSourceOptions {
  /** sha256 hex of the zip, as the execution input names it. */
  readonly sha256: string;
  /** @default DEFAULT_RELEASE_BUNDLE_LIMITS */
  readonly limits?: Partial<ReleaseBundleLimits>;
}

export abstract class ReleaseBundleSource implements MigrationSource {
  protected readonly sha256: string;
  protected readonly limits: ReleaseBundleLimits;

  constructor(options: ReleaseBundleSourceOptions) {
    this.sha256 = options.sha256.toLowerCase();
    this.limits = { ...DEFAULT_RELEASE_BUNDLE_LIMITS, ...options.limits };
  }

  /** The bundle as messages and the plan name it (`s3://bucket/key.zip`, `file:///...`). */
  abstract readonly uri: string;

  /** Opens the zip as a stream. Refusals (not found, not allowed) are thrown here, with their fix. */
  protected abstract open(): Promise<OpenedBundle>;

  async load(): Promise<MigrationBundle> {
    const bytes = await this.download();
    const bundle = await readMigrationsZip(bytes, { label: this.uri, limits: this.limits });
    return { ...bundle, source: describeReleaseBundle(this.uri, this.sha256) };
  }

  /** The zip's bytes, read within the size limit and checked against the digest. */
  private async download(): Promise<Buffer> {
    const max = this.limits.maxCompressedBytes;
    const tooLarge = (size: string) =>
      new MigrationsInvalidError(
        `The release bundle ${this.uri} is refused: it is ${size} bytes, more than the ${max} allowed. A bundle ` +
          'holds prisma/migrations only; check what was packed. The limit is RELEASE_BUNDLE_MAX_BYTES (the ' +
          "releaseBundles prop's maxSize).",
        { details: { bundle: this.uri, limit: max } },
      );
    const opened = await this.open();
    if (opened.size !== undefined && opened.size > max) {
      opened.abort();
      throw tooLarge(String(opened.size));
    }
    const hash = createHash('sha256');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of opened.body) {
      size += chunk.length;
      if (size > max) {
        opened.abort();
        throw tooLarge(`at least ${size}`);
      }
      hash.update(chunk);
      chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    }
    const digest = hash.digest('hex');
    if (digest !== this.sha256) {
      throw new MigrationsInvalidError(
        `The release bundle ${this.uri} is refused: its sha256 is ${digest}, but the execution input says ` +
          `${this.sha256}. It is not the bundle this release was started with (replaced, or still uploading): ` +
          'upload the bundle again, or start the execution with the digest `pack` printed for it. Nothing of it ' +
          'was read.',
        { details: { bundle: this.uri, expected: this.sha256, actual: digest } },
      );
    }
    return Buffer.concat(chunks, size);
  }
}
