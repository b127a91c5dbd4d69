import { describe, expect, it } from 'vitest';
import { applyMigrations } from '../../lambdas/apply-migrations/apply-migrations.js';
import { assessRelease, failureOf } from '../../lambdas/assess-release/assess-release.js';
import { ErrorNames, type Plan } from '../../lambdas/shared/contract/contract.js';
import {
  DatabaseUnreachableError,
  MigrationFailedDatabaseUnchangedError,
  MigrationFailedError,
  MigrationHistoryBlockedError,
} from '../../lambdas/shared/contract/errors.js';
import { applySessionName, judgeRelease } from '../../lambdas/shared/domain/release-evidence.js';
import { migrationsDigest } from '../../lambdas/shared/domain/transaction-fallback.js';
import {
  appliedRow,
  FakeClock,
  FakeMigrationEngine,
  FakeMigrationSource,
  FakeReleaseInspector,
  migration,
  rejection,
  stateWith,
  testPlan,
} from '../helpers/fakes.js';

const m1 = migration('20250101000000_init');
const m2 = migration('20250102000000_add_orders');
const m3 = migration('20250103000000_add_index');

const plan: Plan = { ...testPlan, transactionMode: 'per-migration' };

/** An engine whose database holds `m1` and which fails after leaving `rows` behind. */
function failingEngine(error: Error, rows: ReturnType<typeof appliedRow>[] = []) {
  const engine = new FakeMigrationEngine();
  engine.history = [appliedRow(m1)];
  engine.applyPending = async (_bundle, options) => {
    engine.applyCalls.push({ bundle: _bundle, options });
    engine.history.push(...rows);
    throw error;
  };
  return engine;
}

function deps(engine: FakeMigrationEngine) {
  const inspector = new FakeReleaseInspector(engine);
  return { source: new FakeMigrationSource([m1, m2, m3]), engine, inspector, clock: new FakeClock() };
}

describe('judgeRelease', () => {
  it('finds nothing committed when no row of the release exists (a rolled-back release transaction)', () => {
    // Act
    const evidence = judgeRelease(plan, [appliedRow(m1)]);

    // Assess
    expect(evidence).toEqual({ committed: [], failed: [], uncertain: [], unchanged: true });
  });

  it('counts an atomic migration that failed with its error recorded as leaving nothing behind', () => {
    const evidence = judgeRelease(plan, [
      appliedRow(m1),
      appliedRow(m2, { finishedAt: null, logs: 'ERROR: division by zero' }),
    ]);
    expect(evidence).toEqual({ committed: [], failed: [m2.name], uncertain: [], unchanged: true });
  });

  it('treats a failed row without an error as uncertain: interrupted, maybe after its script committed', () => {
    const evidence = judgeRelease(plan, [appliedRow(m1), appliedRow(m2, { finishedAt: null, logs: null })]);
    expect(evidence.unchanged).toBe(false);
    expect(evidence.uncertain).toEqual([m2.name]);
  });

  it('treats a failed non-atomic migration (CREATE INDEX CONCURRENTLY, own COMMIT) as uncertain', () => {
    const evidence = judgeRelease({ ...plan, nonAtomic: [m2.name] }, [
      appliedRow(m1),
      appliedRow(m2, { finishedAt: null, logs: 'ERROR: deadlock detected' }),
    ]);
    expect(evidence.unchanged).toBe(false);
    expect(evidence.uncertain).toEqual([m2.name]);
  });

  it('reports the finished migrations of the release as committed', () => {
    const evidence = judgeRelease(plan, [
      appliedRow(m1),
      appliedRow(m2),
      appliedRow(m3, { finishedAt: null, logs: 'ERROR: x' }),
    ]);
    expect(evidence).toEqual({ committed: [m2.name], failed: [m3.name], uncertain: [], unchanged: false });
  });

  it('never finds a release unchanged in a history that lost what was applied before it (rows deleted, table gone)', () => {
    // A script that deleted history rows, or dropped the table (the read then finds no row at all)
    const rowsDeleted = judgeRelease(plan, [appliedRow(m2, { finishedAt: null, logs: 'ERROR: x' })]);
    const tableGone = judgeRelease(plan, []);
    expect(rowsDeleted).toEqual({
      committed: [],
      failed: [m2.name],
      uncertain: [],
      historyLost: [m1.name],
      unchanged: false,
    });
    expect(tableGone).toMatchObject({ historyLost: [m1.name], unchanged: false });
  });

  it('does not count a migration the input resolves as applied: a failed release takes its mark back', () => {
    const resolving: Plan = {
      ...plan,
      applied: [m1.name, m2.name],
      pending: [m3.name],
      resolve: [
        {
          migration: m2.name,
          as: 'applied',
          reason: 'completed by hand after the failed deploy',
          failedAt: '2025-01-02T00:00:00.000Z',
          evidence: {
            comparedWith: { count: 2, last: m2.name },
            matches: true,
            differences: [],
            ignoredCount: 0,
          },
        },
      ],
    };
    const evidence = judgeRelease(resolving, [
      appliedRow(m1),
      appliedRow(m2, { finishedAt: null, logs: 'ERROR: y' }),
    ]);
    expect(evidence).toEqual({ committed: [], failed: [], uncertain: [], unchanged: true });
  });
});

describe('applySessionName', () => {
  it('is stable for one execution, differs between executions, and fits application_name', () => {
    const a = applySessionName({
      id: 'arn:aws:states:eu-west-1:1:execution:sm:Release.1',
      startedAt: '2025-01-01T00:00:00Z',
    });
    const again = applySessionName({
      id: 'arn:aws:states:eu-west-1:1:execution:sm:Release.1',
      startedAt: '2025-01-01T00:00:00Z',
    });
    const b = applySessionName({
      id: 'arn:aws:states:eu-west-1:1:execution:sm:release-1',
      startedAt: '2025-01-01T00:00:00Z',
    });
    const reused = applySessionName({
      id: 'arn:aws:states:eu-west-1:1:execution:sm:Release.1',
      startedAt: '2025-06-01T00:00:00Z',
    });
    expect(a).toBe(again);
    expect(new Set([a, b, reused]).size).toBe(3);
    expect(Buffer.byteLength(a)).toBeLessThanOrEqual(63);
  });
});

describe('applyMigrations', () => {
  it('applies the pending migrations in the plan mode, in a session named after the execution', async () => {
    // Prepare
    const engine = new FakeMigrationEngine();
    engine.history = [appliedRow(m1)];
    const state = stateWith({ plan: { ...plan, transactionMode: 'release' } });

    // Act
    const result = await applyMigrations(state, deps(engine));

    // Assess
    expect(result.applied).toEqual([m2.name, m3.name]);
    expect(engine.applyCalls[0]?.options).toEqual({
      transactionMode: 'release',
      applicationName: applySessionName(state.execution),
    });
  });

  it("passes preflight's verdicts on the scripts it parsed, for the engine to use instead of parsing them again", async () => {
    // Prepare
    const engine = new FakeMigrationEngine();
    engine.history = [appliedRow(m1)];
    const analysed = { ...plan, analysedDigest: migrationsDigest([m2, m3]), nonAtomic: [m3.name] };

    // Act
    await applyMigrations(stateWith({ plan: analysed }), deps(engine));

    // Assess
    expect(engine.applyCalls[0]?.options.verdicts).toEqual({
      digest: migrationsDigest([m2, m3]),
      nonAtomic: [m3.name],
    });
  });

  it('ends "unchanged" without a restore when the first migration fails atomically in per-migration mode', async () => {
    // Prepare: Prisma recorded m2 as failed with its error; its implicit transaction rolled back.
    const engine = failingEngine(
      new MigrationFailedError('Migration m2 failed. PostgreSQL error 22012: division by zero.'),
      [appliedRow(m2, { finishedAt: null, logs: 'ERROR: division by zero' })],
    );
    const d = deps(engine);
    const state = stateWith({ plan });

    // Act
    const error = await rejection(applyMigrations(state, d));

    // Assess
    expect(error).toBeInstanceOf(MigrationFailedDatabaseUnchangedError);
    expect(error.message).toContain('Nothing of the release committed');
    expect(error.message).toContain('marked rolled back');
    expect(d.inspector.ended).toEqual([applySessionName(state.execution)]);
    // The failed row no longer blocks the next deploy (P3009).
    expect(engine.history.find((row) => row.name === m2.name)?.rolledBackAt).not.toBeNull();
  });

  it('takes the restore path only when a migration of the release committed', async () => {
    const engine = failingEngine(new MigrationFailedError('Migration m3 failed.'), [
      appliedRow(m2),
      appliedRow(m3, { finishedAt: null, logs: 'ERROR: boom' }),
    ]);
    const error = await rejection(applyMigrations(stateWith({ plan }), deps(engine)));
    expect(error).toBeInstanceOf(MigrationFailedError);
    expect(error.message).toContain(`Committed by this release before it failed: ${m2.name}`);
    expect(error.message).toContain('snapshot is restored');
    expect((error as MigrationFailedError).details).toMatchObject({
      committed: [m2.name],
      failed: [m3.name],
    });
    // A failed row that may hold committed work is left for the operator: no mark.
    expect(engine.history.find((row) => row.name === m3.name)?.rolledBackAt).toBeNull();
  });

  it('takes the restore path when the failed script deleted the history applied before it', async () => {
    // Prepare: m2 drops _prisma_migrations (per-migration mode: committed with it), then Prisma's write fails
    const engine = failingEngine(new MigrationFailedError('Migration m2 failed: relation does not exist.'));
    engine.history.length = 0;

    // Act
    const error = await rejection(applyMigrations(stateWith({ plan }), deps(engine)));

    // Assess
    expect(error).toBeInstanceOf(MigrationFailedError);
    expect(error.message).toContain(
      `_prisma_migrations no longer records 1 migration(s) applied before the release (${m1.name})`,
    );
    expect(error.message).toContain('snapshot is restored');
    expect((error as MigrationFailedError).details).toMatchObject({ historyLost: [m1.name] });
  });

  it('says how to repair without a snapshot instead of promising a restore (skipSnapshot)', async () => {
    const engine = failingEngine(new MigrationFailedError('Migration m3 failed.'), [
      appliedRow(m2),
      appliedRow(m3, { finishedAt: null, logs: 'ERROR: boom' }),
    ]);
    const noSnapshot = { ...plan, snapshotRequired: false, skipSnapshotReason: 'preview environment' };
    const error = await rejection(applyMigrations(stateWith({ plan: noSnapshot }), deps(engine)));
    expect(error.message).toContain('No snapshot was taken');
    expect(error.message).toContain(`prisma migrate resolve --rolled-back ${m3.name}`);
    expect(error.message).not.toContain('snapshot is restored');
  });

  it('re-judges an engine error that claims a rolled-back release against the history', async () => {
    // The engine believed its release transaction rolled back, but the history says m2 committed.
    const engine = failingEngine(new MigrationFailedDatabaseUnchangedError('rolled back'), [appliedRow(m2)]);
    const error = await rejection(applyMigrations(stateWith({ plan }), deps(engine)));
    expect(error.name).toBe(ErrorNames.MigrationFailed);
  });

  it('passes a connection failure before the release started through as DatabaseUnreachable (retried, no restore)', async () => {
    const engine = failingEngine(
      new DatabaseUnreachableError('Cannot connect to PostgreSQL at db:5432/orders'),
    );
    const d = deps(engine);
    const error = await rejection(applyMigrations(stateWith({ plan }), d));
    expect(error.name).toBe(ErrorNames.DatabaseUnreachable);
    expect(d.inspector.ended).toEqual([]);
  });

  it('passes a refused history (P3009) through without reading evidence: nothing was started', async () => {
    const engine = failingEngine(new MigrationHistoryBlockedError('P3009'));
    const error = await rejection(applyMigrations(stateWith({ plan }), deps(engine)));
    expect(error.name).toBe(ErrorNames.MigrationHistoryBlocked);
  });

  it('reports the outcome unknown, restoring nothing, when the history cannot be read after a failure', async () => {
    const engine = failingEngine(new Error('Connection terminated unexpectedly'));
    const d = deps(engine);
    d.inspector.failWith = new DatabaseUnreachableError('Cannot connect');
    const error = await rejection(applyMigrations(stateWith({ plan }), d));
    expect(error.name).toBe(ErrorNames.ReleaseOutcomeUnknown);
    expect(error.message).toContain('Nothing was restored on a guess');
  });

  it('answers with the applied migrations when the engine failed after every one of them finished', async () => {
    const engine = failingEngine(new Error('Connection terminated unexpectedly'), [
      appliedRow(m2),
      appliedRow(m3),
    ]);
    const result = await applyMigrations(stateWith({ plan }), deps(engine));
    expect(result).toMatchObject({ applied: [m2.name, m3.name], assessed: true });
  });
});

describe('assessRelease', () => {
  const caught = { Error: 'States.Timeout', Cause: 'The task timed out.' };

  it('ends the dead apply step session, then finds nothing committed: unchanged, no restore', async () => {
    const engine = new FakeMigrationEngine();
    engine.history = [appliedRow(m1)];
    const inspector = new FakeReleaseInspector(engine);
    const state = stateWith({ plan, error: caught });
    const error = await rejection(assessRelease(state, { inspector }));
    expect(error.name).toBe(ErrorNames.MigrationFailedDatabaseUnchanged);
    expect(error.message).toContain('The apply step did not answer (States.Timeout)');
    expect(inspector.ended).toEqual([applySessionName(state.execution)]);
  });

  it('takes the restore path when the dead apply step had committed a migration', async () => {
    const engine = new FakeMigrationEngine();
    engine.history = [appliedRow(m1), appliedRow(m2)];
    const error = await rejection(
      assessRelease(stateWith({ plan, error: caught }), { inspector: new FakeReleaseInspector(engine) }),
    );
    expect(error.name).toBe(ErrorNames.MigrationFailed);
  });

  it('goes on to verification when the whole release turned out committed', async () => {
    const engine = new FakeMigrationEngine();
    engine.history = [appliedRow(m1), appliedRow(m2), appliedRow(m3)];
    const result = await assessRelease(stateWith({ plan, error: caught }), {
      inspector: new FakeReleaseInspector(engine),
    });
    expect(result.applied).toEqual([m2.name, m3.name]);
  });

  it('reads the Lambda error JSON of the caught error', () => {
    const failure = failureOf({
      Error: 'Lambda.Unknown',
      Cause: JSON.stringify({ errorMessage: 'Runtime exited with error: signal: killed' }),
    });
    expect(failure.message).toBe(
      'The apply step did not answer (Lambda.Unknown): Runtime exited with error: signal: killed.',
    );
  });
});
