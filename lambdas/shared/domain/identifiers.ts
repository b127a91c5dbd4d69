/**
 * Names this workflow gives to what it creates: snapshots, restored copies, and the failed original kept
 * aside. They must be valid RDS identifiers: a letter first, then letters, digits and hyphens, no two
 * hyphens in a row, no trailing hyphen, at most 63 characters (instances, clusters) or 255 (snapshots).
 * The local PostgreSQL gateway uses the same names (lower case), which are valid database names too.
 */
import { createHash } from 'node:crypto';
import type { ExecutionInfo } from '../contract/contract.js';

export const MAX_DB_IDENTIFIER_LENGTH = 63;
export const MAX_SNAPSHOT_IDENTIFIER_LENGTH = 255;

const VALID = /^[a-z](?:[a-z0-9]|-(?!-))*[a-z0-9]$|^[a-z]$/;

/** True when `id` is a valid RDS DB instance/cluster/snapshot identifier of at most `maxLength`. */
export function isValidRdsIdentifier(id: string, maxLength = MAX_DB_IDENTIFIER_LENGTH): boolean {
  return id.length <= maxLength && VALID.test(id);
}

/** Lower-cases, turns anything else into hyphens, squeezes and trims hyphens. */
function cleanPart(raw: string): string {
  const cleaned = raw
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '');
  return cleaned === '' ? 'x' : cleaned;
}

/** `cleanPart`, and forces a letter first (an identifier's first part). */
export function sanitizeIdentifierPart(raw: string): string {
  const cleaned = cleanPart(raw);
  return /^[a-z]/.test(cleaned) ? cleaned : `x${cleaned}`;
}

function sanitizeParts(parts: readonly string[]): string[] {
  return parts.map((part, index) => (index === 0 ? sanitizeIdentifierPart(part) : cleanPart(part)));
}

function shortHash(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 8);
}

/**
 * Joins parts with hyphens and keeps the result within `maxLength`: when too long, the first part is
 * shortened and a short hash of the full name keeps it unique.
 */
function joinWithin(parts: readonly string[], maxLength: number): string {
  const cleaned = sanitizeParts(parts);
  const full = cleaned.join('-');
  if (full.length <= maxLength) return full;
  const hash = shortHash(full);
  const [head = 'x', ...rest] = cleaned;
  const tail = `${rest.join('-')}-${hash}`;
  const room = maxLength - tail.length - 1;
  const shortenedHead = room > 0 ? head.slice(0, room).replace(/-+$/, '') : '';
  const joined = shortenedHead ? `${shortenedHead}-${tail}` : `m-${hash}`;
  return joined.slice(0, maxLength).replace(/-+$/, '');
}

/** Compact UTC time stamp, `20250101t093000z`. */
export function compactTimestamp(at: Date): string {
  return at
    .toISOString()
    .replace(/\.\d{3}Z$/, 'z')
    .replace(/[-:]/g, '')
    .toLowerCase();
}

/**
 * The execution an identifier belongs to: its id (the execution ARN) and start time make it unique, its name
 * keeps the identifier readable. A plain string stands for an execution whose id and name are that string;
 * it is meant for deriving identifier patterns (IAM), never for naming what an execution creates.
 */
export type ExecutionRef = Pick<ExecutionInfo, 'id' | 'name' | 'startedAt'> | string;

/** Longest execution name part kept in a snapshot identifier (Step Functions names have at most 80). */
const MAX_NAME_PART = 80;

/**
 * A short hash of what makes the execution unique: its id (execution ARN, which contains the exact name, so
 * `Release.1` and `release-1` differ) and its start time (a name reused after Step Functions' 90 days gets the
 * same ARN again, never the same start time). Stable across retries: both are fixed for an execution.
 */
function executionKey(execution: ExecutionRef): string {
  return typeof execution === 'string'
    ? shortHash(execution)
    : shortHash(`${execution.id}\n${execution.startedAt}`);
}

function nameOf(execution: ExecutionRef): string {
  return typeof execution === 'string' ? execution : execution.name;
}

/**
 * The pre-migration snapshot of `target` taken by `execution`:
 * `<target>-premigration-<execution name, cleaned>-<hash of execution id and start time>`. Stable across
 * retries of the execution, different for any other execution, whatever its name.
 */
export function preMigrationSnapshotId(target: string, execution: ExecutionRef): string {
  const name = cleanPart(nameOf(execution)).slice(0, MAX_NAME_PART);
  return joinWithin([target, 'premigration', name, executionKey(execution)], MAX_SNAPSHOT_IDENTIFIER_LENGTH);
}

/**
 * The backup of `target` taken by `execution`: `<target>-backup-<UTC time of the execution's start>-<hash of
 * execution id and start time>`. The time makes listings readable; the hash keeps it unique and stable across
 * retries.
 */
export function backupSnapshotId(target: string, execution: Exclude<ExecutionRef, string>): string {
  const at = new Date(execution.startedAt);
  const time = Number.isNaN(at.getTime()) ? 'undated' : compactTimestamp(at);
  return joinWithin([target, 'backup', time, executionKey(execution)], MAX_SNAPSHOT_IDENTIFIER_LENGTH);
}

/**
 * The temporary identifier `execution` restores the snapshot under while the original keeps serving:
 * `<target>-restored-<hash of execution id and start time>`.
 */
export function restoredIdentifier(target: string, execution: ExecutionRef): string {
  return joinWithin([target, 'restored', executionKey(execution)], MAX_DB_IDENTIFIER_LENGTH);
}

/** Where the failed original is kept after the swap: `<id>-rolledback-<time>`. */
export function asideIdentifier(target: string, at: Date): string {
  return joinWithin([target, 'rolledback', compactTimestamp(at)], MAX_DB_IDENTIFIER_LENGTH);
}

/**
 * The identifier of the restored Aurora cluster's instance that stands for `originalInstance` of the
 * original cluster: the restored cluster's identifier followed by what the original instance's identifier
 * adds to its cluster's (`app-db-instance-1` in cluster `app-db` gives `<restored>-instance-1`). Stable
 * across retries, unique per restored cluster, within 63 characters. When too long, the suffix (not the
 * restored cluster's identifier) is shortened and a hash added, so that every member's identifier still begins
 * with `<target>-restored-`: the IAM policy that lets the workflow create members names them by that pattern.
 */
export function restoredMemberIdentifier(
  restoredCluster: string,
  originalCluster: string,
  originalInstance: string,
): string {
  const suffix = originalInstance.startsWith(`${originalCluster}-`)
    ? originalInstance.slice(originalCluster.length + 1)
    : originalInstance;
  const [head = 'x', tail = 'x'] = sanitizeParts([restoredCluster, suffix]);
  const full = `${head}-${tail}`;
  if (full.length <= MAX_DB_IDENTIFIER_LENGTH) return full;
  const hash = shortHash(full);
  const room = MAX_DB_IDENTIFIER_LENGTH - head.length - hash.length - 2;
  const kept = room > 0 ? tail.slice(0, room).replace(/-+$/, '') : '';
  if (kept) return `${head}-${kept}-${hash}`;
  // No room for any of the suffix: the restored identifier, cut, then the hash.
  const cut = head.slice(0, MAX_DB_IDENTIFIER_LENGTH - hash.length - 1).replace(/-+$/, '');
  return `${cut}-${hash}`;
}
