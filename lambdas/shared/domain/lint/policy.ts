/**
 * The lint's vocabulary, without its rules: rule ids, what a policy may say of each, the defaults, and the shapes of
 * a finding and an acknowledgement. Apart from the rules so that the input schema, the environment and the construct
 * can name the rules without loading anything else.
 */

/** Every rule, by id (`docs/lint.md` explains each). */
export const LintRuleIds = [
  'drop-table',
  'drop-column',
  'rename-table',
  'rename-column',
  'change-column-type',
  'set-not-null',
  'add-column-volatile-default',
  'create-index-non-concurrently',
  'add-foreign-key',
  'add-check-constraint',
  'add-unique-constraint',
  'truncate',
  'delete-without-where',
  'update-without-where',
  'enum-value-used-in-release',
] as const;
export type LintRuleId = (typeof LintRuleIds)[number];

/** `block`: preflight refuses the release unless the input acknowledges the finding. `warn`: shown in the plan. */
export const LintSeverities = ['block', 'warn', 'off'] as const;
export type LintSeverity = (typeof LintSeverities)[number];

/** The policy of each rule the configuration overrides; the others keep `DEFAULT_LINT_POLICY`'s. */
export type LintPolicyOverrides = Partial<Record<LintRuleId, LintSeverity>>;
export type LintPolicy = Readonly<Record<LintRuleId, LintSeverity>>;

/**
 * Block what loses data for good or breaks the running application at once (docs/lint.md says why for each):
 * `drop-table`, `drop-column`, `truncate`, `delete-without-where`, the two renames. A release that does one on
 * purpose says so in its input (`acknowledge`), as the sample release does for its DROP COLUMN
 * (bin/sample/release-input.ts). `change-column-type` warns: in real histories nearly every type change is Prisma
 * recreating an enum or a widening, and a narrowing that does not fit fails the release rather than losing data.
 */
export const DEFAULT_LINT_POLICY: LintPolicy = {
  'drop-table': 'block',
  'drop-column': 'block',
  'rename-table': 'block',
  'rename-column': 'block',
  'change-column-type': 'warn',
  'set-not-null': 'warn',
  'add-column-volatile-default': 'warn',
  'create-index-non-concurrently': 'warn',
  'add-foreign-key': 'warn',
  'add-check-constraint': 'warn',
  'add-unique-constraint': 'warn',
  truncate: 'block',
  'delete-without-where': 'block',
  'update-without-where': 'warn',
  'enum-value-used-in-release': 'warn',
};

export function isLintRuleId(value: unknown): value is LintRuleId {
  return (LintRuleIds as readonly unknown[]).includes(value);
}

/** The policy in force: the defaults with `overrides` on top. */
export function resolveLintPolicy(overrides: LintPolicyOverrides = {}): LintPolicy {
  return { ...DEFAULT_LINT_POLICY, ...overrides };
}

/**
 * Checks a policy given as data (the construct prop, the environment, the command line): an object of rule ids to
 * severities. Returns the overrides, or the problems, each naming the rule and the allowed values.
 */
export function checkLintPolicy(value: unknown): { overrides: LintPolicyOverrides } | { problems: string[] } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { problems: [`must be an object of rule ids to ${LintSeverities.join(' | ')}`] };
  }
  const problems: string[] = [];
  const overrides: LintPolicyOverrides = {};
  for (const [rule, severity] of Object.entries(value)) {
    if (!isLintRuleId(rule)) {
      problems.push(`${JSON.stringify(rule)} is not a rule (rules: ${LintRuleIds.join(', ')})`);
    } else if (!(LintSeverities as readonly unknown[]).includes(severity)) {
      problems.push(
        `${rule} must be one of ${LintSeverities.join(', ')} (received ${JSON.stringify(severity)})`,
      );
    } else {
      overrides[rule] = severity as LintSeverity;
    }
  }
  return problems.length > 0 ? { problems } : { overrides };
}

/** What a rule found, where, and what to do instead. No table row value: the statement is the migration's text. */
export interface LintFinding {
  readonly rule: LintRuleId;
  readonly migration: string;
  /** `<migration>/migration.sql`. */
  readonly file: string;
  /** 1-based line of the statement's first token. */
  readonly line: number;
  /** 1-based column, in characters (Unicode code points). */
  readonly column: number;
  /** The statement as written (whitespace collapsed, shortened). */
  readonly statement: string;
  /** The risk, then the safe alternative. */
  readonly message: string;
}

/** An acknowledgement in the execution input: this rule's findings in this migration are accepted, with why. */
export interface LintAcknowledgement {
  readonly rule: LintRuleId;
  readonly migration: string;
  readonly reason: string;
}

/** What the lint says of a release once judged by the policy and the acknowledgements (in the plan and report). */
export interface LintResult {
  /** Findings of `warn` rules: shown, not acted on. */
  readonly warnings: readonly LintFinding[];
  /** Findings of `block` rules the input acknowledges, each with the acknowledgement's reason. */
  readonly acknowledged: readonly (LintFinding & { readonly reason: string })[];
}
