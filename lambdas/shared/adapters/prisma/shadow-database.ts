/**
 * The temporary shadow databases the engine replays migrations in (for diffs and drift checks): named with
 * their creation time, always dropped after use, and, since a crashed run cannot drop its own, leftovers of
 * earlier runs are dropped before a new one is created.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { type ConnectionTarget, openClient } from '../postgres/client.js';

/** The prefix of every temporary shadow database (Prisma's own). */
export const SHADOW_DATABASE_PREFIX = 'prisma_migrate_shadow_db_';

/**
 * The shadow databases this process created and has not dropped yet: what an interrupted local run drops,
 * and nothing another process created.
 */
export const shadowDatabasesOfThisProcess: ReadonlySet<string> = new Set<string>();
const created = shadowDatabasesOfThisProcess as Set<string>;

/** Records a shadow database this process is about to create. */
export function rememberShadowDatabase(name: string): void {
  created.add(name);
}

/** A leftover younger than this may belong to a run still in progress, and is left alone. */
export const SHADOW_DATABASE_STALE_AFTER_MS = 10 * 60_000;

/** `prisma_migrate_shadow_db_20250201T090000Z_1a2b3c4d`: creation time (UTC, to the second) and 8 random hex. */
const TIMED_NAME = /^prisma_migrate_shadow_db_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z_[0-9a-f]{8}$/;
/** The name earlier versions used: `prisma_migrate_shadow_db_<uuid>`, which carries no time. */
const UUID_NAME = /^prisma_migrate_shadow_db_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The name of a shadow database created at `createdAt` (50 bytes, within PostgreSQL's 63). */
export function shadowDatabaseName(createdAt: Date, random = randomBytes(4).toString('hex')): string {
  const stamp = createdAt
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  return `${SHADOW_DATABASE_PREFIX}${stamp}_${random}`;
}

/**
 * When the shadow database `name` was created: a date for the current names, `null` for the uuid names of
 * earlier versions (no time: old by definition), `undefined` for any other name (not one of ours).
 */
export function shadowDatabaseCreatedAt(name: string): Date | null | undefined {
  if (UUID_NAME.test(name)) return null;
  const match = TIMED_NAME.exec(name);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second] = match.map(Number) as number[];
  const time = Date.UTC(year ?? 0, (month ?? 1) - 1, day, hour, minute, second);
  return Number.isNaN(time) ? undefined : new Date(time);
}

/** Is the shadow database `name` a leftover to drop at `now`? */
export function isStaleShadowDatabase(name: string, now: Date): boolean {
  const createdAt = shadowDatabaseCreatedAt(name);
  if (createdAt === undefined) return false;
  return createdAt === null || now.getTime() - createdAt.getTime() >= SHADOW_DATABASE_STALE_AFTER_MS;
}

/**
 * Drops the leftover shadow databases on `client`'s server: stale (see `isStaleShadowDatabase`) and with no
 * session connected. `DROP DATABASE` without `FORCE` refuses a database someone connected to meanwhile (in
 * use: left alone), as well as one this user does not own; such refusals are ignored. Returns the server's
 * clock, which also names the next shadow database (one clock for every run, whatever the callers' clocks).
 */
export async function dropStaleShadowDatabases(client: pg.Client): Promise<{ now: Date; dropped: string[] }> {
  const { rows } = await client.query<{ now: Date; leftovers: string[] }>(
    `SELECT now() AS now, array(
       SELECT d.datname::text FROM pg_database d
        WHERE d.datname LIKE 'prisma\\_migrate\\_shadow\\_db\\_%'
          AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)
        ORDER BY d.datname) AS leftovers`,
  );
  const now = rows[0]?.now ?? new Date();
  const dropped: string[] = [];
  for (const name of rows[0]?.leftovers ?? []) {
    if (!isStaleShadowDatabase(name, now)) continue;
    try {
      await client.query(`DROP DATABASE ${client.escapeIdentifier(name)}`);
      dropped.push(name);
    } catch {
      // In use (55006), not ours to drop (42501), or already gone: leave it.
    }
  }
  return { now, dropped };
}

/**
 * Drops the shadow database `name` through `client`, or, when that client cannot (its session is inside an
 * aborted transaction, or lost), through a new connection to `target`.
 */
export async function dropShadowDatabase(
  client: pg.Client,
  target: ConnectionTarget,
  name: string,
): Promise<void> {
  const drop = `DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)}`;
  try {
    await client.query(drop);
    created.delete(name);
    return;
  } catch {
    // Try again on a session of our own.
  }
  let fresh: pg.Client | undefined;
  try {
    fresh = await openClient(target);
    await fresh.query(drop);
    created.delete(name);
  } catch {
    // The next run drops it as a leftover.
  } finally {
    await fresh?.end().catch(() => undefined);
  }
}
