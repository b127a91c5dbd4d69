/**
 * Health of a PostgreSQL database after a release or a rollback: it answers, `_prisma_migrations` holds
 * every expected migration finished and no failed row, and the user's own SQL checks return true.
 */
import type pg from 'pg';
import type { HealthCheckResult, HealthReport } from '../contract.js';
import { isAppliedRow, isFailedRow } from '../history.js';
import type { HealthExpectation, HealthProbe, SchemaDriftDetector } from '../ports.js';
import type { HealthCheckDefinition } from '../settings.js';
import { type ConnectionSettings, withClient } from './pg-connection.js';
import { readPrismaHistory } from './prisma/history.js';

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
        { name: 'connectivity', ok: true, detail: 'the database answers' },
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
    try {
      const result = await drift.diff(expectation.migrations);
      if (result.inSync)
        return { name, ok: true, detail: `no drift from ${expectation.migrations.length} migrations` };
      const script = result.script.trim();
      return {
        name,
        ok: false,
        detail: `the live schema differs from the migrations; the difference as SQL: ${
          script.length > 600 ? `${script.slice(0, 600)} ...` : script
        }`,
      };
    } catch (error) {
      return { name, ok: false, detail: `the drift check failed: ${(error as Error).message}` };
    }
  }

  private async history(client: pg.Client, expectation: HealthExpectation): Promise<HealthCheckResult[]> {
    const rows = await readPrismaHistory(client);
    const failed = rows.filter(isFailedRow);
    const finished = new Set(rows.filter(isAppliedRow).map((row) => row.name));
    const missing = expectation.migrations.filter((name) => !finished.has(name));
    const expected = new Set(expectation.migrations);
    const unexpected = [...finished].filter((name) => !expected.has(name));
    const results: HealthCheckResult[] = [
      {
        name: 'no failed migrations',
        ok: failed.length === 0,
        detail:
          failed.length === 0
            ? 'no unfinished row in _prisma_migrations'
            : `unfinished rows: ${failed.map((row) => row.name).join(', ')}`,
      },
      {
        name: 'history complete',
        ok: missing.length === 0,
        detail:
          missing.length === 0
            ? `${expectation.migrations.length} expected migrations finished`
            : `not finished: ${missing.join(', ')}`,
      },
    ];
    if (expectation.exact) {
      results.push({
        name: 'history as before the release',
        ok: unexpected.length === 0,
        detail:
          unexpected.length === 0
            ? 'no migration of the failed release is recorded'
            : `recorded but not expected: ${unexpected.join(', ')}`,
      });
    }
    return results;
  }

  private async userCheck(client: pg.Client, check: HealthCheckDefinition): Promise<HealthCheckResult> {
    try {
      const result = await client.query({ text: check.sql, rowMode: 'array' });
      const value = (result.rows[0] as unknown[] | undefined)?.[0];
      return value === true
        ? { name: check.name, ok: true, detail: 'returned true' }
        : { name: check.name, ok: false, detail: `returned ${JSON.stringify(value ?? null)}, expected true` };
    } catch (error) {
      return { name: check.name, ok: false, detail: `query failed: ${(error as Error).message}` };
    }
  }
}
