/**
 * The engine's bookkeeping writes held back to travel with the next script (held-bookkeeping.ts): the same rows
 * as when adapter-pg binds them, one round trip per migration in a release, and failures that read as before
 * (PostgreSQL's position relative to the script, nothing committed, a failing history write named as such).
 */
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlQuery } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { DirectoryMigrationSource } from '../../lambdas/shared/adapters/prisma/directory-migration-source.js';
import { HeldBookkeeping, renderHeldWrite } from '../../lambdas/shared/adapters/prisma/held-bookkeeping.js';
import { PrismaMigrationEngine } from '../../lambdas/shared/adapters/prisma/migration-engine.js';
import { PinnedClientPool } from '../../lambdas/shared/adapters/prisma/pinned-client.js';
import { ErrorNames } from '../../lambdas/shared/contract/contract.js';
import type { OrchestratorError } from '../../lambdas/shared/contract/errors.js';
import { createDatabase, dropDatabase, withClient } from '../helpers/database.js';
import { rejection } from '../helpers/fakes.js';
import { migrationsDirectory, removeMigrationDirectories } from '../helpers/migrations.js';

const created: string[] = [];

afterAll(async () => {
  for (const name of created) await dropDatabase(name);
  await removeMigrationDirectories();
});

async function database(): Promise<string> {
  const db = await createDatabase('held');
  created.push(db.name);
  return db.url;
}

/** Every query text the `pg` clients of this process sent while `run` ran. */
async function queriesSentBy(run: () => Promise<unknown>): Promise<string[]> {
  const sent: string[] = [];
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0] as string | { text?: string };
    sent.push(typeof first === 'string' ? first : (first?.text ?? ''));
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
  try {
    await run();
  } finally {
    pg.Client.prototype.query = query;
  }
  return sent;
}

const HISTORY_TABLE = `CREATE TABLE _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
)`;

const text = { scalarType: 'string', arity: 'scalar' } as const;

/** The three writes of one migration, as the engine sends them (values of the kinds it sends). */
function writesOf(id: string, name: string): SqlQuery[] {
  return [
    {
      sql: 'INSERT INTO "_prisma_migrations" ("id","checksum","started_at","migration_name") VALUES ($1,$2,$3,$4)',
      args: [
        id,
        'ca9f9470a538bc9e1d2df032c0ae69e2ba5ea123e534f594776b592f7aef5a27',
        '2026-12-02T00:05:50.658+00:00',
        name,
      ],
      argTypes: [text, text, { scalarType: 'datetime', arity: 'scalar' }, text],
    },
    {
      sql: 'UPDATE "_prisma_migrations" SET "applied_steps_count" = ("applied_steps_count" + $1) WHERE "id" = $2',
      args: [1, id],
      argTypes: [{ scalarType: 'int', arity: 'scalar' }, text],
    },
    {
      sql: 'UPDATE "_prisma_migrations" SET "finished_at" = $1 WHERE "id" = $2',
      args: ['2026-12-02T00:05:51.000+00:00', id],
      argTypes: [{ scalarType: 'datetime', arity: 'scalar' }, text],
    },
  ];
}

describe('held bookkeeping writes', () => {
  it('write the same row as adapter-pg binding them, in any session time zone and with quotes in the name', async () => {
    // Prepare: a history table, a session in a time zone other than UTC
    const url = await database();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(HISTORY_TABLE);
      await client.query(`SET TimeZone = 'America/New_York'`);
      const name = String.raw`20260101000000_it's_a \back\slash`;
      const adapter = await new PrismaPg(new PinnedClientPool(client)).connect();

      // Act: one migration's writes bound by adapter-pg, the others rendered and sent as held: one by one, as one
      // INSERT of the finished row (a release), and as an INSERT then one UPDATE (per migration)
      for (const query of writesOf('bound', name)) await adapter.queryRaw(query);
      const rendered = writesOf('held', name).map((query) => renderHeldWrite(query));
      await client.query(rendered.join(';\n'));
      const inRelease = new HeldBookkeeping();
      inRelease.mode = 'release';
      for (const query of writesOf('merged', name)) expect(inRelease.hold(query)).toBe(true);
      const merged = inRelease.take() as string;
      await client.query(merged);
      const perMigration = new HeldBookkeeping();
      perMigration.mode = 'autocommit';
      perMigration.startsWithScript = () => true;
      const [started, ...finishing] = writesOf('updated', name);
      expect(perMigration.hold(started as SqlQuery)).toBe(true);
      const inserted = perMigration.take(true) as string;
      for (const query of finishing) expect(perMigration.hold(query)).toBe(true);
      expect(perMigration.due).toBe(true);
      const updated = perMigration.take() as string;
      await client.query(`${inserted};\n${updated}`);

      // Assess
      expect(rendered.every((sql) => sql !== undefined)).toBe(true);
      expect(merged.split(';\n')).toHaveLength(1);
      expect(merged).toMatch(/^INSERT INTO "_prisma_migrations" \(.*"applied_steps_count","finished_at"\)/);
      expect(updated.split(';\n')).toHaveLength(1);
      expect(updated).toMatch(
        /^UPDATE "_prisma_migrations" SET "applied_steps_count" = .*, "finished_at" = /,
      );
      const { rows } = await client.query(
        `SELECT id, checksum, finished_at::text, migration_name, logs, rolled_back_at, started_at::text,
                applied_steps_count FROM _prisma_migrations ORDER BY id`,
      );
      expect(rows.map((row) => row.id)).toEqual(['bound', 'held', 'merged', 'updated']);
      const [bound, ...others] = rows;
      for (const other of others) expect({ ...other, id: 'bound' }, other.id).toEqual(bound);
      expect(bound.migration_name).toBe(name);
      expect(bound.finished_at).not.toBeNull();
      expect(bound.applied_steps_count).toBe(1);
    } finally {
      await client.end();
    }
  });

  it('hold only the three writes of a successful migration, and only values rendered as adapter-pg binds them', () => {
    const [insert, steps, finished] = writesOf('x', 'm');
    // Prepare / Act / Assess: other statements and other values are sent as they come
    expect(
      renderHeldWrite({
        ...(steps as SqlQuery),
        sql: 'UPDATE "_prisma_migrations" SET "logs" = $1 WHERE "id" = $2',
      }),
    ).toBeUndefined();
    expect(renderHeldWrite({ ...(insert as SqlQuery), args: ['x', 'c', 'not a date', 'm'] })).toBeUndefined();
    expect(renderHeldWrite({ ...(steps as SqlQuery), args: [1.5, 'x'] })).toBeUndefined();
    expect(
      renderHeldWrite({ ...(finished as SqlQuery), args: [['2026-12-02T00:00:00Z'], 'x'] }),
    ).toBeUndefined();
    expect(
      renderHeldWrite({
        ...(finished as SqlQuery),
        sql: 'UPDATE "app"."_prisma_migrations" SET "finished_at" = $1 WHERE "id" = $2',
      }),
    ).toBe(`UPDATE "app"."_prisma_migrations" SET "finished_at" = '2026-12-02 00:05:51' WHERE "id" = 'x'`);
  });

  it('take one round trip per migration in a release, and leave the same history as per-migration mode', async () => {
    // Prepare: 12 small migrations, the last ending in a comment without a newline
    const migrations = Array.from({ length: 12 }, (_, i) => {
      const name = `2026010100${String(i).padStart(4, '0')}_m${i}`;
      const sql = `CREATE TABLE "t${i}" ("id" SERIAL PRIMARY KEY);\nINSERT INTO "t${i}" DEFAULT VALUES;`;
      return [name, i === 11 ? `${sql}\n-- the end` : sql] as const;
    });
    const bundle = await new DirectoryMigrationSource(await migrationsDirectory(migrations)).load();
    const [release, perMigration] = [await database(), await database()];

    // Act
    const sent = await queriesSentBy(() =>
      new PrismaMigrationEngine({ connectionString: release }).applyPending(bundle, {
        transactionMode: 'release',
      }),
    );
    await new PrismaMigrationEngine({ connectionString: perMigration }).applyPending(bundle, {
      transactionMode: 'per-migration',
    });

    // Assess: every script travelled with the writes held before it, in one query each
    const scripts = sent.filter((sql) => /CREATE TABLE "t\d+"/.test(sql));
    expect(scripts).toHaveLength(12);
    for (const sql of scripts)
      expect(sql).toMatch(/^SAVEPOINT prisma_migration;\n[\s\S]*RELEASE SAVEPOINT prisma_migration$/);
    expect(sent.filter((sql) => /^(INSERT INTO|UPDATE) "_prisma_migrations"/.test(sql))).toHaveLength(1);
    expect(sent.length).toBeLessThan(12 + 15);
    const history = (url: string) =>
      withClient(url, async (client) => {
        const { rows } = await client.query(
          `SELECT migration_name, checksum, logs, rolled_back_at, applied_steps_count,
                  finished_at IS NOT NULL AND finished_at >= started_at AS finished
             FROM _prisma_migrations ORDER BY started_at, migration_name`,
        );
        return rows;
      });
    const rows = await history(release);
    expect(rows.map((row) => row.migration_name)).toEqual(migrations.map(([name]) => name));
    expect(rows.every((row) => row.finished && row.applied_steps_count === 1)).toBe(true);
    expect(rows).toEqual(await history(perMigration));
  });

  it('report a failing script at its own line and column, with nothing committed', async () => {
    // Prepare: the third of four migrations fails at line 2 (character 29 of its script)
    const url = await database();
    const dir = await migrationsDirectory([
      ['20260101000000_a', 'CREATE TABLE "a" ("id" INTEGER);'],
      ['20260101000001_b', 'CREATE TABLE "b" ("id" INTEGER);'],
      [
        '20260101000002_c',
        '-- AlterTable\nSELECT 1 FROM "missing_table";\nALTER TABLE "a" ADD COLUMN "x" INTEGER;',
      ],
      ['20260101000003_d', 'CREATE TABLE "d" ("id" INTEGER);'],
    ]);
    const bundle = await new DirectoryMigrationSource(dir).load();

    // Act
    const error = await rejection<OrchestratorError>(
      new PrismaMigrationEngine({ connectionString: url }).applyPending(bundle, {
        transactionMode: 'release',
      }),
    );

    // Assess
    expect(error.name).toBe(ErrorNames.MigrationFailedDatabaseUnchanged);
    expect(error.details).toMatchObject({
      migration: '20260101000002_c',
      code: '42P01',
      position: '29',
      line: 2,
      rolledBack: ['20260101000000_a', '20260101000001_b'],
    });
    await withClient(url, async (client) => {
      const { rows } = await client.query(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
      );
      expect(rows).toEqual([]);
    });
  });

  it('name a history write that fails, in the middle or at the end of a release, and commit nothing', async () => {
    for (const failing of ['20260101000000_a', '20260101000001_b']) {
      // Prepare: the history table exists, and refuses to record one migration as finished
      const url = await database();
      await withClient(url, async (client) => {
        await client.query(HISTORY_TABLE);
        await client.query(`
          CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            IF NEW.finished_at IS NOT NULL AND NEW.migration_name = '${failing}' THEN
              RAISE EXCEPTION 'history write refused';
            END IF;
            RETURN NEW;
          END $$;
          CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON _prisma_migrations FOR EACH ROW EXECUTE FUNCTION refuse();`);
      });
      const dir = await migrationsDirectory([
        ['20260101000000_a', 'CREATE TABLE "a" ("id" INTEGER);'],
        ['20260101000001_b', 'CREATE TABLE "b" ("id" INTEGER);'],
      ]);
      const bundle = await new DirectoryMigrationSource(dir).load();

      // Act
      const error = await rejection<OrchestratorError>(
        new PrismaMigrationEngine({ connectionString: url }).applyPending(bundle, {
          transactionMode: 'release',
        }),
      );

      // Assess
      expect(error.name, failing).toBe(ErrorNames.MigrationFailedDatabaseUnchanged);
      expect(error.message, failing).toContain('history write refused');
      await withClient(url, async (client) => {
        const tables = await client.query(`SELECT to_regclass('a') AS a, to_regclass('b') AS b`);
        expect(tables.rows[0], failing).toEqual({ a: null, b: null });
        const history = await client.query('SELECT count(*)::int AS n FROM _prisma_migrations');
        expect(history.rows[0].n, failing).toBe(0);
      });
    }
  });

  it('per migration: a row travels with its script, a CONCURRENTLY script goes alone, and a failure still leaves its failed row', async () => {
    // Prepare
    const url = await database();
    const dir = await migrationsDirectory([
      ['20260101000000_a', 'CREATE TABLE "a" ("id" INTEGER);\nINSERT INTO "a" VALUES (1);'],
      ['20260101000001_index', 'CREATE INDEX CONCURRENTLY "a_id" ON "a" ("id");'],
      ['20260101000002_fails', 'CREATE TABLE "c" ("id" INTEGER);\nSELECT 1 FROM "missing_table";'],
    ]);
    const bundle = await new DirectoryMigrationSource(dir).load();

    // Act
    let error: OrchestratorError | undefined;
    const sent = await queriesSentBy(async () => {
      error = await rejection<OrchestratorError>(
        new PrismaMigrationEngine({ connectionString: url }).applyPending(bundle, {
          transactionMode: 'per-migration',
        }),
      );
    });

    // Assess
    expect(error?.name).toBe(ErrorNames.MigrationFailed);
    expect(error?.details).toMatchObject({ migration: '20260101000002_fails', position: '48', line: 2 });
    expect(sent.find((sql) => sql.includes('CREATE TABLE "a"'))).toMatch(/^INSERT INTO "_prisma_migrations"/);
    expect(sent.find((sql) => sql.includes('CONCURRENTLY'))).toBe(
      'CREATE INDEX CONCURRENTLY "a_id" ON "a" ("id");',
    );
    // A finished row's two UPDATEs as one statement.
    const finishing =
      /^UPDATE "_prisma_migrations" SET "applied_steps_count" = \("applied_steps_count" \+ 1\), "finished_at" = '[^']+' WHERE "id" = '[^']+'$/;
    expect(sent.filter((sql) => finishing.test(sql))).toHaveLength(2);
    await withClient(url, async (client) => {
      const { rows } = await client.query(
        `SELECT migration_name, finished_at IS NOT NULL AS finished, applied_steps_count, logs IS NOT NULL AS logged
           FROM _prisma_migrations ORDER BY started_at, migration_name`,
      );
      expect(rows).toEqual([
        { migration_name: '20260101000000_a', finished: true, applied_steps_count: 1, logged: false },
        { migration_name: '20260101000001_index', finished: true, applied_steps_count: 1, logged: false },
        { migration_name: '20260101000002_fails', finished: false, applied_steps_count: 0, logged: true },
      ]);
      expect((await client.query(`SELECT to_regclass('c') AS c`)).rows[0]).toEqual({ c: null });
    });
  });
});
