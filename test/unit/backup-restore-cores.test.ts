/**
 * The step cores of `backup` and `restore` executions against in-memory ports: what preflight plans and
 * refuses, the snapshot step's kind, tags and quota, retention's deletes and protections, the restore's proof,
 * and the verification after a restore.
 */
import { describe, expect, it } from 'vitest';
import { createSnapshot } from '../../lambdas/create-snapshot/create-snapshot.js';
import { LATEST } from '../../lambdas/preflight/operations.js';
import { preflightOperation } from '../../lambdas/preflight/preflight.js';
import { pruneSnapshots } from '../../lambdas/prune-snapshots/prune-snapshots.js';
import { restoreSnapshot } from '../../lambdas/restore-snapshot/restore-snapshot.js';
import {
  type BackupPlan,
  ErrorNames,
  type RestorePlan,
  TagKeys,
} from '../../lambdas/shared/contract/contract.js';
import { TransientFaultError } from '../../lambdas/shared/contract/errors.js';
import { parseWorkflowInput } from '../../lambdas/shared/contract/input.js';
import type { ExecutionHistory, ExecutionStatus } from '../../lambdas/shared/contract/ports.js';
import { unresolvedExecutions } from '../../lambdas/shared/domain/retention.js';
import { verifyHealth } from '../../lambdas/verify-health/verify-health.js';
import {
  FakeClock,
  FakeHealthProbe,
  InMemorySnapshotGateway,
  rejection,
  stateWith,
  testExecution,
  testSettings,
} from '../helpers/fakes.js';

const TARGET = testSettings.targetIdentifier;

/** A managed snapshot of the target in the gateway, taken at `createdAt` by `execution`. */
function seed(
  gateway: InMemorySnapshotGateway,
  id: string,
  createdAt: string,
  kind: 'backup' | 'pre-migration' = 'backup',
  extra: Partial<{ status: string; execution: string; source: string; managedBy: string | undefined }> = {},
): void {
  const managedBy = 'managedBy' in extra ? extra.managedBy : testSettings.managedBy;
  gateway.snapshots.set(id, {
    status: extra.status ?? 'available',
    describesUntilAvailable: 0,
    createdAt,
    source: extra.source ?? TARGET,
    tags: {
      ...(managedBy ? { [TagKeys.managedBy]: managedBy } : {}),
      [TagKeys.source]: extra.source ?? TARGET,
      [TagKeys.kind]: kind,
      [TagKeys.execution]: extra.execution ?? `arn:exec:${id}`,
    },
  });
}

function operationDeps(gateway: InMemorySnapshotGateway, others: string[] = []) {
  return {
    guard: { othersRunning: async () => others },
    gateway: async () => gateway,
    settings: testSettings,
  };
}

function history(statuses: Record<string, ExecutionStatus> = {}): ExecutionHistory & { asked: string[][] } {
  const asked: string[][] = [];
  return {
    asked,
    statusOf: async (ids) => {
      asked.push([...ids]);
      return Object.fromEntries(ids.map((id) => [id, statuses[id] ?? 'unknown']));
    },
    endingsOf: async (ids) => {
      asked.push([...ids]);
      return Object.fromEntries(ids.map((id) => [id, { status: statuses[id] ?? 'unknown' }]));
    },
  };
}

describe('the execution input of backups and restores', () => {
  it('accepts each mode with its own fields', () => {
    expect(parseWorkflowInput({ mode: 'backup' })).toEqual({ mode: 'backup' });
    expect(parseWorkflowInput({ mode: 'restore', snapshot: LATEST, confirm: TARGET })).toMatchObject({
      snapshot: LATEST,
    });
    expect(parseWorkflowInput({})).toEqual({});
  });

  it.each([
    [{ mode: 'snapshot' }, /input\.mode: .*"migrate"\|"backup"\|"restore"/],
    [{ mode: 'backup', release: 'v1' }, /input\.release: only for mode "migrate"/],
    [{ mode: 'backup', snapshot: 'x' }, /input\.snapshot: only for mode "restore"/],
    [{ mode: 'restore', confirm: TARGET }, /input\.snapshot: required for mode "restore"/],
    [{ mode: 'restore', snapshot: LATEST }, /input\.confirm: required for mode "restore"/],
    [{ confirm: TARGET }, /input\.confirm: only for mode "restore"/],
    [{ mode: 'restore', snapshot: 'a b', confirm: TARGET }, /input\.snapshot: a snapshot identifier/],
  ])('refuses %j, naming the field', (input, message) => {
    expect(() => parseWorkflowInput(input)).toThrow(message);
  });
});

describe('preflight of a backup', () => {
  it('plans the snapshot without reading anything else', async () => {
    // Prepare
    const gateway = new InMemorySnapshotGateway(TARGET);
    // Act
    const plan = (await preflightOperation(
      stateWith({ input: { mode: 'backup' } }),
      operationDeps(gateway),
    )) as BackupPlan;
    // Assess
    expect(plan).toEqual({
      mode: 'backup',
      targetIdentifier: TARGET,
      proceed: true,
      snapshotRequired: true,
      warnings: [],
    });
    expect(gateway.calls).toEqual([]);
  });

  it('refuses while another execution runs against the target', async () => {
    const gateway = new InMemorySnapshotGateway(TARGET);
    const error = await rejection(
      preflightOperation(stateWith({ input: { mode: 'backup' } }), operationDeps(gateway, ['release-7'])),
    );
    expect(error.name).toBe(ErrorNames.ConcurrentExecution);
    expect(error.message).toContain('release-7');
    expect(error.message).toMatch(/Nothing was touched/);
  });
});

describe('preflight of a restore', () => {
  const restoreInput = (snapshot: string, confirm = TARGET) => ({
    input: { mode: 'restore', snapshot, confirm },
  });

  it('picks the newest available backup for "latest", never a pre-migration or unfinished one', async () => {
    // Prepare
    const gateway = new InMemorySnapshotGateway(TARGET);
    seed(gateway, 'b-old', '2025-02-01T02:00:00.000Z');
    seed(gateway, 'b-new', '2025-02-03T02:00:00.000Z');
    seed(gateway, 'b-creating', '2025-02-04T02:00:00.000Z', 'backup', { status: 'creating' });
    seed(gateway, 'p-newest', '2025-02-05T02:00:00.000Z', 'pre-migration');
    // Act
    const plan = (await preflightOperation(
      stateWith(restoreInput(LATEST)),
      operationDeps(gateway),
    )) as RestorePlan;
    // Assess
    expect(plan.source).toMatchObject({
      snapshotId: 'b-new',
      kind: 'backup',
      createdAt: '2025-02-03T02:00:00.000Z',
      execution: 'arn:exec:b-new',
      requested: LATEST,
    });
    expect(plan.warnings.join(' ')).toMatch(/writes made after that time stay only in the replaced database/);
  });

  it('restores a named pre-migration snapshot of the target', async () => {
    const gateway = new InMemorySnapshotGateway(TARGET);
    seed(gateway, 'p-1', '2025-02-05T02:00:00.000Z', 'pre-migration');
    const plan = (await preflightOperation(
      stateWith(restoreInput('p-1')),
      operationDeps(gateway),
    )) as RestorePlan;
    expect(plan.source.snapshotId).toBe('p-1');
    expect(plan.source.kind).toBe('pre-migration');
    // What the restore will do, not a fact: the summary of a restore that failed shows it too
    expect(plan.warnings).toEqual([
      `This restore replaces ${TARGET} with snapshot p-1 (pre-migration, taken 2025-02-05T02:00:00.000Z): writes ` +
        'made after that time stay only in the replaced database, which is renamed aside and kept.',
    ]);
  });

  it('refuses a confirm that is not the target, before reading any snapshot', async () => {
    const gateway = new InMemorySnapshotGateway(TARGET);
    seed(gateway, 'b-1', '2025-02-01T02:00:00.000Z');
    const error = await rejection(
      preflightOperation(stateWith(restoreInput(LATEST, 'orders-db-2')), operationDeps(gateway)),
    );
    expect(error.name).toBe(ErrorNames.InvalidInput);
    expect(error.message).toContain(`input.confirm: must be the identifier of the target, "${TARGET}"`);
    expect(gateway.calls).toEqual([]);
  });

  it("refuses another target's snapshot and an unmanaged one, saying what they are", async () => {
    // Prepare
    const gateway = new InMemorySnapshotGateway(TARGET);
    seed(gateway, 'b-mine', '2025-02-01T02:00:00.000Z');
    seed(gateway, 'b-other', '2025-02-02T02:00:00.000Z', 'backup', { source: 'billing-db' });
    seed(gateway, 'by-hand', '2025-02-02T02:00:00.000Z', 'backup', { managedBy: undefined });
    // Act
    const foreign = await rejection(
      preflightOperation(stateWith(restoreInput('b-other')), operationDeps(gateway)),
    );
    const unmanaged = await rejection(
      preflightOperation(stateWith(restoreInput('by-hand')), operationDeps(gateway)),
    );
    const absent = await rejection(
      preflightOperation(stateWith(restoreInput('nope')), operationDeps(gateway)),
    );
    // Assess
    expect(foreign.message).toMatch(
      /b-other is not a snapshot this orchestrator took of orders-db \(it is of billing-db/,
    );
    expect(unmanaged.message).toMatch(/not managed by this orchestrator/);
    expect(absent.message).toMatch(
      /there is no snapshot named nope\. Managed snapshots of orders-db: b-mine/,
    );
    for (const error of [foreign, unmanaged, absent]) expect(error.name).toBe(ErrorNames.InvalidInput);
  });

  it('refuses "latest" when there is no backup, naming the snapshots there are', async () => {
    const gateway = new InMemorySnapshotGateway(TARGET);
    seed(gateway, 'p-1', '2025-02-05T02:00:00.000Z', 'pre-migration');
    const error = await rejection(
      preflightOperation(stateWith(restoreInput(LATEST)), operationDeps(gateway)),
    );
    expect(error.message).toMatch(
      /"latest" names the newest available backup of orders-db, and there is none/,
    );
    expect(error.message).toContain('p-1 (pre-migration)');
  });

  it('refuses a named snapshot that is not available', async () => {
    const gateway = new InMemorySnapshotGateway(TARGET);
    seed(gateway, 'b-1', '2025-02-05T02:00:00.000Z', 'backup', { status: 'creating' });
    const error = await rejection(preflightOperation(stateWith(restoreInput('b-1')), operationDeps(gateway)));
    expect(error.message).toMatch(/b-1 is "creating", not available/);
  });
});

describe('create-snapshot in a backup', () => {
  const backupState = () =>
    stateWith({
      input: { mode: 'backup' },
      plan: { mode: 'backup', targetIdentifier: TARGET, proceed: true, snapshotRequired: true, warnings: [] },
    });

  it('takes a backup tagged with its kind, retention class, execution and source', async () => {
    // Prepare
    const gateway = new InMemorySnapshotGateway(TARGET);
    // Act
    const progress = await createSnapshot(backupState(), {
      gateway,
      settings: testSettings,
      clock: new FakeClock(),
    });
    // Assess
    expect(progress.kind).toBe('backup');
    expect(progress.snapshotId).toMatch(/^orders-db-backup-20250301t120000z-[0-9a-f]{8}$/);
    expect(gateway.snapshots.get(progress.snapshotId)?.tags).toEqual({
      [TagKeys.managedBy]: 'test-stack',
      [TagKeys.execution]: testExecution.id,
      [TagKeys.kind]: 'backup',
      [TagKeys.retention]: 'gfs-7d-4w-12m',
      [TagKeys.source]: TARGET,
    });
    expect(progress.warnings).toBeUndefined();
  });

  it('refuses at the manual snapshot quota without starting a snapshot', async () => {
    const gateway = new InMemorySnapshotGateway(TARGET);
    gateway.quota = { used: 100, max: 100 };
    const error = await rejection(
      createSnapshot(backupState(), { gateway, settings: testSettings, clock: new FakeClock() }),
    );
    expect(error.name).toBe(ErrorNames.SnapshotQuotaExceeded);
    expect(error.message).toMatch(/quota is reached \(100 of 100\): the backup was not taken/);
    expect(gateway.snapshots.size).toBe(0);
  });

  it('adopts its own snapshot on a retry even when that snapshot filled the quota', async () => {
    const gateway = new InMemorySnapshotGateway(TARGET);
    const deps = { gateway, settings: testSettings, clock: new FakeClock() };
    const first = await createSnapshot(backupState(), deps);
    gateway.quota = { used: 100, max: 100 };
    const retried = await createSnapshot(backupState(), deps);
    expect(retried.snapshotId).toBe(first.snapshotId);
    expect(gateway.snapshots.size).toBe(1);
  });

  it('warns above 80% of the quota, counting the new snapshot', async () => {
    const gateway = new InMemorySnapshotGateway(TARGET);
    gateway.quota = { used: 80, max: 100 };
    const progress = await createSnapshot(backupState(), {
      gateway,
      settings: testSettings,
      clock: new FakeClock(),
    });
    expect(progress.quota).toEqual({ used: 80, max: 100 });
    expect(progress.warnings?.[0]).toMatch(/holds 81 of its 100 manual snapshots \(81%\)/);

    const below = new InMemorySnapshotGateway(TARGET);
    below.quota = { used: 79, max: 100 };
    const quiet = await createSnapshot(backupState(), {
      gateway: below,
      settings: testSettings,
      clock: new FakeClock(),
    });
    expect(quiet.warnings).toBeUndefined();
  });

  it('tags a pre-migration snapshot with its release and the pre-migration class', async () => {
    const gateway = new InMemorySnapshotGateway(TARGET);
    const progress = await createSnapshot(stateWith({ input: { release: 'v2' } }), {
      gateway,
      settings: testSettings,
      clock: new FakeClock(),
    });
    expect(progress.kind).toBe('pre-migration');
    expect(gateway.snapshots.get(progress.snapshotId)?.tags).toMatchObject({
      [TagKeys.kind]: 'pre-migration',
      [TagKeys.retention]: 'newest-10',
      [TagKeys.release]: 'v2',
    });
  });
});

describe('prune-snapshots', () => {
  const clock = new FakeClock(new Date('2025-03-20T03:00:00.000Z'));
  const settings = {
    ...testSettings,
    retention: { ...testSettings.retention, daily: 2, weekly: 0, monthly: 0 },
  };

  it('deletes what the policy does not keep and reports why each is kept', async () => {
    // Prepare
    const gateway = new InMemorySnapshotGateway(TARGET);
    for (const day of [16, 17, 18, 19, 20]) seed(gateway, `b-${day}`, `2025-03-${day}T02:00:00.000Z`);
    // Act
    const report = await pruneSnapshots(stateWith(), { gateway, settings, clock, history: history() });
    // Assess
    expect(report.deleted.map((d) => d.snapshotId)).toEqual(['b-16', 'b-17', 'b-18']);
    expect([...gateway.snapshots.keys()]).toEqual(['b-19', 'b-20']);
    expect(report.kept.map((k) => k.snapshotId)).toEqual(['b-19', 'b-20']);
    expect(report.policy).toContain('2 daily, 0 weekly, 0 monthly backups');
  });

  it('never deletes a snapshot of another target or one without the managed tag', async () => {
    const gateway = new InMemorySnapshotGateway(TARGET);
    for (const day of [17, 18, 19, 20]) seed(gateway, `b-${day}`, `2025-03-${day}T02:00:00.000Z`);
    seed(gateway, 'other-target', '2025-01-01T02:00:00.000Z', 'backup', { source: 'billing-db' });
    seed(gateway, 'by-hand', '2025-01-01T02:00:00.000Z', 'backup', { managedBy: undefined });
    await pruneSnapshots(stateWith(), { gateway, settings, clock, history: history() });
    expect([...gateway.snapshots.keys()].sort()).toEqual(['b-19', 'b-20', 'by-hand', 'other-target']);
  });

  it("keeps the pre-migration snapshots of running and unresolved releases, and reads only releases' statuses", async () => {
    // Prepare
    const gateway = new InMemorySnapshotGateway(TARGET);
    const keepOne = { ...settings, retention: { ...settings.retention, preMigration: 1 } };
    seed(gateway, 'p-failed-old', '2025-03-10T02:00:00.000Z', 'pre-migration', { execution: 'e-failed-old' });
    seed(gateway, 'p-ok', '2025-03-12T02:00:00.000Z', 'pre-migration', { execution: 'e-ok' });
    seed(gateway, 'p-failed', '2025-03-14T02:00:00.000Z', 'pre-migration', { execution: 'e-failed' });
    seed(gateway, 'p-running', '2025-03-15T02:00:00.000Z', 'pre-migration', { execution: 'e-running' });
    seed(gateway, 'b-20', '2025-03-20T02:00:00.000Z');
    const statuses = history({
      'e-failed-old': 'failed',
      'e-ok': 'succeeded',
      'e-failed': 'failed',
      'e-running': 'running',
    });
    // Act
    const report = await pruneSnapshots(stateWith(), {
      gateway,
      settings: keepOne,
      clock,
      history: statuses,
    });
    // Assess: the failure before the success is resolved; the one after it and the running one are not.
    expect(report.deleted.map((d) => d.snapshotId)).toEqual(['p-failed-old', 'p-ok']);
    expect([...gateway.snapshots.keys()].sort()).toEqual(['b-20', 'p-failed', 'p-running']);
    expect(statuses.asked).toEqual([['e-failed-old', 'e-ok', 'e-failed', 'e-running']]);
  });

  it('reports a snapshot the gateway refused to delete as skipped', async () => {
    const gateway = new InMemorySnapshotGateway(TARGET);
    for (const day of [18, 19, 20]) seed(gateway, `b-${day}`, `2025-03-${day}T02:00:00.000Z`);
    gateway.deleteSnapshot = async () => false;
    const report = await pruneSnapshots(stateWith(), { gateway, settings, clock, history: history() });
    expect(report.deleted).toEqual([]);
    expect(report.skipped.map((s) => s.snapshotId)).toEqual(['b-18']);
  });

  it('deletes what it can, then fails naming what it could not delete', async () => {
    // Prepare
    const gateway = new InMemorySnapshotGateway(TARGET);
    for (const day of [16, 17, 18, 19, 20]) seed(gateway, `b-${day}`, `2025-03-${day}T02:00:00.000Z`);
    const remove = gateway.deleteSnapshot.bind(gateway);
    gateway.deleteSnapshot = async (id) => {
      if (id === 'b-17') throw new Error('InvalidDBSnapshotState: snapshot b-17 is being copied');
      return await remove(id);
    };
    // Act
    const error = await rejection(
      pruneSnapshots(stateWith(), { gateway, settings, clock, history: history() }),
    );
    // Assess
    expect(error.name).toBe(ErrorNames.RetentionFailed);
    expect(error.message).toMatch(
      /The backup is taken, but 1 snapshot\(s\) .* could not be deleted: b-17: InvalidDBSnapshotState/,
    );
    expect([...gateway.snapshots.keys()]).toEqual(['b-17', 'b-19', 'b-20']);
  });

  it('rethrows a transient fault for the workflow to retry', async () => {
    const gateway = new InMemorySnapshotGateway(TARGET);
    for (const day of [18, 19, 20]) seed(gateway, `b-${day}`, `2025-03-${day}T02:00:00.000Z`);
    gateway.deleteSnapshot = async () => {
      throw new TransientFaultError('Throttling');
    };
    const error = await rejection(
      pruneSnapshots(stateWith(), { gateway, settings, clock, history: history() }),
    );
    expect(error.name).toBe(ErrorNames.TransientFault);
  });
});

describe('unresolvedExecutions', () => {
  const snap = (execution: string, day: number) => ({
    id: `p-${execution}`,
    createdAt: `2025-03-${String(day).padStart(2, '0')}T02:00:00.000Z`,
    managed: true,
    kind: 'pre-migration' as const,
    execution,
  });

  it('protects running releases and failures after the last success, and the current execution', () => {
    const snapshots = [snap('a', 1), snap('b', 2), snap('c', 3), snap('d', 4), snap('e', 5)];
    const standing = { a: 'failed', b: 'succeeded', c: 'unknown', d: 'running', e: 'succeeded' } as const;
    expect(unresolvedExecutions(snapshots, standing, 'now').sort()).toEqual(['d', 'now']);
    expect(unresolvedExecutions(snapshots.slice(0, 4), standing, 'now').sort()).toEqual(['c', 'd', 'now']);
  });

  it('keeps protecting a failure whose time cannot be read', () => {
    const undated = { ...snap('x', 1), createdAt: '' };
    expect(unresolvedExecutions([undated, snap('y', 9)], { x: 'failed', y: 'succeeded' }, 'now')).toContain(
      'x',
    );
  });
});

describe('restore-snapshot and verification in a restore', () => {
  const plan: RestorePlan = {
    mode: 'restore',
    targetIdentifier: TARGET,
    source: {
      snapshotId: 'b-1',
      kind: 'backup',
      createdAt: '2025-02-01T02:00:00.000Z',
      execution: 'arn:exec:b-1',
      requested: LATEST,
    },
    proceed: true,
    warnings: [],
  };

  it('restores the planned backup (not taken by this execution) after proving its tags', async () => {
    // Prepare
    const gateway = new InMemorySnapshotGateway(TARGET);
    seed(gateway, 'b-1', '2025-02-01T02:00:00.000Z');
    // Act
    const progress = await restoreSnapshot(stateWith({ plan }), {
      gateway,
      settings: testSettings,
      clock: new FakeClock(),
    });
    // Assess
    expect(progress.snapshotId).toBe('b-1');
    expect(gateway.calls).toEqual([
      'describeSnapshot b-1',
      `restoreSnapshot b-1 as ${progress.restoredIdentifier}`,
    ]);
  });

  it('refuses when the snapshot is gone or no longer tagged as managed for the target', async () => {
    const deps = () => ({
      gateway: new InMemorySnapshotGateway(TARGET),
      settings: testSettings,
      clock: new FakeClock(),
    });
    const gone = deps();
    const goneError = await rejection(restoreSnapshot(stateWith({ plan }), gone));
    const retagged = deps();
    seed(retagged.gateway, 'b-1', '2025-02-01T02:00:00.000Z', 'backup', { managedBy: 'someone-else' });
    const retaggedError = await rejection(restoreSnapshot(stateWith({ plan }), retagged));
    expect(goneError.message).toMatch(
      /no longer exists\. Nothing was restored: orders-db is untouched\. \(It was deleted after preflight checked it\.\)/,
    );
    expect(retaggedError.message).toMatch(
      /no longer tagged as a snapshot this orchestrator \(test-stack\) took/,
    );
    expect(retagged.gateway.calls).not.toContainEqual(expect.stringMatching(/^restoreSnapshot/));
  });

  it('verifies only that the restored database answers, and says what it holds now', async () => {
    // Prepare
    const probe = new FakeHealthProbe();
    const swap = {
      phase: 'complete' as const,
      complete: true,
      originalIdentifier: TARGET,
      asideIdentifier: 'orders-db-rolledback-20250301t120000z',
      restoredIdentifier: 'orders-db-restored-1',
      waitSeconds: 1,
      attempts: 1,
    };
    // Act
    const report = await verifyHealth(stateWith({ plan, swap }), { probe });
    // Assess
    expect(probe.expectations[0]).toMatchObject({ migrations: [], drift: { settings: { policy: 'off' } } });
    expect(report.summary).toMatch(
      /^Restored: orders-db now holds the data of snapshot b-1 \(backup, taken 2025-02-01T02:00:00.000Z\)\. The database it replaced is kept as orders-db-rolledback-20250301t120000z/,
    );
  });
});
