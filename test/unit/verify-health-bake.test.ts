import { describe, expect, it } from 'vitest';
import type { HealthCheckResult } from '../../lambdas/shared/contract/contract.js';
import { ErrorNames } from '../../lambdas/shared/contract/contract.js';
import type { HealthProbe } from '../../lambdas/shared/contract/ports.js';
import { verifyHealth } from '../../lambdas/verify-health/verify-health.js';
import { FakeHealthProbe, stateWith, testPlan } from '../helpers/fakes.js';

/** HTTP checks answering from a list, one run after the other (the last one repeats). */
function httpProbe(...runs: boolean[][]): HealthProbe & { calls: number } {
  const probe = {
    calls: 0,
    async check() {
      const run = runs[Math.min(probe.calls, runs.length - 1)] ?? [];
      probe.calls += 1;
      const checks: HealthCheckResult[] = run.map((ok, index) => ({
        name: `api${index}`,
        kind: 'http',
        ok,
        detail: ok ? 'GET /health: status 200' : 'GET /health: expected status 200, got status 503',
      }));
      return { healthy: checks.every((check) => check.ok), checks };
    },
  };
  return probe;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error('expected a rejection');
  return error;
}

const released = () =>
  stateWith({
    plan: testPlan,
    apply: { applied: testPlan.pending, transactionMode: 'release', durationMs: 5 },
  });

describe('verifyHealth with HTTP checks and a bake time', () => {
  it('fails the release on an HTTP check that passed before it', async () => {
    const error = await rejection(
      verifyHealth(released(), { probe: new FakeHealthProbe(), http: httpProbe([false]) }),
    );

    expect(error.name).toBe(ErrorNames.HealthCheckFailed);
    expect(error.message).toContain('api0: GET /health: expected status 200, got status 503');
  });

  it('only reports an HTTP check that already failed before the release', async () => {
    const state = stateWith({
      plan: { ...testPlan, httpChecksFailingBefore: ['api0'] },
      apply: { applied: testPlan.pending, transactionMode: 'release', durationMs: 5 },
    });

    const report = await verifyHealth(state, { probe: new FakeHealthProbe(), http: httpProbe([false]) });

    expect(report.healthy).toBe(true);
    expect(report.warnings).toEqual([
      'api0: GET /health: expected status 200, got status 503 (already failing before the release: not acted on).',
    ]);
  });

  it('waits the bake time, then runs every check again', async () => {
    const waits: number[] = [];
    const database = new FakeHealthProbe();
    const http = httpProbe([true], [true]);

    const report = await verifyHealth(released(), {
      probe: database,
      http,
      bakeSeconds: 30,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });

    expect(waits).toEqual([30_000]);
    expect(database.expectations).toHaveLength(2);
    expect(http.calls).toBe(2);
    expect(report).toMatchObject({ healthy: true, bakedSeconds: 30 });
  });

  it('fails when a check turns red during the bake time, saying so', async () => {
    const error = await rejection(
      verifyHealth(released(), {
        probe: new FakeHealthProbe(),
        http: httpProbe([true], [false]),
        bakeSeconds: 30,
        sleep: async () => undefined,
      }),
    );

    expect(error.name).toBe(ErrorNames.HealthCheckFailed);
    expect(error.message).toMatch(/^Healthy right after the release, but not after the bake time \(30 s\): /);
  });

  it('does not bake when the first verification already fails', async () => {
    const waits: number[] = [];

    await rejection(
      verifyHealth(released(), {
        probe: new FakeHealthProbe(false),
        bakeSeconds: 30,
        sleep: async (ms) => {
          waits.push(ms);
        },
      }),
    );

    expect(waits).toEqual([]);
  });

  it('never bakes after a rollback, where HTTP checks are only reported', async () => {
    const waits: number[] = [];
    const state = stateWith({
      plan: testPlan,
      swap: {
        originalIdentifier: 'orders-db',
        restoredIdentifier: 'orders-db-restored',
        asideIdentifier: 'orders-db-rolledback',
        phase: 'done',
        complete: true,
      } as never,
    });

    const report = await verifyHealth(state, {
      probe: new FakeHealthProbe(),
      http: httpProbe([false]),
      bakeSeconds: 30,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });

    expect(waits).toEqual([]);
    expect(report.healthy).toBe(true);
    expect(report.warnings?.[0]).toContain('api0: GET /health: expected status 200, got status 503');
  });
});
