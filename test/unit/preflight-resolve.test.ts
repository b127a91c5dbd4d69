/**
 * Preflight's checks of `input.resolve` with in-memory fakes: which migration it may name, what the evidence is
 * compared with, and the refusals the end-to-end tests do not reach (several failed rows, a migration missing from
 * the bundle, a comparison that cannot run, the drift ignore list).
 */
import { describe, expect, it } from 'vitest';
import { preflight } from '../../lambdas/preflight/preflight.js';
import { ErrorNames } from '../../lambdas/shared/contract/contract.js';
import type { OrchestratorError } from '../../lambdas/shared/contract/errors.js';
import type { SchemaDriftDetector, SchemaDriftResult } from '../../lambdas/shared/contract/ports.js';
import type { ReleaseAnalysis } from '../../lambdas/shared/domain/transaction-fallback.js';
import {
  appliedRow,
  FakeMigrationEngine,
  FakeMigrationSource,
  migration,
  rejection,
  stateWith,
  testSettings,
} from '../helpers/fakes.js';

const m1 = migration('20250101000000_init');
const m2 = migration('20250102000000_add_orders');
const m3 = migration('20250103000000_add_index');
const REASON = 'checked the schema after the failed deploy';

const noAnalysis = (): ReleaseAnalysis => ({ nonTransactional: [], lockedTables: [], notes: [] });

/** Answers each diff from `answer(names)` and records the migrations it was asked to compare with. */
class FakeDrift implements SchemaDriftDetector {
  calls: string[][] = [];
  constructor(private readonly answer: (names: readonly string[]) => SchemaDriftResult | Error) {}
  async diff(migrations: readonly string[]): Promise<SchemaDriftResult> {
    this.calls.push([...migrations]);
    const result = this.answer(migrations);
    if (result instanceof Error) throw result;
    return result;
  }
}

const IN_SYNC: SchemaDriftResult = { inSync: true, script: '' };
const ORDERS_TABLE: SchemaDriftResult = {
  inSync: false,
  script: '-- CreateTable\nCREATE TABLE "public"."20250102000000_add_orders" ("id" INTEGER);\n',
};

function deps(engine: FakeMigrationEngine, drift?: SchemaDriftDetector, ignore: string[] = []) {
  return {
    source: new FakeMigrationSource([m1, m2, m3]),
    engine,
    guard: { othersRunning: async () => [] },
    settings: { ...testSettings, drift: { ...testSettings.drift, ignore } },
    databaseName: 'orders',
    analyzeRelease: noAnalysis,
    ...(drift ? { drift } : {}),
  };
}

function failedAtM2(): FakeMigrationEngine {
  const engine = new FakeMigrationEngine();
  engine.history = [appliedRow(m1), appliedRow(m2, { finishedAt: null, logs: 'ERROR: boom' })];
  return engine;
}

const resolving = (as: 'applied' | 'rolled-back', name = m2.name) => ({
  input: { resolve: [{ migration: name, as, reason: REASON }] },
});

describe('preflight of input.resolve', () => {
  it('plans a rolled-back resolution on the evidence of the migrations before it, and re-applies it', async () => {
    // Prepare
    const drift = new FakeDrift(() => IN_SYNC);

    // Act
    const plan = await preflight(stateWith(resolving('rolled-back')), deps(failedAtM2(), drift));

    // Assess
    expect(drift.calls).toEqual([[m1.name]]);
    expect(plan.pending).toEqual([m2.name, m3.name]);
    expect(plan.resolve).toEqual([
      {
        migration: m2.name,
        as: 'rolled-back',
        reason: REASON,
        failedAt: '2025-01-01T00:00:00.000Z',
        evidence: {
          comparedWith: { count: 1, last: m1.name },
          matches: true,
          differences: [],
          ignoredCount: 0,
        },
      },
    ]);
    expect(plan.proceed).toBe(true);
  });

  it('plans an applied resolution on the migrations up to and including it, and goes on with nothing pending', async () => {
    // Prepare: the failed migration is the last one of the bundle.
    const engine = failedAtM2();
    const drift = new FakeDrift(() => IN_SYNC);
    const source = new FakeMigrationSource([m1, m2]);

    // Act
    const plan = await preflight(stateWith(resolving('applied')), { ...deps(engine, drift), source });

    // Assess: the mark alone is worth a snapshot and the apply step.
    expect(drift.calls).toEqual([[m1.name, m2.name]]);
    expect(plan.applied).toEqual([m1.name, m2.name]);
    expect(plan.pending).toEqual([]);
    expect(plan.edited).toEqual([]);
    expect(plan.proceed).toBe(true);
    expect(plan.driftBaseline).toEqual({ fingerprints: [], summary: [] });
  });

  it('leaves differences in tables of the drift ignore list out of the evidence, counting them', async () => {
    const drift = new FakeDrift(() => ORDERS_TABLE);

    const plan = await preflight(
      stateWith(resolving('rolled-back')),
      deps(failedAtM2(), drift, ['public.20250102000000_add_orders']),
    );

    expect(plan.resolve?.[0]?.evidence).toMatchObject({ matches: true, differences: [], ignoredCount: 1 });
  });

  it('refuses a difference, showing it, and names the resolution the schema supports', async () => {
    // Prepare: the database holds what the failed migration creates.
    const drift = new FakeDrift((names) => (names.includes(m2.name) ? IN_SYNC : ORDERS_TABLE));

    // Act
    const error = await rejection(preflight(stateWith(resolving('rolled-back')), deps(failedAtM2(), drift)));

    // Assess
    expect(error.name).toBe(ErrorNames.MigrationHistoryBlocked);
    expect(error.message).toContain(`input.resolve[0]: ${m2.name} cannot be resolved as rolled-back`);
    expect(error.message).toContain('CREATE TABLE "public"."20250102000000_add_orders"');
    expect(error.message).toContain('if it also made its data changes, resolve it as applied instead');
    expect(error.message).toContain('Nothing was touched');
    expect((error as OrchestratorError).details).toMatchObject({ field: 'resolve[0]', matches: 'applied' });
  });

  it('counts every difference in a refusal, though the evidence shows the first 20', async () => {
    const script = Array.from({ length: 25 }, (_, i) => `CREATE TABLE "public"."t${i}" ("id" INTEGER);`).join(
      '\n',
    );
    const drift = new FakeDrift(() => ({ inSync: false, script }));

    const error = await rejection<OrchestratorError>(
      preflight(stateWith(resolving('rolled-back')), deps(failedAtM2(), drift)),
    );

    expect(error.message).toContain('(25 difference(s), as SQL');
    expect(error.details.differences).toHaveLength(20);
  });

  it('refuses when the comparison cannot run, saying why an applied migration then cannot be marked', async () => {
    const drift = new FakeDrift(
      () => new Error('migration 20250102000000_add_orders failed to apply cleanly'),
    );

    const error = await rejection(preflight(stateWith(resolving('applied')), deps(failedAtM2(), drift)));

    expect(error.name).toBe(ErrorNames.MigrationHistoryBlocked);
    expect(error.message).toContain(
      'the evidence for resolving 20250102000000_add_orders as applied could not be',
    );
    expect(error.message).toContain('failed to apply cleanly');
    expect(error.message).toContain('cannot be recorded as applied from its file');
  });

  it('refuses a history with two failed migrations, naming both', async () => {
    const engine = failedAtM2();
    engine.history.push(appliedRow(m3, { finishedAt: null, logs: 'ERROR: again' }));

    const error = await rejection(
      preflight(stateWith(resolving('rolled-back')), deps(engine, new FakeDrift(() => IN_SYNC))),
    );

    expect(error.name).toBe(ErrorNames.MigrationHistoryBlocked);
    expect(error.message).toContain(`more than one failed migration (${m2.name}, ${m3.name})`);
  });

  it('refuses to mark applied a migration that is not in the bundle', async () => {
    const engine = failedAtM2();
    const source = new FakeMigrationSource([m1, m3]);

    const error = await rejection(
      preflight(stateWith(resolving('applied')), { ...deps(engine, new FakeDrift(() => IN_SYNC)), source }),
    );

    expect(error.name).toBe(ErrorNames.InvalidInput);
    expect(error.message).toContain(`input.resolve[0].migration: ${m2.name} is not in /fake/migrations`);
  });

  it('refuses a rolled-back row, which blocks nothing, naming it', async () => {
    const engine = new FakeMigrationEngine();
    engine.history = [
      appliedRow(m1),
      appliedRow(m2, { finishedAt: null, rolledBackAt: '2025-01-03T00:00:00Z' }),
    ];

    const error = await rejection(
      preflight(stateWith(resolving('rolled-back')), deps(engine, new FakeDrift(() => IN_SYNC))),
    );

    expect(error.name).toBe(ErrorNames.InvalidInput);
    expect(error.message).toContain(`has no failed migration (${m2.name} was rolled back)`);
  });
});
