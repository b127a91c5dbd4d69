/**
 * `pack <migrations dir> [--out FILE] [--s3-uri URI] [--json]`: packs a Prisma migrations directory into a
 * release bundle (a deterministic zip: the same directory gives the same bytes), writes it, and prints its sha256
 * and the execution input that names it. Upload the file, then start the execution with that input.
 */
import { writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { packMigrations } from '../../lambdas/shared/adapters/release-bundle/zip-writer.js';
import { MigrationsInvalidError } from '../../lambdas/shared/contract/errors.js';
import { parseReleaseBundleUri } from '../../lambdas/shared/domain/release-bundle.js';

export const PACK_USAGE = `Usage: pack <migrations dir> [--out FILE] [--s3-uri s3://BUCKET/KEY] [--json]

Packs a Prisma migrations directory (migration_lock.toml and one <name>/migration.sql per migration) into a
release bundle: a zip holding exactly those files, sorted, with fixed timestamps and permissions, so the same
directory always gives the same bytes and the same sha256. Prints the sha256 and the execution input that names
the bundle; upload the file to the bucket and prefix of the releaseBundles prop, then start the execution with
that input.

Options:
  --out FILE        where to write the zip (default: ./migrations-<first 12 digits of its sha256>.zip)
  --s3-uri URI      the s3:// URI the bundle will be uploaded to, used in the printed input
                    (default: a placeholder, s3://<bucket>/<prefix><file name>)
  --json            print one JSON object (file, sha256, bytes, migrations, input) instead of text
  -h, --help        this text

Exit codes: 0 packed; 1 bad usage or a directory that is not a valid Prisma migrations directory.`;

function out(text = ''): void {
  process.stdout.write(`${text}\n`);
}

function fail(message: string, usage = false): number {
  process.stderr.write(`${message}\n${usage ? `\n${PACK_USAGE}\n` : ''}`);
  return 1;
}

/** The `pack` command; returns the process exit code. */
export async function commandPack(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    return fail((error as Error).message, true);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out(PACK_USAGE);
    return 0;
  }
  if (positionals.length !== 1) return fail('pack takes one argument: the migrations directory.', true);
  const s3Uri = values['s3-uri'];
  if (s3Uri !== undefined) {
    const location = parseReleaseBundleUri(s3Uri);
    if (typeof location === 'string' || location.scheme !== 's3') {
      return fail(
        `--s3-uri: ${typeof location === 'string' ? location : 'not an s3:// URI'} (received ${JSON.stringify(s3Uri)}).`,
        true,
      );
    }
  }
  let packed: Awaited<ReturnType<typeof packMigrations>>;
  try {
    packed = await packMigrations(positionals[0] as string);
  } catch (error) {
    if (error instanceof MigrationsInvalidError) return fail(error.message);
    throw error;
  }
  const file = resolve(values.out ?? `migrations-${packed.sha256.slice(0, 12)}.zip`);
  await writeFile(file, packed.zip);
  const input = {
    migrations: { s3Uri: s3Uri ?? `s3://<bucket>/<prefix>${basename(file)}`, sha256: packed.sha256 },
  };
  if (values.json) {
    out(
      JSON.stringify(
        {
          file,
          sha256: packed.sha256,
          bytes: packed.zip.length,
          directory: packed.directory,
          migrations: packed.migrations,
          warnings: packed.warnings,
          input,
        },
        null,
        2,
      ),
    );
    return 0;
  }
  out(`Packed ${packed.migrations.length} migration(s) from ${packed.directory}`);
  out(`  file    ${file} (${packed.zip.length} bytes)`);
  out(`  sha256  ${packed.sha256}`);
  for (const warning of packed.warnings) out(`  warning ${warning}`);
  out();
  out(
    s3Uri === undefined
      ? 'Upload it to the releaseBundles bucket and prefix, put its URI in place of the placeholder, and start the execution with:'
      : `Upload it (aws s3 cp ${file} ${s3Uri}) and start the execution with:`,
  );
  out(JSON.stringify(input));
  return 0;
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      's3-uri': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
