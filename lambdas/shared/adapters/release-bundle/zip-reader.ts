/**
 * Reads the migrations out of a release bundle: a zip of Prisma's migrations directory, already downloaded and
 * its digest checked. Hostile archives are refused before anything is inflated: every entry is checked from the
 * central directory first (its name, type, declared sizes and compression ratio, the entry count and the total),
 * then only `migration_lock.toml` and the `migration.sql` files are inflated, each stream held to the size the
 * archive declared (yauzl stops one that inflates to more). Same layout and checksums as
 * `DirectoryMigrationSource`: `migration_lock.toml` naming `postgresql`, one `<name>/migration.sql` per migration,
 * checksum = sha256 of the raw bytes.
 */
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { MigrationsInvalidError } from '../../contract/errors.js';
import type { Migration, MigrationBundle } from '../../contract/ports.js';
import type { ReleaseBundleLimits } from '../../domain/release-bundle.js';
import {
  checksumOf,
  LOCK_FILE,
  MIGRATION_FILE,
  providerOf,
  unusualFolderWarnings,
} from '../prisma/directory-migration-source.js';

/** The fix every refusal of the layout ends with. */
const PACK_FIX =
  'Build the bundle with the `pack` command from your prisma/migrations directory (it writes exactly the files ' +
  'Prisma reads), upload it, and start the execution with the digest it prints.';

const STORED = 0;
const DEFLATED = 8;
/** `versionMadeBy` host system 3: Unix; its external attributes carry the file mode in the high 16 bits. */
const UNIX_HOST = 3;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/** One entry of the central directory, as checked before anything is inflated. */
interface CheckedEntry {
  readonly entry: yauzl.Entry;
  readonly name: string;
  /** `lock`, a `migration` file (with its folder), or a `folder` entry. */
  readonly role: 'lock' | 'migration' | 'folder';
  readonly folder?: string;
}

export interface ReadZipOptions {
  /** The bundle as messages name it (`s3://bucket/key.zip`, a file path). */
  readonly label: string;
  readonly limits: ReleaseBundleLimits;
}

function invalid(
  label: string,
  message: string,
  details: Record<string, unknown> = {},
): MigrationsInvalidError {
  return new MigrationsInvalidError(`The release bundle ${label} is refused: ${message}`, {
    details: { bundle: label, ...details },
  });
}

/** Reads the migrations from the bytes of a zip (see the module's comment). */
export async function readMigrationsZip(bytes: Buffer, options: ReadZipOptions): Promise<MigrationBundle> {
  const { label, limits } = options;
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.fromBufferPromise(bytes, {
      lazyEntries: true,
      decodeStrings: false,
      validateEntrySizes: true,
      autoClose: false,
    });
  } catch (error) {
    throw invalid(label, `it is not a readable zip archive (${(error as Error).message}). ${PACK_FIX}`);
  }
  try {
    if (zip.entryCount > limits.maxEntries) {
      throw invalid(
        label,
        `it has ${zip.entryCount} entries, more than the ${limits.maxEntries} allowed. A migrations directory ` +
          `holds two entries per migration; check that the zip holds only prisma/migrations. ${PACK_FIX}`,
      );
    }
    const checked = await checkEntries(zip, options);
    return await readLayout(zip, checked, options);
  } finally {
    zip.close();
  }
}

/** Reads and checks every entry of the central directory; inflates nothing. */
async function checkEntries(zip: yauzl.ZipFile, { label, limits }: ReadZipOptions): Promise<CheckedEntry[]> {
  const seen = new Set<string>();
  const checked: CheckedEntry[] = [];
  let total = 0;
  try {
    for await (const entry of zip.eachEntry()) {
      const name = entryName(entry, label);
      if (seen.has(name)) {
        throw invalid(
          label,
          `entry "${name}" appears more than once. An archive with duplicate entries can be read two ways; ` +
            `it is never guessed which copy is meant. ${PACK_FIX}`,
          { entry: name },
        );
      }
      seen.add(name);
      checkType(entry, name, label);
      if (entry.isEncrypted()) {
        throw invalid(label, `entry "${name}" is encrypted; bundles are not. ${PACK_FIX}`, { entry: name });
      }
      if (entry.compressionMethod !== STORED && entry.compressionMethod !== DEFLATED) {
        throw invalid(
          label,
          `entry "${name}" uses compression method ${entry.compressionMethod}; only stored (0) and deflate (8) ` +
            `are read. ${PACK_FIX}`,
          { entry: name },
        );
      }
      checkSize(entry, name, label, limits);
      total += entry.uncompressedSize;
      if (total > limits.maxTotalBytes) {
        throw invalid(
          label,
          `its entries declare more than ${limits.maxTotalBytes} bytes uncompressed in total (reached at ` +
            `"${name}"): a zip bomb, or far more than migrations. Nothing was inflated. ${PACK_FIX}`,
          { entry: name, limit: limits.maxTotalBytes },
        );
      }
      checked.push({ entry, name, ...layoutRole(name, label) });
    }
  } catch (error) {
    if (error instanceof MigrationsInvalidError) throw error;
    throw invalid(label, `its central directory cannot be read (${(error as Error).message}). ${PACK_FIX}`);
  }
  return checked;
}

/**
 * The entry's name, decoded (UTF-8 when flagged, else CP437, as zip tools write them) and checked: a relative
 * path of plain segments, no absolute path, drive letter, backslash, `.` or `..` segment, or control character.
 */
function entryName(entry: yauzl.Entry, label: string): string {
  const raw = entry.fileNameRaw;
  const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, raw, entry.extraFields, true);
  const shown = JSON.stringify(name);
  const refuse = (what: string, fix: string) =>
    invalid(label, `entry ${shown} ${what}. ${fix}`, { entry: name });
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
  if (name === '' || /[\u0000-\u001f\u007f]/.test(name)) {
    throw refuse('has an empty name or control characters in its name', PACK_FIX);
  }
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) {
    throw refuse(
      'is an absolute path: extracting it would write outside the migrations directory',
      `Entries are relative to the migrations directory (e.g. 20250101090000_init/migration.sql). ${PACK_FIX}`,
    );
  }
  if (name.includes('\\')) {
    throw refuse('contains a backslash: zip paths use "/"', PACK_FIX);
  }
  const segments = name.replace(/\/$/, '').split('/');
  if (segments.includes('..')) {
    throw refuse(
      'climbs out of the migrations directory with ".." (zip-slip)',
      `Entries are relative to the migrations directory, without "..". ${PACK_FIX}`,
    );
  }
  if (segments.some((segment) => segment === '' || segment === '.')) {
    throw refuse('has an empty or "." path segment', PACK_FIX);
  }
  return name;
}

/** Refuses symbolic links and anything but regular files and folders (Unix mode in the external attributes). */
function checkType(entry: yauzl.Entry, name: string, label: string): void {
  if (entry.versionMadeBy >> 8 !== UNIX_HOST) return;
  const type = (entry.externalFileAttributes >>> 16) & S_IFMT;
  if (type === S_IFLNK) {
    throw invalid(
      label,
      `entry "${name}" is a symbolic link. Links are refused (they may point anywhere on the machine that reads ` +
        `the bundle): put the file itself into the bundle. ${PACK_FIX}`,
      { entry: name },
    );
  }
  if (type !== 0 && type !== S_IFREG && type !== S_IFDIR) {
    throw invalid(
      label,
      `entry "${name}" is not a regular file or folder (mode ${type.toString(8)}). ${PACK_FIX}`,
      { entry: name },
    );
  }
}

/** The declared sizes: per entry, and the ratio that betrays a zip bomb. */
function checkSize(entry: yauzl.Entry, name: string, label: string, limits: ReleaseBundleLimits): void {
  const size = entry.uncompressedSize;
  if (size > limits.maxEntryBytes) {
    throw invalid(
      label,
      `entry "${name}" declares ${size} bytes uncompressed, more than the ${limits.maxEntryBytes} allowed per ` +
        `entry (${entry.compressedSize} bytes compressed): a zip bomb, or not a migration. Nothing was inflated. ` +
        PACK_FIX,
      { entry: name, declared: size, limit: limits.maxEntryBytes },
    );
  }
  const ratio = size / Math.max(1, entry.compressedSize);
  if (size > limits.ratioFloorBytes && ratio > limits.maxCompressionRatio) {
    throw invalid(
      label,
      `entry "${name}" inflates ${Math.round(ratio)}:1 (${entry.compressedSize} bytes to ${size}), beyond the ` +
        `${limits.maxCompressionRatio}:1 allowed: a zip bomb. Nothing was inflated. ${PACK_FIX}`,
      { entry: name, declared: size, compressed: entry.compressedSize },
    );
  }
}

/** Where an entry sits in Prisma's layout, or a refusal naming it. */
function layoutRole(name: string, label: string): Pick<CheckedEntry, 'role' | 'folder'> {
  const isFolder = name.endsWith('/');
  const segments = name.replace(/\/$/, '').split('/');
  if (!isFolder && segments.length === 1 && name === LOCK_FILE) return { role: 'lock' };
  if (isFolder && segments.length === 1) return { role: 'folder', folder: segments[0] as string };
  if (!isFolder && segments.length === 2 && segments[1] === MIGRATION_FILE) {
    return { role: 'migration', folder: segments[0] as string };
  }
  const wrapped = segments.length >= 2 && (segments[1] === LOCK_FILE || segments[2] === MIGRATION_FILE);
  throw invalid(
    label,
    `entry "${name}" is outside Prisma's layout, which is ${LOCK_FILE} and <migration>/${MIGRATION_FILE} at the ` +
      `root of the zip, nothing else.${
        wrapped
          ? ` The zip seems to hold the folder "${segments[0]}" itself: zip its contents instead.`
          : ' Remove the entry.'
      } ${PACK_FIX}`,
    { entry: name },
  );
}

/** Inflates the lock file and the migrations (nothing else) and checks the layout as a whole. */
async function readLayout(
  zip: yauzl.ZipFile,
  entries: readonly CheckedEntry[],
  { label, limits }: ReadZipOptions,
): Promise<MigrationBundle> {
  const lock = entries.find((entry) => entry.role === 'lock');
  if (!lock) {
    throw invalid(
      label,
      `${LOCK_FILE} is missing at the root of the zip. Prisma writes it with the first migration; the bundle must ` +
        `hold the whole prisma/migrations directory. ${PACK_FIX}`,
    );
  }
  const provider = providerOf((await inflate(zip, lock, label, limits)).toString('utf8'));
  if (provider !== 'postgresql') {
    throw invalid(
      label,
      `its ${LOCK_FILE} says provider = "${provider ?? '(none)'}"; this orchestrator deploys PostgreSQL ` +
        'migrations only (RDS/Aurora PostgreSQL). Check that the bundle was packed from the PostgreSQL ' +
        "datasource's migrations.",
      { entry: LOCK_FILE, provider },
    );
  }
  const files = new Map(
    entries.filter((entry) => entry.role === 'migration').map((entry) => [entry.folder as string, entry]),
  );
  const folders = [
    ...new Set(entries.flatMap((entry) => (entry.folder === undefined ? [] : [entry.folder]))),
  ];
  folders.sort();
  const migrations: Migration[] = [];
  for (const folder of folders) {
    const file = files.get(folder);
    if (!file) {
      throw invalid(
        label,
        `migration folder "${folder}/" has no ${MIGRATION_FILE}. Every folder must hold one; remove the folder ` +
          `or restore its ${MIGRATION_FILE}, then pack again.`,
        { entry: `${folder}/`, migration: folder },
      );
    }
    const bytes = await inflate(zip, file, label, limits);
    migrations.push({ name: folder, sql: bytes.toString('utf8'), checksum: checksumOf(bytes) });
  }
  if (migrations.length === 0) {
    throw invalid(
      label,
      `it holds no migrations (no <migration>/${MIGRATION_FILE}). Create one with \`prisma migrate dev\`, then ` +
        'pack the directory again.',
    );
  }
  return { directory: label, migrations, provider, warnings: unusualFolderWarnings(folders, label) };
}

/** Inflates one entry, held to its declared size (yauzl errors on a stream that inflates to more). */
async function inflate(
  zip: yauzl.ZipFile,
  checked: CheckedEntry,
  label: string,
  limits: ReleaseBundleLimits,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    const stream: Readable = await zip.openReadStreamPromise(checked.entry);
    for await (const chunk of stream) {
      size += (chunk as Buffer).length;
      if (size > limits.maxEntryBytes) {
        stream.destroy();
        throw new Error(`it inflates to more than ${limits.maxEntryBytes} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    const message = (error as Error).message;
    const bomb = /too many bytes|inflates to more/.test(message);
    throw invalid(
      label,
      bomb
        ? `entry "${checked.name}" inflates to more than the ${checked.entry.uncompressedSize} bytes its header ` +
            `declares: a zip bomb (or a corrupt archive). Inflating stopped there. ${PACK_FIX}`
        : `entry "${checked.name}" cannot be inflated (${message}): the archive is corrupt. ${PACK_FIX}`,
      { entry: checked.name },
    );
  }
  return Buffer.concat(chunks, size);
}
