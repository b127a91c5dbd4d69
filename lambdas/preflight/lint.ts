/**
 * Preflight's lint of the pending migrations (docs/lint.md): the rules over the parsed statements and the tables the
 * database has before the release, judged by the policy and the input's acknowledgements. A blocking finding that
 * no acknowledgement covers refuses the release before anything is touched; so does an acknowledgement that matches
 * no finding of a pending migration (stale acknowledgements would otherwise pile up in pipeline inputs).
 */
import { InvalidInputError, MigrationsInvalidError } from '../shared/contract/errors.js';
import type { MigrationEngine } from '../shared/contract/ports.js';
import { blockingMessage, describeFinding, judgeLint, lintRelease } from '../shared/domain/lint/lint.js';
import type { LintAcknowledgement, LintPolicy, LintResult } from '../shared/domain/lint/policy.js';
import type { ReleaseAnalysis } from '../shared/domain/transaction-fallback.js';

export interface PendingLint {
  /** What the plan shows (absent when nothing is pending and nothing was acknowledged). */
  readonly lint?: LintResult;
  /** Lines for the plan's warnings: each `warn` finding, and acknowledgements of migrations already applied. */
  readonly warnings: readonly string[];
}

export async function lintPending(options: {
  readonly analysis: ReleaseAnalysis | undefined;
  readonly engine: Pick<MigrationEngine, 'readSchemaCatalog'>;
  readonly policy: LintPolicy;
  readonly acknowledge: readonly LintAcknowledgement[];
  readonly applied: readonly string[];
  readonly pending: readonly string[];
}): Promise<PendingLint> {
  const { analysis, acknowledge } = options;
  const statements = analysis?.statements;
  const findings = statements
    ? lintRelease({
        statements,
        ...(analysis?.enumValuesUsed ? { enumValuesUsed: analysis.enumValuesUsed } : {}),
        catalog: await options.engine.readSchemaCatalog(),
      })
    : [];
  const judgement = judgeLint(findings, options.policy, acknowledge, new Set(options.applied));
  const warnings: string[] = [];
  for (const stale of judgement.stale) {
    const { rule, migration } = stale.acknowledgement;
    if (stale.applied) {
      // A re-run of a release that went through: the acknowledgement did its work then.
      warnings.push(
        `input.acknowledge[${stale.index}] (${rule} in ${migration}) is not needed: ${migration} is already applied. ` +
          'Remove it from the input.',
      );
      continue;
    }
    const found = [...new Set(findings.map((finding) => `${finding.rule} in ${finding.migration}`))];
    throw new InvalidInputError(
      `input.acknowledge[${stale.index}]: ${rule} in ${migration} matches no finding of the lint ` +
        `(${options.pending.includes(migration) ? `${migration} is pending` : `${migration} is not a pending migration; pending: ${options.pending.join(', ') || 'none'}`}; ` +
        `findings: ${found.join(', ') || 'none'}). Remove it, or correct its rule or migration: an acknowledgement ` +
        'must name a finding this release has.',
      { details: { field: `acknowledge[${stale.index}]`, rule, migration } },
    );
  }
  if (judgement.blocking.length > 0) {
    throw new MigrationsInvalidError(blockingMessage(judgement.blocking), {
      details: { lint: { blocking: judgement.blocking } },
    });
  }
  for (const finding of judgement.result.warnings) warnings.push(`Lint (warn): ${describeFinding(finding)}`);
  const { result } = judgement;
  return {
    ...(findings.length > 0 || acknowledge.length > 0 ? { lint: result } : {}),
    warnings,
  };
}
