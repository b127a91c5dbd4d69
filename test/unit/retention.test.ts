import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RETENTION_POLICY,
  RETENTION_CLOCK_SKEW_MS,
  type RetainedSnapshot,
  type RetentionDecision,
  type RetentionPolicy,
  resolveRetentionPolicy,
  retention,
} from '../../lambdas/shared/domain/retention.js';

const NONE = { executions: [] } as const;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function backup(id: string, createdAt: string, extra: Partial<RetainedSnapshot> = {}): RetainedSnapshot {
  return { id, createdAt, managed: true, kind: 'backup', execution: `exec-${id}`, ...extra };
}

function preMigration(
  id: string,
  createdAt: string,
  extra: Partial<RetainedSnapshot> = {},
): RetainedSnapshot {
  return { id, createdAt, managed: true, kind: 'pre-migration', execution: `exec-${id}`, ...extra };
}

function policy(overrides: Partial<RetentionPolicy> = {}): RetentionPolicy {
  return { ...DEFAULT_RETENTION_POLICY, ...overrides };
}

function keptIds(decision: RetentionDecision): string[] {
  return decision.keep.map(({ id }) => id).sort();
}

function deletedIds(decision: RetentionDecision): string[] {
  return decision.delete.map(({ id }) => id).sort();
}

function whyKept(decision: RetentionDecision, id: string): string | undefined {
  return decision.keep.find((entry) => entry.id === id)?.why;
}

/** Only the tier under test: the other tiers at 0 (the newest backup is still always kept). */
const only = (overrides: Partial<RetentionPolicy>): RetentionPolicy =>
  policy({ daily: 0, weekly: 0, monthly: 0, preMigration: 0, ...overrides });

describe('resolveRetentionPolicy', () => {
  it('merges overrides over the defaults 7 daily, 4 weekly, 12 monthly, 10 pre-migration, UTC', () => {
    expect(resolveRetentionPolicy()).toEqual({
      daily: 7,
      weekly: 4,
      monthly: 12,
      preMigration: 10,
      timeZone: 'UTC',
    });
    expect(resolveRetentionPolicy({ daily: 0, timeZone: 'Europe/Berlin', weekly: undefined })).toEqual({
      daily: 0,
      weekly: 4,
      monthly: 12,
      preMigration: 10,
      timeZone: 'Europe/Berlin',
    });
  });

  it.each([
    ['daily', -1, /"daily" must be a non-negative integer; received -1/],
    ['weekly', 1.5, /"weekly" must be a non-negative integer; received 1\.5/],
    ['monthly', Number.NaN, /"monthly" must be a non-negative integer; received NaN/],
    ['preMigration', '10', /"preMigration" must be a non-negative integer; received "10"/],
  ])('fails when %s is %s, naming the field and the value', (field, value, message) => {
    expect(() => resolveRetentionPolicy({ [field]: value } as Partial<RetentionPolicy>)).toThrow(message);
    expect(() => retention([], new Date(), { ...policy(), [field]: value } as RetentionPolicy, NONE)).toThrow(
      RangeError,
    );
  });

  it.each([['Mars/Olympus_Mons'], [''], ['   ']])('fails when the time zone is %j', (timeZone) => {
    expect(() => resolveRetentionPolicy({ timeZone })).toThrow(/"timeZone".*received ".*".*IANA time zone/);
  });

  it('fails when now is not a date or a snapshot id appears twice', () => {
    expect(() => retention([], new Date('not a date'), policy(), NONE)).toThrow(/current time/);
    const twice = [backup('a', '2026-01-01T02:00:00Z'), backup('a', '2026-01-02T02:00:00Z')];
    expect(() => retention(twice, new Date('2026-01-03T00:00:00Z'), policy(), NONE)).toThrow(
      /Snapshot "a" appears twice/,
    );
  });
});

describe('retention: what is never deleted', () => {
  const now = new Date('2026-06-01T12:00:00Z');

  it('keeps automated, manual and unmanaged snapshots, even under a policy that keeps nothing', () => {
    const snapshots: RetainedSnapshot[] = [
      { id: 'rds:db-2020-01-01', createdAt: '2020-01-01T03:00:00Z', managed: false, kind: 'automated' },
      { id: 'by-hand', createdAt: '2020-01-02T03:00:00Z', managed: false, kind: 'manual' },
      { id: 'other-target', createdAt: '2020-01-03T03:00:00Z', managed: false, kind: 'backup' },
      { id: 'mislabelled', createdAt: '2020-01-04T03:00:00Z', managed: true, kind: 'automated' },
      backup('old', '2020-01-05T03:00:00Z'),
      backup('newest', '2026-05-31T03:00:00Z'),
    ];
    const decision = retention(snapshots, now, only({}), NONE);
    expect(deletedIds(decision)).toEqual(['old']);
    for (const id of ['rds:db-2020-01-01', 'by-hand', 'other-target', 'mislabelled']) {
      expect(decision.keep).toContainEqual({
        id,
        why: 'not managed by this orchestrator',
        rules: ['unmanaged'],
      });
    }
  });

  it('keeps the newest backup when every tier is 0', () => {
    const decision = retention(
      [backup('a', '2026-05-01T02:00:00Z'), backup('b', '2026-05-02T02:00:00Z')],
      now,
      only({}),
      NONE,
    );
    expect(decision.keep).toEqual([{ id: 'b', why: 'the newest backup', rules: ['newest'] }]);
    expect(decision.delete).toEqual([
      {
        id: 'a',
        why: 'backup of 2026-05-01: no daily backups kept (daily is 0), no weekly backups kept (weekly is 0), no monthly backups kept (monthly is 0)',
      },
    ]);
  });

  it('keeps every snapshot of a protected execution, backup or pre-migration, beyond the policy', () => {
    const snapshots = [
      backup('b1', '2026-05-01T02:00:00Z', { execution: 'arn:running' }),
      backup('b2', '2026-05-01T03:00:00Z', { execution: 'arn:done' }),
      backup('b3', '2026-05-02T02:00:00Z', { execution: 'arn:done' }),
      preMigration('p1', '2026-05-01T10:00:00Z', { execution: 'arn:failed-unresolved' }),
      preMigration('p2', '2026-05-02T10:00:00Z', { execution: 'arn:done' }),
    ];
    const decision = retention(snapshots, now, only({}), {
      executions: ['arn:running', 'arn:failed-unresolved'],
    });
    expect(keptIds(decision)).toEqual(['b1', 'b3', 'p1']);
    expect(whyKept(decision, 'b1')).toBe(
      'execution arn:running may still need it (running, or failed and not resolved)',
    );
    expect(deletedIds(decision)).toEqual(['b2', 'p2']);
  });

  it('keeps a snapshot created after now beyond the skew allowance, without letting it take a place', () => {
    const snapshots = [
      backup('today-early', '2026-06-01T02:00:00Z'),
      backup('today-late', '2026-06-01T11:00:00Z'),
      backup('future', '2026-06-01T13:00:00Z'),
    ];
    const decision = retention(snapshots, now, only({ daily: 1 }), NONE);
    expect(decision.keep).toContainEqual({
      id: 'future',
      why: 'created after now (clock skew)',
      rules: ['clock-skew'],
    });
    // 'today-late' is still the newest backup of the day, and the newest backup that counts.
    expect(whyKept(decision, 'today-late')).toBe(
      'the newest backup; newest backup of 2026-06-01 (daily, 1 of 1)',
    );
    expect(deletedIds(decision)).toEqual(['today-early']);
  });

  it('counts a snapshot created after now within the skew allowance as any other', () => {
    const slightlyAhead = new Date(now.getTime() + RETENTION_CLOCK_SKEW_MS - 1000).toISOString();
    const decision = retention(
      [backup('earlier', '2026-06-01T02:00:00Z'), backup('ahead', slightlyAhead)],
      now,
      only({ daily: 1 }),
      NONE,
    );
    expect(whyKept(decision, 'ahead')).toBe('the newest backup; newest backup of 2026-06-01 (daily, 1 of 1)');
    expect(decision.delete).toEqual([
      { id: 'earlier', why: 'backup of 2026-06-01, not the newest of that day' },
    ]);
  });

  it('keeps a snapshot that is not available yet, and does not count it as the newest of its day', () => {
    const decision = retention(
      [
        backup('done', '2026-06-01T02:00:00Z'),
        backup('creating', '2026-06-01T11:00:00Z', { status: 'creating' }),
      ],
      now,
      only({ daily: 1 }),
      NONE,
    );
    expect(whyKept(decision, 'creating')).toBe('status creating, not a restore point yet');
    expect(whyKept(decision, 'done')).toBe('the newest backup; newest backup of 2026-06-01 (daily, 1 of 1)');
    expect(decision.delete).toEqual([]);
  });

  it('keeps a snapshot whose creation time cannot be read', () => {
    const decision = retention([backup('odd', 'yesterday')], now, only({}), NONE);
    expect(decision.keep).toEqual([
      { id: 'odd', why: 'creation time "yesterday" is not a date', rules: ['undated'] },
    ]);
  });
});

describe('retention: pre-migration snapshots', () => {
  it('keeps the newest 10 and deletes the older ones, apart from the backups', () => {
    const snapshots = [
      ...Array.from({ length: 13 }, (_, i) =>
        preMigration(`p${String(i).padStart(2, '0')}`, new Date(Date.UTC(2026, 0, 1 + i, 10)).toISOString()),
      ),
      backup('b', '2025-01-01T02:00:00Z'),
    ];
    const decision = retention(snapshots, new Date('2026-02-01T00:00:00Z'), policy(), NONE);
    expect(deletedIds(decision)).toEqual(['p00', 'p01', 'p02']);
    expect(decision.delete[0]).toEqual({
      id: 'p00',
      why: 'pre-migration snapshot 13 of 13, beyond the newest 10',
    });
    expect(whyKept(decision, 'p12')).toBe('pre-migration snapshot 1 of the newest 10');
    // A pre-migration snapshot is not a backup: the lone old backup is still the newest backup.
    expect(whyKept(decision, 'b')).toMatch(
      /^the newest backup; newest backup of 2025-01-01 \(daily, 1 of 7\)/,
    );
  });
});

describe('retention: calendar', () => {
  const later = new Date('2027-06-01T00:00:00Z');

  it('keeps only the newest of several backups on one day; equal times are ordered by id, whatever the input order', () => {
    const snapshots = [
      backup('a', '2026-03-10T02:00:00Z'),
      backup('c', '2026-03-10T20:00:00Z'),
      backup('b', '2026-03-10T20:00:00Z'),
      backup('d', '2026-03-10T09:00:00Z'),
    ];
    const decision = retention(snapshots, later, policy(), NONE);
    expect(keptIds(decision)).toEqual(['c']);
    expect(keptIds(retention([...snapshots].reverse(), later, policy(), NONE))).toEqual(['c']);
    expect(decision.delete.map(({ id }) => id)).toEqual(['a', 'b', 'd']);
  });

  it('tells Feb 28 from Feb 29 in a leap year, and keeps Feb 29 as the newest of February', () => {
    const snapshots = [
      backup('feb-28', '2024-02-28T02:00:00Z'),
      backup('feb-29', '2024-02-29T02:00:00Z'),
      backup('mar-01', '2024-03-01T02:00:00Z'),
    ];
    const daily = retention(snapshots, later, only({ daily: 3 }), NONE);
    expect(whyKept(daily, 'feb-29')).toBe('newest backup of 2024-02-29 (daily, 2 of 3)');
    expect(deletedIds(daily)).toEqual([]);
    const monthly = retention(snapshots, later, only({ monthly: 2 }), NONE);
    expect(keptIds(monthly)).toEqual(['feb-29', 'mar-01']);
    expect(whyKept(monthly, 'feb-29')).toBe('newest backup of 2024-02 (monthly, 2 of 2)');
  });

  it('ends February on the 28th in a non-leap year', () => {
    const snapshots = [
      backup('feb-27', '2023-02-27T02:00:00Z'),
      backup('feb-28', '2023-02-28T02:00:00Z'),
      backup('mar-01', '2023-03-01T02:00:00Z'),
    ];
    const monthly = retention(snapshots, later, only({ monthly: 2 }), NONE);
    expect(keptIds(monthly)).toEqual(['feb-28', 'mar-01']);
    expect(monthly.delete).toEqual([
      {
        id: 'feb-27',
        why: 'backup of 2023-02-27: no daily backups kept (daily is 0), no weekly backups kept (weekly is 0), not the newest of 2023-02',
      },
    ]);
  });

  it('ends 30- and 31-day months on their last day', () => {
    const snapshots = [
      backup('apr-30', '2026-04-30T23:59:59Z'),
      backup('may-01', '2026-05-01T00:00:00Z'),
      backup('may-31', '2026-05-31T23:00:00Z'),
      backup('jun-01', '2026-06-01T01:00:00Z'),
    ];
    const decision = retention(snapshots, later, only({ monthly: 3 }), NONE);
    expect(keptIds(decision)).toEqual(['apr-30', 'jun-01', 'may-31']);
  });

  it('puts Dec 31 and Jan 1 in one ISO week of the new week-year, but in two months and years', () => {
    // 2026-01-01 is a Thursday: ISO week 2026-W01 runs from Monday 2025-12-29 to Sunday 2026-01-04.
    const snapshots = [
      backup('sun-dec-28', '2025-12-28T02:00:00Z'),
      backup('mon-dec-29', '2025-12-29T02:00:00Z'),
      backup('wed-dec-31', '2025-12-31T02:00:00Z'),
      backup('thu-jan-01', '2026-01-01T02:00:00Z'),
    ];
    const weekly = retention(snapshots, later, only({ weekly: 2 }), NONE);
    expect(keptIds(weekly)).toEqual(['sun-dec-28', 'thu-jan-01']);
    expect(whyKept(weekly, 'thu-jan-01')).toBe(
      'the newest backup; newest backup of week 2026-W01 (weekly, 1 of 2)',
    );
    expect(whyKept(weekly, 'sun-dec-28')).toBe('newest backup of week 2025-W52 (weekly, 2 of 2)');
    const monthly = retention(snapshots, later, only({ monthly: 2 }), NONE);
    expect(keptIds(monthly)).toEqual(['thu-jan-01', 'wed-dec-31']);
    expect(whyKept(monthly, 'wed-dec-31')).toBe('newest backup of 2025-12 (monthly, 2 of 2)');
  });

  it('knows 53-week years: Jan 3 2021 still belongs to 2020-W53', () => {
    const snapshots = [
      backup('thu-dec-31', '2020-12-31T02:00:00Z'),
      backup('sun-jan-03', '2021-01-03T02:00:00Z'),
      backup('mon-jan-04', '2021-01-04T02:00:00Z'),
    ];
    const weekly = retention(snapshots, later, only({ weekly: 2 }), NONE);
    expect(keptIds(weekly)).toEqual(['mon-jan-04', 'sun-jan-03']);
    expect(whyKept(weekly, 'sun-jan-03')).toBe('newest backup of week 2020-W53 (weekly, 2 of 2)');
  });

  it('cuts days at local midnight across the Europe/Berlin spring change (2026-03-29, a 23-hour day)', () => {
    // Local midnight is 23:00Z before the change (CET, +1) and 22:00Z after it (CEST, +2).
    const snapshots = [
      backup('mar-28-23:59', '2026-03-28T22:59:00Z'),
      backup('mar-29-00:00', '2026-03-28T23:00:00Z'),
      backup('mar-29-03:30', '2026-03-29T01:30:00Z'), // after the jump from 02:00 to 03:00
      backup('mar-29-23:59', '2026-03-29T21:59:00Z'),
      backup('mar-30-00:00', '2026-03-29T22:00:00Z'),
    ];
    const berlin = retention(snapshots, later, only({ daily: 7, timeZone: 'Europe/Berlin' }), NONE);
    expect(keptIds(berlin)).toEqual(['mar-28-23:59', 'mar-29-23:59', 'mar-30-00:00']);
    expect(whyKept(berlin, 'mar-29-23:59')).toBe('newest backup of 2026-03-29 (daily, 2 of 7)');
    // The same instants cut at UTC midnight fall into other days.
    const utc = retention(snapshots, later, only({ daily: 7 }), NONE);
    expect(keptIds(utc)).toEqual(['mar-29-00:00', 'mar-30-00:00']);
  });

  it('cuts days at local midnight across the Europe/Berlin autumn change (2026-10-25, a 25-hour day)', () => {
    // Local midnight is 22:00Z before the change (CEST, +2) and 23:00Z after it (CET, +1); 02:30 happens twice.
    const snapshots = [
      backup('oct-24-23:59', '2026-10-24T21:59:00Z'),
      backup('oct-25-00:00', '2026-10-24T22:00:00Z'),
      backup('oct-25-02:30-cest', '2026-10-25T00:30:00Z'),
      backup('oct-25-02:30-cet', '2026-10-25T01:30:00Z'),
      backup('oct-25-23:59', '2026-10-25T22:59:00Z'),
      backup('oct-26-00:00', '2026-10-25T23:00:00Z'),
    ];
    const berlin = retention(snapshots, later, only({ daily: 7, timeZone: 'Europe/Berlin' }), NONE);
    expect(keptIds(berlin)).toEqual(['oct-24-23:59', 'oct-25-23:59', 'oct-26-00:00']);
    const utc = retention(snapshots, later, only({ daily: 7 }), NONE);
    expect(keptIds(utc)).toEqual(['oct-25-00:00', 'oct-26-00:00']);
  });

  it('counts a backup at 23:30 local, already the next day in UTC, for its local day and month', () => {
    // America/New_York in January is UTC-5: 23:30 local on Jan 31 is 04:30Z on Feb 1.
    const snapshots = [
      backup('jan-31-07:00', '2026-01-31T12:00:00Z'),
      backup('jan-31-23:30', '2026-02-01T04:30:00Z'),
      backup('feb-01-07:00', '2026-02-01T12:00:00Z'),
    ];
    const newYork = retention(snapshots, later, only({ daily: 7, timeZone: 'America/New_York' }), NONE);
    expect(keptIds(newYork)).toEqual(['feb-01-07:00', 'jan-31-23:30']);
    expect(whyKept(newYork, 'jan-31-23:30')).toBe('newest backup of 2026-01-31 (daily, 2 of 7)');
    const monthly = retention(snapshots, later, only({ monthly: 2, timeZone: 'America/New_York' }), NONE);
    expect(keptIds(monthly)).toEqual(['feb-01-07:00', 'jan-31-23:30']);
    const utc = retention(snapshots, later, only({ daily: 7 }), NONE);
    expect(keptIds(utc)).toEqual(['feb-01-07:00', 'jan-31-07:00']);
  });

  it('counts a backup at 00:30 on Jan 1 in Berlin, still Dec 31 in UTC, for the new year', () => {
    const snapshots = [
      backup('dec-31-02:00', '2025-12-31T01:00:00Z'),
      backup('jan-01-00:30', '2025-12-31T23:30:00Z'),
      backup('jan-01-02:00', '2026-01-01T01:00:00Z'),
    ];
    const berlin = retention(snapshots, later, only({ monthly: 12, timeZone: 'Europe/Berlin' }), NONE);
    expect(keptIds(berlin)).toEqual(['dec-31-02:00', 'jan-01-02:00']);
    const utc = retention(snapshots, later, only({ monthly: 12 }), NONE);
    expect(keptIds(utc)).toEqual(['jan-01-00:30', 'jan-01-02:00']);
  });

  it('counts the last N days that have a backup, not N calendar days: a gap of missed runs costs no restore point', () => {
    // Daily runs from March 1 to 10, then none until March 26 (15 missed runs).
    const days = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 26];
    const snapshots = days.map((d) => backup(`mar-${d}`, `2026-03-${String(d).padStart(2, '0')}T02:00:00Z`));
    const decision = retention(snapshots, new Date('2026-03-26T02:10:00Z'), only({ daily: 7 }), NONE);
    // Counted on the calendar, only March 26 would lie within the last 7 days.
    expect(keptIds(decision)).toEqual(['mar-10', 'mar-26', 'mar-5', 'mar-6', 'mar-7', 'mar-8', 'mar-9']);
    expect(whyKept(decision, 'mar-5')).toBe('newest backup of 2026-03-05 (daily, 7 of 7)');
    expect(decision.delete).toContainEqual({
      id: 'mar-4',
      why: 'backup of 2026-03-04: 2026-03-04 is beyond the last 7 days with backups, no weekly backups kept (weekly is 0), no monthly backups kept (monthly is 0)',
    });
  });

  it('counts weeks and months that have a backup the same way, across a missed month', () => {
    const snapshots = [
      backup('jan', '2026-01-15T02:00:00Z'),
      backup('feb', '2026-02-15T02:00:00Z'),
      backup('apr', '2026-04-15T02:00:00Z'), // no backup at all in March
    ];
    const decision = retention(
      snapshots,
      new Date('2026-04-15T03:00:00Z'),
      only({ monthly: 3, weekly: 2 }),
      NONE,
    );
    expect(keptIds(decision)).toEqual(['apr', 'feb', 'jan']);
    expect(whyKept(decision, 'feb')).toBe(
      'newest backup of week 2026-W07 (weekly, 2 of 2) and 2026-02 (monthly, 2 of 3)',
    );
  });

  it('decides the same whenever it runs: now only bounds the clock skew', () => {
    const snapshots = Array.from({ length: 60 }, (_, i) =>
      backup(`d${i}`, new Date(Date.UTC(2026, 0, 1 + i, 2)).toISOString()),
    );
    const soon = retention(snapshots, new Date('2026-03-02T03:00:00Z'), policy(), NONE);
    const muchLater = retention(snapshots, new Date('2030-01-01T00:00:00Z'), policy(), NONE);
    expect(muchLater).toEqual(soon);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Property-style tests over generated histories, checked against an oracle written independently of the
// implementation (days from `Intl` `format`, weeks by their Monday, the tiers by sorting bucket keys).

/** mulberry32: a small seeded PRNG, so that a failing history can be replayed from its seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface History {
  readonly seed: number;
  readonly snapshots: readonly RetainedSnapshot[];
  readonly now: Date;
  readonly policy: RetentionPolicy;
  readonly protect: readonly string[];
}

const ZONES = [
  'UTC',
  'Europe/Berlin',
  'America/New_York',
  'Australia/Lord_Howe',
  'Asia/Kolkata',
  'Pacific/Chatham',
];

function generateHistory(seed: number): History {
  const random = prng(seed);
  const int = (below: number) => Math.floor(random() * below);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const policyOf: RetentionPolicy = {
    daily: int(10),
    weekly: int(7),
    monthly: int(15),
    preMigration: int(13),
    timeZone: pick(ZONES),
  };
  const start = Date.UTC(2023, 0, 1) + int(900) * DAY; // spans the leap year 2024
  const days = 1 + int(400);
  const gapChance = random() * 0.6;
  const snapshots: RetainedSnapshot[] = [];
  let n = 0;
  const add = (snapshot: Omit<RetainedSnapshot, 'id'>) => {
    snapshots.push({ id: `s${n++}`, ...snapshot });
  };
  for (let day = 0; day < days; day++) {
    if (random() < gapChance) continue;
    const runs = random() < 0.2 ? 2 + int(3) : 1;
    for (let run = 0; run < runs; run++) {
      const at = start + day * DAY + int(DAY);
      const roll = random();
      const createdAt = new Date(at).toISOString();
      const execution = `exec-${int(2000)}`;
      if (roll < 0.03) add({ createdAt, managed: false, kind: 'automated' });
      else if (roll < 0.05) add({ createdAt, managed: false, kind: 'manual' });
      else if (roll < 0.07) add({ createdAt, managed: false, kind: 'backup', execution });
      else if (roll < 0.09) add({ createdAt, managed: true, kind: 'backup', execution, status: 'creating' });
      else if (roll < 0.2) add({ createdAt, managed: true, kind: 'pre-migration', execution });
      else
        add({
          createdAt,
          managed: true,
          kind: 'backup',
          execution,
          status: random() < 0.5 ? 'available' : undefined,
        });
      if (random() < 0.05) add({ createdAt, managed: true, kind: 'backup', execution }); // same instant
    }
  }
  const last = start + days * DAY;
  const now = new Date(last - int(3 * DAY));
  if (random() < 0.3) {
    for (let i = 0; i < 1 + int(3); i++) {
      const ahead = pick([RETENTION_CLOCK_SKEW_MS - 1000, RETENTION_CLOCK_SKEW_MS + 1000, HOUR, 2 * DAY]);
      add({ createdAt: new Date(now.getTime() + ahead).toISOString(), managed: true, kind: 'backup' });
    }
  }
  const executions = snapshots.flatMap(({ execution }) => (execution === undefined ? [] : [execution]));
  const protect = random() < 0.5 ? Array.from({ length: int(4) }, () => pick(executions)) : [];
  // Shuffled: the input order must not matter.
  for (let i = snapshots.length - 1; i > 0; i--) {
    const j = int(i + 1);
    [snapshots[i], snapshots[j]] = [snapshots[j] as RetainedSnapshot, snapshots[i] as RetainedSnapshot];
  }
  return { seed, snapshots, now, policy: policyOf, protect };
}

const HISTORIES = Array.from({ length: 500 }, (_, i) => generateHistory(1000 + i));
const decide = (history: History, snapshots = history.snapshots): RetentionDecision =>
  retention(snapshots, history.now, history.policy, { executions: history.protect });
const DECISIONS = HISTORIES.map((history) => decide(history));

const dayFormats = new Map<string, Intl.DateTimeFormat>();
function localDay(timeZone: string, instant: number): string {
  let format = dayFormats.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    dayFormats.set(timeZone, format);
  }
  return format.format(instant);
}

/** The Monday of the local day's week, as `YYYY-MM-DD`: the same grouping as ISO weeks. */
function mondayOf(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() - ((date.getUTCDay() + 6) % 7));
  return date.toISOString().slice(0, 10);
}

const isBackupThatCounts = (s: RetainedSnapshot, now: Date) =>
  s.managed &&
  (s.status === undefined || s.status === 'available') &&
  Date.parse(s.createdAt) <= now.getTime() + RETENTION_CLOCK_SKEW_MS;

const newer = (a: RetainedSnapshot, b: RetainedSnapshot) =>
  a.createdAt > b.createdAt || (a.createdAt === b.createdAt && a.id > b.id);

/** The newest backup of each of the last `count` buckets that have one. */
function required(
  backups: readonly RetainedSnapshot[],
  bucketOf: (s: RetainedSnapshot) => string,
  count: number,
) {
  const newestOf = new Map<string, RetainedSnapshot>();
  for (const s of backups) {
    const current = newestOf.get(bucketOf(s));
    if (current === undefined || newer(s, current)) newestOf.set(bucketOf(s), s);
  }
  return [...newestOf.keys()]
    .sort()
    .reverse()
    .slice(0, count)
    .map((key) => (newestOf.get(key) as RetainedSnapshot).id);
}

/** What the policy says must be kept, and nothing else. */
function oracle(history: History): Set<string> {
  const { snapshots, now, policy: p } = history;
  const keep = new Set<string>();
  const managedKind = (s: RetainedSnapshot) =>
    s.managed && (s.kind === 'backup' || s.kind === 'pre-migration');
  for (const s of snapshots) {
    if (!managedKind(s) || !isBackupThatCounts(s, now)) keep.add(s.id);
    if (s.execution !== undefined && history.protect.includes(s.execution)) keep.add(s.id);
  }
  const counting = (kind: string) =>
    snapshots.filter((s) => managedKind(s) && s.kind === kind && isBackupThatCounts(s, now));
  const backups = counting('backup');
  const day = (s: RetainedSnapshot) => localDay(p.timeZone, Date.parse(s.createdAt));
  const tiers = [
    ...required(backups, day, p.daily),
    ...required(backups, (s) => mondayOf(day(s)), p.weekly),
    ...required(backups, (s) => day(s).slice(0, 7), p.monthly),
    ...required(backups, () => 'all', 1),
    ...counting('pre-migration')
      .sort((a, b) => (newer(a, b) ? -1 : 1))
      .slice(0, p.preMigration)
      .map(({ id }) => id),
  ];
  for (const id of tiers) keep.add(id);
  return keep;
}

describe('retention over 500 generated histories', () => {
  it('partitions the input exactly: every snapshot once, in keep or in delete', () => {
    HISTORIES.forEach((history, i) => {
      const decision = DECISIONS[i] as RetentionDecision;
      const out = [...decision.keep, ...decision.delete].map(({ id }) => id).sort();
      expect(out, `seed ${history.seed}`).toEqual(history.snapshots.map(({ id }) => id).sort());
      for (const entry of [...decision.keep, ...decision.delete]) expect(entry.why).not.toBe('');
    });
  });

  it('never deletes an automated, manual or unmanaged snapshot', () => {
    let seen = 0;
    HISTORIES.forEach((history, i) => {
      const deleted = new Set(deletedIds(DECISIONS[i] as RetentionDecision));
      for (const s of history.snapshots) {
        if (s.managed && (s.kind === 'backup' || s.kind === 'pre-migration')) continue;
        seen++;
        expect(deleted.has(s.id), `seed ${history.seed}: ${s.id}`).toBe(false);
      }
    });
    expect(seen).toBeGreaterThan(1000);
  });

  it('always keeps the newest backup', () => {
    HISTORIES.forEach((history, i) => {
      const backups = history.snapshots.filter((s) => s.managed && s.kind === 'backup');
      const newest = backups.reduce<RetainedSnapshot | undefined>(
        (best, s) => (best === undefined || newer(s, best) ? s : best),
        undefined,
      );
      if (newest !== undefined)
        expect(keptIds(DECISIONS[i] as RetentionDecision), `seed ${history.seed}`).toContain(newest.id);
    });
  });

  it('always keeps the snapshots of protected executions', () => {
    let seen = 0;
    HISTORIES.forEach((history, i) => {
      const kept = new Set(keptIds(DECISIONS[i] as RetentionDecision));
      for (const s of history.snapshots) {
        if (s.execution === undefined || !history.protect.includes(s.execution)) continue;
        seen++;
        expect(kept.has(s.id), `seed ${history.seed}: ${s.id}`).toBe(true);
      }
    });
    expect(seen).toBeGreaterThan(50);
  });

  it('keeps exactly what the policy requires: each tier satisfied, nothing more', () => {
    let deleted = 0;
    HISTORIES.forEach((history, i) => {
      const decision = DECISIONS[i] as RetentionDecision;
      expect(keptIds(decision), `seed ${history.seed}`).toEqual([...oracle(history)].sort());
      deleted += decision.delete.length;
    });
    expect(deleted).toBeGreaterThan(10_000);
  });

  it('is idempotent: applied to what it kept, it deletes nothing more', () => {
    HISTORIES.forEach((history, i) => {
      const kept = new Set(keptIds(DECISIONS[i] as RetentionDecision));
      const again = decide(
        history,
        history.snapshots.filter((s) => kept.has(s.id)),
      );
      expect(again.delete, `seed ${history.seed}`).toEqual([]);
    });
  });

  it('does not depend on the input order', () => {
    HISTORIES.slice(0, 100).forEach((history, i) => {
      const reversed = decide(history, [...history.snapshots].reverse());
      expect(keptIds(reversed), `seed ${history.seed}`).toEqual(keptIds(DECISIONS[i] as RetentionDecision));
    });
  });

  it('pruning after every new snapshot leaves the same set as pruning once at the end', () => {
    HISTORIES.slice(0, 100).forEach((history, i) => {
      const inOrder = [...history.snapshots]
        .filter(
          (s) => !Number.isNaN(Date.parse(s.createdAt)) && Date.parse(s.createdAt) <= history.now.getTime(),
        )
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
      let current: RetainedSnapshot[] = [];
      for (const s of inOrder) {
        const at = new Date(Math.max(Date.parse(s.createdAt), 0));
        const kept = new Set(
          keptIds(retention([...current, s], at, history.policy, { executions: history.protect })),
        );
        current = [...current, s].filter((x) => kept.has(x.id));
      }
      const once = new Set(keptIds(decide(history, inOrder)));
      expect(current.map(({ id }) => id).sort(), `seed ${history.seed} (${i})`).toEqual([...once].sort());
    });
  });
});

// ---------------------------------------------------------------------------------------------------------
// A year and more of scheduled backups at 02:00 Europe/Berlin, pruned after each one.

/** Europe/Berlin's rule since 1996, written out: summer time from the last Sunday of March to that of October. */
function lastSunday(year: number, month: number): number {
  const last = new Date(Date.UTC(year, month + 1, 0));
  return last.getUTCDate() - last.getUTCDay();
}

/** True when 00:30 and 02:00 local on that date are summer time (on the spring change 02:00 does not exist
 * and the run happens at 03:00 summer time = 01:00Z, as in winter). */
function summerAtNight(year: number, month: number, date: number): boolean {
  const key = month * 100 + date;
  return key > 2 * 100 + lastSunday(year, 2) && key <= 9 * 100 + lastSunday(year, 9);
}

describe('retention over 400 simulated days of backups at 02:00 Europe/Berlin', () => {
  it('leaves exactly the 7 daily, 4 weekly and 12 monthly backups and the last 10 pre-migration snapshots', () => {
    const berlin = policy({ timeZone: 'Europe/Berlin' });
    const automated: RetainedSnapshot = {
      id: 'rds:automated-1',
      createdAt: '2023-11-01T03:00:00Z',
      managed: false,
      kind: 'automated',
    };
    let current: RetainedSnapshot[] = [automated];
    const dates: string[] = [];
    const preMigrations: string[] = [];
    // From 2023-11-15 over 400 days: Dec 31 -> Jan 1, Feb 29 2024, both changes of summer time in 2024.
    for (let day = 0; day < 400; day++) {
      const local = new Date(Date.UTC(2023, 10, 15 + day));
      const [y, m, d] = [local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate()];
      const date = local.toISOString().slice(0, 10);
      const offset = summerAtNight(y, m, d) ? 2 : 1;
      const run = (id: string, hour: number, minute: number) => {
        const at = Date.UTC(y, m, d, hour - offset, minute);
        current.push(backup(id, new Date(at).toISOString()));
        const kept = new Set(keptIds(retention(current, new Date(at + 10 * 60_000), berlin, NONE)));
        current = current.filter((s) => kept.has(s.id));
      };
      // An on-demand backup at 00:30 local on Mondays and on the 1st: still the previous day in UTC, so a
      // wrong time zone would let it be a weekly or monthly backup; the 02:00 run then supersedes it.
      if (local.getUTCDay() === 1 || d === 1) run(`${date}-00:30`, 0, 30);
      run(`${date}-02:00`, 2, 0);
      dates.push(date);
      if (day % 9 === 4) {
        const id = `pre-${date}`;
        current.push(preMigration(id, new Date(Date.UTC(y, m, d, 14 - offset)).toISOString()));
        preMigrations.push(id);
        const kept = new Set(keptIds(retention(current, new Date(Date.UTC(y, m, d, 15)), berlin, NONE)));
        current = current.filter((s) => kept.has(s.id));
      }
    }

    // Expected, from the local dates alone: every date has a 02:00 backup, the newest of its day.
    const lastOfEach = (key: (date: string) => string, count: number) => {
      const last = new Map<string, string>();
      for (const date of dates) last.set(key(date), date);
      return [...last.values()].slice(-count);
    };
    const expected = new Set([
      ...lastOfEach((date) => date, 7),
      ...lastOfEach(mondayOf, 4),
      ...lastOfEach((date) => date.slice(0, 7), 12),
    ]);
    const expectedIds = [
      ...[...expected].map((date) => `${date}-02:00`),
      ...preMigrations.slice(-10),
      automated.id,
    ];
    expect(current.map(({ id }) => id).sort()).toEqual(expectedIds.sort());
    expect(dates.at(-1)).toBe('2024-12-18');
    // 7 days (Dec 12-18), 2 more weeks (Dec 1, Dec 8), 11 more months (Jan 31 to Nov 30, Feb 29 among them).
    expect(expected.size).toBe(7 + 2 + 11);
    expect(expected).toContain('2024-02-29');
    expect(expected).not.toContain('2023-12-31');
  });
});
