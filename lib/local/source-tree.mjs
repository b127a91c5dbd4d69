/**
 * The content hash of a set of the project's files: what the compiled CLI (bin/build-cli.mjs) and the cached
 * workflow definition (lib/local/definition-cache.ts) are keyed by, so that neither is used once one of its
 * inputs changed. Plain JavaScript: the CLI's launcher runs it before anything is compiled.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Every file under the folders `dirs` of `root` (recursively, whatever its extension, links followed) and the
 * single files `files`, as paths relative to `root` with `/`, sorted. A missing folder or file is listed as
 * missing by `hashFiles`, not skipped.
 */
export function treeFiles(root, dirs, files = []) {
  const found = [];
  const walk = (dir) => {
    let entries;
    try {
      entries = readdirSync(join(root, dir), { withFileTypes: true });
    } catch (error) {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return;
      throw error;
    }
    for (const entry of entries) {
      const path = `${dir}/${entry.name}`;
      const kind = entry.isSymbolicLink() ? statSync(join(root, path)) : entry;
      if (kind.isDirectory()) walk(path);
      else if (kind.isFile()) found.push(path);
    }
  };
  for (const dir of dirs) walk(dir);
  found.push(...files);
  return [...new Set(found)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The SHA-256 of the names and contents of `paths` (relative to `root`), and the newest modification time among
 * them (ms). A missing file counts as missing, so creating it changes the hash.
 */
export function hashFiles(root, paths) {
  const hash = new ContentHash();
  let newestMtimeMs = 0;
  for (const path of paths) {
    let content;
    try {
      content = readFileSync(join(root, path));
      newestMtimeMs = Math.max(newestMtimeMs, statSync(join(root, path)).mtimeMs);
    } catch (error) {
      if (error.code !== 'ENOENT') throw error;
      content = undefined;
    }
    hash.add(path, content);
  }
  return { hash: hash.digest(), newestMtimeMs };
}

/** The hash `hashFiles` computes, of names and contents given one by one (undefined: a missing file). */
export class ContentHash {
  #hash = createHash('sha256');

  add(path, content) {
    this.#hash.update(`${path}\0`);
    if (content === undefined) {
      this.#hash.update('missing\0');
      return;
    }
    const bytes = typeof content === 'string' ? Buffer.from(content) : content;
    this.#hash.update(`${bytes.length}\0`);
    this.#hash.update(bytes);
  }

  digest() {
    return this.#hash.digest('hex');
  }
}
