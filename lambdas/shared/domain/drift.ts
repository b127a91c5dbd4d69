/**
 * Schema drift, judged against what the release could have caused. The live schema is diffed against what the
 * migrations produce (Prisma's engine replays them in a shadow database) twice: in preflight, before anything
 * is applied (the baseline), and after the release. Only a difference the release introduced can fail it, and
 * only under the `fail` policy: a table created by hand, or drift that was already there, is reported, never
 * acted on.
 */
import { createHash } from 'node:crypto';

export const DriftPolicies = ['fail', 'warn', 'off'] as const;
/** `fail`: drift the release introduced fails verification (restore). `warn`: reported. `off`: not checked. */
export type DriftPolicy = (typeof DriftPolicies)[number];

export const DEFAULT_DRIFT_POLICY: DriftPolicy = 'warn';

/** What the drift check compares and how it judges. */
export interface DriftSettings {
  readonly policy: DriftPolicy;
  /**
   * Tables (`audit_log`, `public.audit_log`) or whole schemas (`analytics.*`) the migrations do not manage:
   * differences in them are left out.
   */
  readonly ignore: readonly string[];
}

export const DEFAULT_DRIFT_SETTINGS: DriftSettings = { policy: DEFAULT_DRIFT_POLICY, ignore: [] };

/** The drift measured before the release: the fingerprints of its statements. */
export interface DriftBaseline {
  /** sha256 (16 hex) of each normalized statement of the difference. */
  readonly fingerprints: readonly string[];
  /** Statements (first characters each) for the report. */
  readonly summary: readonly string[];
}

/** One statement of a diff script, without comments, whitespace folded. */
function normalize(statement: string): string {
  return statement
    .split('\n')
    .filter((line) => !line.trim().startsWith('--'))
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The statements of a diff script (Prisma writes one per `;` line end, each behind a `-- Comment` line). */
export function driftStatements(script: string): string[] {
  return script
    .split(/;\s*(?:\n|$)/)
    .map(normalize)
    .filter((statement) => statement !== '');
}

function fingerprint(statement: string): string {
  return createHash('sha256').update(statement).digest('hex').slice(0, 16);
}

/**
 * The tables a statement of Prisma's diff names: it always qualifies them (`"public"."audit_log"`), never
 * columns, so qualified pairs are the tables. Each as `schema.table`, `schema.*` and `table`, lower-cased.
 */
function tablesIn(statement: string): Set<string> {
  const names = new Set<string>();
  const part = `(?:"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_$]*))`;
  const qualified = new RegExp(`${part}\\.${part}`, 'g');
  for (const match of statement.matchAll(qualified)) {
    const schema = (match[1]?.replaceAll('""', '"') ?? match[2] ?? '').toLowerCase();
    const table = (match[3]?.replaceAll('""', '"') ?? match[4] ?? '').toLowerCase();
    names.add(`${schema}.${table}`);
    names.add(`${schema}.*`);
    names.add(table);
  }
  return names;
}

function ignored(statement: string, ignore: readonly string[]): boolean {
  if (ignore.length === 0) return false;
  const names = tablesIn(statement);
  return ignore.some((entry) => names.has(entry.toLowerCase().replaceAll('"', '')));
}

/** The baseline of a diff script, with ignored objects left out. */
export function driftBaseline(script: string, settings: DriftSettings): DriftBaseline {
  const statements = driftStatements(script).filter((statement) => !ignored(statement, settings.ignore));
  return {
    fingerprints: statements.map(fingerprint),
    summary: statements.slice(0, 20).map((statement) => shorten(statement)),
  };
}

export function shorten(statement: string, length = 160): string {
  return statement.length > length ? `${statement.slice(0, length - 3)}...` : statement;
}

/**
 * The schema a set of migrations produces, as a fingerprint of its catalog (computed once, in preflight, by
 * replaying them in a temporary database): a drift check whose live fingerprint is the same needs no replay.
 */
export interface ExpectedSchema {
  /** `migrationsDigest` of the set: each migration's name and checksum, in the bundle's order. */
  readonly migrations: string;
  /** SHA-256 of the catalog the migrations produce (see `schema-fingerprint.ts`). */
  readonly fingerprint: string;
  /** The schemas the fingerprint covers. */
  readonly schemas: readonly string[];
}

/** What the drift after a release consists of. */
export interface DriftJudgement {
  /** Differences that were not there before the release. */
  readonly introduced: readonly string[];
  /** Differences that were already there (or, without a baseline, unknown as to their origin). */
  readonly preexisting: readonly string[];
  /** Left out by the ignore list. */
  readonly ignoredCount: number;
}

/**
 * Splits the drift after the release into what the release introduced and what was already there. Without a
 * baseline (none was measured), every difference counts as introduced.
 */
export function judgeDrift(
  script: string,
  settings: DriftSettings,
  baseline: DriftBaseline | undefined,
): DriftJudgement {
  const all = driftStatements(script);
  const kept = all.filter((statement) => !ignored(statement, settings.ignore));
  const before = new Set(baseline?.fingerprints ?? []);
  const introduced = baseline ? kept.filter((statement) => !before.has(fingerprint(statement))) : kept;
  const preexisting = baseline ? kept.filter((statement) => before.has(fingerprint(statement))) : [];
  return { introduced, preexisting, ignoredCount: all.length - kept.length };
}
