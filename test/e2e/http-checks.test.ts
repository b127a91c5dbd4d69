/**
 * HTTP health checks and the bake time through the local runner, against real PostgreSQL and a local HTTP server
 * standing in for the application.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { digestDatabase } from '../../bin/sample/database-digest.js';
import { StateNames } from '../../lambdas/shared/contract/contract.js';
import { requirePlan } from '../../lambdas/shared/contract/state.js';
import { runLocal } from '../../lib/local/runner.js';
import { dropDatabase, sampleDatabase, sampleRelease, withAdmin } from '../helpers/database.js';
import { startHttpServer, type TestHttpServer } from '../helpers/http-server.js';

const SAMPLE = 'prisma/migrations';
const created: string[] = [];
const servers: TestHttpServer[] = [];

afterAll(async () => {
  for (const server of servers) await server.close();
  for (const name of created) {
    const copies = await withAdmin(async (client) =>
      (
        await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [
          `${name.replaceAll('_', '-')}-%`,
        ])
      ).rows.map((row) => row.datname),
    );
    for (const copy of copies) await dropDatabase(copy);
    await dropDatabase(name);
  }
});

let app: TestHttpServer;

beforeEach(async () => {
  app = await startHttpServer({ status: 200, body: 'status: ok' });
  servers.push(app);
});

const check = () => ({ name: 'api', url: `${app.url}/health`, bodyContains: 'status: ok', timeoutMs: 2_000 });

describe('HTTP health checks through the local workflow', () => {
  it('succeeds when the check passes before, after the release and after the bake time', async () => {
    const db = await sampleDatabase('http_ok', created);

    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: SAMPLE,
      input: sampleRelease(),
      reportsDir: false,
      httpHealthChecks: [check()],
      bakeSeconds: 1,
    });

    expect(result.outcome).toBe('succeeded');
    // Preflight, right after the release, after the bake.
    expect(app.requests()).toBe(3);
    expect(result.state.health).toMatchObject({
      healthy: true,
      bakedSeconds: 1,
      checks: expect.arrayContaining([expect.objectContaining({ name: 'api', kind: 'http', ok: true })]),
    });
  });

  it('rolls back when the check turns red during the bake time', async () => {
    // Prepare: the application answers for preflight and right after the release, then breaks.
    const db = await sampleDatabase('http_bake', created);
    const before = await digestDatabase(db.url);
    app.answerAfter(2, { status: 500, body: 'boom' });

    // Act
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: SAMPLE,
      input: sampleRelease(),
      reportsDir: false,
      httpHealthChecks: [check()],
      bakeSeconds: 1,
    });

    // Assess
    expect(result.outcome).toBe('migration-rolled-back');
    expect(result.error?.cause).toContain('HealthCheckFailed');
    expect(result.error?.cause).toContain('not after the bake time (1 s)');
    expect(result.error?.cause).toContain(
      `api: GET ${app.url}/health: expected status 200 with "status: ok" in the body, got status 500`,
    );
    expect(result.path).toEqual(
      expect.arrayContaining([
        StateNames.verifyHealth,
        StateNames.restoreSnapshot,
        StateNames.verifyRollbackHealth,
      ]),
    );
    expect(await digestDatabase(db.url)).toEqual(before);
  });

  it('never rolls back for a check that already failed before the release: reported instead', async () => {
    // Prepare: the application is down from the start.
    const db = await sampleDatabase('http_before', created);
    app.answer({ status: 503 });

    // Act
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: SAMPLE,
      input: sampleRelease(),
      reportsDir: false,
      httpHealthChecks: [check()],
    });

    // Assess
    expect(result.outcome).toBe('succeeded');
    const plan = requirePlan(result.state, 'test');
    expect(plan.httpChecksFailingBefore).toEqual(['api']);
    expect(plan.warnings).toContainEqual(
      expect.stringContaining('HTTP check "api" already fails before the release'),
    );
    expect(result.state.health?.warnings).toContainEqual(
      expect.stringContaining('got status 503 (already failing before the release: not acted on)'),
    );
  });
});
