/**
 * A year and more of scheduled backups, end to end through the local runner on real PostgreSQL: 400 simulated
 * days of daily backups under a test clock leave exactly the policy's set, computed here from the calendar;
 * what the orchestrator did not take of this target survives. About 400 workflow executions: it runs in
 * `npm run test:slow` (CI runs it after `npm test`), not in `npm test`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sanitizeIdentifierPart } from '../../lambdas/shared/domain/identifiers.js';
import { backupRun, type Db, databasesLike } from '../helpers/backups.js';
import { dropDatabasesAndCopies, uniqueName, urlFor, withAdmin, withClient } from '../helpers/database.js';

const created: string[] = [];

// Some twenty snapshot databases: more than the default hook timeout on a busy server with fsync on.
afterAll(async () => {
  await dropDatabasesAndCopies(created);
}, 10 * 60_000);

// ------------------------------------------------------------------------------------------------------------
// The calendar of the schedule, in Europe/Berlin, computed without Intl: CET (UTC+1), and CEST (UTC+2) from
// the last Sunday of March to the last Sunday of October (the switch is at 02:00/03:00 local, so a backup at
// 00:30 on those Sundays still has the day's earlier offset).

const DAY_MS = 86_400_000;

/** A local calendar date, as days since 1970-01-01. */
type LocalDay = number;

function dayOf(year: number, month: number, day: number): LocalDay {
  return Date.UTC(year, month - 1, day) / DAY_MS;
}

function ymd(day: LocalDay): { year: number; month: number; day: number } {
  const date = new Date(day * DAY_MS);
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
}

function lastSunday(year: number, month: number): LocalDay {
  const last = dayOf(year, month + 1, 0);
  return last - new Date(last * DAY_MS).getUTCDay();
}

function berlinOffsetHours(day: LocalDay): number {
  const { year } = ymd(day);
  return day > lastSunday(year, 3) && day <= lastSunday(year, 10) ? 2 : 1;
}

/** The instant of `hh:mm` local time in Berlin on `day` (hours that exist on every day of the year). */
function berlinInstant(day: LocalDay, hours: number, minutes: number): Date {
  return new Date(day * DAY_MS + ((hours - berlinOffsetHours(day)) * 60 + minutes) * 60_000);
}

const two = (n: number) => String(n).padStart(2, '0');

function dayKey(day: LocalDay): string {
  const { year, month, day: d } = ymd(day);
  return `${year}-${two(month)}-${two(d)}`;
}

function monthKey(day: LocalDay): string {
  const { year, month } = ymd(day);
  return `${year}-${two(month)}`;
}

/** ISO week: Monday to Sunday, numbered in the year of its Thursday. */
function isoWeekKey(day: LocalDay): string {
  const weekday = (new Date(day * DAY_MS).getUTCDay() + 6) % 7;
  const thursday = day - weekday + 3;
  const { year } = ymd(thursday);
  return `${year}-W${two(Math.floor((thursday - dayOf(year, 1, 1)) / 7) + 1)}`;
}

interface Taken {
  readonly id: string;
  readonly day: LocalDay;
  readonly at: Date;
}

/**
 * The backups the policy keeps: the newest of each of the most recent `count` days, ISO weeks and months that
 * have a backup, for 7, 4 and 12.
 */
function expectedKept(taken: readonly Taken[]): Set<string> {
  const newestFirst = [...taken].sort((a, b) => b.at.getTime() - a.at.getTime());
  const kept = new Set<string>();
  for (const [bucket, count] of [
    [dayKey, 7],
    [isoWeekKey, 4],
    [monthKey, 12],
  ] as const) {
    const seen = new Set<string>();
    for (const backup of newestFirst) {
      const key = bucket(backup.day);
      if (seen.has(key)) continue;
      seen.add(key);
      if (seen.size > count) break;
      kept.add(backup.id);
    }
  }
  return kept;
}

describe('400 days of daily backups at 00:30 Europe/Berlin', () => {
  /** Fri 2023-12-01: the run crosses the 2024 leap day, both 2024 DST changes and an ISO week-year change. */
  const FIRST = dayOf(2023, 12, 1);
  const DAYS = 400;
  /** Ten missed runs, 2024-12-23 to 2025-01-01, right before the last two days. */
  const MISSED = new Set(Array.from({ length: 10 }, (_, i) => FIRST + 388 + i));
  /** Days with a second backup, at 23:00: the end of a month, and the last day before the missed runs. */
  const TWICE = new Set([dayOf(2024, 6, 30), FIRST + 387]);
  const MAX_KEPT = 7 + 4 + 12;

  let target: Db;
  let prefix: string;
  const lookAlikes: string[] = [];

  beforeAll(async () => {
    target = { name: uniqueName('bk_year'), url: '' };
    target = { ...target, url: urlFor(target.name) };
    created.push(target.name);
    prefix = sanitizeIdentifierPart(target.name);
    await withAdmin((client) => client.query(`CREATE DATABASE "${target.name}"`));
    await withClient(target.url, (client) =>
      client.query(
        'CREATE TABLE note (id integer PRIMARY KEY, body text); INSERT INTO note VALUES (1, $$kept$$);',
      ),
    );
    // Named like this target's backups, dated at the start of the simulation, none of them its backup:
    // another database's managed backup, a copy without metadata, and a copy with metadata but no managed-by
    // tag (a snapshot taken by hand).
    const other: Db = { name: `${target.name}_other`, url: urlFor(`${target.name}_other`) };
    created.push(other.name);
    await withAdmin((client) => client.query(`CREATE DATABASE "${other.name}"`));
    const othersBackup = await backupRun(other, berlinInstant(FIRST, 0, 30));
    expect(othersBackup.outcome).toBe('backup-taken');
    lookAlikes.push(othersBackup.state.snapshot?.snapshotId ?? '');
    const bare = `${prefix}-backup-20231201t000000z-0badcafe`;
    const handTaken = `${prefix}-backup-20231201t000100z-1badcafe`;
    await withAdmin(async (client) => {
      await client.query(`CREATE DATABASE "${bare}" TEMPLATE "${target.name}"`);
      await client.query(`CREATE DATABASE "${handTaken}" TEMPLATE "${target.name}"`);
      const metadata = {
        kind: 'snapshot',
        source: target.name,
        id: handTaken,
        tags: {},
        createdAt: berlinInstant(FIRST, 0, 1).toISOString(),
      };
      await client.query(`COMMENT ON DATABASE "${handTaken}" IS '${JSON.stringify(metadata)}'`);
    });
    lookAlikes.push(bare, handTaken);
  });

  it('leaves exactly the newest backup of the last 7 days, 4 ISO weeks and 12 months that have one', {
    timeout: 30 * 60_000,
  }, async () => {
    // Prepare
    const schedule: { day: LocalDay; at: Date }[] = [];
    for (let day = FIRST; day < FIRST + DAYS; day++) {
      if (MISSED.has(day)) continue;
      schedule.push({ day, at: berlinInstant(day, 0, 30) });
      if (TWICE.has(day)) schedule.push({ day, at: berlinInstant(day, 23, 0) });
    }
    const taken: Taken[] = [];

    // Act
    for (const { day, at } of schedule) {
      const result = await backupRun(target, at);
      const id = result.state.snapshot?.snapshotId ?? '';
      taken.push({ id, day, at });

      // Assess (after every run)
      expect(result.outcome, `the backup of ${dayKey(day)}`).toBe('backup-taken');
      const backups = (await databasesLike(`${prefix}-backup-%`)).filter(
        (name) => !lookAlikes.includes(name),
      );
      expect(backups, `backups after ${dayKey(day)}`).toContain(id);
      expect(backups.length).toBeLessThanOrEqual(MAX_KEPT);
    }

    // Assess
    const expected = expectedKept(taken);
    expect([...expected].map((id) => dayKey(taken.find((t) => t.id === id)?.day ?? 0)).sort()).toEqual([
      // Monthly: the last backup of each month, the leap day included; the newest of the month with two.
      '2024-02-29',
      '2024-03-31',
      '2024-04-30',
      '2024-05-31',
      '2024-06-30',
      '2024-07-31',
      '2024-08-31',
      '2024-09-30',
      '2024-10-31',
      '2024-11-30',
      // Weekly: ISO weeks 2024-W49 and W50 (W52 had no backup; 2025-W01 began on Monday 2024-12-30).
      '2024-12-08',
      '2024-12-15',
      // Daily: the 7 most recent days with a backup, across the missed runs (Dec 22 also ends W51 and 2024-12).
      '2024-12-18',
      '2024-12-19',
      '2024-12-20',
      '2024-12-21',
      '2024-12-22',
      '2025-01-02',
      '2025-01-03',
    ]);
    const [earlyJune30, lateJune30] = taken.filter((t) => dayKey(t.day) === '2024-06-30');
    expect(expected.has(lateJune30?.id ?? '')).toBe(true);
    expect(expected.has(earlyJune30?.id ?? '')).toBe(false);
    const left = await databasesLike(`${prefix}-%`);
    expect(left.filter((name) => !lookAlikes.includes(name)).sort()).toEqual([...expected].sort());
    expect(left).toEqual(expect.arrayContaining(lookAlikes));
  });
});
