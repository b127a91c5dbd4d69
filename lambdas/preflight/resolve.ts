/**
 * Preflight's part of resolving a failed migration (P3009) through the input (`input.resolve`): the checks and the
 * evidence, never the mark. The mark is a write to `_prisma_migrations`, so it waits for the snapshot: the apply step
 * performs it on its migration session, through Prisma's engine, before applying (see `ApplyOptions.resolve`).
 *
 * A resolution is accepted only for the migration that has the failed row, and only when the schema shows it: the
 * live database must be what the migrations produce up to and including it (`applied`: it was completed by hand) or
 * up to and excluding it (`rolled-back`: it left nothing behind, or was undone by hand, and is applied again). The
 * comparison is Prisma's own diff (the migrations replayed in a shadow database, as the drift check does), judged
 * without the tables of the drift ignore list. Anything else is refused, showing the difference, before anything is
 * touched: a wrong mark makes Prisma's history lie about the schema, and every later release builds on it.
 */
import type { AppliedMigration, PlannedResolution, ResolutionEvidence } from '../shared/contract/contract.js';
import { InvalidInputError, MigrationHistoryBlockedError, messageOf } from '../shared/contract/errors.js';
import type { WorkflowInput } from '../shared/contract/input.js';
import type { MigrationBundle, SchemaDriftDetector } from '../shared/contract/ports.js';
import { type DriftSettings, driftBaseline, driftStatements } from '../shared/domain/drift.js';
import { isAppliedRow, isFailedRow } from '../shared/domain/history.js';

type Requested = NonNullable<WorkflowInput['resolve']>[number];

export interface ResolutionPlan {
  readonly resolutions: readonly PlannedResolution[];
  /** Prisma's diff script behind the evidence (the drift baseline of the release, when it goes on). */
  readonly script: string;
}

export interface ResolveOptions {
  readonly requested: readonly Requested[];
  readonly history: readonly AppliedMigration[];
  readonly bundle: MigrationBundle;
  readonly databaseName: string;
  /** Prisma's diff of the migrations against the live schema; without it no resolution is accepted. */
  readonly drift: SchemaDriftDetector | undefined;
  readonly driftSettings: DriftSettings;
}

/** How many differences a refusal's message shows (all of them are in its details, up to 20). */
const SHOWN = 5;

function describeRow(name: string, history: readonly AppliedMigration[]): string {
  const rows = history.filter((row) => row.name === name);
  if (rows.some(isAppliedRow)) return `${name} is applied`;
  if (rows.length > 0) return `${name} was rolled back`;
  return `${name} has no row`;
}

/** The planned resolutions, or a refusal; an empty plan when the input resolves nothing. */
export async function planResolutions(options: ResolveOptions): Promise<ResolutionPlan | undefined> {
  const { requested, history, bundle, databaseName } = options;
  if (requested.length === 0) return undefined;
  const failedRows = history.filter(isFailedRow);
  const failedNames = [...new Set(failedRows.map((row) => row.name))];
  for (const [index, entry] of requested.entries()) {
    if (failedNames.includes(entry.migration)) continue;
    const actual =
      failedNames.length === 0
        ? `_prisma_migrations in database ${databaseName} has no failed migration (${describeRow(entry.migration, history)}): ` +
          'nothing blocks the deploy; remove resolve'
        : `the failed migration in _prisma_migrations of database ${databaseName} is ${failedNames.join(', ')} ` +
          `(${describeRow(entry.migration, history)}); name that one`;
    throw new InvalidInputError(
      `input.resolve[${index}].migration: ${JSON.stringify(entry.migration)} is not the failed migration: ${actual}.`,
      { details: { field: `resolve[${index}].migration`, migration: entry.migration, failed: failedNames } },
    );
  }
  if (failedNames.length > 1) {
    throw new MigrationHistoryBlockedError(
      `_prisma_migrations in database ${databaseName} has more than one failed migration (${failedNames.join(', ')}): ` +
        'Prisma never leaves more than one, so the history was changed by hand, and resolve does not judge that ' +
        'case. Inspect the database, resolve each with `prisma migrate resolve`, and start the release again.',
      { details: { failed: failedNames } },
    );
  }
  const [entry] = requested;
  const index = 0;
  if (entry === undefined) return undefined;
  const failedRow = failedRows.find((row) => row.name === entry.migration);
  const field = `input.resolve[${index}]`;
  if (entry.as === 'applied' && !bundle.migrations.some((m) => m.name === entry.migration)) {
    throw new InvalidInputError(
      `${field}.migration: ${entry.migration} is not in ${bundle.directory}: marking it applied records the checksum ` +
        'of its migration.sql. Deploy from the migrations that contain it.',
      { details: { field: `resolve[${index}].migration`, migration: entry.migration } },
    );
  }
  if (options.drift === undefined) {
    throw new InvalidInputError(
      `${field}: resolving ${entry.migration} needs the schema evidence (the database compared with the ` +
        'migrations up to it, replayed in a shadow database), and this deployment does not compare schemas: turn on ' +
        'checkSchemaDrift (its database user needs CREATEDB), or resolve it by hand with ' +
        `\`prisma migrate resolve --${entry.as} ${entry.migration}\` after checking the schema yourself.`,
      { details: { field: `resolve[${index}]`, migration: entry.migration } },
    );
  }
  const applied = new Set(history.filter(isAppliedRow).map((row) => row.name));
  const compared = (as: Requested['as']) =>
    bundle.migrations
      .map((m) => m.name)
      .filter((name) => applied.has(name) || (as === 'applied' && name === entry.migration));
  const evidenceFor = async (as: Requested['as']) => {
    const names = compared(as);
    const result = await (options.drift as SchemaDriftDetector).diff(names);
    const script = result.inSync ? '' : result.script;
    return { script, ...judge(script, names, options.driftSettings) };
  };
  let found: { script: string; evidence: ResolutionEvidence; count: number };
  try {
    found = await evidenceFor(entry.as);
  } catch (error) {
    throw new MigrationHistoryBlockedError(
      `${field}: the evidence for resolving ${entry.migration} as ${entry.as} could not be computed: Prisma's engine ` +
        `could not compare the database with the migrations ${entry.as === 'applied' ? 'up to and including' : 'before'} ` +
        `it (${messageOf(error)}).` +
        (entry.as === 'applied'
          ? ` A migration that fails on an empty shadow database cannot be recorded as applied from its file: ` +
            'correct the file and resolve it as rolled-back (undoing what it left), or resolve it by hand.'
          : ''),
      { cause: error, details: { field: `resolve[${index}]`, migration: entry.migration, as: entry.as } },
    );
  }
  const { evidence } = found;
  if (!evidence.matches) {
    const other = entry.as === 'applied' ? 'rolled-back' : 'applied';
    const otherMatches = await evidenceFor(other).then(
      (result) => result.evidence.matches,
      () => false,
    );
    const scope = entry.as === 'applied' ? 'up to and including it' : 'before it (without it)';
    throw new MigrationHistoryBlockedError(
      `${field}: ${entry.migration} cannot be resolved as ${entry.as}: database ${databaseName} does not match the ` +
        `migrations ${scope} (${found.count} difference(s), as SQL that would turn what the ` +
        `migrations produce into the live schema: ${evidence.differences.slice(0, SHOWN).join('; ')}). ` +
        (otherMatches
          ? entry.as === 'applied'
            ? 'It matches the migrations without it: resolve it as rolled-back instead.'
            : 'Its schema matches the migrations including it: if it also made its data changes, resolve it as ' +
              'applied instead; otherwise undo what it left behind by hand.'
          : entry.as === 'applied'
            ? `Complete what ${entry.migration} left undone by hand until it matches, then start again.`
            : `Undo what ${entry.migration} left behind by hand until it matches, then start again.`),
      {
        details: {
          field: `resolve[${index}]`,
          migration: entry.migration,
          as: entry.as,
          differences: evidence.differences,
          ...(otherMatches ? { matches: other } : {}),
        },
      },
    );
  }
  return {
    resolutions: [
      {
        migration: entry.migration,
        as: entry.as,
        reason: entry.reason,
        failedAt: failedRow?.startedAt ?? '',
        evidence,
      },
    ],
    script: found.script,
  };
}

/** The evidence of one diff, and how many differences it holds (the evidence shows the first 20). */
function judge(
  script: string,
  names: readonly string[],
  settings: DriftSettings,
): { evidence: ResolutionEvidence; count: number } {
  const kept = driftBaseline(script, settings);
  const all = driftStatements(script).length;
  return {
    evidence: {
      comparedWith: { count: names.length, last: names.at(-1) ?? null },
      matches: kept.fingerprints.length === 0,
      differences: kept.summary,
      ignoredCount: all - kept.fingerprints.length,
    },
    count: kept.fingerprints.length,
  };
}
