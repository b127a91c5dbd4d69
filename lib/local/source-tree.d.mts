/** Types of source-tree.mjs (plain JavaScript: the CLI's launcher runs it before anything is compiled). */

/** Every file under the folders `dirs` of `root` and the single `files`, relative with `/`, sorted. */
export function treeFiles(root: string, dirs: readonly string[], files?: readonly string[]): string[];

/** The SHA-256 of the names and contents of `paths` (relative to `root`), and their newest mtime (ms). */
export function hashFiles(root: string, paths: readonly string[]): { hash: string; newestMtimeMs: number };

/** The hash `hashFiles` computes, of names and contents given one by one (undefined: a missing file). */
export class ContentHash {
  add(path: string, content: string | Uint8Array | undefined): void;
  digest(): string;
}
