/**
 * What the sample application's release says in its execution input: the acknowledgement of its one blocking lint
 * finding. `20250122090000_split_user_name` is the expand/backfill/contract of `"User"."name"` in one migration: it
 * adds `firstName` and `lastName`, copies `name` into them, and then drops `name`, which the default policy blocks
 * (`drop-column`, docs/lint.md). The one place this acknowledgement is written: the CLI adds it when it deploys the
 * sample's own migrations (`npm start`), and the tests that deploy the sample release pass it from here.
 */
import { withClient } from '../../lambdas/shared/adapters/postgres/connection.js';
import type { LintAcknowledgement, LintPolicyOverrides } from '../../lambdas/shared/domain/lint/policy.js';

/** The sample release's acknowledged findings, each with the reason it is safe. */
export const SAMPLE_ACKNOWLEDGEMENTS: readonly LintAcknowledgement[] = [
  {
    rule: 'drop-column',
    migration: '20250122090000_split_user_name',
    reason: 'name copied into firstName and lastName by the same migration before the drop',
  },
];

/**
 * `input` with `acknowledgements` added to its `acknowledge` (those it already names, by rule and migration, are
 * kept as given). Only a migration reads acknowledgements: an input of another mode is returned as it is.
 */
export function withSampleAcknowledgements(
  input: unknown = {},
  acknowledgements: readonly LintAcknowledgement[] = SAMPLE_ACKNOWLEDGEMENTS,
): Record<string, unknown> {
  const given = (input ?? {}) as Record<string, unknown>;
  if (given.mode !== undefined && given.mode !== 'migrate') return given;
  const existing = Array.isArray(given.acknowledge) ? (given.acknowledge as LintAcknowledgement[]) : [];
  const added = acknowledgements.filter(
    (ack) => !existing.some((own) => own.rule === ack.rule && own.migration === ack.migration),
  );
  return added.length === 0 ? given : { ...given, acknowledge: [...existing, ...added] };
}

/**
 * The acknowledgements of `SAMPLE_ACKNOWLEDGEMENTS` that a run of the sample's migrations against `databaseUrl`
 * needs: those whose migration is not applied yet (an acknowledgement of an applied migration is only noise) and
 * whose rule the policy does not turn off (such an acknowledgement matches no finding and is refused).
 */
export async function pendingSampleAcknowledgements(
  databaseUrl: string,
  lintPolicy: LintPolicyOverrides = {},
): Promise<LintAcknowledgement[]> {
  const wanted = SAMPLE_ACKNOWLEDGEMENTS.filter((ack) => lintPolicy[ack.rule] !== 'off');
  if (wanted.length === 0) return [];
  const applied = await withClient(databaseUrl, async (client) => {
    const table = await client.query<{ exists: boolean }>(
      `SELECT to_regclass('_prisma_migrations') IS NOT NULL AS exists`,
    );
    if (!table.rows[0]?.exists) return new Set<string>();
    const rows = await client.query<{ migration_name: string }>(
      'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
    );
    return new Set(rows.rows.map((row) => row.migration_name));
  });
  return wanted.filter((ack) => !applied.has(ack.migration));
}
