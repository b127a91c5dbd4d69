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
 * Memory the analysis keeps per byte of script: the JavaScript objects of the parse trees, kept for the lint until
 * the release is analysed (13.4x measured, see below, plus room for what the garbage collector has not freed yet).
 */
export const KEPT_BYTES_PER_SCRIPT_BYTE = 18;

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
 * The memory the analysis of a script is expected to take on top of the baseline: what it keeps, and the parse of
 * its largest statement.
 */
export function parseMemoryEstimate(bytes: number, largestStatement: number): number {
  return bytes * KEPT_BYTES_PER_SCRIPT_BYTE + largestStatement * PARSE_BYTES_PER_STATEMENT_BYTE;
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
 * (`together` false), or, when none is, the largest scripts of a release too large together (the analysis keeps every
 * script's trees until the release is linted). Undefined when the release fits.
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
  // Fits whatever the text: at most 3 UTF-8 bytes per UTF-16 code unit, the largest statement at most everything.
  if (3 * length * (KEPT_BYTES_PER_SCRIPT_BYTE + PARSE_BYTES_PER_STATEMENT_BYTE) <= room) return undefined;
  const sized = migrations.map((migration) => {
    const bytes = Buffer.byteLength(migration.sql, 'utf8');
    const largest = largestStatementBytes(migration.sql);
    return {
      migration: migration.name,
      bytes,
      largestStatementBytes: largest,
      estimateBytes: parseMemoryEstimate(bytes, largest),
    };
  });
  sized.sort((a, b) => b.bytes - a.bytes);
  const releaseBytes = sized.reduce((sum, script) => sum + script.bytes, 0);
  const largestStatement = Math.max(0, ...sized.map((script) => script.largestStatementBytes));
  const estimateBytes = parseMemoryEstimate(releaseBytes, largestStatement);
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
  const fitting = Math.max(0, memoryBytes - RUNTIME_BASELINE_BYTES) / KEPT_BYTES_PER_SCRIPT_BYTE;
  return (
    `${what} to be read by PostgreSQL's parser in the ${megabytes(memoryBytes)} of ${where}: about ` +
    `${megabytes(shortfall.estimateBytes)} needed. ${together ? 'The largest: ' : ''}${listed}. ` +
    `Parsing keeps about ${KEPT_BYTES_PER_SCRIPT_BYTE} times the release's SQL and takes ` +
    `${PARSE_BYTES_PER_STATEMENT_BYTE} times its largest statement, on top of about ` +
    `${megabytes(RUNTIME_BASELINE_BYTES)} for the function itself: the function would be killed half way. ` +
    'Load large data outside the release (for instance with `psql` and COPY once the release is applied), or ' +
    'split it into smaller migrations deployed in separate releases (each release under about ' +
    `${megabytes(fitting)} of SQL here, a statement under a few MB), then start the release again. ` +
    'The release was refused and nothing was touched.'
  );
}
