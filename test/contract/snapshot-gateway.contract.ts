/**
 * The behaviours every `SnapshotGateway` must have, whatever it runs on (RDS instance, Aurora cluster,
 * local PostgreSQL). A test file calls `describeSnapshotGatewayContract(name, setup)` once per gateway;
 * `setup` runs before each test and gives a fresh target that is available.
 *
 * Agnostic on purpose: only the port is used. Long operations are polled; between polls the fixture's
 * `advance` lets time pass (a fake's clock), so nothing waits for real.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ExecutionInfo } from '../../lambdas/shared/contract/contract.js';
import type { SnapshotGateway } from '../../lambdas/shared/contract/ports.js';
import {
  asideIdentifier,
  preMigrationSnapshotId,
  restoredIdentifier,
} from '../../lambdas/shared/domain/identifiers.js';

export interface SnapshotGatewayContractFixture {
  readonly gateway: SnapshotGateway;
  /** Lets time pass between two polls. @default - nothing (operations finish on their own) */
  readonly advance?: () => Promise<void>;
  readonly teardown: () => Promise<void>;
  /**
   * Reads and writes a marker standing for the contents of the database under an identifier (a row in a
   * table, the fake's data field), so the suite can tell which data serves where after the swap.
   * @default - the swap is checked through the identifiers only
   */
  readonly data?: {
    read(identifier: string): Promise<string | undefined>;
    write(identifier: string, value: string): Promise<void>;
  };
}

const MAX_POLLS = 200;
const TAGS = { 'managed-by': 'prisma-migration-orchestrator', release: 'contract-1' };

function executionInfo(name: string): ExecutionInfo {
  return {
    id: `arn:aws:states:us-east-1:123456789012:execution:contract:${name}`,
    name,
    startedAt: '2030-01-01T00:00:00.000Z',
  };
}

/** An earlier execution, whose snapshot or restored copy sits under an identifier this one wants. */
const OTHER_EXECUTION = executionInfo('Contract.0').id;

export function describeSnapshotGatewayContract(
  name: string,
  setup: () => Promise<SnapshotGatewayContractFixture>,
): void {
  describe(`SnapshotGateway contract: ${name}`, () => {
    let fixture: SnapshotGatewayContractFixture;
    let execution = 0;

    beforeEach(async () => {
      fixture = await setup();
      execution += 1;
    });

    afterEach(async () => {
      await fixture.teardown();
    });

    const ids = () => {
      const target = fixture.gateway.targetIdentifier;
      const current = executionInfo(`contract-${execution}`);
      return {
        target,
        executionId: current.id,
        snapshotId: preMigrationSnapshotId(target, current),
        restored: restoredIdentifier(target, current),
        aside: asideIdentifier(target, new Date(Date.UTC(2030, 0, 1, 0, 0, execution))),
      };
    };

    async function poll<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
      for (let attempt = 0; attempt < MAX_POLLS; attempt++) {
        const value = await read();
        if (done(value)) return value;
        await fixture.advance?.();
      }
      throw new Error(`${what} did not settle after ${MAX_POLLS} polls`);
    }

    async function availableSnapshot(snapshotId: string, executionId = ids().executionId) {
      await fixture.gateway.createSnapshot({ snapshotId, executionId, tags: TAGS });
      return await poll(
        () => fixture.gateway.describeSnapshot(snapshotId),
        (s) => s !== undefined && s.status !== 'creating',
        `snapshot ${snapshotId}`,
      );
    }

    async function availableRestore(snapshotId: string, restored: string, executionId = ids().executionId) {
      await fixture.gateway.restoreSnapshot({
        snapshotId,
        originalIdentifier: fixture.gateway.targetIdentifier,
        restoredIdentifier: restored,
        executionId,
        tags: TAGS,
      });
      return await poll(
        () => fixture.gateway.describeRestore(restored),
        (r) => r !== undefined && r.status !== 'restoring',
        `restore ${restored}`,
      );
    }

    /** Target ready again after the snapshot (an RDS instance is `backing-up` while it is taken). */
    async function targetAvailable() {
      return await poll(
        () => fixture.gateway.describeTarget(),
        (t) => t.available,
        'target',
      );
    }

    async function swapUntilComplete(request: {
      originalIdentifier: string;
      restoredIdentifier: string;
      asideIdentifier: string;
    }) {
      const phases: string[] = [];
      const status = await poll(
        async () => {
          const s = await fixture.gateway.swap(request);
          phases.push(s.phase);
          return s;
        },
        (s) => s.complete,
        'swap',
      );
      return { status, phases };
    }

    it('describes the target as available, under its identifier', async () => {
      // Act
      const target = await fixture.gateway.describeTarget();

      // Assess
      expect(target.identifier).toBe(fixture.gateway.targetIdentifier);
      expect(target.available).toBe(true);
      expect(target.engine).not.toBe('');
    });

    it('creates a snapshot that becomes available, of the target, with the tags given and its execution', async () => {
      // Prepare
      const { snapshotId, target, executionId } = ids();

      // Act
      const started = await fixture.gateway.createSnapshot({ snapshotId, executionId, tags: TAGS });
      const settled = await poll(
        () => fixture.gateway.describeSnapshot(snapshotId),
        (s) => s !== undefined && s.status !== 'creating',
        'snapshot',
      );

      // Assess
      expect(started).toMatchObject({ snapshotId, sourceIdentifier: target });
      expect(settled).toMatchObject({ snapshotId, sourceIdentifier: target, status: 'available' });
      expect(settled?.tags).toEqual({ ...TAGS, 'migration-execution': executionId });
    });

    it('adopts the existing snapshot when the same execution retries the create', async () => {
      // Prepare
      const { snapshotId, target, executionId } = ids();
      await fixture.gateway.createSnapshot({ snapshotId, executionId, tags: TAGS });

      // Act
      const retried = await fixture.gateway.createSnapshot({ snapshotId, executionId, tags: TAGS });
      const settled = await poll(
        () => fixture.gateway.describeSnapshot(snapshotId),
        (s) => s !== undefined && s.status !== 'creating',
        'snapshot',
      );
      const again = await fixture.gateway.createSnapshot({ snapshotId, executionId, tags: TAGS });

      // Assess
      expect(retried).toMatchObject({ snapshotId, sourceIdentifier: target });
      expect(settled?.status).toBe('available');
      expect(again).toMatchObject({ snapshotId, sourceIdentifier: target, status: 'available' });
    });

    it('refuses, without adopting it, a snapshot under the same id that another execution took', async () => {
      // Prepare
      const { snapshotId, target, executionId } = ids();
      await fixture.data?.write(target, 'before the earlier execution');
      await availableSnapshot(snapshotId, OTHER_EXECUTION);
      await targetAvailable();
      await fixture.data?.write(target, 'now');

      // Act
      const attempt = fixture.gateway.createSnapshot({ snapshotId, executionId, tags: TAGS });

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'SnapshotFailed' });
      await expect(attempt).rejects.toThrow(
        `already exists but was taken by execution ${OTHER_EXECUTION}, not by this execution ${executionId}`,
      );
      await expect(attempt).rejects.toThrow(snapshotId);
      expect((await fixture.gateway.describeSnapshot(snapshotId))?.tags).toMatchObject({
        'migration-execution': OTHER_EXECUTION,
      });
      if (fixture.data) expect(await fixture.data.read(target)).toBe('now');
    });

    it('answers undefined for a snapshot that does not exist', async () => {
      // Act
      const snapshot = await fixture.gateway.describeSnapshot('no-such-snapshot-contract');

      // Assess
      expect(snapshot).toBeUndefined();
    });

    it('answers undefined for a restore that does not exist', async () => {
      // Act
      const restore = await fixture.gateway.describeRestore('no-such-restore-contract');

      // Assess
      expect(restore).toBeUndefined();
    });

    it('restores the snapshot under the temporary identifier while the original keeps serving', async () => {
      // Prepare
      const { snapshotId, restored, target } = ids();
      await fixture.data?.write(target, 'before the release');
      await availableSnapshot(snapshotId);
      await fixture.data?.write(target, 'after the release');

      // Act
      const settled = await availableRestore(snapshotId, restored);

      // Assess
      expect(settled).toMatchObject({ identifier: restored, status: 'available' });
      expect((await targetAvailable()).identifier).toBe(target);
      if (fixture.data) {
        expect(await fixture.data.read(restored)).toBe('before the release');
        expect(await fixture.data.read(target)).toBe('after the release');
      }
    });

    it('restore is idempotent: a retried restore goes on with the first one', async () => {
      // Prepare
      const { snapshotId, restored, target, executionId } = ids();
      await availableSnapshot(snapshotId);
      const request = {
        snapshotId,
        originalIdentifier: target,
        restoredIdentifier: restored,
        executionId,
        tags: TAGS,
      };
      await fixture.gateway.restoreSnapshot(request);

      // Act
      const retried = await fixture.gateway.restoreSnapshot(request);
      const settled = await poll(
        () => fixture.gateway.describeRestore(restored),
        (r) => r !== undefined && r.status !== 'restoring',
        'restore',
      );

      // Assess
      expect(retried.identifier).toBe(restored);
      expect(retried.status).not.toBe('failed');
      expect(settled?.status).toBe('available');
    });

    it('refuses a copy under the temporary identifier that another execution restored, leaving the original untouched', async () => {
      // Prepare
      const { snapshotId, restored, target, executionId } = ids();
      await availableSnapshot(snapshotId);
      await fixture.data?.write(target, 'after the release');
      await availableRestore(snapshotId, restored, OTHER_EXECUTION);

      // Act
      const attempt = fixture.gateway.restoreSnapshot({
        snapshotId,
        originalIdentifier: target,
        restoredIdentifier: restored,
        executionId,
        tags: TAGS,
      });

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'RestoreFailed' });
      await expect(attempt).rejects.toThrow(
        `by this execution ${executionId} (it was restored from it by execution ${OTHER_EXECUTION})`,
      );
      expect((await targetAvailable()).identifier).toBe(target);
      if (fixture.data) expect(await fixture.data.read(target)).toBe('after the release');
    });

    it('swaps the restored copy into place: restored data under the original identifier, the original aside', async () => {
      // Prepare
      const { snapshotId, restored, aside, target } = ids();
      await fixture.data?.write(target, 'before the release');
      await availableSnapshot(snapshotId);
      await fixture.data?.write(target, 'after the release');
      await availableRestore(snapshotId, restored);
      await targetAvailable();

      // Act
      const { status, phases } = await swapUntilComplete({
        originalIdentifier: target,
        restoredIdentifier: restored,
        asideIdentifier: aside,
      });

      // Assess
      expect(status).toEqual({ phase: 'complete', complete: true });
      expect(phases[0]).not.toBe('complete');
      expect(phases).toContain('original-renamed');
      const now = await targetAvailable();
      expect(now.identifier).toBe(target);
      expect(await fixture.gateway.describeRestore(restored)).toBeUndefined();
      expect(await fixture.gateway.describeRestore(aside)).toMatchObject({
        identifier: aside,
        status: 'available',
      });
      if (fixture.data) {
        expect(await fixture.data.read(target)).toBe('before the release');
        expect(await fixture.data.read(aside)).toBe('after the release');
        expect(await fixture.data.read(restored)).toBeUndefined();
      }
    });

    it('swap is idempotent once complete: further calls change nothing', async () => {
      // Prepare
      const { snapshotId, restored, aside, target } = ids();
      await fixture.data?.write(target, 'before the release');
      await availableSnapshot(snapshotId);
      await fixture.data?.write(target, 'after the release');
      await availableRestore(snapshotId, restored);
      await targetAvailable();
      const request = { originalIdentifier: target, restoredIdentifier: restored, asideIdentifier: aside };
      await swapUntilComplete(request);

      // Act
      const again = [await fixture.gateway.swap(request), await fixture.gateway.swap(request)];

      // Assess
      expect(again).toEqual([
        { phase: 'complete', complete: true },
        { phase: 'complete', complete: true },
      ]);
      expect((await targetAvailable()).identifier).toBe(target);
      expect(await fixture.gateway.describeRestore(aside)).toMatchObject({ identifier: aside });
      if (fixture.data) {
        expect(await fixture.data.read(target)).toBe('before the release');
        expect(await fixture.data.read(aside)).toBe('after the release');
      }
    });

    it('refuses to swap when the restored copy does not exist, and leaves the original untouched', async () => {
      // Prepare
      const { restored, aside, target } = ids();
      await fixture.data?.write(target, 'current');

      // Act
      const attempt = fixture.gateway.swap({
        originalIdentifier: target,
        restoredIdentifier: restored,
        asideIdentifier: aside,
      });

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'SwapFailed' });
      await expect(attempt).rejects.toThrow(restored);
      expect(await fixture.gateway.describeTarget()).toMatchObject({ identifier: target, available: true });
      expect(await fixture.gateway.describeRestore(aside)).toBeUndefined();
      if (fixture.data) expect(await fixture.data.read(target)).toBe('current');
    });
  });
}
