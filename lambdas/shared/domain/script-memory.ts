/**
 * Whether PostgreSQL's parser can read a release's migration scripts in the memory the function has: a release too
 * large (a script alone, or the scripts together) is refused before anything is parsed, with the fix, instead of the function being killed half way (Lambda ends a
 * function that exceeds its memory with "Runtime exited", which names neither the script nor the fix).
 *
 * Pure: the memory figure is given (see `runtime/memory.ts`).
 */
import type { Migration } from '../contract/ports.js';
import { statementEnds } from './sql-ast.js';

/**
 * The release analysis keeps the parsed statements for the lint when the release's SQL is at most this many UTF-16
 * code units (then `KEPT_BYTES_PER_SCRIPT_BYTE` per byte: about 72 MB for 4 MiB); a larger release is parsed again, a
 * statement at a time, when the lint reads it, so that one large data migration is never held as trees. Every real
 * history tried has releases far below it (the 820 migrations of the largest, whole, are 1.1 MB).
 */
export const KEEP_STATEMENTS_UP_TO = 4 * 1024 * 1024;

/**
 * Memory the analysis keeps per byte of script when it keeps the trees (`KEEP_STATEMENTS_UP_TO`): the JavaScript
 * objects of the parse trees, until the release is linted (13.4x measured, see below, plus room for what the garbage
 * collector has not freed yet).
 */
export const KEPT_BYTES_PER_SCRIPT_BYTE = 18;

/**
 * Memory preflight holds per byte of script whatever the release's size: the text as read (its file's buffer and
 * string), the statements' texts, and what its replay into a temporary database sends. Measured: a preflight of one
 * 10, 25 and 50 MB script (no trees kept) peaked 5.2x, 6.1x and 6.2x the script above a preflight of two small
 * migrations.
 */
export const HELD_BYTES_PER_SCRIPT_BYTE = 8;

/**
 * Memory the parse of one statement takes while it is parsed, per byte of the statement: libpg-query's JSON tree in
 * the wasm heap (which grows to the largest parse and never shrinks), its copy as a string, and `JSON.parse`'s work.
 * The release analysis parses a script a statement at a time, so this counts for its largest statement only.
 */
export const PARSE_BYTES_PER_STATEMENT_BYTE = 35;

/*
 * Measured (`.bench/mem`, Node 22, pgsql-parser 18.2.8 / libpg-query 18.1.5, one generated script per fresh process,
 * peak RSS minus RSS before the analysis; see bench/README.md "Memory"):
 *
 *   script                                     whole-script parse    statement by statement   kept heap
 *   INSERT ... VALUES, 1,000 rows/statement
 *     10 MB                                    517 MB (52x)  5.6 s   239 MB (24x)  4.2 s      134 MB (13.4x)
 *     25 MB                                    1074 MB (43x) 10.8 s  456 MB (18x)  11.1 s     331 MB (13.2x)
 *     50 MB                                    out of memory (1)     819 MB (16x)  25.6 s     657 MB (13.1x)
 *   one INSERT statement of 10 MB              457 MB (46x)          519 MB (52x)             134 MB
 *   CREATE FUNCTION, a 10 MB $$ body           127 MB (13x)          138 MB (14x)             20 MB
 *
 * (1) libpg_query's memory context failed at 931 MB above the process, and the script was reported unparsable.
 * Each first parse also grows the wasm heap by about 70 MB, counted in the baseline. The estimate below is above
 * every measured peak: 10 MB in 1,000-row statements 70 + 180 + 2 = 252 MB (measured 239), 25 MB 70 + 450 + 2 =
 * 522 MB (456), one 10 MB statement 70 + 180 + 350 = 600 MB (519); a `$$` body is overestimated (600 MB for 138).
 *
 * Statement by statement with no tree kept (a release over `KEEP_STATEMENTS_UP_TO`; Node 20, 2026-12-02), the same
 * INSERT scripts: 10 MB 83 MB in 1.8 s, 25 MB 73 MB in 3.9 s, 50 MB 125 MB in 7.1 s, mostly the heap's growth under
 * the parse's garbage, which does not grow with the script. A whole preflight of those scripts (text, analysis, the
 * lint's second parse, the replay into a temporary database) peaked 52, 152 and 309 MB above a preflight of two small
 * migrations (`HELD_BYTES_PER_SCRIPT_BYTE`), where it peaked 193 MB for 10 MB when the trees were kept.
 */

/**
 * What the function uses besides the scripts' parse: Node, the bundle, Prisma's schema engine, the parser's
 * WebAssembly and the wasm heap's first growth (about 95 MB of RSS before the first parse with the parser loaded,
 * and 70 MB at the first parse, measured; Prisma's engine on top).
 */
export const RUNTIME_BASELINE_BYTES = 250 * 1024 * 1024;

const MB = 1024 * 1024;

/** The UTF-8 size of the script's largest statement (the text between two top-level `;`). */
export function largestStatementBytes(sql: string): number {
  let largest = 0;
  let start = 0;
  for (const end of [...statementEnds(sql), sql.length]) {
    // A piece can hold more bytes than a shorter one only by up to 3 bytes per UTF-16 code unit.
    if ((end - start) * 3 > largest)
      largest = Math.max(largest, Buffer.byteLength(sql.slice(start, end), 'utf8'));
    start = end;
  }
  return largest;
}

/**
 * The memory preflight is expected to take for a script on top of the baseline: its text and copies, its trees when
 * the analysis keeps them (`keptTrees`: the release is at most `KEEP_STATEMENTS_UP_TO`), and the parse of its largest
 * statement.
 */
export function parseMemoryEstimate(bytes: number, largestStatement: number, keptTrees: boolean): number {
  const perByte = HELD_BYTES_PER_SCRIPT_BYTE + (keptTrees ? KEPT_BYTES_PER_SCRIPT_BYTE : 0);
  return bytes * perByte + largestStatement * PARSE_BYTES_PER_STATEMENT_BYTE;
}

/** A script too large for the memory, with its size and the estimate. */
export interface OversizedScript {
  readonly migration: string;
  readonly bytes: number;
  readonly largestStatementBytes: number;
  readonly estimateBytes: number;
}

/**
 * Why the release's scripts cannot be parsed in `memoryBytes` (the function's memory): the scripts too large alone
 * (`together` false), or, when none is, the largest scripts of a release too large together (preflight holds every
 * script's text, and a small release's trees, until the release is linted). Undefined when the release fits.
 */
export interface MemoryShortfall {
  /** Largest first; when `together`, the three largest scripts of the release. */
  readonly scripts: readonly OversizedScript[];
  readonly together: boolean;
  /** The release's SQL, UTF-8 bytes. */
  readonly releaseBytes: number;
  /** What parsing the whole release is expected to take on top of the baseline. */
  readonly estimateBytes: number;
}

export function memoryShortfall(
  migrations: readonly Pick<Migration, 'name' | 'sql'>[],
  memoryBytes: number,
): MemoryShortfall | undefined {
  const room = memoryBytes - RUNTIME_BASELINE_BYTES;
  const length = migrations.reduce((sum, migration) => sum + migration.sql.length, 0);
  const keptTrees = length <= KEEP_STATEMENTS_UP_TO;
  // Fits whatever the text: at most 3 UTF-8 bytes per UTF-16 code unit, the largest statement at most everything.
  const mostPerByte =
    HELD_BYTES_PER_SCRIPT_BYTE + KEPT_BYTES_PER_SCRIPT_BYTE + PARSE_BYTES_PER_STATEMENT_BYTE;
  if (3 * length * mostPerByte <= room) return undefined;
  const sized = migrations.map((migration) => {
    const bytes = Buffer.byteLength(migration.sql, 'utf8');
    const largest = largestStatementBytes(migration.sql);
    return {
      migration: migration.name,
      bytes,
      largestStatementBytes: largest,
      estimateBytes: parseMemoryEstimate(bytes, largest, keptTrees),
    };
  });
  sized.sort((a, b) => b.bytes - a.bytes);
  const releaseBytes = sized.reduce((sum, script) => sum + script.bytes, 0);
  const largestStatement = Math.max(0, ...sized.map((script) => script.largestStatementBytes));
  const estimateBytes = parseMemoryEstimate(releaseBytes, largestStatement, keptTrees);
  const alone = sized.filter((script) => script.estimateBytes > room);
  if (alone.length > 0) return { scripts: alone, together: false, releaseBytes, estimateBytes };
  if (estimateBytes > room)
    return { scripts: sized.slice(0, 3), together: true, releaseBytes, estimateBytes };
  return undefined;
}

function megabytes(bytes: number): string {
  if (bytes < MB) return `${Math.ceil(bytes / 1024)} KB`;
  const value = bytes / MB;
  return `${value >= 10 ? Math.round(value) : value.toFixed(1)} MB`;
}

/**
 * The refusal of a release PostgreSQL's parser cannot read in `memoryBytes` (see `memoryShortfall`). `where` names
 * the function (e.g. "the function orders-Preflight (its memory size)").
 */
export function memoryShortfallMessage(
  shortfall: MemoryShortfall,
  memoryBytes: number,
  directory: string,
  where: string,
): string {
  const { scripts, together } = shortfall;
  const listed = scripts
    .map(
      (script) =>
        `${script.migration}/migration.sql is ${megabytes(script.bytes)} (its largest statement ` +
        `${megabytes(script.largestStatementBytes)}), about ${megabytes(script.estimateBytes)} to parse`,
    )
    .join('; ');
  const what = together
    ? `The ${megabytes(shortfall.releaseBytes)} of pending migrations in ${directory} are together too large`
    : `${scripts.length === 1 ? 'A migration' : `${scripts.length} migrations`} in ${directory} ` +
      `${scripts.length === 1 ? 'is' : 'are'} too large`;
  const room = Math.max(0, memoryBytes - RUNTIME_BASELINE_BYTES);
  // A release over KEEP_STATEMENTS_UP_TO costs its text only; one under it its trees too.
  const fitting =
    room / HELD_BYTES_PER_SCRIPT_BYTE > KEEP_STATEMENTS_UP_TO
      ? room / HELD_BYTES_PER_SCRIPT_BYTE
      : Math.min(room / (HELD_BYTES_PER_SCRIPT_BYTE + KEPT_BYTES_PER_SCRIPT_BYTE), KEEP_STATEMENTS_UP_TO);
  return (
    `${what} to be read by PostgreSQL's parser in the ${megabytes(memoryBytes)} of ${where}: about ` +
    `${megabytes(shortfall.estimateBytes)} needed. ${together ? 'The largest: ' : ''}${listed}. ` +
    `Preflight holds about ${HELD_BYTES_PER_SCRIPT_BYTE} times the release's SQL (` +
    `${HELD_BYTES_PER_SCRIPT_BYTE + KEPT_BYTES_PER_SCRIPT_BYTE} times for a release under ` +
    `${megabytes(KEEP_STATEMENTS_UP_TO)}, whose parse trees it keeps for the lint), and parsing a statement takes ` +
    `${PARSE_BYTES_PER_STATEMENT_BYTE} times its size, on top of about ` +
    `${megabytes(RUNTIME_BASELINE_BYTES)} for the function itself: the function would be killed half way. ` +
    'Load large data outside the release (for instance with `psql` and COPY once the release is applied), or ' +
    'split it into smaller migrations deployed in separate releases (each release under about ' +
    `${megabytes(fitting)} of SQL here, a statement under a few MB), then start the release again. ` +
    'The release was refused and nothing was touched.'
  );
}
