/**
 * Sizes of a package the way Lambda counts them: the files unzipped, and the zip archive that is uploaded.
 * The archive's size is computed here in memory (each file deflated, or stored when deflate does not help,
 * plus the zip headers and central directory): no zip tool needed.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { deflateRaw } from 'node:zlib';

const deflate = promisify(deflateRaw);

export interface PackageSize {
  readonly files: number;
  readonly unzippedBytes: number;
  readonly zippedBytes: number;
}

/** Every regular file under `root`; a symbolic link to a file counts as that file (zip tools store the target). */
export async function listFiles(root: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) files.push(path);
      else if (entry.isSymbolicLink()) {
        const target = await stat(path).catch(() => undefined);
        if (target?.isFile()) files.push(path);
      }
    }
  };
  await walk(root);
  return files.sort();
}

/**
 * The size of the zip archive of `files` (paths relative to `base`), and their total size. Files are
 * compressed on libuv's thread pool, a few at a time, so all cores work.
 */
export async function zipSize(files: readonly string[], base: string, level = 9): Promise<PackageSize> {
  let unzipped = 0;
  let zipped = 22; // end of central directory
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const file = files[next] as string;
      next += 1;
      const data = await readFile(file).catch(() => undefined);
      if (!data) continue;
      const name = Buffer.byteLength(relative(base, file).split(sep).join('/'));
      const deflated = (await deflate(data, { level })).length;
      unzipped += data.length;
      // Local file header (30 + name) + data (stored when deflate does not help) + central entry (46 + name).
      zipped += 30 + name + Math.min(deflated, data.length) + 46 + name;
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return { files: files.length, unzippedBytes: unzipped, zippedBytes: zipped };
}
