/**
 * The lint of a release: every rule over every parsed statement (`lintRelease`), then the policy and the execution
 * input's acknowledgements over the findings (`judgeLint`). Pure; preflight refuses the release on what `judgeLint`
 * says blocks it.
 */
import type { ParsedStatement } from '../sql-ast.js';
import { shorten, unwrap } from '../sql-ast.js';
import type { EnumValueUsed } from '../transaction-fallback.js';
import type { LintAcknowledgement, LintFinding, LintPolicy, LintResult } from './policy.js';
import { LINT_RULES, ReleaseTables, type SchemaCatalog } from './rules.js';

export interface LintInput {
  /** The release's statements, parsed, in order (`ReleaseAnalysis.statements`), read once. */
  readonly statements: Iterable<ParsedStatement>;
  /** New enum values used later in the release (`ReleaseAnalysis.enumValuesUsed`). */
  readonly enumValuesUsed?: readonly EnumValueUsed[];
  /** The database before the release. */
  readonly catalog: SchemaCatalog;
}

/** What every rule finds in the release, in statement order (policy not applied: `off` rules included). */
export function lintRelease(input: LintInput): LintFinding[] {
  const tables = new ReleaseTables(input.catalog, input.enumValuesUsed);
  const findings: LintFinding[] = [];
  for (const parsed of input.statements) {
    const [type, body] = unwrap(parsed.node);
    const view = { type, body, migration: parsed.migration, line: parsed.line, column: parsed.column };
    for (const rule of LINT_RULES) {
      for (const subject of rule.check(view, tables)) {
        findings.push({
          rule: rule.id,
          migration: parsed.migration,
          file: `${parsed.migration}/migration.sql`,
          line: parsed.line,
          column: parsed.column,
          statement: shorten(parsed.text),
          message: `${rule.id}: ${subject}. ${rule.risk} Instead: ${rule.safe}`,
        });
      }
    }
    tables.apply(view);
  }
  return findings;
}

/** An acknowledgement that matches no finding of a pending migration, with its index in `input.acknowledge`. */
export interface StaleAcknowledgement {
  readonly index: number;
  readonly acknowledgement: LintAcknowledgement;
  /** True when its migration is already applied (a re-run of a release that went through). */
  readonly applied: boolean;
}

export interface LintJudgement {
  /** Findings of `block` rules that no acknowledgement covers: the release is refused. */
  readonly blocking: readonly LintFinding[];
  /** What the plan shows: warnings and acknowledged findings. */
  readonly result: LintResult;
  /** Acknowledgements that match no finding. */
  readonly stale: readonly StaleAcknowledgement[];
}

/**
 * Applies the policy and the acknowledgements to the findings. An acknowledgement covers every finding of its rule
 * in its migration, whatever the rule's policy (so it stays valid when a rule is turned from `block` to `warn`),
 * except `off`: an `off` rule finds nothing.
 */
export function judgeLint(
  findings: readonly LintFinding[],
  policy: LintPolicy,
  acknowledgements: readonly LintAcknowledgement[],
  applied: ReadonlySet<string> = new Set(),
): LintJudgement {
  const active = findings.filter((finding) => policy[finding.rule] !== 'off');
  const reasonOf = (finding: LintFinding) =>
    acknowledgements.find((ack) => ack.rule === finding.rule && ack.migration === finding.migration)?.reason;
  const blocking: LintFinding[] = [];
  const warnings: LintFinding[] = [];
  const acknowledged: (LintFinding & { reason: string })[] = [];
  for (const finding of active) {
    const reason = reasonOf(finding);
    if (reason !== undefined) acknowledged.push({ ...finding, reason });
    else if (policy[finding.rule] === 'block') blocking.push(finding);
    else warnings.push(finding);
  }
  const stale = acknowledgements.flatMap((acknowledgement, index) =>
    active.some(
      (finding) => finding.rule === acknowledgement.rule && finding.migration === acknowledgement.migration,
    )
      ? []
      : [{ index, acknowledgement, applied: applied.has(acknowledgement.migration) }],
  );
  return { blocking, result: { warnings, acknowledged }, stale };
}

/** One line of a finding: `rule at file:line:column: message ("statement")`. */
export function describeFinding(finding: LintFinding): string {
  return `${finding.file}:${finding.line}:${finding.column} ${finding.message} ("${finding.statement}")`;
}

/** Why preflight refuses the release: each blocking finding, and how to go on. */
export function blockingMessage(blocking: readonly LintFinding[]): string {
  const pairs = [...new Set(blocking.map((finding) => `${finding.rule} in ${finding.migration}`))];
  const example = blocking[0];
  return (
    `The lint of the pending migrations blocks the release: ${blocking.length} finding(s) of rules whose policy is ` +
    `"block". ${blocking.map(describeFinding).join(' | ')} To go on, change the migration as the finding says, or ` +
    'acknowledge each finding in the execution input, naming the rule and the migration with a reason: ' +
    `"acknowledge": [{ "rule": "${example?.rule}", "migration": "${example?.migration}", "reason": "..." }] ` +
    `(needed: ${pairs.join(', ')}). See docs/lint.md.`
  );
}
