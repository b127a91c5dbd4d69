/**
 * Release bundles in the local runner: a run whose input names `migrations: { s3Uri: "file:///abs/bundle.zip",
 * sha256 }` rehearses the release from that very zip (same limits, digest check and zip checks as on AWS);
 * without it, the run's migrations directory is used. The local runner reads files only: an `s3://` URI is
 * refused with the fix (download it first). `releaseBundleInput` builds the input field from a file, for the
 * CLI's `--bundle PATH`.
 */

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DirectoryMigrationSource } from '../../lambdas/shared/adapters/prisma/directory-migration-source.js';
import { FileReleaseBundleSource } from '../../lambdas/shared/adapters/release-bundle/file-release-bundle-source.js';
import { InvalidInputError } from '../../lambdas/shared/contract/errors.js';
import type { MigrationSource } from '../../lambdas/shared/contract/ports.js';
import {
  parseReleaseBundleUri,
  type ReleaseBundleLimits,
  type ReleaseBundleRef,
  releaseBundleOf,
} from '../../lambdas/shared/domain/release-bundle.js';

/** A source that refuses when loaded (preflight reports it, touching nothing). */
function refusing(message: string): MigrationSource {
  return {
    load: async () => {
      throw new InvalidInputError(message);
    },
  };
}

/**
 * The migrations of a local run: the release bundle its input names (a `file:` URI), or `migrationsDir`.
 * Nothing is read before `load()`; a malformed input is refused by preflight's input validation first.
 */
export function localMigrationSource(
  input: unknown,
  migrationsDir: string,
  limits?: Partial<ReleaseBundleLimits>,
): MigrationSource {
  const bundle = releaseBundleOf(input);
  if (!bundle) return new DirectoryMigrationSource(migrationsDir);
  const location = parseReleaseBundleUri(bundle.s3Uri);
  if (typeof location === 'string') {
    return refusing(`input.migrations.s3Uri: ${location} (received ${JSON.stringify(bundle.s3Uri)}).`);
  }
  if (location.scheme === 's3') {
    return refusing(
      `input.migrations.s3Uri: the local runner reads release bundles from files, not from S3 (${bundle.s3Uri}). ` +
        'Download it (aws s3 cp) and pass file:///<absolute path> (the CLI: --bundle <file>).',
    );
  }
  return new FileReleaseBundleSource({
    path: location.path,
    sha256: bundle.sha256,
    ...(limits ? { limits } : {}),
  });
}

/** sha256 hex of a file, streamed. */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The input's `migrations` field for a bundle file (what the CLI's `--bundle PATH` adds to the input): its
 * `file:` URI and digest. Pass the digest `pack` printed to have it checked; without it, the file's own digest
 * is taken (the run then checks only that the file does not change while it runs).
 */
export async function releaseBundleInput(path: string, sha256?: string): Promise<ReleaseBundleRef> {
  const absolute = resolve(path);
  return { s3Uri: pathToFileURL(absolute).href, sha256: sha256 ?? (await sha256OfFile(absolute)) };
}
