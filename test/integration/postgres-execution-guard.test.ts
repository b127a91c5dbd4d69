import { describe, expect, it } from 'vitest';
import { PostgresExecutionGuard } from '../../lambdas/shared/adapters/postgres/execution-guard.js';
import { adminUrl, uniqueName } from '../helpers/database.js';

describe('PostgresExecutionGuard', () => {
  it('lets one run per database hold the lock, names the holder to the others, and frees it on release', async () => {
    // Prepare
    const database = uniqueName('guarded');
    const first = await PostgresExecutionGuard.acquire(adminUrl(), database);
    const elsewhere = await PostgresExecutionGuard.acquire(adminUrl(), uniqueName('other'));
    try {
      // Act
      const second = await PostgresExecutionGuard.acquire(adminUrl(), database);
      const seen = await second.othersRunning();
      await second.release();
      await first.release();
      const third = await PostgresExecutionGuard.acquire(adminUrl(), database);

      // Assess
      expect(first.acquired).toBe(true);
      expect(await first.othersRunning()).toEqual([]);
      expect(elsewhere.acquired).toBe(true);
      expect(second.acquired).toBe(false);
      expect(seen).toEqual([expect.stringContaining(`a local run on ${database} (server session `)]);
      expect(seen[0]).toMatch(/^a local run on guarded_[0-9a-f]+ \(server session \d+/);
      expect(third.acquired).toBe(true);
      expect(await third.othersRunning()).toEqual([]);
      await third.release();
    } finally {
      await first.release();
      await elsewhere.release();
    }
  });
});
