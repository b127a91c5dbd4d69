import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PrismaMigrationEngine } from '../../lambdas/shared/adapters/prisma/migration-engine.js';
import { ErrorNames } from '../../lambdas/shared/contract/contract.js';
import type { OrchestratorError } from '../../lambdas/shared/contract/errors.js';
import type { Migration, MigrationBundle } from '../../lambdas/shared/contract/ports.js';
import { createDatabase, dropDatabase, withClient } from '../helpers/database.js';
import { rejection } from '../helpers/fakes.js';

const created: string[] = [];

afterAll(async () => {
  for (const name of created) await dropDatabase(name);
});

function migration(name: string, sql: string): Migration {
  return { name, sql, checksum: name };
}

const BASE = migration('20250101000000_base', 'CREATE TABLE "Account" ("id" INTEGER, "email" TEXT);\n');
const OTHER = migration('20250102000000_other', 'CREATE TABLE "Other" ("id" INTEGER);\n');
const ALTER = migration('20250103000000_alter', 'ALTER TABLE "Account" ADD COLUMN "x" INTEGER;\n');

function bundle(...migrations: Migration[]): MigrationBundle {
  return { directory: '/release', provider: 'postgresql', migrations };
}

/** A database with "Account" deployed, and an engine on it that records its retries and waits. */
async function setup(attempts = 3) {
  const db = await createDatabase('lockretry');
  created.push(db.name);
  const logs: Record<string, unknown>[] = [];
  const waits: number[] = [];
  const hooks: { onWait?: () => Promise<void> } = {};
  const engine = new PrismaMigrationEngine({
    connectionString: db.url,
    lockTimeoutMs: 300,
    lockRetry: { attempts, initialDelayMs: 100, maxDelayMs: 400 },
    random: () => 1,
    log: (line) => logs.push(line),
    sleep: async (ms) => {
      waits.push(ms);
      await hooks.onWait?.();
    },
  });
  await engine.applyPending(bundle(BASE), { transactionMode: 'release' });
  return { url: db.url, engine, logs, waits, hooks };
}

/** Another application's session, in an open transaction that has read "Account" (holding ACCESS SHARE on it). */
async function blocker(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: 'billing-worker' });
  await client.connect();
  await client.query('BEGIN');
  await client.query(
    `SELECT * FROM "Account" WHERE "email" = 'alice@example.com' -- note: customer 918273645`,
  );
  return client;
}

async function columns(url: string): Promise<string[]> {
  return await withClient(url, async (client) => {
    const { rows } = await client.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'Account' ORDER BY column_name`,
    );
    return rows.map((row) => row.column_name);
  });
}

describe('PrismaMigrationEngine retrying a lock timeout', () => {
  it('retries a release that timed out on a lock, then fails naming the blocker with its query redacted', async () => {
    // Prepare
    const { url, engine, logs, waits } = await setup(3);
    const holder = await blocker(url);
    try {
      // Act
      const error = await rejection<OrchestratorError>(
        engine.applyPending(bundle(BASE, ALTER), { transactionMode: 'release' }),
      );

      // Assess: three attempts (two retries, waiting 100 then 200 ms), then the blocker named.
      expect(error.name).toBe(ErrorNames.MigrationFailedDatabaseUnchanged);
      expect(waits).toEqual([100, 200]);
      expect(logs).toHaveLength(2);
      expect(logs[0]).toMatchObject({ level: 'WARN', attempt: 1, migration: ALTER.name, waitMs: 100 });
      expect(String(logs[0]?.blockers)).toContain('billing-worker');
      expect(error.message).toContain('Tried 3 times (waited 100 ms, 200 ms between attempts)');
      expect(error.message).toMatch(
        /Blocked by: pid \d+ \(application "billing-worker", client [^,]+, idle in transaction, transaction open \d+ s, holding [^)]*Account", last query: SELECT \* FROM "Account" WHERE email = \$1\)/,
      );
      expect(error.message).not.toContain('alice');
      expect(error.message).not.toContain('918273645');
      expect(error.details.lockRetries).toHaveLength(2);
      expect(await columns(url)).toEqual(['email', 'id']);
    } finally {
      await holder.end();
    }
  });

  it('succeeds on the retry when the blocker ends its transaction during the wait', async () => {
    // Prepare
    const { url, engine, waits, hooks } = await setup(3);
    const holder = await blocker(url);
    hooks.onWait = async () => {
      await holder.query('ROLLBACK');
    };
    try {
      // Act
      const outcome = await engine.applyPending(bundle(BASE, ALTER), { transactionMode: 'release' });

      // Assess
      expect(outcome.applied).toEqual([ALTER.name]);
      expect(waits).toEqual([100]);
      expect(outcome.lockRetries).toEqual([
        {
          attempt: 1,
          migration: ALTER.name,
          blockers: expect.stringContaining('billing-worker'),
          waitMs: 100,
        },
      ]);
      expect(await columns(url)).toEqual(['email', 'id', 'x']);
    } finally {
      await holder.end();
    }
  });

  it('never retries in per-migration mode once a migration of the run has committed', async () => {
    // Prepare: OTHER commits first, then ALTER times out.
    const { url, engine, waits, logs } = await setup(3);
    const holder = await blocker(url);
    try {
      // Act
      const error = await rejection<OrchestratorError>(
        engine.applyPending(bundle(BASE, OTHER, ALTER), { transactionMode: 'per-migration' }),
      );

      // Assess
      expect(error.name).toBe(ErrorNames.MigrationFailed);
      expect(error.details).toMatchObject({ migration: ALTER.name, code: '55P03', applied: [OTHER.name] });
      expect(waits).toEqual([]);
      expect(logs).toEqual([]);
      expect(error.message).not.toContain('Tried');
      expect(error.message).toContain('billing-worker');
      const history = await engine.readHistory();
      expect(history.filter((row) => row.name === ALTER.name)).toHaveLength(1);
    } finally {
      await holder.end();
    }
  });

  it('retries per-migration mode on the first migration, marking the failed try rolled back as Prisma would', async () => {
    // Prepare
    const { url, engine, waits, hooks } = await setup(3);
    const holder = await blocker(url);
    hooks.onWait = async () => {
      await holder.query('ROLLBACK');
    };
    try {
      // Act
      const outcome = await engine.applyPending(bundle(BASE, ALTER), { transactionMode: 'per-migration' });

      // Assess: one rolled-back row of the failed try, one finished row; nothing failed is left.
      expect(outcome.applied).toEqual([ALTER.name]);
      expect(waits).toEqual([100]);
      const rows = (await engine.readHistory()).filter((row) => row.name === ALTER.name);
      expect(rows).toHaveLength(2);
      expect(rows.filter((row) => row.rolledBackAt !== null && row.finishedAt === null)).toHaveLength(1);
      expect(rows.filter((row) => row.finishedAt !== null && row.rolledBackAt === null)).toHaveLength(1);
      expect(await columns(url)).toEqual(['email', 'id', 'x']);
    } finally {
      await holder.end();
    }
  });

  it('tries once when lockRetry.attempts is 1', async () => {
    const { url, engine, waits } = await setup(1);
    const holder = await blocker(url);
    try {
      const error = await rejection<OrchestratorError>(
        engine.applyPending(bundle(BASE, ALTER), { transactionMode: 'release' }),
      );

      expect(error.details).toMatchObject({ code: '55P03' });
      expect(waits).toEqual([]);
      expect(error.message).not.toContain('Tried');
    } finally {
      await holder.end();
    }
  });
});
