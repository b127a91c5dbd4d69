/**
 * What a release analysis says, and the sentence that explains a fallback to per-migration mode. Apart from
 * `release-analysis.ts`, which loads PostgreSQL's parser (WebAssembly) when imported: preflight's core and
 * the engine share this without loading it.
 */

import { createHash } from 'node:crypto';
import type { Migration } from '../contract/ports.js';
import type { ParsedStatement } from './sql-ast.js';

/** A statement that forbids running the release in one transaction. */
export interface NonTransactionalStatement {
  readonly migration: string;
  /** The statement as written (whitespace collapsed, shortened). */
  readonly statement: string;
  readonly reason: string;
  /**
   * True when only the release-wide transaction is impossible and the migration itself still runs atomically
   * (a new enum value used by a later migration); false when the statement cannot run in any transaction, so a
   * failure of its migration may leave part of it committed.
   */
  readonly atomicMigration: boolean;
}

/** A migration script PostgreSQL's parser rejects: it cannot succeed in any transaction mode. */
export interface UnparsableScript {
  readonly migration: string;
  /** 1-based line of `migration.sql` where the parser stopped. */
  readonly line: number;
  /** 1-based column in that line, in characters (Unicode code points), as an editor shows it. */
  readonly column: number;
  /** The parser's own message, e.g. `syntax error at or near "ALTR"`. */
  readonly message: string;
  /** That line as written (whitespace collapsed, shortened). */
  readonly excerpt: string;
}

/** A value `ALTER TYPE ... ADD VALUE` adds that a later migration of the same release uses. */
export interface EnumValueUsed {
  /** The migration that adds the value, and where its `ADD VALUE` statement starts. */
  readonly migration: string;
  readonly line: number;
  readonly column: number;
  readonly statement: string;
  readonly typeName: string;
  readonly value: string;
  /** The migration that uses it. */
  readonly usedIn: string;
}

export interface ReleaseAnalysis {
  /** Empty when the whole release can run in one transaction. */
  readonly nonTransactional: NonTransactionalStatement[];
  /** Scripts that do not parse; absent or empty when every script parses. They are not fallback reasons. */
  readonly unparsable?: readonly UnparsableScript[];
  /** Tables the release locks, qualified as written (`schema.table` or `table`), deduplicated, sorted. */
  readonly lockedTables: string[];
  /** Things worth knowing that do not prevent a release transaction. */
  readonly notes: string[];
  /**
   * Every statement of the release, parsed, in order (what the lint reads): kept by the analysis for a small release,
   * parsed again at each iteration for a large one (`KEEP_STATEMENTS_UP_TO`). Absent from analyses built by hand.
   */
  readonly statements?: Iterable<ParsedStatement>;
  /** New enum values used later in the same release (also fallback reasons, in `nonTransactional`). */
  readonly enumValuesUsed?: readonly EnumValueUsed[];
}

/** One sentence for the plan: why the release runs migration by migration, or undefined when it need not. */
export function transactionFallbackReason(analysis: ReleaseAnalysis): string | undefined {
  const [first, ...others] = analysis.nonTransactional;
  if (!first) return undefined;
  const more = others.length > 0 ? ` (and ${others.length} more)` : '';
  return (
    `${first.migration}: ${first.reason} ("${first.statement}")${more}; ` +
    'the release is applied one migration at a time, each in its own transaction'
  );
}

/**
 * Why preflight refuses the release because a script does not parse, or undefined when every script parses.
 * `directory` is the migrations directory the bundle was loaded from.
 */
export function unparsableScriptsMessage(analysis: ReleaseAnalysis, directory: string): string | undefined {
  const scripts = analysis.unparsable ?? [];
  if (scripts.length === 0) return undefined;
  const where = scripts
    .map(
      (script) =>
        `${script.migration}/migration.sql line ${script.line}, column ${script.column}: ${script.message} ` +
        `("${script.excerpt}")`,
    )
    .join('; ');
  return (
    `PostgreSQL's parser rejects ${scripts.length === 1 ? 'a migration' : `${scripts.length} migrations`} in ` +
    `${directory}: ${where}. Such a script fails in any transaction mode, so the release was refused and nothing ` +
    'was touched. Fix the script (it has not been applied, so editing it is safe), then start the release again.'
  );
}

/**
 * The migrations with a statement that cannot run in any transaction (not even their own): where a failure may
 * leave part of the script committed. Preflight writes them in the plan (`nonAtomic`), and the apply step, which
 * trusts that list for the same scripts, computes it the same way when it parses them itself.
 */
export function nonAtomicMigrations(analysis: Pick<ReleaseAnalysis, 'nonTransactional'>): string[] {
  return [
    ...new Set(
      analysis.nonTransactional
        .filter((statement) => !statement.atomicMigration)
        .map((statement) => statement.migration),
    ),
  ];
}

/**
 * What preflight's analysis found that the apply step needs, for exactly the scripts it read: the apply then
 * trusts it instead of parsing the same scripts again (the parser's WebAssembly is not even loaded).
 */
export interface ReleaseVerdicts {
  /** `migrationsDigest` of the pending migrations preflight analysed (`Plan.analysedDigest`). */
  readonly digest: string;
  /** Those that cannot run in any transaction (`Plan.nonAtomic`). */
  readonly nonAtomic: readonly string[];
}

/**
 * SHA-256 over the names and checksums (SHA-256 of the bytes, as every migration source computes it) of `migrations`,
 * in order: the same value for the same scripts only. It keys preflight's verdicts (`Plan.analysedDigest`: a retry
 * that has fewer pending migrations, or a script changed between the steps, gives another value, and the apply step
 * parses again) and the expected schemas (`ExpectedSchema.migrations`).
 */
export function migrationsDigest(migrations: readonly Pick<Migration, 'name' | 'checksum'>[]): string {
  const hash = createHash('sha256');
  for (const migration of migrations) hash.update(`${migration.name}\0${migration.checksum}\n`);
  return hash.digest('hex');
}
