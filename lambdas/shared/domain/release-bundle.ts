/**
 * Release bundles: the migrations of one release, named by the execution input (`migrations: { s3Uri, sha256 }`)
 * instead of bundled into the functions at deploy time. A bundle is a zip of the `prisma/migrations` directory
 * (`migration_lock.toml` and `<name>/migration.sql`), identified by the sha256 of its bytes. The rules here are
 * pure: what a bundle reference looks like, where it points, its limits, and how the plan names it.
 */

/** The `migrations` field of the execution input. */
export interface ReleaseBundleRef {
  /** `s3://<bucket>/<key>`; for the local runner also `file:///<absolute path>`. */
  readonly s3Uri: string;
  /** sha256 hex of the zip's bytes (what `pack` prints). */
  readonly sha256: string;
}

/** Where a bundle reference points. */
export type ReleaseBundleLocation =
  | { readonly scheme: 's3'; readonly bucket: string; readonly key: string }
  | { readonly scheme: 'file'; readonly path: string };

/** 64 hexadecimal digits. */
export const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/** S3's bucket naming rules (general purpose buckets): 3 to 63 lowercase letters, digits, dots and hyphens. */
export const S3_BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** What the `s3Uri` of a bundle reference must look like, in the words of an error message. */
export const RELEASE_BUNDLE_URI_SHAPE =
  's3://<bucket>/<key> (the zip `pack` wrote, uploaded to the bucket of the releaseBundles prop); ' +
  'the local runner also reads file:///<absolute path>';

/** The limits a bundle is read within. A bundle beyond any of them is refused, naming the limit. */
export interface ReleaseBundleLimits {
  /** Bytes of the zip itself (what is downloaded). */
  readonly maxCompressedBytes: number;
  /** Entries in the zip (files and folders). */
  readonly maxEntries: number;
  /** Uncompressed bytes of one entry. */
  readonly maxEntryBytes: number;
  /** Uncompressed bytes of all entries together. */
  readonly maxTotalBytes: number;
  /** Uncompressed / compressed size of one entry, for entries above `ratioFloorBytes`. */
  readonly maxCompressionRatio: number;
  /** Entries smaller than this are not held to the ratio (a few KB of blanks compress 500:1 and harm nothing). */
  readonly ratioFloorBytes: number;
}

const MiB = 1024 * 1024;

/** The smallest size limit a deployment may set (a bundle of one migration is about 1 KB). */
export const MIN_RELEASE_BUNDLE_BYTES = 1024;

/** The largest: the zip is held in memory while it is read. */
export const MAX_RELEASE_BUNDLE_BYTES = 512 * MiB;

export const DEFAULT_RELEASE_BUNDLE_LIMITS: ReleaseBundleLimits = {
  maxCompressedBytes: 50 * MiB,
  maxEntries: 10_000,
  maxEntryBytes: 32 * MiB,
  maxTotalBytes: 128 * MiB,
  maxCompressionRatio: 200,
  ratioFloorBytes: MiB,
};

/**
 * Where `uri` points, or a sentence saying what is wrong with it. Keys are taken verbatim (as the AWS CLI
 * writes them), never percent-decoded; a file URI's path is percent-decoded as URLs are.
 */
export function parseReleaseBundleUri(uri: string): ReleaseBundleLocation | string {
  if (uri.startsWith('s3://')) {
    const rest = uri.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    const key = slash < 0 ? '' : rest.slice(slash + 1);
    if (!S3_BUCKET_NAME.test(bucket) || bucket.includes('..')) {
      return `"${bucket}" is not an S3 bucket name (3 to 63 lowercase letters, digits, dots and hyphens)`;
    }
    if (key === '' || key.endsWith('/'))
      return 'the URI names no object: add the key of the zip after the bucket';
    if (key.length > 1024) return 'the object key is longer than S3 allows (1024 bytes)';
    return { scheme: 's3', bucket, key };
  }
  if (uri.startsWith('file:')) {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      return 'not a valid file: URI; write file:///<absolute path>';
    }
    if (url.host !== '' || !uri.startsWith('file:///')) {
      return 'a file URI must name an absolute path on this machine: file:///<absolute path>';
    }
    const path = decodeURIComponent(url.pathname);
    if (path.endsWith('/')) return 'the URI names a folder, not the zip file';
    return { scheme: 'file', path };
  }
  return 'neither an s3:// nor a file:/// URI';
}

/**
 * The bundle reference of an execution input, for the steps after preflight (which validated the whole input
 * with its schema): undefined when the input names none (the migrations bundled at deploy time are used).
 * A malformed reference here is returned as is: the source that reads it refuses it, naming the field.
 */
export function releaseBundleOf(input: unknown): ReleaseBundleRef | undefined {
  const migrations = (input as { migrations?: unknown } | null | undefined)?.migrations;
  if (migrations === undefined || migrations === null || typeof migrations !== 'object') return undefined;
  const { s3Uri, sha256 } = migrations as Record<string, unknown>;
  return { s3Uri: String(s3Uri ?? ''), sha256: String(sha256 ?? '') };
}

/** How the plan names a bundle: `s3://bucket/key.zip (sha256 0123456789ab…)`. */
export function describeReleaseBundle(uri: string, sha256: string): string {
  return `${uri} (sha256 ${sha256.toLowerCase().slice(0, 12)}…)`;
}
