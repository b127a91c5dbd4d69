/**
 * Health of a PostgreSQL database after a release or a rollback: it answers, `_prisma_migrations` holds
 * every expected migration finished and no failed row, and the user's own SQL checks return true.
 */
import type pg from 'pg';
import type { HealthCheckResult, HealthReport } from '../../contract/contract.js';
import type { HealthExpectation, HealthProbe, SchemaDriftDetector } from '../../contract/ports.js';
import { judgeDrift, shorten } from '../../domain/drift.js';
import { isAppliedRow, isFailedRow } from '../../domain/history.js';
import { redactRowValues } from '../../domain/redaction.js';
import type { HealthCheckDefinition } from '../../runtime/settings.js';
import { readPrismaHistory } from '../prisma/history.js';
import { type ConnectionSettings, withClient } from './connection.js';

export interface PgHealthProbeOptions {
  readonly connection: ConnectionSettings;
  readonly checks?: readonly HealthCheckDefinition[];
  /** Compares the live schema with the expected migrations. @default - no drift check */
  readonly drift?: SchemaDriftDetector;
  /** Per-query timeout. @default 30 s */
  readonly statementTimeoutMs?: number;
}

export class PgHealthProbe implements HealthProbe {
  constructor(private readonly options: PgHealthProbeOptions) {}

  async check(expectation: HealthExpectation): Promise<HealthReport> {
    const checks = await withClient(this.options.connection, async (client) => {
      await client.query(`SET statement_timeout = ${Math.trunc(this.options.statementTimeoutMs ?? 30_000)}`);
      await client.query('SELECT 1');
      const results: HealthCheckResult[] = [
        { name: 'connectivity', kind: 'database', ok: true, detail: 'the database answers' },
      ];
      results.push(...(await this.history(client, expectation)));
      for (const check of this.options.checks ?? []) results.push(await this.userCheck(client, check));
      return results;
    });
    if (this.options.drift) checks.push(await this.driftCheck(this.options.drift, expectation));
    return { healthy: checks.every((check) => check.ok), checks };
  }

  private async driftCheck(
    drift: SchemaDriftDetector,
    expectation: HealthExpectation,
  ): Promise<HealthCheckResult> {
    const name = 'schema matches the migrations';
    const kind = 'drift' as const;
    const judged = expectation.drift ?? { settings: { policy: 'fail', ignore: [] }, mode: 'release' };
    if (judged.settings.policy === 'off') return { name, kind, ok: true, detail: 'not checked (policy off)' };
    let script: string;
    try {
      const result = await drift.diff(expectation.migrations, judged.expected);
      if (result.inSync) {
        const how = result.by === 'fingerprint' ? ' (the schema is the one preflight computed for them)' : '';
        return {
          name,
          kind,
          ok: true,
          detail: `no drift from ${expectation.migrations.length} migrations${how}`,
        };
      }
      script = result.script;
    } catch (error) {
      // A check that could not run is no evidence that the release broke anything: reported, not acted on.
      const detail = `the drift check could not run: ${(error as Error).message}`;
      return { name, kind, ok: true, detail, warning: detail };
    }
    const { introduced, preexisting, ignoredCount } = judgeDrift(script, judged.settings, judged.baseline);
    const ignoredNote = ignoredCount > 0 ? `; ${ignoredCount} difference(s) in ignored objects left out` : '';
    if (introduced.length === 0 && preexisting.length === 0) {
      return { name, kind, ok: true, detail: `no drift outside the ignored objects${ignoredNote}` };
    }
    const list = (statements: readonly string[]) =>
      statements
        .slice(0, 5)
        .map((statement) => shorten(statement))
        .join('; ') + (statements.length > 5 ? `; ... (${statements.length - 5} more)` : '');
    const parts = [
      introduced.length > 0
        ? `${introduced.length} difference(s) ${judged.baseline ? 'that were not there before the release' : 'from the migrations'}: ${list(introduced)}`
        : '',
      preexisting.length > 0
        ? `${preexisting.length} difference(s) already there before the release (not caused by it): ${list(preexisting)}`
        : '',
    ].filter(Boolean);
    const detail = `the live schema differs from what the migrations produce: ${parts.join('. ')}${ignoredNote}`;
    const fails = judged.mode === 'release' && judged.settings.policy === 'fail' && introduced.length > 0;
    return fails ? { name, kind, ok: false, detail } : { name, kind, ok: true, detail, warning: detail };
  }

  private async history(client: pg.Client, expectation: HealthExpectation): Promise<HealthCheckResult[]> {
    const rows = await readPrismaHistory(client);
    const before = new Set(expectation.failedBefore ?? []);
    const failed = rows.filter((row) => isFailedRow(row) && !before.has(row.name));
    const restored = rows.filter((row) => isFailedRow(row) && before.has(row.name)).map((row) => row.name);
    const finished = new Set(rows.filter(isAppliedRow).map((row) => row.name));
    const missing = expectation.migrations.filter((name) => !finished.has(name));
    const none =
      restored.length > 0
        ? `only the failed row of ${restored.join(', ')}, which was there before the release (the restored history)`
        : 'no unfinished row in _prisma_migrations';
    const results: HealthCheckResult[] = [
      {
        name: 'no failed migrations',
        kind: 'history',
        ok: failed.length === 0,
        detail: failed.length === 0 ? none : `unfinished rows: ${failed.map((row) => row.name).join(', ')}`,
      },
      {
        name: 'history complete',
        kind: 'history',
        ok: missing.length === 0,
        detail:
          missing.length === 0
            ? `${expectation.migrations.length} expected migrations finished`
            : `not finished: ${missing.join(', ')}`,
      },
    ];
    if (expectation.absent !== undefined) {
      const present = expectation.absent.filter((name) => finished.has(name));
      results.push({
        name: 'history as before the release',
        kind: 'history',
        ok: present.length === 0,
        detail:
          present.length === 0
            ? 'no migration of the failed release is recorded'
            : `recorded although the release was rolled back: ${present.join(', ')}`,
      });
    }
    return results;
  }

  private async userCheck(client: pg.Client, check: HealthCheckDefinition): Promise<HealthCheckResult> {
    try {
      const result = await client.query({ text: check.sql, rowMode: 'array' });
      const value = (result.rows[0] as unknown[] | undefined)?.[0];
      if (value === true) return { name: check.name, kind: 'user', ok: true, detail: 'returned true' };
      // Never the value itself: a check may select a column of a table row.
      const seen =
        value === false || value === null || value === undefined
          ? String(value ?? 'no row')
          : `a ${typeof value} (not shown)`;
      return { name: check.name, kind: 'user', ok: false, detail: `returned ${seen}, expected true` };
    } catch (error) {
      return {
        name: check.name,
        kind: 'user',
        ok: false,
        detail: `query failed: ${redactRowValues((error as Error).message)}`,
      };
    }
  }
}
