/**
 * The retry guard of a release: the decision (`decideRetry`) over the earlier executions of a release, and
 * preflight refusing, or letting through, an execution of a release whose earlier execution on the target did not
 * succeed: snapshots tagged with the release by the create-snapshot core, how their executions ended from an
 * in-memory history.
 */
import { describe, expect, it } from 'vitest';
import { createSnapshot } from '../../lambdas/create-snapshot/create-snapshot.js';
import { preflight } from '../../lambdas/preflight/preflight.js';
import { ErrorNames, type ExecutionInfo, TagKeys } from '../../lambdas/shared/contract/contract.js';
import { parseWorkflowInput } from '../../lambdas/shared/contract/input.js';
import type {
  ExecutionEnding,
  ExecutionHistory,
  ExecutionStatus,
} from '../../lambdas/shared/contract/ports.js';
import { applySessionName } from '../../lambdas/shared/domain/release-evidence.js';
import {
  decideRetry,
  type EarlierAttempt,
  earlierAttemptsOf,
} from '../../lambdas/shared/domain/release-retry.js';
import {
  appliedRow,
  FakeClock,
  FakeMigrationEngine,
  FakeMigrationSource,
  InMemorySnapshotGateway,
  migration,
  rejection,
  testExecution,
  testSettings,
} from '../helpers/fakes.js';

const m1 = migration('20250101000000_init');
const m2 = migration('20250102000000_add_orders');

function executionNamed(name: string): ExecutionInfo {
  return { id: testExecution.id.replace(/[^:]+$/, name), name, startedAt: testExecution.startedAt };
}

function attempt(name: string, at: string, status: ExecutionStatus, how?: string) {
  return {
    executionId: executionNamed(name).id,
    executionName: name,
    snapshotId: `orders-premigration-${name}`,
    at,
    ending: { status, ...(how ? { how } : {}) } as ExecutionEnding,
  };
}

describe('decideRetry', () => {
  it('lets a release with no earlier execution run', () => {
    expect(decideRetry([], undefined)).toEqual({ proceed: true });
  });

  it('lets a release run when its latest earlier execution succeeded', () => {
    const attempts = [
      attempt('a', '2025-01-01T00:00:00Z', 'failed'),
      attempt('b', '2025-01-02T00:00:00Z', 'succeeded'),
    ];
    expect(decideRetry(attempts, undefined)).toEqual({ proceed: true });
  });

  it.each(['failed', 'unknown', 'running'] as const)(
    'refuses a release whose latest earlier execution is %s, naming it',
    (status) => {
      const attempts = [
        attempt('a', '2025-01-01T00:00:00Z', 'succeeded'),
        attempt('b', '2025-01-02T00:00:00Z', status),
      ];
      expect(decideRetry(attempts, undefined)).toMatchObject({
        proceed: false,
        reason: 'not-rerun',
        latest: { executionName: 'b' },
      });
    },
  );

  it('runs the release again when rerun names the latest earlier execution', () => {
    const attempts = [
      attempt('a', '2025-01-01T00:00:00Z', 'failed'),
      attempt('b', '2025-01-02T00:00:00Z', 'failed'),
    ];
    expect(decideRetry(attempts, 'b')).toMatchObject({ proceed: true, rerunOf: { executionName: 'b' } });
  });

  it('refuses a rerun that names an older execution, or one when there is nothing to run again', () => {
    const attempts = [
      attempt('a', '2025-01-01T00:00:00Z', 'failed'),
      attempt('b', '2025-01-02T00:00:00Z', 'failed'),
    ];
    expect(decideRetry(attempts, 'a')).toMatchObject({
      proceed: false,
      reason: 'wrong-rerun',
      latest: { executionName: 'b' },
    });
    expect(decideRetry([], 'a')).toEqual({ proceed: false, reason: 'wrong-rerun' });
    expect(decideRetry([attempt('a', '2025-01-01T00:00:00Z', 'succeeded')], 'a')).toMatchObject({
      proceed: false,
      reason: 'wrong-rerun',
    });
  });

  it('finds the earlier executions of the release only: pre-migration snapshots tagged with it, not the current one', () => {
    const tags = (execution: string, release: string, kind = 'pre-migration') => ({
      [TagKeys.execution]: executionNamed(execution).id,
      [TagKeys.release]: release,
      [TagKeys.kind]: kind,
    });
    const snapshot = (id: string, createdAt: string, t: Record<string, string>) => ({
      snapshotId: id,
      name: id,
      tags: t,
      kind: (t[TagKeys.kind] ?? 'pre-migration') as 'pre-migration' | 'backup',
      createdAt,
      status: 'available',
    });
    const found = earlierAttemptsOf(
      [
        snapshot('s3', '2025-01-03T00:00:00Z', tags('c', 'v2')),
        snapshot('s1', '2025-01-01T00:00:00Z', tags('a', 'v2')),
        snapshot('s2', '2025-01-02T00:00:00Z', tags('b', 'v1')),
        snapshot('s4', '2025-01-04T00:00:00Z', tags('d', 'v2', 'backup')),
        snapshot('s5', '2025-01-05T00:00:00Z', tags('current', 'v2')),
      ],
      'v2',
      executionNamed('current').id,
    );
    expect(found.map((a: EarlierAttempt) => a.executionName)).toEqual(['a', 'c']);
  });
});

describe('the rerun input field', () => {
  it('accepts the name of an execution with a release', () => {
    expect(parseWorkflowInput({ release: 'v2', rerun: 'exec-1' })).toEqual({
      release: 'v2',
      rerun: 'exec-1',
    });
  });

  it('fails when rerun comes without a release, or in another mode, naming the field', () => {
    expect(() => parseWorkflowInput({ rerun: 'exec-1' })).toThrow(/input\.rerun: only with release/);
    expect(() => parseWorkflowInput({ mode: 'backup', rerun: 'exec-1' })).toThrow(
      /input\.rerun: only for mode "migrate"/,
    );
    expect(() => parseWorkflowInput({ release: 'v2', rerun: 'a b' })).toThrow(
      /input\.rerun: the name of an execution/,
    );
  });
});

/** An execution history of fixed endings, recording what it was asked. */
function fixedHistory(endings: Record<string, ExecutionEnding>): ExecutionHistory & { asked: string[][] } {
  const asked: string[][] = [];
  const endingOf = (id: string) => endings[id] ?? { status: 'unknown' as const };
  return {
    asked,
    statusOf: async (ids) => Object.fromEntries(ids.map((id) => [id, endingOf(id).status])),
    endingsOf: async (ids) => {
      asked.push([...ids]);
      return Object.fromEntries(ids.map((id) => [id, endingOf(id)]));
    },
  };
}

/** Preflight's deps over the migrations m1 and m2, with the retry guard reading `gateway` and `history`. */
function preflightDeps(
  gateway: InMemorySnapshotGateway,
  engine: FakeMigrationEngine,
  history: ExecutionHistory,
): Parameters<typeof preflight>[1] {
  return {
    source: new FakeMigrationSource([m1, m2]),
    engine,
    guard: { othersRunning: async () => [] },
    settings: testSettings,
    databaseName: 'orders',
    analyzeRelease: () => ({ nonTransactional: [], lockedTables: [], notes: [] }),
    retryGuard: { gateway: async () => gateway, history: async () => history },
  };
}

describe('preflight: the retry guard', () => {
  const first = executionNamed('release-v2-attempt-1');
  const second = executionNamed('release-v2-attempt-2');

  /** The target with the snapshot `execution` took for release v2 (through the create-snapshot core). */
  async function targetAfter(execution: ExecutionInfo, release = 'v2') {
    const gateway = new InMemorySnapshotGateway(testSettings.targetIdentifier, 0);
    await createSnapshot(
      { input: { release }, execution, plan: { mode: 'migrate' } },
      { gateway, settings: testSettings, clock: new FakeClock() },
    );
    return gateway;
  }

  function deps(gateway: InMemorySnapshotGateway, history: ExecutionHistory, applied: string[] = []) {
    const engine = new FakeMigrationEngine();
    engine.history = applied.map((name) => appliedRow(name === m1.name ? m1 : m2));
    return preflightDeps(gateway, engine, history);
  }

  it('tags the pre-migration snapshot with the release', async () => {
    const gateway = await targetAfter(first);
    const [snapshot] = await gateway.listManagedSnapshots();
    expect(snapshot?.tags).toMatchObject({ [TagKeys.release]: 'v2', [TagKeys.execution]: first.id });
  });

  it('refuses, touching nothing, a release whose earlier execution was rolled back, naming it and how to re-run', async () => {
    // Prepare
    const gateway = await targetAfter(first);
    const history = fixedHistory({ [first.id]: { status: 'failed', how: 'FAILED' } });
    gateway.calls = [];
    // Act
    const error = await rejection(
      preflight({ input: { release: 'v2' }, execution: second }, deps(gateway, history)),
    );
    // Assess
    expect(error.name).toBe(ErrorNames.MigrationHistoryBlocked);
    expect(error.message).toContain(`Release v2 already ran on ${testSettings.targetIdentifier}`);
    expect(error.message).toContain('execution release-v2-attempt-1');
    expect(error.message).toContain('it did not succeed: FAILED');
    expect(error.message).toContain('"rerun": "release-v2-attempt-1"');
    expect(error.message).toContain('Nothing was touched');
    expect(history.asked).toEqual([[first.id]]);
    expect(gateway.calls).toEqual(['listManagedSnapshots']);
  });

  it('runs the release again when rerun names that execution, and says so in the plan', async () => {
    const gateway = await targetAfter(first);
    const history = fixedHistory({ [first.id]: { status: 'failed', how: 'TIMED_OUT' } });
    const plan = await preflight(
      { input: { release: 'v2', rerun: first.name }, execution: second },
      deps(gateway, history),
    );
    expect(plan).toMatchObject({ proceed: true, pending: [m1.name, m2.name] });
    expect(plan.warnings).toContain(
      'This execution runs release v2 again (rerun), after execution release-v2-attempt-1: it did not succeed: TIMED_OUT.',
    );
  });

  it('fails when rerun names another execution, naming the field and the right value', async () => {
    const gateway = await targetAfter(first);
    const history = fixedHistory({ [first.id]: { status: 'failed', how: 'ABORTED' } });
    const error = await rejection(
      preflight(
        { input: { release: 'v2', rerun: 'someone-else' }, execution: second },
        deps(gateway, history),
      ),
    );
    expect(error.name).toBe(ErrorNames.InvalidInput);
    expect(error.message).toContain('input.rerun: names execution "someone-else"');
    expect(error.message).toContain('set it to "release-v2-attempt-1"');
  });

  it('lets another release, and a release whose earlier execution succeeded, run', async () => {
    const gateway = await targetAfter(first);
    const failed = fixedHistory({ [first.id]: { status: 'failed', how: 'FAILED' } });
    await expect(
      preflight({ input: { release: 'v3' }, execution: second }, deps(gateway, failed)),
    ).resolves.toMatchObject({ proceed: true });
    expect(failed.asked).toEqual([]);
    const succeeded = fixedHistory({ [first.id]: { status: 'succeeded', how: 'SUCCEEDED' } });
    await expect(
      preflight({ input: { release: 'v2' }, execution: second }, deps(gateway, succeeded)),
    ).resolves.toMatchObject({ proceed: true });
  });

  it('ends an already applied release with nothing to do, whatever its earlier execution did', async () => {
    const gateway = await targetAfter(first);
    const history = fixedHistory({ [first.id]: { status: 'failed', how: 'FAILED' } });
    const plan = await preflight(
      { input: { release: 'v2' }, execution: second },
      deps(gateway, history, [m1.name, m2.name]),
    );
    expect(plan).toMatchObject({ proceed: false, pending: [] });
    expect(history.asked).toEqual([]);
  });

  it('does not guard a dry run, nor a release without a label', async () => {
    const gateway = await targetAfter(first, 'unspecified');
    const history = fixedHistory({ [first.id]: { status: 'failed', how: 'FAILED' } });
    await expect(preflight({ input: {}, execution: second }, deps(gateway, history))).resolves.toMatchObject({
      proceed: true,
    });
    await expect(
      preflight(
        { input: { release: 'unspecified', dryRun: true }, execution: second },
        deps(gateway, history),
      ),
    ).resolves.toMatchObject({ proceed: false, dryRun: true });
    expect(history.asked).toEqual([]);
  });
});

describe('preflight: a migration left unfinished by an interrupted execution', () => {
  const interrupted = executionNamed('release-v2-interrupted');
  const later = executionNamed('release-v3-later');
  const current = executionNamed('release-v2-again');
  const at = (time: string) => new Date(`2025-03-01T${time}.000Z`);

  /**
   * The target with three snapshots: the interrupted execution's pre-migration one at 12:00, a backup at 12:05,
   * and a later execution's pre-migration one at 13:00; m2 started at 12:10 and never finished.
   */
  async function interruptedTarget() {
    const gateway = new InMemorySnapshotGateway(testSettings.targetIdentifier, 0);
    const take = async (execution: ExecutionInfo, time: string, mode: 'migrate' | 'backup') => {
      gateway.now = () => at(time);
      await createSnapshot(
        {
          input: mode === 'backup' ? { mode } : { release: 'v2' },
          execution,
          plan:
            mode === 'backup'
              ? {
                  mode,
                  targetIdentifier: testSettings.targetIdentifier,
                  proceed: true,
                  snapshotRequired: true,
                  warnings: [],
                }
              : { mode },
        },
        { gateway, settings: testSettings, clock: new FakeClock(at(time)) },
      );
    };
    await take(interrupted, '12:00:00', 'migrate');
    await take(executionNamed('nightly-backup'), '12:05:00', 'backup');
    await take(later, '13:00:00', 'migrate');
    const engine = new FakeMigrationEngine();
    engine.history = [
      appliedRow(m1),
      appliedRow(m2, { startedAt: at('12:10:00').toISOString(), finishedAt: null, appliedStepsCount: 0 }),
    ];
    return { gateway, engine };
  }

  it('names the pre-migration snapshot taken before it started, its execution, and the restore back to it', async () => {
    // Prepare
    const { gateway, engine } = await interruptedTarget();
    const history = fixedHistory({ [interrupted.id]: { status: 'failed', how: 'ABORTED' } });
    const [snapshotId] = [...gateway.snapshots.keys()];
    gateway.calls = [];

    // Act
    const error = await rejection(
      preflight({ input: {}, execution: current }, preflightDeps(gateway, engine, history)),
    );

    // Assess: the refusal as before, touching nothing, plus the snapshot of 12:00 (not the later one, not the backup)
    expect(error.name).toBe(ErrorNames.MigrationHistoryBlocked);
    expect(error.message).toContain(`has a failed migration: ${m2.name}`);
    expect(error.message).toContain(
      `The newest pre-migration snapshot of ${testSettings.targetIdentifier} taken before ${m2.name} started is ` +
        `${snapshotId} (taken 2025-03-01T12:00:00.000Z by execution release-v2-interrupted; it did not succeed: ` +
        'ABORTED).',
    );
    expect(error.message).toContain(
      `{"mode":"restore","snapshot":"${snapshotId}","confirm":"${testSettings.targetIdentifier}"}`,
    );
    expect(error.message).not.toContain('by something else');
    expect(parseWorkflowInput({ mode: 'restore', snapshot: snapshotId, confirm: 'x' })).toMatchObject({
      snapshot: snapshotId,
    });
    expect((error as { details?: unknown }).details).toMatchObject({ snapshotBefore: snapshotId });
    expect(history.asked).toEqual([[interrupted.id]]);
    expect(gateway.calls).toEqual(['listManagedSnapshots']);
  });

  it('says so when the execution of that snapshot succeeded: the migration was started by something else', async () => {
    // Prepare
    const { gateway, engine } = await interruptedTarget();
    const history = fixedHistory({ [interrupted.id]: { status: 'succeeded' } });

    // Act
    const error = await rejection(
      preflight({ input: {}, execution: current }, preflightDeps(gateway, engine, history)),
    );

    // Assess
    expect(error.name).toBe(ErrorNames.MigrationHistoryBlocked);
    expect(error.message).toContain('by execution release-v2-interrupted; it succeeded).');
    expect(error.message).toContain(
      `So ${m2.name} was started after that release by something else (a deploy outside this orchestrator?)`,
    );
  });

  it("does not call it failed while a session holds Prisma's migration lock: it may still be running", async () => {
    // Prepare: the unfinished row, and the killed run's migration session still active, holding the lock
    const { gateway, engine } = await interruptedTarget();
    const history = fixedHistory({});
    const holder = {
      pid: 4242,
      applicationName: applySessionName(interrupted),
      state: 'active',
      stateSeconds: 900,
      connectedSeconds: 900,
    };
    const ended: number[][] = [];
    const migrationLock = {
      inspector: {
        holders: async () => [holder],
        end: async (pids: readonly number[]) => {
          ended.push([...pids]);
          return pids.map((pid) => ({ pid, ended: true }));
        },
      },
      endIdleAfterSeconds: 60,
    };
    gateway.calls = [];

    // Act
    const error = await rejection(
      preflight(
        { input: {}, execution: current },
        { ...preflightDeps(gateway, engine, history), migrationLock },
      ),
    );

    // Assess
    expect(error.name).toBe(ErrorNames.ConcurrentExecution);
    expect(error.message).toContain(
      "Prisma's migration lock (advisory lock 72707369) on database orders is held by pid 4242",
    );
    expect(error.message).toContain(
      `_prisma_migrations shows ${m2.name} started at 2025-03-01T12:10:00.000Z and not finished: it may still be running`,
    );
    expect(error.message).toContain('Nothing was applied: the database was not touched.');
    expect(error.message).not.toContain('prisma migrate resolve');
    expect(ended).toEqual([]);
    expect(gateway.calls).toEqual([]);
  });

  it('refuses the same way, without a snapshot, when none was taken before it or the snapshots cannot be read', async () => {
    // Prepare: the failed migration started before any snapshot; then a gateway that fails
    const { gateway, engine } = await interruptedTarget();
    const row = engine.history[1] as (typeof engine.history)[number];
    engine.history = [appliedRow(m1), { ...row, startedAt: at('11:00:00').toISOString() }];
    const history = fixedHistory({});
    const failing = preflightDeps(gateway, engine, history);
    const unreadable = {
      ...failing,
      retryGuard: {
        gateway: async () => {
          throw new Error('AccessDenied: rds:DescribeDBSnapshots');
        },
        history: async () => history,
      },
    };

    // Act
    const errors = [
      await rejection(preflight({ input: {}, execution: current }, failing)),
      await rejection(preflight({ input: {}, execution: current }, unreadable)),
    ];

    // Assess
    for (const error of errors) {
      expect(error.name).toBe(ErrorNames.MigrationHistoryBlocked);
      expect(error.message).toContain(`has a failed migration: ${m2.name}`);
      expect(error.message).toContain('Nothing was applied.');
      expect(error.message).not.toContain('pre-migration snapshot');
    }
    expect(history.asked).toEqual([]);
  });
});
