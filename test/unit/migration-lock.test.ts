import { describe, expect, it } from 'vitest';
import { checkMigrationLock } from '../../lambdas/preflight/migration-lock.js';
import type { ExecutionInfo } from '../../lambdas/shared/contract/contract.js';
import type { MigrationLockHolder, MigrationLockInspector } from '../../lambdas/shared/contract/ports.js';
import { applySessionName } from '../../lambdas/shared/domain/release-evidence.js';

const EXECUTION: ExecutionInfo = {
  id: 'arn:aws:states:eu-west-1:123456789012:execution:orchestrator:release-42',
  name: 'release-42',
  startedAt: '2026-01-01T00:00:00.000Z',
};

function inspector(holders: MigrationLockHolder[], endable = true) {
  const ended: number[][] = [];
  const fake: MigrationLockInspector = {
    holders: async () => holders,
    end: async (pids) => {
      ended.push([...pids]);
      return pids.map((pid) =>
        endable
          ? { pid, ended: true }
          : { pid, ended: false, message: 'permission denied to terminate process' },
      );
    },
  };
  return { fake, ended };
}

const idle = (pid: number, seconds: number): MigrationLockHolder => ({
  pid,
  applicationName: 'deploy',
  state: 'idle',
  stateSeconds: seconds,
  connectedSeconds: seconds,
});

async function refusal(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error('expected a refusal');
  return error;
}

describe('checkMigrationLock', () => {
  it('passes when nobody holds the lock but this execution itself', async () => {
    const { fake } = inspector([{ ...idle(7, 5), applicationName: applySessionName(EXECUTION) }]);
    const warnings: string[] = [];

    await checkMigrationLock({ inspector: fake }, EXECUTION, 'appdb', false, warnings);

    expect(warnings).toEqual([]);
  });

  it('refuses with ConcurrentExecution naming the holder, ending nothing without the setting', async () => {
    const { fake, ended } = inspector([idle(7, 5000)]);

    const error = await refusal(checkMigrationLock({ inspector: fake }, EXECUTION, 'appdb', false, []));

    expect(error.name).toBe('ConcurrentExecution');
    expect(error.message).toContain(
      'held by pid 7 (application "deploy", client local socket, idle for 5000 s, connected 5000 s)',
    );
    expect(error.message).toContain('the database was not touched');
    expect(ended).toEqual([]);
  });

  it('only warns on a dry run, and ends nothing', async () => {
    const { fake, ended } = inspector([idle(7, 5000)]);
    const warnings: string[] = [];

    await checkMigrationLock({ inspector: fake, endIdleAfterSeconds: 1 }, EXECUTION, 'appdb', true, warnings);

    expect(warnings).toEqual([expect.stringContaining('A release now would be refused.')]);
    expect(ended).toEqual([]);
  });

  it('ends only holders idle longer than the setting, then refuses on the rest', async () => {
    const { fake, ended } = inspector([idle(7, 600), idle(8, 30), { ...idle(9, 900), state: 'active' }]);

    const error = await refusal(
      checkMigrationLock({ inspector: fake, endIdleAfterSeconds: 300 }, EXECUTION, 'appdb', false, []),
    );

    expect(ended).toEqual([[7]]);
    expect(error.message).toContain('pid 8 (');
    expect(error.message).toContain('pid 9 (');
    expect(error.message).toContain('Ended before refusing: pid 7.');
  });

  it('says so when a holder could not be ended', async () => {
    const { fake } = inspector([idle(7, 600)], false);

    const error = await refusal(
      checkMigrationLock({ inspector: fake, endIdleAfterSeconds: 300 }, EXECUTION, 'appdb', false, []),
    );

    expect(error.message).toContain('Could not end pid 7 (permission denied to terminate process).');
  });

  it('never ends a holder whose state this role cannot see', async () => {
    const { fake, ended } = inspector([{ pid: 7, applicationName: '' }]);

    const error = await refusal(
      checkMigrationLock({ inspector: fake, endIdleAfterSeconds: 0 }, EXECUTION, 'appdb', false, []),
    );

    expect(ended).toEqual([]);
    expect(error.message).toContain('pid 7 (application "unnamed", client local socket, state not visible');
  });
});
