import { describe, expect, it } from 'vitest';
import { checkRestore } from '../../lambdas/check-restore/check-restore.js';
import { checkSnapshot } from '../../lambdas/check-snapshot/check-snapshot.js';
import { createSnapshot } from '../../lambdas/create-snapshot/create-snapshot.js';
import { preflight } from '../../lambdas/preflight/preflight.js';
import { restoreSnapshot } from '../../lambdas/restore-snapshot/restore-snapshot.js';
import { ErrorNames, type ExecutionInfo, type Plan } from '../../lambdas/shared/contract/contract.js';
import { SnapshotFailedError, TransientFaultError } from '../../lambdas/shared/contract/errors.js';
import type { SnapshotGateway } from '../../lambdas/shared/contract/ports.js';
import { isValidRdsIdentifier } from '../../lambdas/shared/domain/identifiers.js';
import { migrationsDigest, type ReleaseAnalysis } from '../../lambdas/shared/domain/transaction-fallback.js';
import { MAX_SWAP_ATTEMPTS, swap } from '../../lambdas/swap/swap.js';
import { verifyHealth } from '../../lambdas/verify-health/verify-health.js';
import {
  appliedRow,
  FakeClock,
  FakeHealthProbe,
  FakeMigrationEngine,
  FakeMigrationSource,
  InMemorySnapshotGateway,
  migration,
  rejection,
  stateWith,
  testExecution,
  testPlan,
  testSettings,
} from '../helpers/fakes.js';

/** An execution of the test state machine named `name` (its ARN ends with the exact name). */
function executionNamed(name: string): ExecutionInfo {
  return { id: testExecution.id.replace(/[^:]+$/, name), name, startedAt: testExecution.startedAt };
}

const m1 = migration('20250101000000_init');
const m2 = migration('20250102000000_add_orders');
const m3 = migration('20250103000000_add_index');

const noAnalysis = (): ReleaseAnalysis => ({ nonTransactional: [], lockedTables: ['"Order"'], notes: [] });

function preflightDeps(engine = new FakeMigrationEngine(), migrations = [m1, m2, m3], others: string[] = []) {
  return {
    source: new FakeMigrationSource(migrations),
    engine,
    guard: { othersRunning: async () => others },
    settings: testSettings,
    databaseName: 'orders',
    analyzeRelease: noAnalysis,
  };
}

describe('preflight', () => {
  it('plans the migrations that are not applied yet', async () => {
    // Prepare
    const engine = new FakeMigrationEngine();
    engine.history = [appliedRow(m1)];
    // Act
    const plan = await preflight(stateWith({ input: { release: 'v1.2.0' } }), preflightDeps(engine));
    // Assess
    expect(plan).toMatchObject({
      applied: [m1.name],
      pending: [m2.name, m3.name],
      proceed: true,
      snapshotRequired: true,
      transactionMode: 'release',
      lockedTables: ['"Order"'],
      targetIdentifier: 'orders-db',
    });
  });

  it('says there is nothing to do when every migration is applied', async () => {
    const engine = new FakeMigrationEngine();
    engine.history = [m1, m2, m3].map((m) => appliedRow(m));
    const plan = await preflight(stateWith(), preflightDeps(engine));
    expect(plan.pending).toEqual([]);
    expect(plan.proceed).toBe(false);
  });

  it('fails when the input has an unknown field, naming it', async () => {
    const error = await rejection(preflight(stateWith({ input: { relase: 'typo' } }), preflightDeps()));
    expect(error.name).toBe(ErrorNames.InvalidInput);
    expect(error.message).toContain('relase');
  });

  it('fails when transactionMode is not an allowed value, listing the allowed ones', async () => {
    const error = await rejection(
      preflight(stateWith({ input: { transactionMode: 'yolo' } }), preflightDeps()),
    );
    expect(error.name).toBe(ErrorNames.InvalidInput);
    expect(error.message).toContain('input.transactionMode');
    expect(error.message).toContain('per-migration');
  });

  it('fails when skipSnapshot has no reason', async () => {
    const error = await rejection(preflight(stateWith({ input: { skipSnapshot: {} } }), preflightDeps()));
    expect(error.name).toBe(ErrorNames.InvalidInput);
    expect(error.message).toContain('input.skipSnapshot.reason');
  });

  it('refuses while another execution runs against the target, naming it, and reads nothing', async () => {
    const engine = new FakeMigrationEngine();
    const error = await rejection(
      preflight(stateWith(), preflightDeps(engine, [m1], ['release-41 (started 2025-03-01T11:58:00.000Z)'])),
    );
    expect(error.name).toBe(ErrorNames.ConcurrentExecution);
    expect(error.message).toContain('release-41');
    expect(error.message).toContain('orders-db');
  });

  it('refuses a history with a failed row, naming it and the fix, and applies nothing', async () => {
    const engine = new FakeMigrationEngine();
    engine.history = [appliedRow(m1), appliedRow(m2, { finishedAt: null, logs: 'ERROR: boom' })];
    const error = await rejection(preflight(stateWith(), preflightDeps(engine)));
    expect(error.name).toBe(ErrorNames.MigrationHistoryBlocked);
    expect(error.message).toContain(m2.name);
    expect(error.message).toContain(`prisma migrate resolve --rolled-back ${m2.name}`);
    expect(engine.applyCalls).toHaveLength(0);
  });

  it('re-plans a migration that was marked rolled back', async () => {
    const engine = new FakeMigrationEngine();
    engine.history = [
      appliedRow(m1),
      appliedRow(m2, { finishedAt: null, rolledBackAt: '2025-01-03T00:00:00Z' }),
    ];
    const plan = await preflight(stateWith(), preflightDeps(engine));
    expect(plan.pending).toEqual([m2.name, m3.name]);
  });

  it('reports a migration edited after it was applied', async () => {
    const engine = new FakeMigrationEngine();
    engine.history = [appliedRow(m1, { checksum: 'f'.repeat(64) })];
    const plan = await preflight(stateWith(), preflightDeps(engine));
    expect(plan.edited).toEqual([m1.name]);
    expect(plan.warnings.join('\n')).toContain(`Migration ${m1.name} was edited after it was applied`);
    expect(plan.pending).toEqual([m2.name, m3.name]);
  });

  it('reports applied migrations that are missing locally', async () => {
    const engine = new FakeMigrationEngine();
    engine.history = [appliedRow(m1), appliedRow(migration('20250101500000_hotfix'))];
    const plan = await preflight(stateWith(), preflightDeps(engine));
    expect(plan.unknownApplied).toEqual(['20250101500000_hotfix']);
  });

  it('falls back to per-migration mode when the release cannot run in one transaction', async () => {
    const deps = {
      ...preflightDeps(),
      analyzeRelease: (): ReleaseAnalysis => ({
        nonTransactional: [
          {
            migration: m3.name,
            statement: 'CREATE INDEX CONCURRENTLY ...',
            reason: 'CREATE INDEX CONCURRENTLY cannot run inside a transaction block',
            atomicMigration: false,
          },
        ],
        lockedTables: [],
        notes: [],
      }),
    };
    const plan = await preflight(stateWith(), deps);
    // A failure of that migration may leave part of it committed: the evidence step treats it as such.
    expect(plan.nonAtomic).toEqual([m3.name]);
    expect(plan.transactionMode).toBe('per-migration');
    expect(plan.transactionFallbackReason).toContain(m3.name);
    // What the apply step checks before trusting these verdicts: the scripts they are about.
    const pending = [m1, m2, m3].filter((m) => plan.pending.includes(m.name));
    expect(pending.length).toBeGreaterThan(0);
    expect(plan.analysedDigest).toBe(migrationsDigest(pending));
    expect(plan.analysedDigest).not.toBe(migrationsDigest(pending.slice(1)));
  });

  it('honours the input transaction mode and an explicit snapshot skip', async () => {
    const plan = await preflight(
      stateWith({
        input: { transactionMode: 'per-migration', skipSnapshot: { reason: 'disposable preview database' } },
      }),
      preflightDeps(),
    );
    expect(plan.transactionMode).toBe('per-migration');
    expect(plan.snapshotRequired).toBe(false);
    expect(plan.skipSnapshotReason).toBe('disposable preview database');
  });

  it('does not proceed on a dry run', async () => {
    const plan = await preflight(stateWith({ input: { dryRun: true } }), preflightDeps());
    expect(plan.pending).toHaveLength(3);
    expect(plan.proceed).toBe(false);
  });
});

describe('createSnapshot and checkSnapshot', () => {
  it('creates a tagged snapshot with a valid identifier and polls it with capped backoff until available', async () => {
    const gateway = new InMemorySnapshotGateway('orders-db', 3);
    const clock = new FakeClock();
    const deps = { gateway, settings: testSettings, clock };
    let progress = await createSnapshot(stateWith({ input: { release: 'v1.2.0' } }), deps);
    expect(isValidRdsIdentifier(progress.snapshotId, 255)).toBe(true);
    expect(gateway.snapshots.get(progress.snapshotId)?.tags).toMatchObject({
      'managed-by': 'test-stack',
      'migration-release': 'v1.2.0',
      'migration-execution': 'arn:aws:states:eu-west-1:123456789012:execution:orchestrator:exec-1',
    });
    const waits = [progress.waitSeconds];
    while (progress.status !== 'available') {
      progress = await checkSnapshot(stateWith({ snapshot: progress }), deps);
      waits.push(progress.waitSeconds);
    }
    expect(waits).toEqual([10, 20, 40, 60]);
  });

  it('adopts the snapshot a retried call already created', async () => {
    const gateway = new InMemorySnapshotGateway('orders-db');
    const deps = { gateway, settings: testSettings, clock: new FakeClock() };
    const first = await createSnapshot(stateWith(), deps);
    const second = await createSnapshot(stateWith(), deps);
    expect(second.snapshotId).toBe(first.snapshotId);
    expect(gateway.snapshots.size).toBe(1);
  });

  it('takes its own snapshot when an earlier execution has a name that cleans alike (Release.1, release-1)', async () => {
    // Prepare
    const gateway = new InMemorySnapshotGateway('orders-db');
    const deps = { gateway, settings: testSettings, clock: new FakeClock() };
    const earlier = await createSnapshot(stateWith({ execution: executionNamed('Release.1') }), deps);

    // Act
    const later = await createSnapshot(stateWith({ execution: executionNamed('release-1') }), deps);

    // Assess
    expect(later.snapshotId).not.toBe(earlier.snapshotId);
    expect(gateway.snapshots.get(later.snapshotId)?.tags['migration-execution']).toBe(
      executionNamed('release-1').id,
    );
    expect(gateway.snapshots.get(earlier.snapshotId)?.tags['migration-execution']).toBe(
      executionNamed('Release.1').id,
    );
  });

  it('refuses when the target is not available, naming its state', async () => {
    const gateway = new InMemorySnapshotGateway('orders-db');
    gateway.targetStatus = 'modifying';
    const error = await rejection(
      createSnapshot(stateWith(), { gateway, settings: testSettings, clock: new FakeClock() }),
    );
    expect(error.name).toBe(ErrorNames.TargetNotAvailable);
    expect(error.message).toContain('orders-db is "modifying"');
    expect(gateway.snapshots.size).toBe(0);
  });

  it('fails when the snapshot fails', async () => {
    const gateway = new InMemorySnapshotGateway('orders-db');
    const deps = { gateway, settings: testSettings, clock: new FakeClock() };
    const progress = await createSnapshot(stateWith(), deps);
    gateway.failSnapshots = true;
    const error = await rejection(checkSnapshot(stateWith({ snapshot: progress }), deps));
    expect(error.name).toBe(ErrorNames.SnapshotFailed);
    expect(error.message).toContain(progress.snapshotId);
  });

  it('fails when the snapshot is not available by the deadline', async () => {
    const gateway = new InMemorySnapshotGateway('orders-db', 1000);
    const clock = new FakeClock();
    const deps = { gateway, settings: testSettings, clock };
    const progress = await createSnapshot(stateWith(), deps);
    clock.advance(testSettings.snapshotTimeoutSeconds + 1);
    const error = await rejection(checkSnapshot(stateWith({ snapshot: progress }), deps));
    expect(error.name).toBe(ErrorNames.SnapshotTimedOut);
  });
});

const plan: Plan = testPlan;

describe('verifyHealth', () => {
  const swapped = {
    phase: 'complete',
    complete: true,
    originalIdentifier: 'orders-db',
    asideIdentifier: 'orders-db-rolledback-20250301t120000z',
    restoredIdentifier: 'orders-db-restored-1',
    waitSeconds: 0,
    attempts: 2,
  } as const;
  const snapshot = {
    snapshotId: 'orders-db-premigration-exec-1-abcd1234',
    sourceIdentifier: 'orders-db',
    status: 'available',
    startedAt: '2025-03-01T12:00:00.000Z',
    deadline: '2025-03-01T14:00:00.000Z',
    attempts: 1,
    waitSeconds: 15,
  } as const;
  const userCheckFails = {
    name: 'orders readable',
    kind: 'user',
    ok: false,
    detail: 'returned false, expected true',
  } as const;

  it('expects every migration of the release after applying, judging drift against the baseline', async () => {
    const probe = new FakeHealthProbe();
    const baseline = { fingerprints: ['abc'], summary: ['CREATE TABLE "audit_log" ...'] };
    await verifyHealth(
      stateWith({
        plan: { ...plan, driftBaseline: baseline },
        apply: { applied: plan.pending, transactionMode: 'release', durationMs: 5 },
      }),
      { probe },
    );
    expect(probe.expectations[0]).toEqual({
      migrations: [m1.name, m2.name, m3.name],
      drift: { settings: { policy: 'warn', ignore: [] }, mode: 'release', baseline },
    });
  });

  it('expects the history before the release after a rollback, with no row of the release, drift only reported', async () => {
    const probe = new FakeHealthProbe();
    await verifyHealth(stateWith({ plan, swap: swapped }), { probe });
    expect(probe.expectations[0]).toEqual({
      migrations: [m1.name],
      absent: plan.pending,
      drift: { settings: { policy: 'warn', ignore: [] }, mode: 'report' },
    });
  });

  it('fails with HealthCheckFailed naming the failed checks', async () => {
    const error = await rejection(verifyHealth(stateWith({ plan }), { probe: new FakeHealthProbe(false) }));
    expect(error.name).toBe(ErrorNames.HealthCheckFailed);
    expect(error.message).toContain('history complete: not finished: x');
    expect(error.message).toContain(
      'The release is committed; the pre-migration snapshot is restored and swapped in next.',
    );
  });

  it('says nothing can be restored when verification fails a release without a snapshot', async () => {
    const noSnapshot = { ...plan, snapshotRequired: false, skipSnapshotReason: 'preview environment' };
    const error = await rejection(
      verifyHealth(stateWith({ plan: noSnapshot }), { probe: new FakeHealthProbe(false) }),
    );
    expect(error.message).toContain(
      'no snapshot was taken (skipSnapshot: preview environment): nothing can be restored',
    );
  });

  it('fails the release on a failing user check (a check the release could have broken)', async () => {
    const error = await rejection(
      verifyHealth(stateWith({ plan }), { probe: new FakeHealthProbe(true, [userCheckFails]) }),
    );
    expect(error.name).toBe(ErrorNames.HealthCheckFailed);
  });

  it('reports drift warnings without failing a healthy release', async () => {
    const drift = {
      name: 'schema matches the migrations',
      kind: 'drift',
      ok: true,
      detail: 'x',
      warning: '1 difference(s) already there before the release',
    } as const;
    const report = await verifyHealth(stateWith({ plan }), { probe: new FakeHealthProbe(true, [drift]) });
    expect(report.healthy).toBe(true);
    expect(report.warnings).toEqual([
      'schema matches the migrations: 1 difference(s) already there before the release.',
    ]);
  });

  it('calls a rollback that restored the data and history successful, reporting a failing user check instead of failing it', async () => {
    // Act
    const report = await verifyHealth(
      stateWith({
        plan,
        snapshot,
        swap: swapped,
        error: {
          Error: 'MigrationFailed',
          Cause: JSON.stringify({ errorType: 'MigrationFailed', errorMessage: 'Migration m3 failed.' }),
        },
      }),
      { probe: new FakeHealthProbe(true, [userCheckFails]) },
    );

    // Assess
    expect(report.healthy).toBe(true);
    expect(report.summary).toContain(`again holds the data of snapshot ${snapshot.snapshotId}`);
    expect(report.summary).toContain(`kept as ${swapped.asideIdentifier}`);
    expect(report.summary).toContain('Why the release failed: (MigrationFailed) Migration m3 failed.');
    expect(report.summary).toContain(
      'Reported, not acted on: orders readable: returned false, expected true.',
    );
    // The restored database never saw the release: `migrate resolve` would answer P3011.
    expect(report.summary).not.toContain('migrate resolve --rolled-back');
  });

  it('fails the check after a rollback when the restored history is not the one from before the release', async () => {
    const error = await rejection(
      verifyHealth(stateWith({ plan, swap: swapped }), { probe: new FakeHealthProbe(false) }),
    );
    expect(error.message).toContain('After the rollback');
    expect(error.message).toContain(`the failed database is kept as ${swapped.asideIdentifier}`);
    expect(error.message).toContain('"RollbackFailed"');
  });
});

describe('restore, check and swap', () => {
  async function snapshotReady(gateway: InMemorySnapshotGateway, clock: FakeClock) {
    const deps = { gateway, settings: testSettings, clock };
    let progress = await createSnapshot(stateWith(), deps);
    while (progress.status !== 'available')
      progress = await checkSnapshot(stateWith({ snapshot: progress }), deps);
    return progress;
  }

  it('restores next to the original and swaps it into place, keeping the original aside', async () => {
    const gateway = new InMemorySnapshotGateway('orders-db');
    const clock = new FakeClock();
    const deps = { gateway, settings: testSettings, clock };
    const snapshot = await snapshotReady(gateway, clock);
    let restore = await restoreSnapshot(stateWith({ snapshot }), deps);
    expect(restore.restoredIdentifier).not.toBe('orders-db');
    expect(restore.asideIdentifier).toMatch(/^orders-db-rolledback-20250301t120000z$/);
    expect(gateway.databases.get('orders-db')?.status).toBe('available');
    while (restore.status !== 'available') restore = await checkRestore(stateWith({ restore }), deps);
    let progress = await swap(stateWith({ restore }), deps);
    expect(progress).toMatchObject({ phase: 'original-renamed', complete: false });
    progress = await swap(stateWith({ restore, swap: progress }), deps);
    expect(progress).toMatchObject({ phase: 'complete', complete: true, attempts: 2 });
    expect(gateway.databases.get('orders-db')?.source).toBe(snapshot.snapshotId);
    expect(gateway.databases.has(restore.asideIdentifier)).toBe(true);
  });

  it('refuses to restore a snapshot that another execution took, naming it; nothing is restored', async () => {
    // Prepare: the snapshot under the id in the state document was taken by another execution.
    const gateway = new InMemorySnapshotGateway('orders-db');
    const clock = new FakeClock();
    const other = executionNamed('Release.1');
    const deps = { gateway, settings: testSettings, clock };
    let snapshot = await createSnapshot(stateWith({ execution: other }), deps);
    while (snapshot.status !== 'available')
      snapshot = await checkSnapshot(stateWith({ execution: other, snapshot }), deps);
    gateway.calls = [];

    // Act
    const error = await rejection(restoreSnapshot(stateWith({ snapshot }), deps));

    // Assess
    expect(error.name).toBe(ErrorNames.RestoreFailed);
    expect(error.message).toContain(
      `Snapshot ${snapshot.snapshotId} of orders-db was taken by execution ${other.id}, not by this execution ${testExecution.id}`,
    );
    expect(error.message).toContain('the original orders-db is untouched');
    expect(gateway.calls).toEqual([`describeSnapshot ${snapshot.snapshotId}`]);
    expect([...gateway.databases.keys()]).toEqual(['orders-db']);
  });

  it('refuses to restore when the snapshot no longer exists, saying the original is untouched', async () => {
    // Prepare
    const gateway = new InMemorySnapshotGateway('orders-db');
    const deps = { gateway, settings: testSettings, clock: new FakeClock() };
    const snapshot = { ...(await snapshotReady(gateway, deps.clock)) };
    gateway.snapshots.clear();

    // Act
    const error = await rejection(restoreSnapshot(stateWith({ snapshot }), deps));

    // Assess
    expect(error.name).toBe(ErrorNames.RestoreFailed);
    expect(error.message).toContain(`Snapshot ${snapshot.snapshotId} of orders-db no longer exists`);
    expect(gateway.calls.some((call) => call.startsWith('restoreSnapshot'))).toBe(false);
  });

  it('lets a transient fault of the snapshot describe through for a retry, and names any other as RestoreFailed', async () => {
    // Prepare
    const gateway = new InMemorySnapshotGateway('orders-db');
    const clock = new FakeClock();
    const snapshot = await snapshotReady(gateway, clock);
    const failing = (error: Error): SnapshotGateway =>
      Object.assign(Object.create(gateway) as InMemorySnapshotGateway, {
        describeSnapshot: async () => {
          throw error;
        },
      });
    const restoreWith = (error: Error) =>
      rejection(
        restoreSnapshot(stateWith({ snapshot }), { gateway: failing(error), settings: testSettings, clock }),
      );

    // Act
    const transient = await restoreWith(new TransientFaultError('RDS DescribeDBSnapshots was throttled'));
    const denied = await restoreWith(new SnapshotFailedError('The function lacks rds:DescribeDBSnapshots'));

    // Assess
    expect(transient.name).toBe(ErrorNames.TransientFault);
    expect(denied.name).toBe(ErrorNames.RestoreFailed);
    expect(denied.message).toContain(
      `Cannot read snapshot ${snapshot.snapshotId} to prove that this execution took it (The function lacks rds:DescribeDBSnapshots)`,
    );
  });

  it('fails when there is no snapshot to restore', async () => {
    const gateway = new InMemorySnapshotGateway('orders-db');
    const error = await rejection(
      restoreSnapshot(stateWith(), { gateway, settings: testSettings, clock: new FakeClock() }),
    );
    expect(error.name).toBe(ErrorNames.RestoreFailed);
    expect(error.message).toContain('was skipped');
  });

  it('fails when the restore does not finish by its deadline, saying the original is untouched', async () => {
    const gateway = new InMemorySnapshotGateway('orders-db', 1);
    const clock = new FakeClock();
    const deps = { gateway, settings: testSettings, clock };
    const snapshot = await snapshotReady(gateway, clock);
    const slow = new InMemorySnapshotGateway('orders-db', 1000);
    slow.snapshots.set(snapshot.snapshotId, {
      status: 'available',
      describesUntilAvailable: 0,
      tags: { 'migration-execution': testExecution.id },
    });
    const restore = await restoreSnapshot(stateWith({ snapshot }), { ...deps, gateway: slow });
    clock.advance(testSettings.restoreTimeoutSeconds + 1);
    const error = await rejection(checkRestore(stateWith({ restore }), { ...deps, gateway: slow }));
    expect(error.name).toBe(ErrorNames.RestoreTimedOut);
    expect(error.message).toContain('orders-db was not renamed');
  });

  it('fails when the swap is stuck, naming both identifiers', async () => {
    const gateway = new InMemorySnapshotGateway('orders-db');
    const stuck: SnapshotGateway = Object.assign(Object.create(gateway) as InMemorySnapshotGateway, {
      swap: async () => ({ phase: 'original-renamed' as const, complete: false }),
    });
    const restore = {
      snapshotId: 's',
      originalIdentifier: 'orders-db',
      restoredIdentifier: 'orders-db-restored-1',
      asideIdentifier: 'orders-db-rolledback-1',
      status: 'available' as const,
      startedAt: '',
      deadline: '',
      attempts: 1,
      waitSeconds: 1,
    };
    const swapState = {
      phase: 'original-renamed' as const,
      complete: false,
      originalIdentifier: 'orders-db',
      asideIdentifier: 'orders-db-rolledback-1',
      restoredIdentifier: 'orders-db-restored-1',
      waitSeconds: 1,
      attempts: MAX_SWAP_ATTEMPTS - 1,
    };
    const error = await rejection(
      swap(stateWith({ restore, swap: swapState }), { gateway: stuck, settings: testSettings }),
    );
    expect(error.name).toBe(ErrorNames.SwapFailed);
    expect(error.message).toContain('orders-db-rolledback-1');
    expect(error.message).toContain('orders-db-restored-1');
  });
});

describe('preflight refusals', () => {
  it('say the database is untouched, whatever refused (here the input)', async () => {
    const error = await rejection(preflight(stateWith({ input: { relase: 'typo' } }), preflightDeps()));
    expect(error.message).toMatch(/Nothing was touched: the database is as it was\.$/);
  });

  it('keep a refusal that already says so as it is', async () => {
    const error = await rejection(
      preflight(stateWith(), preflightDeps(undefined, undefined, ['other-execution'])),
    );
    expect(error.message).not.toContain('the database is as it was');
    expect(error.message).toContain('Nothing was touched');
  });
});
