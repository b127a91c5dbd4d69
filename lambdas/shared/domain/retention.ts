/**
 * Retention of the snapshots this orchestrator manages for one target: which to keep, which to delete, and
 * why, as one pure function of (snapshots, now, policy, protected executions). No I/O; days, ISO weeks and
 * months are those of the policy's IANA time zone, read with `Intl`.
 *
 * Backups follow grandfather-father-son: the newest backup of each of the last `daily` days, of each of the
 * last `weekly` ISO weeks (Monday to Sunday) and of each of the last `monthly` months. The tiers overlap (the
 * newest backup of a Sunday can be a daily, a weekly and a monthly one at once). Pre-migration snapshots keep
 * the newest `preMigration` of them. Nothing else is ever deleted: see `retention`.
 *
 * How "the last N" is counted: N buckets THAT HAVE A BACKUP, newest first (the rule of restic's and Borg's
 * `--keep-daily`), not N calendar buckets back from `now`. The reason is the missed run. Counted on the
 * calendar, a scheduler that stopped for ten days leaves no backup in the last 7 days, so the daily tier keeps
 * nothing and the first run after the outage deletes every daily backup taken before it (after five weeks, every
 * weekly one too): the outage costs the restore points it should have been the reason to keep. Counted by
 * buckets with a backup, the 7 most recent days that have one are kept whatever lies between them, so the
 * policy always holds up to `daily + weekly + monthly` backups, reaching further back when runs were missed.
 * It also makes the result independent of when retention runs (`now` only bounds the clock skew), so pruning
 * after every backup leaves exactly the set that pruning once at the end would.
 */

export interface RetentionPolicy {
  /** Days that have a backup whose newest backup is kept, the most recent days first. @default 7 */
  readonly daily: number;
  /** ISO weeks (Monday to Sunday) that have a backup whose newest backup is kept. @default 4 */
  readonly weekly: number;
  /** Calendar months that have a backup whose newest backup is kept. @default 12 */
  readonly monthly: number;
  /** Newest pre-migration snapshots kept. @default 10 */
  readonly preMigration: number;
  /** IANA time zone in which days, weeks and months begin (that of the backup schedule). @default 'UTC' */
  readonly timeZone: string;
}

export const DEFAULT_RETENTION_POLICY: RetentionPolicy = Object.freeze({
  daily: 7,
  weekly: 4,
  monthly: 12,
  preMigration: 10,
  timeZone: 'UTC',
});

/**
 * How far after `now` a snapshot may have been created and still be taken at its word (the clocks of RDS and
 * of the function that prunes differ by seconds, not minutes). A snapshot later than this is kept, uncounted.
 */
export const RETENTION_CLOCK_SKEW_MS = 5 * 60_000;

export type RetainedSnapshotKind = 'backup' | 'pre-migration' | 'automated' | 'manual';

/** A snapshot of the target as retention sees it (read from its tags by the gateway). */
export interface RetainedSnapshot {
  readonly id: string;
  /** Creation time, ISO 8601. */
  readonly createdAt: string;
  /** True only when tagged as managed by this orchestrator for this very target. */
  readonly managed: boolean;
  readonly kind: RetainedSnapshotKind;
  /** The execution that created it (its execution tag). */
  readonly execution?: string;
  /** The snapshot's status (`available`, `creating`, ...); absent means available. */
  readonly status?: string;
}

/** Executions whose snapshots must survive: running, or failed and not yet resolved. */
export interface RetentionProtection {
  readonly executions: readonly string[];
}

/** Why a snapshot is kept; a snapshot can be kept for several reasons at once. */
export type RetentionRule =
  | 'unmanaged'
  | 'undated'
  | 'clock-skew'
  | 'unavailable'
  | 'protected'
  | 'newest'
  | 'daily'
  | 'weekly'
  | 'monthly'
  | 'pre-migration';

export interface KeptSnapshot {
  readonly id: string;
  /** A short sentence for the report ("newest backup of 2026-03-29 (daily, 3 of 7)"). */
  readonly why: string;
  /** The rules that keep it, for listings and tags (the snapshot's retention class). */
  readonly rules: readonly RetentionRule[];
}

export interface DeletedSnapshot {
  readonly id: string;
  readonly why: string;
}

/** Every input snapshot appears exactly once, in `keep` or in `delete`, each in input order. */
export interface RetentionDecision {
  readonly keep: readonly KeptSnapshot[];
  readonly delete: readonly DeletedSnapshot[];
}

const COUNTS = ['daily', 'weekly', 'monthly', 'preMigration'] as const;

/**
 * `overrides` merged over `DEFAULT_RETENTION_POLICY`, validated: the counts are non-negative integers and the
 * time zone is one `Intl` knows. Throws a `RangeError` naming the field, the value received and the fix.
 */
export function resolveRetentionPolicy(overrides: Partial<RetentionPolicy> = {}): RetentionPolicy {
  const policy: RetentionPolicy = { ...DEFAULT_RETENTION_POLICY, ...withoutUndefined(overrides) };
  for (const field of COUNTS) {
    const value: unknown = policy[field];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw new RangeError(
        `Retention policy field "${field}" must be a non-negative integer; received ${shown(value)}. ` +
          `Set it to 0 to keep none, or leave it out for the default (${DEFAULT_RETENTION_POLICY[field]}).`,
      );
    }
  }
  dateFormat(policy.timeZone);
  return policy;
}

function withoutUndefined(overrides: Partial<RetentionPolicy>): Partial<RetentionPolicy> {
  return Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
}

function shown(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** A formatter of calendar dates in `timeZone`; throws a `RangeError` naming the field when it is not valid. */
function dateFormat(timeZone: unknown): Intl.DateTimeFormat {
  const fix = 'Use an IANA time zone name such as "Europe/Berlin", or leave it out for "UTC".';
  if (typeof timeZone !== 'string' || timeZone.trim() === '') {
    throw new RangeError(
      `Retention policy field "timeZone" must be a time zone; received ${shown(timeZone)}. ${fix}`,
    );
  }
  try {
    return new Intl.DateTimeFormat('en-US', {
      timeZone,
      calendar: 'gregory',
      numberingSystem: 'latn',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
  } catch (cause) {
    throw new RangeError(
      `Retention policy field "timeZone" is not a time zone this runtime knows; received ${shown(timeZone)}. ${fix}`,
      { cause },
    );
  }
}

interface Buckets {
  /** `2026-03-29` */
  readonly day: string;
  /** `2026-W13` (the ISO week-numbering year, which differs from the calendar year around January 1). */
  readonly week: string;
  /** `2026-03` */
  readonly month: string;
}

const DAY_MS = 86_400_000;

function bucketsOf(format: Intl.DateTimeFormat, instant: number): Buckets {
  let year = 0;
  let month = 0;
  let day = 0;
  for (const part of format.formatToParts(instant)) {
    if (part.type === 'year') year = Number(part.value);
    else if (part.type === 'month') month = Number(part.value);
    else if (part.type === 'day') day = Number(part.value);
  }
  // ISO week: the week belongs to the year of its Thursday.
  const date = Date.UTC(year, month - 1, day);
  const weekday = (new Date(date).getUTCDay() + 6) % 7; // Monday 0 ... Sunday 6
  const thursday = new Date(date + (3 - weekday) * DAY_MS);
  const weekYear = thursday.getUTCFullYear();
  const week = 1 + Math.floor((thursday.getTime() - Date.UTC(weekYear, 0, 1)) / (7 * DAY_MS));
  return {
    day: `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`,
    week: `${pad(weekYear, 4)}-W${pad(week, 2)}`,
    month: `${pad(year, 4)}-${pad(month, 2)}`,
  };
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

type Tier = 'daily' | 'weekly' | 'monthly';

const TIERS: readonly { readonly tier: Tier; readonly bucket: keyof Buckets; readonly unit: string }[] = [
  { tier: 'daily', bucket: 'day', unit: 'days' },
  { tier: 'weekly', bucket: 'week', unit: 'weeks' },
  { tier: 'monthly', bucket: 'month', unit: 'months' },
];

function bucketLabel(bucket: keyof Buckets, key: string): string {
  return bucket === 'week' ? `week ${key}` : key;
}

/** Where a backup stands in one tier. */
interface TierPlace {
  readonly key: string;
  /** 1 for the most recent bucket that has a backup. */
  readonly rank: number;
  readonly newestOfBucket: boolean;
}

/** A managed snapshot that counts: dated, available, not from the future. */
interface Counted {
  readonly snapshot: RetainedSnapshot;
  readonly instant: number;
}

/** Newest first; equal times broken by id, so the result does not depend on the input order. */
function newestFirst(a: Counted, b: Counted): number {
  if (a.instant !== b.instant) return b.instant - a.instant;
  return a.snapshot.id < b.snapshot.id ? 1 : a.snapshot.id > b.snapshot.id ? -1 : 0;
}

function isManaged(snapshot: RetainedSnapshot): boolean {
  return snapshot.managed && (snapshot.kind === 'backup' || snapshot.kind === 'pre-migration');
}

function isAvailable(snapshot: RetainedSnapshot): boolean {
  return snapshot.status === undefined || snapshot.status === 'available';
}

/**
 * Which snapshots to keep and which to delete. Never deleted, whatever the policy: a snapshot not managed by
 * this orchestrator for this target (RDS automated snapshots, manual ones, another target's); one whose
 * execution is protected; the newest backup; one created more than `RETENTION_CLOCK_SKEW_MS` after `now`; one
 * not available yet (`creating`) or whose creation time cannot be read. The last three are not counted by the
 * policy either: they neither fill a day's place nor push an older backup out.
 *
 * Throws a `RangeError` when the policy is not valid (see `resolveRetentionPolicy`), `now` is not a date, or
 * two snapshots share an id.
 */
export function retention(
  snapshots: readonly RetainedSnapshot[],
  now: Date,
  policy: RetentionPolicy,
  protect: RetentionProtection,
): RetentionDecision {
  const resolved = resolveRetentionPolicy(policy);
  const format = dateFormat(resolved.timeZone);
  const nowMs = now.getTime();
  if (Number.isNaN(nowMs))
    throw new RangeError('Retention needs the current time; received an invalid date.');
  const seen = new Set<string>();
  for (const { id } of snapshots) {
    if (seen.has(id)) {
      throw new RangeError(
        `Snapshot "${id}" appears twice in the list given to retention; list each snapshot once.`,
      );
    }
    seen.add(id);
  }
  const protectedExecutions = new Set(protect.executions);

  const counted = new Map<string, Counted>();
  for (const snapshot of snapshots) {
    const instant = Date.parse(snapshot.createdAt);
    if (isManaged(snapshot) && isAvailable(snapshot) && !Number.isNaN(instant)) {
      if (instant <= nowMs + RETENTION_CLOCK_SKEW_MS) counted.set(snapshot.id, { snapshot, instant });
    }
  }
  const all = [...counted.values()];
  const backups = all.filter(({ snapshot }) => snapshot.kind === 'backup').sort(newestFirst);
  const preMigrations = all.filter(({ snapshot }) => snapshot.kind === 'pre-migration').sort(newestFirst);

  const buckets = new Map(backups.map(({ snapshot, instant }) => [snapshot.id, bucketsOf(format, instant)]));
  const places = new Map<Tier, Map<string, TierPlace>>();
  for (const { tier, bucket } of TIERS) {
    const ranks = new Map<string, number>();
    const tierPlaces = new Map<string, TierPlace>();
    for (const { snapshot } of backups) {
      const key = (buckets.get(snapshot.id) as Buckets)[bucket];
      const rank = ranks.get(key);
      if (rank === undefined) ranks.set(key, ranks.size + 1);
      tierPlaces.set(snapshot.id, { key, rank: rank ?? ranks.size, newestOfBucket: rank === undefined });
    }
    places.set(tier, tierPlaces);
  }
  const newestBackup = backups[0]?.snapshot.id;
  const preMigrationRanks = new Map(preMigrations.map(({ snapshot }, index) => [snapshot.id, index + 1]));

  const keep: KeptSnapshot[] = [];
  const remove: DeletedSnapshot[] = [];
  for (const snapshot of snapshots) {
    if (!isManaged(snapshot)) {
      keep.push({ id: snapshot.id, why: 'not managed by this orchestrator', rules: ['unmanaged'] });
      continue;
    }
    const rules: RetentionRule[] = [];
    const reasons: string[] = [];
    const instant = Date.parse(snapshot.createdAt);
    if (Number.isNaN(instant)) {
      rules.push('undated');
      reasons.push(`creation time ${JSON.stringify(snapshot.createdAt)} is not a date`);
    } else if (instant > nowMs + RETENTION_CLOCK_SKEW_MS) {
      rules.push('clock-skew');
      reasons.push('created after now (clock skew)');
    }
    if (!isAvailable(snapshot)) {
      rules.push('unavailable');
      reasons.push(`status ${snapshot.status}, not a restore point yet`);
    }
    if (snapshot.execution !== undefined && protectedExecutions.has(snapshot.execution)) {
      rules.push('protected');
      reasons.push(`execution ${snapshot.execution} may still need it (running, or failed and not resolved)`);
    }
    if (snapshot.id === newestBackup) {
      rules.push('newest');
      reasons.push('the newest backup');
    }
    const isCounted = counted.has(snapshot.id);
    if (isCounted && snapshot.kind === 'backup') {
      const held: string[] = [];
      for (const { tier, bucket } of TIERS) {
        const place = places.get(tier)?.get(snapshot.id) as TierPlace;
        if (place.newestOfBucket && place.rank <= resolved[tier]) {
          rules.push(tier);
          held.push(`${bucketLabel(bucket, place.key)} (${tier}, ${place.rank} of ${resolved[tier]})`);
        }
      }
      if (held.length > 0) reasons.push(`newest backup of ${joinList(held)}`);
    }
    const preMigrationRank = preMigrationRanks.get(snapshot.id);
    if (preMigrationRank !== undefined && preMigrationRank <= resolved.preMigration) {
      rules.push('pre-migration');
      reasons.push(`pre-migration snapshot ${preMigrationRank} of the newest ${resolved.preMigration}`);
    }

    if (rules.length > 0) {
      keep.push({ id: snapshot.id, why: reasons.join('; '), rules });
    } else if (snapshot.kind === 'backup') {
      remove.push({ id: snapshot.id, why: whyBackupGoes(snapshot.id, places, buckets, resolved) });
    } else {
      remove.push({
        id: snapshot.id,
        why: `pre-migration snapshot ${preMigrationRank} of ${preMigrations.length}, beyond the newest ${resolved.preMigration}`,
      });
    }
  }
  return { keep, delete: remove };
}

function whyBackupGoes(
  id: string,
  places: ReadonlyMap<Tier, ReadonlyMap<string, TierPlace>>,
  buckets: ReadonlyMap<string, Buckets>,
  policy: RetentionPolicy,
): string {
  const day = (buckets.get(id) as Buckets).day;
  const daily = places.get('daily')?.get(id) as TierPlace;
  // A backup that is not the newest of its day is not the newest of its week or month either.
  if (!daily.newestOfBucket) return `backup of ${day}, not the newest of that day`;
  const reasons = TIERS.map(({ tier, bucket, unit }) => {
    const place = places.get(tier)?.get(id) as TierPlace;
    if (policy[tier] === 0) return `no ${tier} backups kept (${tier} is 0)`;
    if (!place.newestOfBucket) return `not the newest of ${bucketLabel(bucket, place.key)}`;
    return `${bucketLabel(bucket, place.key)} is beyond the last ${policy[tier]} ${unit} with backups`;
  });
  return `backup of ${day}: ${reasons.join(', ')}`;
}

function joinList(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/**
 * The `retention-class` tag of a managed snapshot of `kind` under `policy`: the rule that governs it, in the
 * tag's allowed characters (`gfs-7d-4w-12m` for backups, `newest-10` for pre-migration snapshots).
 */
export function retentionClassOf(kind: 'backup' | 'pre-migration', policy: RetentionPolicy): string {
  return kind === 'backup'
    ? `gfs-${policy.daily}d-${policy.weekly}w-${policy.monthly}m`
    : `newest-${policy.preMigration}`;
}

/** The policy in words, for reports: `7 daily, 4 weekly, 12 monthly backups; newest 10 pre-migration (UTC)`. */
export function describeRetentionPolicy(policy: RetentionPolicy): string {
  return (
    `${policy.daily} daily, ${policy.weekly} weekly, ${policy.monthly} monthly backups; ` +
    `newest ${policy.preMigration} pre-migration snapshots (days in ${policy.timeZone})`
  );
}

/** How an execution that took a snapshot stands (see the `ExecutionHistory` port). */
export type ExecutionStanding = 'running' | 'succeeded' | 'failed' | 'unknown';

/**
 * The executions whose pre-migration snapshots retention must not delete: those still running, and those that
 * failed (or whose end is unknown: Step Functions forgets executions after 90 days, a local run may have died)
 * with no later release that succeeded. A failed release is resolved once a release after it succeeded: from
 * then on, its snapshot is counted like any other pre-migration one. `current` (the pruning execution) is
 * always protected.
 */
export function unresolvedExecutions(
  snapshots: readonly RetainedSnapshot[],
  standing: Readonly<Record<string, ExecutionStanding>>,
  current: string,
): string[] {
  const releases = snapshots
    .filter((snapshot) => snapshot.kind === 'pre-migration' && snapshot.execution !== undefined)
    .map((snapshot) => ({
      execution: snapshot.execution as string,
      at: Date.parse(snapshot.createdAt),
      standing: standing[snapshot.execution as string] ?? 'unknown',
    }));
  const lastSuccess = Math.max(
    Number.NEGATIVE_INFINITY,
    ...releases.filter((r) => r.standing === 'succeeded' && !Number.isNaN(r.at)).map((r) => r.at),
  );
  const unresolved = new Set([current]);
  for (const release of releases) {
    if (release.standing === 'running') unresolved.add(release.execution);
    else if (release.standing !== 'succeeded' && !(release.at < lastSuccess))
      unresolved.add(release.execution);
  }
  return [...unresolved];
}
