/**
 * Per-migration timings: what the apply step puts in the state document (all timings up to the cap, else the
 * slowest in the order applied and the count of the rest), and that the state document stays small.
 */
import { describe, expect, it } from 'vitest';
import { applyMigrations, cappedTimings } from '../../lambdas/apply-migrations/apply-migrations.js';
import { MAX_MIGRATION_TIMINGS } from '../../lambdas/shared/contract/contract.js';
import {
  FakeClock,
  FakeMigrationEngine,
  FakeMigrationSource,
  FakeReleaseInspector,
  migration,
  stateWith,
  testPlan,
} from '../helpers/fakes.js';

const timing = (index: number, durationMs: number) => ({
  name: `2025010100${String(index).padStart(4, '0')}_migration_with_a_rather_long_descriptive_name`,
  durationMs,
});

describe('cappedTimings', () => {
  it('keeps every timing up to the cap, and says nothing when there is none', () => {
    const timings = [timing(1, 30), timing(2, 10)];
    expect(cappedTimings(timings)).toEqual({ timings });
    expect(cappedTimings([])).toEqual({});
  });

  it('keeps the slowest beyond the cap, in the order applied, and counts the rest', () => {
    const timings = [timing(1, 5), timing(2, 50), timing(3, 20), timing(4, 50), timing(5, 1)];
    expect(cappedTimings(timings, 3)).toEqual({
      timings: [timing(2, 50), timing(3, 20), timing(4, 50)],
      timingsOmitted: 2,
    });
  });

  it('keeps the state document small for a release of a thousand migrations', () => {
    const timings = Array.from({ length: 1000 }, (_, i) => timing(i, i % 97));
    const capped = cappedTimings(timings);
    expect(capped.timings).toHaveLength(MAX_MIGRATION_TIMINGS);
    expect(capped.timingsOmitted).toBe(1000 - MAX_MIGRATION_TIMINGS);
    // Far below Step Functions' 256 KB payload limit.
    expect(Buffer.byteLength(JSON.stringify(capped))).toBeLessThan(8 * 1024);
  });
});

describe('applyMigrations: timings', () => {
  it("puts the engine's per-migration timings into the apply result", async () => {
    // Prepare
    const [m1, m2] = [migration('20250101000000_init'), migration('20250102000000_add_orders')];
    const engine = new FakeMigrationEngine();
    engine.applyPending = async (bundle, options) => ({
      applied: bundle.migrations.map((m) => m.name),
      transactionMode: options.transactionMode,
      timings: [
        { name: m1.name, durationMs: 12 },
        { name: m2.name, durationMs: 340 },
      ],
    });
    // Act
    const result = await applyMigrations(stateWith({ plan: testPlan }), {
      source: new FakeMigrationSource([m1, m2]),
      engine,
      inspector: new FakeReleaseInspector(engine),
      clock: new FakeClock(),
    });
    // Assess
    expect(result).toMatchObject({
      applied: [m1.name, m2.name],
      timings: [
        { name: m1.name, durationMs: 12 },
        { name: m2.name, durationMs: 340 },
      ],
    });
    expect(result.timingsOmitted).toBeUndefined();
  });
});
