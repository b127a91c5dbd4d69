/**
 * Prisma's migration advisory lock: who holds it is read from the server as Prisma's engine takes it, preflight
 * refuses while another session holds it (through the local runner, touching nothing), and an idle holder is
 * ended when asked.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  PgMigrationLock,
  PRISMA_MIGRATION_LOCK_KEY,
} from '../../lambdas/shared/adapters/postgres/migration-lock.js';
import { StateNames } from '../../lambdas/shared/contract/contract.js';
import { requirePlan } from '../../lambdas/shared/contract/state.js';
import { type LocalRunResult, runLocal } from '../../lib/local/runner.js';
import {
  createDatabase,
  dropDatabase,
  sampleDatabase,
  sampleRelease,
  withAdmin,
  withClient,
} from '../helpers/database.js';

const SAMPLE = 'prisma/migrations';
const created: string[] = [];

afterAll(async () => {
  for (const name of created) {
    const copies = await withAdmin(async (client) =>
      (
        await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [
          `${name.replaceAll('_', '-')}-%`,
        ])
      ).rows.map((row) => row.datname),
    );
    for (const copy of copies) await dropDatabase(copy);
    await dropDatabase(name);
  }
});

/** A session named `application` holding Prisma's migration lock, as the engine takes it. */
async function holder(url: string, application: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: application });
  await client.connect();
  client.on('error', () => undefined); // It may be ended by the test.
  await client.query(`SELECT pg_advisory_lock(${PRISMA_MIGRATION_LOCK_KEY})`);
  return client;
}

async function alive(pid: number): Promise<boolean> {
  return await withAdmin(
    async (client) =>
      (await client.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount === 1,
  );
}

/** The error preflight refused with, as Step Functions caught it. */
function caught(result: LocalRunResult): { errorType?: string; errorMessage: string } {
  return JSON.parse(result.error?.cause ?? '{}') as { errorType?: string; errorMessage: string };
}

async function pidOf(client: pg.Client): Promise<number> {
  return (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid ?? -1;
}

describe('PgMigrationLock', () => {
  it("lists the sessions holding Prisma's lock on its database only, as pg_advisory_lock(72707369) takes it", async () => {
    // Prepare: one holder on the target, one on another database (advisory locks are per database).
    const target = await createDatabase('mlock');
    const other = await createDatabase('mlock');
    created.push(target.name, other.name);
    const onTarget = await holder(target.url, 'deploy-from-laptop');
    const elsewhere = await holder(other.url, 'other-database');
    try {
      // Act
      const holders = await new PgMigrationLock({ connection: target.url }).holders();

      // Assess
      expect(holders).toEqual([
        {
          pid: await pidOf(onTarget),
          applicationName: 'deploy-from-laptop',
          clientAddress: '127.0.0.1',
          state: 'idle',
          stateSeconds: expect.any(Number),
          connectedSeconds: expect.any(Number),
        },
      ]);
    } finally {
      await onTarget.end();
      await elsewhere.end();
    }
  });

  it('sees no holder once the lock is released', async () => {
    const target = await createDatabase('mlock');
    created.push(target.name);
    const session = await holder(target.url, 'deploy-from-laptop');
    await session.query(`SELECT pg_advisory_unlock(${PRISMA_MIGRATION_LOCK_KEY})`);
    try {
      expect(await new PgMigrationLock({ connection: target.url }).holders()).toEqual([]);
    } finally {
      await session.end();
    }
  });
});

describe("the local workflow and Prisma's migration lock", () => {
  it('refuses the release while another session holds the lock, naming it, before any snapshot', async () => {
    // Prepare
    const db = await sampleDatabase('mlock_refused', created);
    const session = await holder(db.url, 'deploy-from-laptop');
    try {
      // Act
      const result = await runLocal({
        databaseUrl: db.url,
        migrationsDir: SAMPLE,
        input: sampleRelease(),
        reportsDir: false,
      });

      // Assess
      expect(result.outcome).toBe('preflight-refused');
      expect(caught(result)).toMatchObject({ errorType: 'ConcurrentExecution' });
      expect(caught(result).errorMessage).toContain("Prisma's migration lock (advisory lock 72707369)");
      expect(caught(result).errorMessage).toContain(
        `pid ${await pidOf(session)} (application "deploy-from-laptop", client 127.0.0.1, idle for`,
      );
      expect(result.path).not.toContain(StateNames.createSnapshot);
      expect(await alive(await pidOf(session))).toBe(true);
    } finally {
      await session.end();
    }
  });

  it('ends a holder idle longer than endIdleLockHoldersAfterSeconds, reports it, and deploys', async () => {
    // Prepare: the holder has been idle for over a second.
    const db = await sampleDatabase('mlock_ended', created);
    const session = await holder(db.url, 'stale-deploy');
    const pid = await pidOf(session);
    await new Promise((resolve) => setTimeout(resolve, 2_100));

    // Act
    const result = await runLocal({
      databaseUrl: db.url,
      migrationsDir: SAMPLE,
      input: sampleRelease(),
      reportsDir: false,
      endIdleLockHoldersAfterSeconds: 1,
    });

    // Assess
    expect(result.outcome).toBe('succeeded');
    expect(requirePlan(result.state, 'test').warnings).toContainEqual(
      expect.stringMatching(
        new RegExp(`^Ended pid ${pid} \\(application "stale-deploy", .*idle for \\d+ s.*longer than 1 s`),
      ),
    );
    expect(await alive(pid)).toBe(false);
    await session.end().catch(() => undefined);
  });

  it('never ends an active holder, even with endIdleLockHoldersAfterSeconds', async () => {
    // Prepare: the holder runs a statement (a sleep) while holding the lock.
    const db = await sampleDatabase('mlock_active', created);
    const session = await holder(db.url, 'busy-deploy');
    const pid = await pidOf(session);
    const sleeping = session.query('SELECT pg_sleep(30)').catch(() => undefined);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_500));

      // Act
      const result = await runLocal({
        databaseUrl: db.url,
        migrationsDir: SAMPLE,
        input: sampleRelease(),
        reportsDir: false,
        endIdleLockHoldersAfterSeconds: 1,
      });

      // Assess
      expect(result.outcome).toBe('preflight-refused');
      expect(caught(result).errorMessage).toContain(
        `pid ${pid} (application "busy-deploy", client 127.0.0.1, active for`,
      );
      expect(await alive(pid)).toBe(true);
    } finally {
      await withClient(db.url, (client) => client.query('SELECT pg_cancel_backend($1)', [pid]));
      await sleeping;
      await session.end();
    }
  });
});
