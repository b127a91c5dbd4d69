/**
 * Packs a Prisma migrations directory into a release bundle, deterministically: the same directory gives the
 * same bytes (and so the same sha256) on every machine with the same Node.js (its zlib deflates). Only what
 * Prisma reads goes in: `migration_lock.toml` and each `<name>/migration.sql`, checked first by
 * `DirectoryMigrationSource` (same layout rules, links that leave the directory refused). Entries are sorted by
 * name, each with a fixed DOS timestamp (1980-01-01 00:00, no extended UTC timestamp) and mode 0644, and no
 * folder entries. The functions never import this module (only the `pack` command and tests do).
 */
import { readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import yazl from 'yazl';
import { MigrationsInvalidError } from '../../contract/errors.js';
import {
  checksumOf,
  DirectoryMigrationSource,
  LOCK_FILE,
  MIGRATION_FILE,
} from '../prisma/directory-migration-source.js';

/** What `packMigrations` made. */
export interface PackedBundle {
  /** The zip's bytes. */
  readonly zip: Buffer;
  /** sha256 hex of `zip`: what the execution input's `migrations.sha256` must say. */
  readonly sha256: string;
  /** The migrations in it, in the order Prisma applies them, with their checksums. */
  readonly migrations: readonly { readonly name: string; readonly checksum: string }[];
  /** The directory it was packed from (absolute). */
  readonly directory: string;
  /** What the directory source noticed (folder names outside Prisma's layout). */
  readonly warnings: readonly string[];
}

/** Local midnight of 1980-01-01, the first DOS date: its DOS fields are the same in every time zone. */
const FIXED_MTIME = new Date(1980, 0, 1, 0, 0, 0);
/** A regular file, rw-r--r--. */
const FILE_MODE = 0o100644;

export async function packMigrations(directory: string): Promise<PackedBundle> {
  const source = new DirectoryMigrationSource(directory);
  const bundle = await source.load();
  const dir = source.directory;
  const files: { name: string; bytes: Buffer }[] = [
    { name: LOCK_FILE, bytes: await readFile(await realpath(join(dir, LOCK_FILE))) },
  ];
  for (const migration of bundle.migrations) {
    const bytes = await readFile(await realpath(join(dir, migration.name, MIGRATION_FILE)));
    if (checksumOf(bytes) !== migration.checksum) {
      throw new MigrationsInvalidError(
        `${join(dir, migration.name, MIGRATION_FILE)} changed while it was being packed. Pack again once nothing ` +
          'writes to the migrations directory.',
        { details: { directory: dir, migration: migration.name } },
      );
    }
    files.push({ name: `${migration.name}/${MIGRATION_FILE}`, bytes });
  }
  files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const zipfile = new yazl.ZipFile();
  for (const file of files) {
    zipfile.addBuffer(file.bytes, file.name, {
      mtime: FIXED_MTIME,
      mode: FILE_MODE,
      compress: true,
      compressionLevel: 9,
      forceDosTimestamp: true,
    });
  }
  zipfile.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zipfile.outputStream as AsyncIterable<Buffer>) chunks.push(chunk);
  const zip = Buffer.concat(chunks);
  return {
    zip,
    sha256: checksumOf(zip),
    migrations: bundle.migrations.map(({ name, checksum }) => ({ name, checksum })),
    directory: dir,
    warnings: bundle.warnings ?? [],
  };
}
