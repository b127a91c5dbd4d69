/**
 * Translating what failed in an engine run into the workflow's errors: PostgreSQL's error with its position in
 * `migration.sql`, Prisma's refusals (P3009, P3005, P3019), engine panics. Facts only: the apply step adds what
 * the database's state is and what to do, from the evidence it reads afterwards.
 */
import type pg from 'pg';
import {
  MigrationFailedDatabaseUnchangedError,
  MigrationFailedError,
  MigrationHistoryBlockedError,
  MigrationsInvalidError,
  messageOf,
} from '../../contract/errors.js';
import type { MigrationBundle } from '../../contract/ports.js';
import { isFailedRow } from '../../domain/history.js';
import { engineErrorCode, SchemaEnginePanic } from './engine-session.js';
import type { RunState } from './release-run.js';

/** A migration script PostgreSQL refused, as the report needs it. */
export interface ScriptFailure {
  readonly migration: string;
  readonly code?: string;
  readonly message: string;
  readonly position?: string;
  readonly line?: number;
  readonly column?: number;
  readonly detail?: string;
  readonly hint?: string;
}

/** 1-based line and column of PostgreSQL's 1-based character `position` in `script`. */
function lineAndColumn(
  script: string,
  position: string | undefined,
): { line: number; column: number } | undefined {
  const index = Number(position);
  if (!Number.isInteger(index) || index < 1) return undefined;
  const before = [...script].slice(0, index - 1).join('');
  const lines = before.split('\n');
  return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
}

export function scriptFailure(migration: string, script: string, error: unknown): ScriptFailure {
  const e = error as Partial<pg.DatabaseError>;
  const at = lineAndColumn(script, e.position);
  return {
    migration,
    message: messageOf(error),
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    ...(typeof e.position === 'string' ? { position: e.position } : {}),
    ...(at ? { line: at.line, column: at.column } : {}),
    ...(typeof e.detail === 'string' ? { detail: e.detail } : {}),
    ...(typeof e.hint === 'string' ? { hint: e.hint } : {}),
  };
}

function describeFailure(failure: ScriptFailure): string {
  const code = failure.code ? ` ${failure.code}` : '';
  const at = failure.line ? ` (migration.sql line ${failure.line}, column ${failure.column})` : '';
  const detail = failure.detail ? ` Detail: ${failure.detail}.` : '';
  const hint = failure.hint ? ` Hint: ${failure.hint}.` : '';
  return `PostgreSQL error${code}: ${failure.message}${at}.${detail}${hint}`;
}

/** An engine error's message without its span trace (`   0: schema_engine_wasm::...`), on one line. */
function engineMessage(error: unknown): string {
  const message = messageOf(error).split(/\n\s+0: /)[0] ?? '';
  return message
    .replace(/\s*\n\s*/g, ' ')
    .trim()
    .replace(/\.$/, '');
}

/** How an engine failure starts its sentence: a panic is named as one. */
function engineFailed(error: unknown): string {
  return error instanceof SchemaEnginePanic ? 'The schema engine panicked' : 'The schema engine failed';
}

function listOf(names: readonly string[]): string {
  return names.length === 0 ? 'none' : names.join(', ');
}

export function engineFailure(
  state: RunState,
  error: unknown,
  bundle: MigrationBundle,
  blockers = '',
): Error {
  const code = engineErrorCode(error);
  const cause = { cause: error };
  if (code === 'P3009') {
    const rows = state.history.filter(isFailedRow);
    const names = rows.map((row) => row.name);
    const first = names[0] ?? '<name>';
    return new MigrationHistoryBlockedError(
      `_prisma_migrations records failed migration(s) ${listOf(names)}, so Prisma refuses to apply new ones ` +
        `(P3009). Nothing was applied. Repair what the failed migration left behind, then run ` +
        `\`prisma migrate resolve --rolled-back ${first}\` (or \`--applied ${first}\` if you completed it by hand) ` +
        'and deploy again.',
      { ...cause, details: { code, failed: names } },
    );
  }
  if (code === 'P3005') {
    return new MigrationHistoryBlockedError(
      `The database is not empty but has no _prisma_migrations table (P3005), so Prisma will not apply ` +
        `${bundle.directory} to it. Nothing was applied. Baseline it: mark the migrations its schema already ` +
        'contains with `prisma migrate resolve --applied <name>`, then deploy again.',
      { ...cause, details: { code } },
    );
  }
  if (code === 'P3019' || code === 'P3004') {
    return new MigrationsInvalidError(
      `Prisma refused the migrations in ${bundle.directory} (${code}): ${engineMessage(error)}. Fix the ` +
        'migrations directory (migration_lock.toml must say provider = "postgresql") and deploy again.',
      { ...cause, details: { code } },
    );
  }
  const failure = state.failure;
  const rolledBack = [...state.completed];
  const panic = error instanceof SchemaEnginePanic ? { enginePanic: error.panic } : {};
  const migration = failure?.migration ?? state.current ?? '(before the first migration)';
  /** What both errors report of the failure, for the details. */
  const failed = {
    migration,
    ...(failure?.code ? { code: failure.code } : {}),
    message: failure?.message ?? engineMessage(error),
    ...(failure?.position ? { position: failure.position } : {}),
    ...(failure?.line ? { line: failure.line } : {}),
  };
  if (state.mode === 'release') {
    const what = failure ? describeFailure(failure) : `${engineFailed(error)}: ${engineMessage(error)}.`;
    return new MigrationFailedDatabaseUnchangedError(
      `Migration ${migration} failed. ${what}${blockers} The release ran in one transaction, which was rolled ` +
        `back (rolled back: ${listOf([...rolledBack, ...(failure ? [failure.migration] : [])])}).`,
      {
        ...cause,
        details: {
          ...failed,
          applied: [],
          rolledBack,
          transactionMode: state.mode,
          ...panic,
        },
      },
    );
  }
  const what = failure
    ? `${describeFailure(failure)} PostgreSQL rolled back this migration's statements, and Prisma recorded ` +
      'it as failed in _prisma_migrations.'
    : `${engineFailed(error)}: ${engineMessage(error)}.`;
  const fallback = state.fallbackReason ? ` Release transaction not used: ${state.fallbackReason}.` : '';
  return new MigrationFailedError(`Migration ${migration} failed. ${what}${blockers}${fallback}`, {
    ...cause,
    details: {
      ...failed,
      applied: rolledBack,
      transactionMode: state.mode,
      ...panic,
    },
  });
}
