/**
 * The operator CLI against AWS, in-process, with the SDK answered by aws-sdk-client-mock: recorded execution
 * histories rendered as the local runner renders a run, with the same exit codes; the exact StartExecution call;
 * the state machine found from the stack's outputs; `status` and `executions --json`; AWS failures as one line.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import {
  CloudFormationClient,
  CloudFormationServiceException,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  SFNClient,
  SFNServiceException,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  commandExecutions,
  commandPlan,
  commandStart,
  commandStatus,
  commandWatch,
  type OperatorDeps,
} from '../../bin/operator/aws-commands.js';
import { STATE_MACHINE_OUTPUT_KEY } from '../../bin/operator/locate.js';
import { OutcomeErrors, StateNames } from '../../lambdas/shared/contract/contract.js';
import { Outcomes } from '../../lib/local/runner.js';
import { synthesize } from '../cdk/support.js';

const sfn = mockClient(SFNClient);
const cfn = mockClient(CloudFormationClient);
const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:orders-migrations';
const executionArn = (name: string) =>
  `arn:aws:states:eu-west-1:123456789012:execution:orders-migrations:${name}`;
const T0 = new Date('2030-01-01T00:00:00.000Z');
const NAME = 'v1-2-0-20300101T000000Z-abc123';

/** No pause between polls, a fixed clock and name suffix; the region comes from the state machine's ARN. */
const deps: OperatorDeps = {
  sleep: vi.fn(async () => {}),
  now: () => T0,
  suffix: () => 'abc123',
  env: { ORCHESTRATOR_STATE_MACHINE_ARN: MACHINE, AWS_REGION: 'eu-west-1' },
};

let stdout: string;
let stderr: string;

beforeEach(() => {
  sfn.reset();
  cfn.reset();
  vi.mocked(deps.sleep as () => Promise<void>).mockClear();
  stdout = '';
  stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
});

afterEach(() => vi.restoreAllMocks());

const meta = { httpStatusCode: 400, requestId: 'req-1', attempts: 1, totalRetryDelay: 0 };
const sfnError = (name: string, message = name) =>
  new SFNServiceException({ name, $fault: 'client', $metadata: meta, message });

/** A state document as the workflow's states pass it along. */
function stateDoc(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    input: { release: 'v1.2.0' },
    execution: { id: executionArn(NAME), name: NAME, startedAt: T0.toISOString() },
    ...extra,
  });
}

const MIGRATE_PLAN = {
  mode: 'migrate',
  databaseName: 'orders',
  targetIdentifier: 'orders-db',
  totalMigrations: 3,
  applied: ['20300101000000_init'],
  pending: ['20300102000000_add_status', '20300103000000_index_status'],
  edited: [],
  unknownApplied: [],
  transactionMode: 'release',
  lockedTables: ['public.orders'],
  snapshotRequired: true,
  dryRun: false,
  proceed: true,
  warnings: [],
};

/**
 * Records an execution history as GetExecutionHistory returns it: ids from 1, each event 100 ms after the
 * previous one unless told otherwise. Task states run a Lambda function (the workflow's tasks are Lambda
 * invocations with payloadResponseOnly, which Step Functions records as LambdaFunction* events).
 */
class Recorder {
  readonly events: HistoryEvent[] = [];
  private at = T0.getTime();

  private add(type: string, details: Partial<HistoryEvent> = {}, afterMs = 100): this {
    if (this.events.length > 0) this.at += afterMs;
    const id = this.events.length + 1;
    this.events.push({
      id,
      previousEventId: id - 1,
      timestamp: new Date(this.at),
      type,
      ...details,
    } as HistoryEvent);
    return this;
  }

  started(input: unknown = { release: 'v1.2.0' }): this {
    return this.add('ExecutionStarted', {
      executionStartedEventDetails: {
        input: JSON.stringify(input),
        roleArn: 'arn:aws:iam::123456789012:role/sfn',
      },
    });
  }

  private entered(type: string, name: string, input = stateDoc()): this {
    return this.add(`${type}StateEntered`, { stateEnteredEventDetails: { name, input } });
  }

  private exited(type: string, name: string, output = stateDoc()): this {
    return this.add(`${type}StateExited`, { stateExitedEventDetails: { name, output } });
  }

  pass(name: string): this {
    return this.entered('Pass', name).exited('Pass', name);
  }

  choice(name: string): this {
    return this.entered('Choice', name).exited('Choice', name);
  }

  wait(name: string, ms = 1000): this {
    return this.entered('Wait', name).add(
      'WaitStateExited',
      { stateExitedEventDetails: { name, output: stateDoc() } },
      ms,
    );
  }

  /**
   * A Task state: each error in `failures` fails the function once; all but the last are retried; the last one is
   * caught (`caught`), left uncaught (the execution fails next), or, without failures, the function succeeds.
   */
  task(
    name: string,
    options: { failures?: string[]; end?: 'caught' | 'uncaught'; output?: string } = {},
  ): this {
    this.entered('Task', name);
    const failures = options.failures ?? [];
    const schedule = () =>
      this.add('LambdaFunctionScheduled', {
        lambdaFunctionScheduledEventDetails: {
          resource: `arn:aws:lambda:eu-west-1:123456789012:function:orders-${name.length}`,
          input: stateDoc(),
        },
      }).add('LambdaFunctionStarted');
    for (const error of failures) {
      schedule();
      this.add('LambdaFunctionFailed', {
        lambdaFunctionFailedEventDetails: {
          error,
          cause: JSON.stringify({ errorType: error, errorMessage: 'x' }),
        },
      });
    }
    if (options.end === 'uncaught') return this;
    if (options.end !== 'caught')
      schedule().add('LambdaFunctionSucceeded', { lambdaFunctionSucceededEventDetails: { output: '{}' } });
    return this.exited('Task', name, options.output ?? stateDoc());
  }

  succeed(name: string, output: string): this {
    return this.entered('Succeed', name, output)
      .exited('Succeed', name, output)
      .add('ExecutionSucceeded', { executionSucceededEventDetails: { output } });
  }

  fail(name: string, error: string, cause: string, input = stateDoc()): this {
    return this.entered('Fail', name, input).add('ExecutionFailed', {
      executionFailedEventDetails: { error, cause },
    });
  }

  failedExecution(error: string, cause: string): this {
    return this.add('ExecutionFailed', { executionFailedEventDetails: { error, cause } });
  }
}

/** The first states of every execution: recorded, planned, routed by mode. */
function preamble(plan: Record<string, unknown> = MIGRATE_PLAN): Recorder {
  return new Recorder()
    .started()
    .pass(StateNames.start)
    .task(StateNames.preflight, { output: stateDoc({ plan }) })
    .choice(StateNames.operation);
}

function migrateUntilApply(): Recorder {
  return preamble()
    .choice(StateNames.anythingToApply)
    .choice(StateNames.snapshotRequested)
    .task(StateNames.createSnapshot)
    .wait(StateNames.waitForSnapshot)
    .task(StateNames.checkSnapshot)
    .choice(StateNames.snapshotReady);
}

function rollback(): Recorder {
  return migrateUntilApply()
    .task(StateNames.applyMigrations, { failures: ['MigrationFailed'], end: 'caught' })
    .choice(StateNames.snapshotToRestore)
    .task(StateNames.restoreSnapshot)
    .wait(StateNames.waitForRestore)
    .task(StateNames.checkRestore)
    .choice(StateNames.restoreReady)
    .task(StateNames.swap);
}

const cause = (message: string) => JSON.stringify({ errorType: 'x', errorMessage: message });

/** Each terminal state of the workflow, recorded, with the outcome and the exit code the local runner gives it. */
const TERMINALS: [string, () => Recorder, keyof typeof Outcomes, number][] = [
  [
    'migrations applied',
    () =>
      migrateUntilApply()
        .task(StateNames.applyMigrations)
        .task(StateNames.verifyHealth)
        .succeed(
          StateNames.succeeded,
          stateDoc({ plan: MIGRATE_PLAN, apply: { applied: MIGRATE_PLAN.pending } }),
        ),
    'succeeded',
    0,
  ],
  [
    'nothing to do',
    () =>
      preamble({ ...MIGRATE_PLAN, pending: [], proceed: false })
        .choice(StateNames.anythingToApply)
        .succeed(
          StateNames.nothingToDo,
          stateDoc({ plan: { ...MIGRATE_PLAN, pending: [], proceed: false } }),
        ),
    'nothing-to-do',
    0,
  ],
  [
    'preflight refused',
    () =>
      new Recorder()
        .started()
        .pass(StateNames.start)
        .task(StateNames.preflight, { failures: ['MigrationHistoryBlocked'], end: 'caught' })
        .fail(
          StateNames.preflightRefused,
          OutcomeErrors.PreflightRefused,
          cause('P3009: a failed migration'),
        ),
    'preflight-refused',
    1,
  ],
  [
    'migration rolled back',
    () =>
      rollback()
        .task(StateNames.verifyRollbackHealth)
        .fail(StateNames.rolledBack, OutcomeErrors.MigrationRolledBack, cause('restored orders-db')),
    'migration-rolled-back',
    2,
  ],
  [
    'rollback failed',
    () =>
      rollback()
        .task(StateNames.verifyRollbackHealth, { failures: ['HealthCheckFailed'], end: 'caught' })
        .fail(
          StateNames.rollbackFailed,
          OutcomeErrors.RollbackFailed,
          cause('orders-db may hold the release'),
        ),
    'rollback-failed',
    3,
  ],
  [
    'snapshot failed',
    () =>
      preamble()
        .choice(StateNames.anythingToApply)
        .choice(StateNames.snapshotRequested)
        .task(StateNames.createSnapshot, { failures: ['SnapshotQuotaExceeded'], end: 'caught' })
        .fail(StateNames.snapshotFailed, OutcomeErrors.SnapshotFailedDatabaseUntouched, cause('quota')),
    'snapshot-failed',
    4,
  ],
  [
    'release failed, database unchanged',
    () =>
      migrateUntilApply()
        .task(StateNames.applyMigrations, { failures: ['MigrationFailedDatabaseUnchanged'], end: 'caught' })
        .fail(
          StateNames.releaseFailedUnchanged,
          OutcomeErrors.ReleaseFailedDatabaseUnchanged,
          cause('unchanged'),
        ),
    'release-failed-unchanged',
    5,
  ],
  [
    'release outcome unknown',
    () =>
      migrateUntilApply()
        .task(StateNames.applyMigrations, { failures: ['Lambda.Unknown'], end: 'caught' })
        .task(StateNames.assessRelease, { failures: ['DatabaseUnreachable'], end: 'caught' })
        .fail(StateNames.releaseOutcomeUnknown, OutcomeErrors.ReleaseOutcomeUnknown, cause('unreadable')),
    'outcome-unknown',
    6,
  ],
  [
    'backup taken',
    () =>
      preamble({
        mode: 'backup',
        targetIdentifier: 'orders-db',
        proceed: true,
        snapshotRequired: true,
        warnings: [],
      })
        .task(StateNames.createSnapshot)
        .wait(StateNames.waitForSnapshot)
        .task(StateNames.checkSnapshot)
        .choice(StateNames.snapshotReady)
        .task(StateNames.pruneSnapshots)
        .succeed(
          StateNames.backupTaken,
          stateDoc({
            plan: {
              mode: 'backup',
              targetIdentifier: 'orders-db',
              proceed: true,
              snapshotRequired: true,
              warnings: [],
            },
          }),
        ),
    'backup-taken',
    0,
  ],
  [
    'backup restored',
    () => {
      const plan = {
        mode: 'restore',
        targetIdentifier: 'orders-db',
        source: {
          snapshotId: 'orders-db-backup-20291231',
          kind: 'backup',
          createdAt: '2029-12-31T03:00:00Z',
          execution: 'x',
          requested: 'latest',
        },
        proceed: true,
        warnings: [],
      };
      return preamble(plan)
        .task(StateNames.restoreSnapshot)
        .wait(StateNames.waitForRestore)
        .task(StateNames.checkRestore)
        .choice(StateNames.restoreReady)
        .task(StateNames.swap)
        .task(StateNames.verifyRollbackHealth)
        .succeed(StateNames.backupRestored, stateDoc({ plan }));
    },
    'backup-restored',
    0,
  ],
  [
    'backup taken, retention failed',
    () =>
      preamble({
        mode: 'backup',
        targetIdentifier: 'orders-db',
        proceed: true,
        snapshotRequired: true,
        warnings: [],
      })
        .task(StateNames.createSnapshot)
        .wait(StateNames.waitForSnapshot)
        .task(StateNames.checkSnapshot)
        .choice(StateNames.snapshotReady)
        .task(StateNames.pruneSnapshots, { failures: ['RetentionFailed'], end: 'caught' })
        .fail(StateNames.retentionFailed, OutcomeErrors.BackupTakenRetentionFailed, cause('denied')),
    'retention-failed',
    7,
  ],
];

/** GetExecutionHistory answers `events` in one page. */
function historyAnswers(arn: string, events: HistoryEvent[]): void {
  sfn.on(GetExecutionHistoryCommand, { executionArn: arn }).resolves({ events });
}

/** The rendered state lines (those that begin with the elapsed time). */
const stateLines = (text: string) => text.split('\n').filter((line) => line.startsWith('['));

describe('start --wait', () => {
  it.each(TERMINALS)(
    'renders an execution that ends in "%s" and exits with the local code',
    async (_, record, outcome, code) => {
      // Prepare
      const arn = executionArn(NAME);
      sfn.on(StartExecutionCommand).resolves({ executionArn: arn, startDate: T0 });
      historyAnswers(arn, record().events);

      // Act
      const exit = await commandStart(['--release', 'v1.2.0', '--wait'], deps);

      // Assess
      expect(stderr).toBe('');
      expect(exit).toBe(code);
      expect(Outcomes[outcome].exitCode).toBe(code);
      expect(stdout).toContain(`  outcome:    ${outcome} (exit ${code}): ${Outcomes[outcome].summary}`);
      expect(stdout).toContain(`  execution:  ${NAME}`);
    },
  );

  it('renders the same lines as the local runner: entered, left with the time taken, failed, retried, caught, the Fail state', async () => {
    // Prepare
    const arn = executionArn(NAME);
    sfn.on(StartExecutionCommand).resolves({ executionArn: arn, startDate: T0 });
    const events = new Recorder()
      .started()
      .pass(StateNames.start)
      .task(StateNames.applyMigrations, { failures: ['TransientFault', 'MigrationFailed'], end: 'caught' })
      .fail(StateNames.rolledBack, OutcomeErrors.MigrationRolledBack, cause('restored orders-db')).events;
    historyAnswers(arn, events);

    // Act
    const exit = await commandStart(['--release', 'v1.2.0', '--wait'], deps);

    // Assess
    expect(exit).toBe(2);
    expect(stateLines(stdout)).toEqual([
      '[  0.10s] -> Record the execution',
      '[  0.20s] <- Record the execution (100 ms)',
      '[  0.30s] -> Apply pending migrations',
      '[  0.60s] !! Apply pending migrations failed: TransientFault',
      '[  0.70s] .. Apply pending migrations retried',
      '[  0.90s] !! Apply pending migrations failed: MigrationFailed',
      '[  1.00s] >> Apply pending migrations: error caught, taking the recovery path',
      '[  1.00s] <- Apply pending migrations (700 ms)',
      '[  1.10s] -> Migration rolled back',
      '[  1.20s] == Migration rolled back: the execution ends with MigrationRolledBack',
    ]);
    expect(stdout).toContain('  error:      MigrationRolledBack');
    expect(stdout).toContain('  cause:      x: restored orders-db');
  });

  it('reports an uncaught step failure once, and a failed execution with an error no Fail state raises as a failed rollback (exit 3), as locally', async () => {
    // Prepare
    const arn = executionArn(NAME);
    sfn.on(StartExecutionCommand).resolves({ executionArn: arn, startDate: T0 });
    historyAnswers(
      arn,
      new Recorder()
        .started()
        .task(StateNames.swap, { failures: ['States.Timeout'], end: 'uncaught' })
        .failedExecution('States.Timeout', 'the task timed out').events,
    );

    // Act
    const exit = await commandStart(['--wait'], deps);

    // Assess
    expect(exit).toBe(3);
    expect(stateLines(stdout).filter((line) => line.includes('failed'))).toEqual([
      '[  0.40s] !! Swap the restored database into place failed: States.Timeout',
    ]);
    expect(stdout).toContain('outcome:    rollback-failed (exit 3)');
    expect(stdout).toContain('see docs/runbook.md, "RollbackFailed"');
  });

  it.each([
    ['ExecutionTimedOut', 'executionTimedOutEventDetails', 'States.Timeout'],
    ['ExecutionAborted', 'executionAbortedEventDetails', 'States.Aborted'],
  ])(
    'ends an execution that %s as outcome unknown (exit 6), naming the open state',
    async (type, field, error) => {
      // Prepare
      const arn = executionArn(NAME);
      sfn.on(StartExecutionCommand).resolves({ executionArn: arn, startDate: T0 });
      const recorder = new Recorder()
        .started()
        .task(StateNames.createSnapshot)
        .wait(StateNames.waitForSnapshot);
      const events = [
        ...recorder.events,
        {
          id: 99,
          timestamp: new Date(T0.getTime() + 5000),
          type: 'WaitStateEntered',
          stateEnteredEventDetails: { name: StateNames.waitForSnapshot },
        },
        { id: 100, timestamp: new Date(T0.getTime() + 6000), type, [field]: {} },
      ] as HistoryEvent[];
      historyAnswers(arn, events);

      // Act
      const exit = await commandStart(['--wait'], deps);

      // Assess
      expect(exit).toBe(6);
      expect(stdout).toContain(`[  6.00s] !! Wait for the snapshot failed: ${error}`);
      expect(stdout).toContain('see docs/runbook.md, "ReleaseOutcomeUnknown"');
    },
  );

  it('tells a dry run with pending migrations (dry-run) from nothing to do, both exit 0', async () => {
    // Prepare
    const arn = executionArn(NAME);
    sfn.on(StartExecutionCommand).resolves({ executionArn: arn, startDate: T0 });
    const plan = { ...MIGRATE_PLAN, dryRun: true, proceed: false };
    historyAnswers(
      arn,
      preamble(plan).choice(StateNames.anythingToApply).succeed(StateNames.nothingToDo, stateDoc({ plan }))
        .events,
    );

    // Act
    const exit = await commandStart(['--dry-run', '--wait'], deps);

    // Assess
    expect(exit).toBe(0);
    expect(stdout).toContain('outcome:    dry-run (exit 0)');
    expect(stdout).toContain(
      'pending:    20300102000000_add_status, 20300103000000_index_status (dry run: not applied)',
    );
  });

  it('reads every page of the history, polls a running execution after the interval, and renders each event once', async () => {
    // Prepare
    const arn = executionArn(NAME);
    sfn.on(StartExecutionCommand).resolves({ executionArn: arn, startDate: T0 });
    const all = migrateUntilApply()
      .task(StateNames.applyMigrations)
      .task(StateNames.verifyHealth)
      .succeed(StateNames.succeeded, stateDoc({ plan: MIGRATE_PLAN })).events;
    const running = all.slice(0, 10);
    sfn
      .on(GetExecutionHistoryCommand, { executionArn: arn, nextToken: undefined })
      .resolvesOnce({ events: running.slice(0, 4), nextToken: 'page-2' })
      .resolves({ events: all.slice(0, 4), nextToken: 'page-2' })
      .on(GetExecutionHistoryCommand, { executionArn: arn, nextToken: 'page-2' })
      .resolvesOnce({ events: running.slice(4) })
      .resolves({ events: all.slice(4) });

    // Act
    const exit = await commandStart(['--wait', '--interval', '5'], deps);

    // Assess
    expect(exit).toBe(0);
    expect(deps.sleep).toHaveBeenCalledTimes(1);
    expect(deps.sleep).toHaveBeenCalledWith(5000);
    const calls = sfn.commandCalls(GetExecutionHistoryCommand).map((call) => call.args[0].input);
    expect(calls).toEqual([
      { executionArn: arn, maxResults: 1000, includeExecutionData: true },
      { executionArn: arn, maxResults: 1000, includeExecutionData: true, nextToken: 'page-2' },
      { executionArn: arn, maxResults: 1000, includeExecutionData: true, nextToken: 'page-2' },
    ]);
    const entered = stateLines(stdout).filter((line) => line.includes(' -> '));
    expect(entered).toHaveLength(new Set(entered).size);
    expect(entered.at(-1)).toContain(`-> ${StateNames.succeeded}`);
  });

  it('prints the execution as JSON with --json, and no state lines', async () => {
    // Prepare
    const arn = executionArn(NAME);
    sfn.on(StartExecutionCommand).resolves({ executionArn: arn, startDate: T0 });
    historyAnswers(arn, TERMINALS[3]?.[1]().events ?? []);

    // Act
    const exit = await commandStart(['--wait', '--json'], deps);

    // Assess
    expect(exit).toBe(2);
    const printed = JSON.parse(stdout) as Record<string, unknown>;
    expect(printed).toMatchObject({
      executionArn: arn,
      name: NAME,
      stateMachineArn: MACHINE,
      status: 'FAILED',
      outcome: 'migration-rolled-back',
      exitCode: 2,
      error: OutcomeErrors.MigrationRolledBack,
      startDate: T0.toISOString(),
    });
    expect(printed.path).toContain(StateNames.rolledBack);
  });
});

describe('start', () => {
  it('starts the state machine with a unique generated name and the input, checked', async () => {
    // Prepare
    sfn.on(StartExecutionCommand).resolves({ executionArn: executionArn(NAME), startDate: T0 });

    // Act
    const exit = await commandStart(
      ['--release', 'v1.2.0', '--input', '{"transactionMode":"per-migration"}'],
      deps,
    );

    // Assess
    expect(exit).toBe(0);
    expect(sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input)).toEqual([
      {
        stateMachineArn: MACHINE,
        name: NAME,
        input: JSON.stringify({ transactionMode: 'per-migration', release: 'v1.2.0' }),
      },
    ]);
    expect(stdout).toContain(`Follow it with: prisma-migration-orchestrator watch ${executionArn(NAME)}`);
  });

  it('names a backup after its mode, and two starts get two names', async () => {
    // Prepare
    sfn.on(StartExecutionCommand).resolves({ executionArn: executionArn('x'), startDate: T0 });
    let n = 0;
    const counting = { ...deps, suffix: () => `s${++n}` };

    // Act
    await commandStart(['--mode', 'backup'], counting);
    await commandStart(['--mode', 'backup', '--json'], counting);

    // Assess
    const names = sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input.name);
    expect(names).toEqual(['backup-20300101T000000Z-s1', 'backup-20300101T000000Z-s2']);
    expect(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input).toBe('{"mode":"backup"}');
  });

  it('fails when the input is not valid, before anything is started', async () => {
    // Act
    const exit = await commandStart(['--mode', 'backup', '--release', 'v1'], deps);

    // Assess
    expect(exit).toBe(1);
    expect(stderr).toMatch(/^The input: .*release/);
    expect(stderr).toContain('Usage: prisma-migration-orchestrator start');
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('fails when a shortcut contradicts --input', async () => {
    // Act
    const exit = await commandStart(['--input', '{"release":"a"}', '--release', 'b'], deps);

    // Assess
    expect(exit).toBe(1);
    expect(stderr).toContain('--release contradicts --input\'s release ("a")');
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('fails with one line naming the permission when StartExecution is denied', async () => {
    // Prepare
    sfn.on(StartExecutionCommand).rejects(sfnError('AccessDeniedException', 'User: x is not authorized'));

    // Act
    const exit = await commandStart([], deps);

    // Assess
    expect(exit).toBe(1);
    expect(stderr).toBe(
      `Access denied: the caller may not states:StartExecution on ${MACHINE} in eu-west-1. Grant ` +
        'states:StartExecution on it in the IAM policy of your role or user, or use a profile that has it (AWS_PROFILE).\n',
    );
  });

  it('fails with one line naming the fix when there are no credentials', async () => {
    // Prepare
    const missing = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    sfn.on(StartExecutionCommand).rejects(missing);

    // Act
    const exit = await commandStart([], deps);

    // Assess
    expect(exit).toBe(1);
    expect(stderr).toMatch(/^No AWS credentials found: sign in \(aws sso login .*\n$/);
  });

  it('fails with one line when the state machine does not exist', async () => {
    // Prepare
    sfn.on(StartExecutionCommand).rejects(sfnError('StateMachineDoesNotExist'));

    // Act
    const exit = await commandStart([], deps);

    // Assess
    expect(exit).toBe(1);
    expect(stderr).toMatch(
      new RegExp(`^State machine ${MACHINE} does not exist in eu-west-1: check --state-machine`),
    );
  });
});

describe('locating the state machine', () => {
  const noEnv = { ...deps, env: { AWS_REGION: 'eu-west-1' } };

  it('reads the StateMachineArn output of the stack named by --stack', async () => {
    // Prepare
    cfn.on(DescribeStacksCommand, { StackName: 'OrdersMigrations' }).resolves({
      Stacks: [
        {
          StackName: 'OrdersMigrations',
          CreationTime: T0,
          StackStatus: 'UPDATE_COMPLETE',
          Outputs: [
            {
              OutputKey: 'BackupDeadLetterQueueUrl',
              OutputValue: 'https://sqs.eu-west-1.amazonaws.com/1/dlq',
            },
            { OutputKey: STATE_MACHINE_OUTPUT_KEY, OutputValue: MACHINE },
          ],
        },
      ],
    });
    sfn.on(StartExecutionCommand).resolves({ executionArn: executionArn(NAME), startDate: T0 });

    // Act
    const exit = await commandStart(['--stack', 'OrdersMigrations'], noEnv);

    // Assess
    expect(exit).toBe(0);
    expect(cfn.commandCalls(DescribeStacksCommand).map((call) => call.args[0].input)).toEqual([
      { StackName: 'OrdersMigrations' },
    ]);
    expect(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.stateMachineArn).toBe(MACHINE);
  });

  it('falls back to the default stack MigrationOrchestrator when nothing names the state machine', async () => {
    // Prepare
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'MigrationOrchestrator',
          CreationTime: T0,
          StackStatus: 'CREATE_COMPLETE',
          Outputs: [{ OutputKey: 'StateMachineArn', OutputValue: MACHINE }],
        },
      ],
    });
    sfn.on(ListExecutionsCommand).resolves({ executions: [] });

    // Act
    const exit = await commandExecutions([], noEnv);

    // Assess
    expect(exit).toBe(0);
    expect(cfn.commandCalls(DescribeStacksCommand)[0]?.args[0].input).toEqual({
      StackName: 'MigrationOrchestrator',
    });
    expect(stdout).toContain(`No execution on ${MACHINE}`);
  });

  it('fails when the stack has no state machine output, naming the output to add', async () => {
    // Prepare
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [{ StackName: 'Orders', CreationTime: T0, StackStatus: 'CREATE_COMPLETE', Outputs: [] }],
    });

    // Act
    const exit = await commandStart(['--stack', 'Orders'], noEnv);

    // Assess
    expect(exit).toBe(1);
    expect(stderr).toBe(
      "Stack Orders has no StateMachineArn output: add new CfnOutput(this, 'StateMachineArn', { value: " +
        'orchestrator.stateMachine.stateMachineArn }) to it and deploy, or pass --state-machine ARN.\n',
    );
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('fails when the stack does not exist, naming the flags', async () => {
    // Prepare
    cfn.on(DescribeStacksCommand).rejects(
      new CloudFormationServiceException({
        name: 'ValidationError',
        $fault: 'client',
        $metadata: meta,
        message: 'Stack with id Nope does not exist',
      }),
    );

    // Act
    const exit = await commandStatus(['release-1', '--stack', 'Nope'], noEnv);

    // Assess
    expect(exit).toBe(1);
    expect(stderr).toMatch(
      /^Stack Nope does not exist in eu-west-1: pass the name cdk deploy printed \(--stack NAME\)/,
    );
  });

  it('fails when --state-machine is not a state machine ARN', async () => {
    // Act
    const exit = await commandExecutions(['--state-machine', 'orders-migrations'], noEnv);

    // Assess
    expect(exit).toBe(1);
    expect(stderr).toContain('--state-machine takes a state machine ARN');
  });

  it('is the output the example stack declares', () => {
    // Act
    const { json } = synthesize();

    // Assess
    expect(Object.keys((json.Outputs ?? {}) as object)).toContain(STATE_MACHINE_OUTPUT_KEY);
  }, 120_000);
});

function described(
  name: string,
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED',
  extra: Record<string, unknown> = {},
) {
  return {
    executionArn: executionArn(name),
    stateMachineArn: MACHINE,
    name,
    status,
    startDate: T0,
    ...(status === 'RUNNING' ? {} : { stopDate: new Date(T0.getTime() + 61_500) }),
    ...extra,
  };
}

describe('status', () => {
  it('summarizes a failed execution found by name: state machine, status, outcome, times, error and cause', async () => {
    // Prepare
    sfn
      .on(DescribeExecutionCommand, { executionArn: executionArn('release-41') })
      .resolves(
        described('release-41', 'FAILED', { error: 'MigrationRolledBack', cause: 'restored orders-db' }),
      );

    // Act
    const exit = await commandStatus(['release-41'], deps);

    // Assess
    expect(exit).toBe(0);
    expect(stdout.split('\n').slice(0, 9)).toEqual([
      'Execution release-41',
      `  state machine: ${MACHINE}`,
      '  status:     FAILED',
      `  outcome:    migration-rolled-back (exit 2): ${Outcomes['migration-rolled-back'].summary}`,
      '  started:    2030-01-01T00:00:00.000Z',
      '  stopped:    2030-01-01T00:01:01.500Z',
      '  duration:   61.50s',
      '  error:      MigrationRolledBack',
      '  cause:      restored orders-db',
    ]);
  });

  it('prints one JSON object with --json; a succeeded backup by its output', async () => {
    // Prepare
    const arn = executionArn('backup-1');
    sfn
      .on(DescribeExecutionCommand, { executionArn: arn })
      .resolves(
        described('backup-1', 'SUCCEEDED', { output: stateDoc({ plan: { mode: 'backup', proceed: true } }) }),
      );

    // Act
    const exit = await commandStatus([arn, '--json'], { ...deps, env: {} });

    // Assess
    expect(exit).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      executionArn: arn,
      name: 'backup-1',
      stateMachineArn: MACHINE,
      status: 'SUCCEEDED',
      outcome: 'backup-taken',
      exitCode: 0,
      summary: Outcomes['backup-taken'].summary,
      startDate: '2030-01-01T00:00:00.000Z',
      stopDate: '2030-01-01T00:01:01.500Z',
      durationMs: 61_500,
      error: null,
      cause: null,
    });
  });

  it('finds the Succeed state in the history when the output is not readable', async () => {
    // Prepare
    const arn = executionArn('restore-1');
    sfn.on(DescribeExecutionCommand).resolves(described('restore-1', 'SUCCEEDED'));
    sfn.on(GetExecutionHistoryCommand, { executionArn: arn, reverseOrder: true }).resolves({
      events: [
        { id: 9, timestamp: T0, type: 'ExecutionSucceeded' },
        {
          id: 8,
          timestamp: T0,
          type: 'SucceedStateExited',
          stateExitedEventDetails: { name: StateNames.backupRestored },
        },
        {
          id: 7,
          timestamp: T0,
          type: 'SucceedStateEntered',
          stateEnteredEventDetails: { name: StateNames.backupRestored },
        },
      ],
    });

    // Act
    await commandStatus([arn, '--json'], deps);

    // Assess
    expect(JSON.parse(stdout)).toMatchObject({ outcome: 'backup-restored', exitCode: 0 });
  });

  it('fails with one line when the execution does not exist', async () => {
    // Prepare
    sfn.on(DescribeExecutionCommand).rejects(sfnError('ExecutionDoesNotExist', 'Execution Does Not Exist'));

    // Act
    const exit = await commandStatus(['release-404'], deps);

    // Assess
    expect(exit).toBe(1);
    expect(stderr).toBe(
      `Execution ${executionArn('release-404')} does not exist in eu-west-1: check its name or ARN, or list the ` +
        'recent ones with: prisma-migration-orchestrator executions\n',
    );
    expect(stdout).toBe('');
  });
});

describe('watch', () => {
  it('follows an existing execution given by name and exits with its outcome code', async () => {
    // Prepare
    const arn = executionArn('release-41');
    historyAnswers(arn, TERMINALS[6]?.[1]().events ?? []);

    // Act
    const exit = await commandWatch(['release-41'], deps);

    // Assess
    expect(exit).toBe(5);
    expect(stdout).toContain(`Watching ${arn}`);
    expect(stdout).toContain(
      `== ${StateNames.releaseFailedUnchanged}: the execution ends with ReleaseFailedDatabaseUnchanged`,
    );
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('fails with one line when the execution does not exist', async () => {
    // Prepare
    sfn.on(GetExecutionHistoryCommand).rejects(sfnError('ExecutionDoesNotExist'));

    // Act
    const exit = await commandWatch([executionArn('gone')], { ...deps, env: {} });

    // Assess
    expect(exit).toBe(1);
    expect(stderr).toMatch(new RegExp(`^Execution ${executionArn('gone')} does not exist in eu-west-1`));
  });

  it('fails with one line when reading the history is denied', async () => {
    // Prepare
    sfn.on(GetExecutionHistoryCommand).rejects(sfnError('AccessDeniedException'));

    // Act
    const exit = await commandWatch(['release-41'], deps);

    // Assess
    expect(exit).toBe(1);
    expect(stderr).toContain('Access denied: the caller may not states:GetExecutionHistory on');
  });
});

describe('executions', () => {
  it('lists the recent executions with outcome and duration as a JSON array with --json', async () => {
    // Prepare
    sfn.on(ListExecutionsCommand, { stateMachineArn: MACHINE, maxResults: 2 }).resolves({
      executions: [
        {
          executionArn: executionArn('release-42'),
          stateMachineArn: MACHINE,
          name: 'release-42',
          status: 'RUNNING',
          startDate: T0,
        },
        {
          executionArn: executionArn('release-41'),
          stateMachineArn: MACHINE,
          name: 'release-41',
          status: 'FAILED',
          startDate: T0,
        },
      ],
    });
    sfn
      .on(DescribeExecutionCommand, { executionArn: executionArn('release-42') })
      .resolves(described('release-42', 'RUNNING'))
      .on(DescribeExecutionCommand, { executionArn: executionArn('release-41') })
      .resolves(
        described('release-41', 'FAILED', { error: 'SnapshotFailedDatabaseUntouched', cause: 'quota' }),
      );

    // Act
    const exit = await commandExecutions(['--limit', '2', '--json'], deps);

    // Assess
    expect(exit).toBe(0);
    expect(JSON.parse(stdout)).toEqual([
      {
        executionArn: executionArn('release-42'),
        name: 'release-42',
        stateMachineArn: MACHINE,
        status: 'RUNNING',
        outcome: null,
        exitCode: null,
        summary: null,
        startDate: T0.toISOString(),
        stopDate: null,
        durationMs: null,
        error: null,
        cause: null,
      },
      {
        executionArn: executionArn('release-41'),
        name: 'release-41',
        stateMachineArn: MACHINE,
        status: 'FAILED',
        outcome: 'snapshot-failed',
        exitCode: 4,
        summary: Outcomes['snapshot-failed'].summary,
        startDate: T0.toISOString(),
        stopDate: '2030-01-01T00:01:01.500Z',
        durationMs: 61_500,
        error: 'SnapshotFailedDatabaseUntouched',
        cause: 'quota',
      },
    ]);
  });

  it('prints a table, and passes --status as the status filter', async () => {
    // Prepare
    sfn.on(ListExecutionsCommand).resolves({
      executions: [
        {
          executionArn: executionArn('release-41'),
          stateMachineArn: MACHINE,
          name: 'release-41',
          status: 'FAILED',
          startDate: T0,
        },
      ],
    });
    sfn
      .on(DescribeExecutionCommand)
      .resolves(described('release-41', 'FAILED', { error: 'MigrationRolledBack' }));

    // Act
    const exit = await commandExecutions(['--status', 'failed'], deps);

    // Assess
    expect(exit).toBe(0);
    expect(sfn.commandCalls(ListExecutionsCommand)[0]?.args[0].input).toEqual({
      stateMachineArn: MACHINE,
      maxResults: 10,
      statusFilter: 'FAILED',
    });
    expect(stdout.split('\n')[1]).toBe(
      'release-41  FAILED  migration-rolled-back  2     2030-01-01T00:00:00.000Z  61.50s',
    );
  });

  it('fails when --limit is not a whole number from 1 to 100', async () => {
    // Act
    const exit = await commandExecutions(['--limit', '0'], deps);

    // Assess
    expect(exit).toBe(1);
    expect(stderr).toContain('--limit takes a whole number from 1 to 100 (received "0")');
    expect(sfn.commandCalls(ListExecutionsCommand)).toHaveLength(0);
  });
});

describe('plan', () => {
  it('starts a dry run with the release, follows it and prints the plan from the output', async () => {
    // Prepare
    const arn = executionArn('v1-2-0-20300101T000000Z-abc123');
    sfn.on(StartExecutionCommand).resolves({ executionArn: arn, startDate: T0 });
    const plan = { ...MIGRATE_PLAN, dryRun: true, proceed: false };
    historyAnswers(
      arn,
      preamble(plan).choice(StateNames.anythingToApply).succeed(StateNames.nothingToDo, stateDoc({ plan }))
        .events,
    );

    // Act
    const exit = await commandPlan(['--release', 'v1.2.0'], deps);

    // Assess
    expect(exit).toBe(0);
    expect(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input).toEqual({
      stateMachineArn: MACHINE,
      name: NAME,
      input: '{"release":"v1.2.0","dryRun":true}',
    });
    expect(stdout).toContain('outcome:    dry-run (exit 0)');
    expect(stdout).toContain('  migrations: 3 in the release, 1 applied, 2 pending');
    expect(stdout).toContain('  pending:    20300103000000_index_status');
  });

  it('prints the execution and its plan as JSON with --json', async () => {
    // Prepare
    const arn = executionArn(NAME);
    sfn.on(StartExecutionCommand).resolves({ executionArn: arn, startDate: T0 });
    const plan = { ...MIGRATE_PLAN, dryRun: true, proceed: false };
    historyAnswers(
      arn,
      preamble(plan).choice(StateNames.anythingToApply).succeed(StateNames.nothingToDo, stateDoc({ plan }))
        .events,
    );

    // Act
    const exit = await commandPlan(['--json'], deps);

    // Assess
    expect(exit).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      outcome: 'dry-run',
      exitCode: 0,
      plan: { pending: plan.pending },
    });
  });
});

describe('--help', () => {
  it.each([
    ['start', commandStart],
    ['watch', commandWatch],
    ['status', commandStatus],
    ['executions', commandExecutions],
    ['plan', commandPlan],
  ] as const)('%s --help prints its usage and exits 0 without calling AWS', async (name, command) => {
    // Act
    const exit = await command(['--help'], deps);

    // Assess
    expect(exit).toBe(0);
    expect(stdout).toContain(`Usage: prisma-migration-orchestrator ${name}`);
    expect(sfn.calls()).toHaveLength(0);
    expect(cfn.calls()).toHaveLength(0);
  });

  it('runs as the package bin: status --help and start --help exit 0', async () => {
    // Prepare
    const root = resolve(import.meta.dirname, '../..');
    const run = (args: string[]) =>
      new Promise<{ code: number; out: string }>((done) => {
        execFile(
          process.execPath,
          ['bin/prisma-migration-orchestrator.mjs', ...args],
          { cwd: root, timeout: 120_000 },
          (error, out) => done({ code: error ? Number(error.code ?? -1) : 0, out }),
        );
      });

    // Act
    const results = await Promise.all([run(['status', '--help']), run(['start', '--help'])]);

    // Assess
    expect(results.map((result) => result.code)).toEqual([0, 0]);
    expect(results[1]?.out).toContain('Usage: prisma-migration-orchestrator start');
  }, 120_000);
});
