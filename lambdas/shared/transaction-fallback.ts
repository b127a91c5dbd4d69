/**
 * What a release analysis says, and the sentence that explains a fallback to per-migration mode. Apart from
 * `release-analysis.ts`, which loads PostgreSQL's parser (WebAssembly) when imported: preflight's core and
 * the engine share this without loading it.
 */

/** A statement that forbids running the release in one transaction. */
export interface NonTransactionalStatement {
  readonly migration: string;
  /** The statement as written (whitespace collapsed, shortened). */
  readonly statement: string;
  readonly reason: string;
}

export interface ReleaseAnalysis {
  /** Empty when the whole release can run in one transaction. */
  readonly nonTransactional: NonTransactionalStatement[];
  /** Tables the release locks, qualified as written (`schema.table` or `table`), deduplicated, sorted. */
  readonly lockedTables: string[];
  /** Things worth knowing that do not prevent a release transaction. */
  readonly notes: string[];
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
