/**
 * What the RDS instance and Aurora cluster snapshot gateways share: fault classification (an SDK error to
 * one of our errors), tag conversion, the mapping of RDS status words to the contract's statuses, and the
 * identifier swap, which is the same three-identifier state machine for instances and clusters.
 */
import type { Tag, VpcSecurityGroupMembership } from '@aws-sdk/client-rds';
import type { RestoreStatus, SnapshotStatus } from '../contract.js';
import { RestoreFailedError, SnapshotFailedError, SwapFailedError, TransientFaultError } from '../errors.js';
import { createdBy, creatorOf, creatorPhrase } from '../execution-tag.js';
import type {
  CreateSnapshotRequest,
  RestoreDescription,
  RestoreRequest,
  SnapshotDescription,
  SwapRequest,
  SwapStatus,
} from '../ports.js';

/** Default prefix of the tag keys the gateways put on what they restore. */
export const DEFAULT_MANAGED_BY = 'prisma-migration-orchestrator';

/**
 * How many times the settings that a restore API does not accept are requested with a modify call before
 * the restored copy is reported available anyway (a setting that RDS reports back differently from how it
 * was set must not hold the rollback hostage).
 */
export const MAX_POST_RESTORE_ATTEMPTS = 3;

/** Keys of the tags the gateways put on a restored copy, so that a retried call recognises its own work. */
export interface RestoreTagKeys {
  /** The temporary identifier it was restored under: unique per execution, survives the renames. */
  readonly restoreId: string;
  /** The identifier of the original whose settings it carries. */
  readonly restoreOf: string;
  /** The snapshot it was restored from. */
  readonly restoredFrom: string;
  /** How many times the post-restore settings were requested (see `MAX_POST_RESTORE_ATTEMPTS`). */
  readonly postRestore: string;
}

export function restoreTagKeys(managedBy: string): RestoreTagKeys {
  return {
    restoreId: `${managedBy}:restore-id`,
    restoreOf: `${managedBy}:restore-of`,
    restoredFrom: `${managedBy}:restored-from`,
    postRestore: `${managedBy}:post-restore-settings`,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Faults

interface SdkErrorLike {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly $fault?: unknown;
  readonly $retryable?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
}

const THROTTLING_NAMES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'SlowDown',
  'PriorRequestNotComplete',
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
]);

const TRANSIENT_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalFailure',
  'InternalError',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'NetworkingError',
]);

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function asSdkError(error: unknown): SdkErrorLike {
  return typeof error === 'object' && error !== null ? (error as SdkErrorLike) : {};
}

/** The error's name (`DBInstanceNotFoundFault`, `Throttling`, ...), or '' for a non-error. */
export function faultName(error: unknown): string {
  const name = asSdkError(error).name;
  return typeof name === 'string' ? name : '';
}

/** The error's message without the SDK's noise, for our own messages. */
export function faultMessage(error: unknown): string {
  const message = asSdkError(error).message;
  return typeof message === 'string' && message !== '' ? message : faultName(error) || String(error);
}

export function isThrottling(error: unknown): boolean {
  return THROTTLING_NAMES.has(faultName(error));
}

/** Throttling, 5xx answers, timeouts and network errors: faults that go away when the call is retried. */
export function isTransientFault(error: unknown): boolean {
  const e = asSdkError(error);
  if (isThrottling(error) || TRANSIENT_NAMES.has(faultName(error))) return true;
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number' && (status >= 500 || status === 429)) return true;
  return e.$retryable !== undefined && e.$retryable !== null && e.$retryable !== false;
}

export function isAccessDenied(error: unknown): boolean {
  const name = faultName(error);
  return name === 'AccessDenied' || name === 'AccessDeniedException' || name === 'UnauthorizedOperation';
}

/** The TransientFaultError for a transient fault of `operation` on `resource` (the workflow retries it). */
export function transientFault(operation: string, resource: string, error: unknown): TransientFaultError {
  const kind = isThrottling(error) ? 'was throttled' : 'failed with a transient fault';
  return new TransientFaultError(
    `RDS ${operation} on ${resource} ${kind} (${faultName(error) || 'network'}: ${faultMessage(error)}). ` +
      'Nothing was changed by this call; the workflow retries it.',
    { cause: error, details: { operation, resource, fault: faultName(error) } },
  );
}

/** A sentence that tells which IAM permission is missing, when the fault is an access denial. */
export function accessHint(operation: string, error: unknown): string {
  return isAccessDenied(error)
    ? ` The function's role lacks rds:${operation}; grant it (the construct does this for the target it is given).`
    : '';
}

/**
 * Runs a read of the restore step: a transient fault becomes a TransientFaultError (retried by the
 * workflow), any other a RestoreFailedError that names the resource and ends with `untouched`.
 */
export async function readForRestore<T>(
  read: () => Promise<T>,
  operation: string,
  resource: string,
  details: Record<string, unknown>,
  untouched: string,
): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (isTransientFault(error)) throw transientFault(operation, resource, error);
    throw new RestoreFailedError(
      `RDS ${operation} on ${resource} failed during the restore (${faultName(error)}: ${faultMessage(error)}).` +
        `${untouched ? ` ${untouched}` : ''}${accessHint(operation, error)}`,
      { cause: error, details },
    );
  }
}

/** Drops undefined values, so that an SDK input carries only the settings that were read. */
export function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** The VPC security groups a database uses (not those being removed), or undefined when there are none. */
export function activeSecurityGroupIds(
  groups: readonly VpcSecurityGroupMembership[] | undefined,
): string[] | undefined {
  const ids = (groups ?? [])
    .filter((group) => group.Status !== 'removing')
    .map((group) => group.VpcSecurityGroupId)
    .filter((id): id is string => id !== undefined);
  return ids.length > 0 ? ids : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Adopting what a previous attempt created

/** How a gateway names what it handles, in messages. */
export interface ResourceNouns {
  /** 'RDS DB instance' or 'Aurora cluster'. */
  readonly resource: string;
  /** 'snapshot' or 'cluster snapshot'. */
  readonly snapshot: string;
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * The snapshot a retried CreateDB(Cluster)Snapshot found already there (`existing`, from describeSnapshot):
 * adopted only when it was taken of the target by this very execution (its execution tag), an error otherwise.
 * An identifier alone proves nothing: another execution's snapshot under the same one holds other data.
 */
export function adoptExistingSnapshot(
  existing: SnapshotDescription | undefined,
  request: CreateSnapshotRequest,
  targetIdentifier: string,
  nouns: ResourceNouns,
  cause: unknown,
): SnapshotDescription {
  const { snapshotId, executionId } = request;
  if (existing === undefined) {
    throw new SnapshotFailedError(
      `RDS answered that ${nouns.snapshot} ${snapshotId} already exists, but it cannot be found now (it is probably being deleted). ` +
        'Start the execution again under a new name. The database was not touched.',
      { cause, details: { snapshotId, identifier: targetIdentifier } },
    );
  }
  if (existing.sourceIdentifier !== targetIdentifier) {
    throw new SnapshotFailedError(
      `${capitalized(nouns.snapshot)} ${snapshotId} already exists but was taken of ${nouns.resource} ${existing.sourceIdentifier}, not of ${targetIdentifier}. ` +
        'Snapshot identifiers are unique per account and region: start the execution under another name. The database was not touched.',
      {
        cause,
        details: { snapshotId, identifier: targetIdentifier, existingSource: existing.sourceIdentifier },
      },
    );
  }
  if (!createdBy(existing.tags, executionId)) {
    throw new SnapshotFailedError(
      `${capitalized(nouns.snapshot)} ${snapshotId} of ${targetIdentifier} already exists but was taken by ${creatorPhrase(existing.tags)}, ` +
        `not by this execution ${executionId}: it is not adopted, since it may hold other data than ${targetIdentifier} has now. ` +
        `Nothing was applied and the database was not touched. Start the execution again under a new name (or delete ${snapshotId} if nobody needs it).`,
      {
        cause,
        details: {
          snapshotId,
          identifier: targetIdentifier,
          executionId,
          createdBy: creatorOf(existing.tags),
        },
      },
    );
  }
  return existing;
}

/**
 * The error for a failed RestoreDBInstanceFromDBSnapshot / RestoreDBClusterFromSnapshot call: a transient
 * fault is retried by the workflow; any other says why (`why`, by fault name) and that the original is
 * untouched.
 */
export function restoreCallFailure(
  error: unknown,
  operation: string,
  request: RestoreRequest,
  nouns: ResourceNouns,
  why: Readonly<Record<string, string>>,
  untouched: string,
  details: Record<string, unknown>,
): Error {
  const r = request.restoredIdentifier;
  if (isTransientFault(error)) return transientFault(operation, r, error);
  const name = faultName(error);
  return new RestoreFailedError(
    `Restoring snapshot ${request.snapshotId} as ${nouns.resource} ${r} failed: ${why[name] ?? `${name}: ${faultMessage(error)}`}. ${untouched}` +
      accessHint(operation, error),
    { cause: error, details },
  );
}

/**
 * A database already under the restored identifier: adopted when this execution restored it from this
 * snapshot (its tags say so), an error otherwise. Adopted, it is still `restoring`: the gateway's
 * describeRestore finishes it (post-restore settings, Aurora instances) before reporting it available.
 */
export function adoptRestoredCopy(
  existing: { readonly tags: Readonly<Record<string, string>>; readonly status: string | undefined },
  request: RestoreRequest,
  keys: RestoreTagKeys,
  nouns: ResourceNouns,
): RestoreDescription {
  const { restoredIdentifier: r, snapshotId, originalIdentifier: o, executionId } = request;
  const { tags } = existing;
  const ours = tags[keys.restoreId] === r && tags[keys.restoredFrom] === snapshotId;
  if (!ours || !createdBy(tags, executionId)) {
    const origin = ours
      ? ` (it was restored from it by ${creatorPhrase(tags)})`
      : tags[keys.restoredFrom]
        ? ` (it was restored from ${tags[keys.restoredFrom]})`
        : '';
    throw new RestoreFailedError(
      `Cannot restore snapshot ${snapshotId} as ${r}: an ${nouns.resource} ${r} already exists and was not restored from that snapshot by this execution ${executionId}${origin}. ` +
        `The original ${o} is untouched. Delete or rename ${r}, then retry the rollback.`,
      {
        details: {
          snapshotId,
          originalIdentifier: o,
          restoredIdentifier: r,
          existing: existing.status,
          executionId,
          createdBy: creatorOf(tags),
        },
      },
    );
  }
  const raw = existing.status ?? 'unknown';
  const status = restoreStatusOf(raw);
  return { identifier: r, status: status === 'available' ? 'restoring' : status, rawStatus: raw };
}

// ---------------------------------------------------------------------------------------------------------
// Tags

export function toRdsTags(tags: Readonly<Record<string, string>>): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

export function fromRdsTags(tags: readonly Tag[] | undefined): Record<string, string> {
  const record: Record<string, string> = {};
  for (const { Key, Value } of tags ?? []) {
    if (Key !== undefined) record[Key] = Value ?? '';
  }
  return record;
}

/**
 * The tags of a restored copy: the original's own tags (without the reserved `aws:` keys, which RDS refuses
 * to set, and without this workflow's internal keys from an earlier rollback), then the workflow's tags,
 * then the internal ones. A later key wins.
 */
export function restoredTags(
  original: readonly Tag[] | undefined,
  ours: Readonly<Record<string, string>>,
  internal: Readonly<Record<string, string>>,
  managedBy: string,
): Tag[] {
  const merged = new Map<string, string>();
  for (const { Key, Value } of original ?? []) {
    if (Key === undefined || Key.startsWith('aws:') || Key.startsWith(`${managedBy}:`)) continue;
    merged.set(Key, Value ?? '');
  }
  for (const [key, value] of Object.entries(ours)) merged.set(key, value);
  for (const [key, value] of Object.entries(internal)) merged.set(key, value);
  return [...merged].map(([Key, Value]) => ({ Key, Value }));
}

// ---------------------------------------------------------------------------------------------------------
// Statuses

/**
 * Statuses in which a database serves queries and accepts a rename. `backing-up` is usable: a restored
 * instance can stay in it for a long time after a restore, and it serves meanwhile.
 */
const USABLE = new Set(['available', 'backing-up', 'storage-optimization']);

/**
 * Statuses of a DB instance that accept CreateDBSnapshot. The API reference says: "The source DB instance
 * must be in the available or storage-optimization state." `backing-up` is NOT among them (RDS answers
 * InvalidDBInstanceState while an automated or manual backup runs), so the target is reported not
 * available then and the core refuses with TargetNotAvailable naming the state.
 */
export const INSTANCE_SNAPSHOT_READY = new Set(['available', 'storage-optimization']);

/** Statuses of an Aurora cluster that accept CreateDBClusterSnapshot. */
export const CLUSTER_SNAPSHOT_READY = new Set(['available']);

/** States a database does not leave by itself: a restore or swap that meets one has failed. */
const FAILED_RESOURCE = new Set([
  'failed',
  'restore-error',
  'storage-full',
  'insufficient-capacity',
  'inaccessible-encryption-credentials',
  'inaccessible-encryption-credentials-recoverable',
  'deleting',
  'deleted',
  'stopped',
  'stopping',
  'cannot-upgrade',
]);

export function isUsable(status: string | undefined): boolean {
  return status !== undefined && USABLE.has(status);
}

export function isFailedResourceStatus(status: string | undefined): boolean {
  return status !== undefined && (FAILED_RESOURCE.has(status) || status.startsWith('incompatible-'));
}

/** A restored database's status word as the contract's restore status. */
export function restoreStatusOf(status: string | undefined): RestoreStatus {
  if (isUsable(status)) return 'available';
  if (isFailedResourceStatus(status)) return 'failed';
  return 'restoring';
}

/** A snapshot's status word as the contract's snapshot status. */
export function snapshotStatusOf(status: string | undefined): SnapshotStatus {
  if (status === 'available') return 'available';
  if (
    status === 'failed' ||
    status === 'error' ||
    status === 'deleted' ||
    status === 'deleting' ||
    status?.startsWith('incompatible-')
  ) {
    return 'failed';
  }
  return 'creating';
}

// ---------------------------------------------------------------------------------------------------------
// The swap

/** What the swap needs to know of one identifier. */
export interface SwapResource {
  readonly identifier: string;
  readonly status: string;
  /** True when this database is the restored copy of this rollback (it carries its restore-id tag). */
  readonly isRestoredCopy: boolean;
  /** True when it serves and accepts a rename (for a cluster: the cluster and all its instances). */
  readonly usable: boolean;
  /** Why it is not usable, when that is not its own status (an Aurora cluster's instance). */
  readonly detail?: string;
  /** The identifier of a requested rename not applied yet (PendingModifiedValues). */
  readonly renamingTo?: string;
}

export interface SwapOperations {
  /** 'instance' or 'cluster', for messages and commands. */
  readonly kind: 'instance' | 'cluster';
  describe(identifier: string, restoredIdentifier: string): Promise<SwapResource | undefined>;
  /** Starts renaming `from` to `to` with ApplyImmediately. */
  rename(from: string, to: string): Promise<void>;
}

/** The AWS CLI command that renames an RDS instance or cluster at once. */
export function renameCommand(kind: 'instance' | 'cluster', from: string, to: string): string {
  return kind === 'instance'
    ? `aws rds modify-db-instance --db-instance-identifier ${from} --new-db-instance-identifier ${to} --apply-immediately`
    : `aws rds modify-db-cluster --db-cluster-identifier ${from} --new-db-cluster-identifier ${to} --apply-immediately`;
}

function stateOf(resource: SwapResource | undefined): string {
  if (resource === undefined) return 'does not exist';
  return `is ${resource.status}${resource.detail ? ` (${resource.detail})` : ''}`;
}

/** Statuses in which RDS is busy with the resource and will leave by itself: wait, do not act. */
function isBusy(status: string): boolean {
  return !isUsable(status) && !isFailedResourceStatus(status);
}

/**
 * Advances the swap by one step from what exists now, so that a retried or repeated call goes on from where
 * the previous one stopped:
 *
 * 1. the original still serves under its identifier and the restored copy is usable: rename the original
 *    aside (`not-started` until the aside identifier is visible and its rename has settled);
 * 2. the original is aside (its rename settled), the identifier is free: rename the restored copy to it
 *    (`original-renamed`);
 * 3. the restored copy serves under the original identifier and is usable: `complete`.
 *
 * Anything else is an error that says which identifiers exist, in which state, and the one command that
 * recovers.
 */
export async function advanceSwap(ops: SwapOperations, request: SwapRequest): Promise<SwapStatus> {
  const { originalIdentifier: o, restoredIdentifier: r, asideIdentifier: a } = request;
  const what = ops.kind === 'instance' ? 'RDS DB instance' : 'Aurora cluster';
  const describe = async (identifier: string) => {
    try {
      return await ops.describe(identifier, r);
    } catch (error) {
      const operation = ops.kind === 'instance' ? 'DescribeDBInstances' : 'DescribeDBClusters';
      if (isTransientFault(error)) throw transientFault(operation, identifier, error);
      throw new SwapFailedError(
        `Cannot describe ${identifier} during the swap of ${what} ${o} (${faultName(error)}: ${faultMessage(error)}); ` +
          `this call renamed nothing. Check which of ${o}, ${r} and ${a} exist in the RDS console before acting.` +
          accessHint(operation, error),
        { cause: error, details: { originalIdentifier: o, restoredIdentifier: r, asideIdentifier: a } },
      );
    }
  };
  // Read in the direction the renames move (restored -> original -> aside), one after the other: a rename
  // that completes between two reads is then seen twice (under both names), never zero times.
  const restored = await describe(r);
  const current = await describe(o);
  const aside = await describe(a);
  const situation =
    `Now: ${o} ${stateOf(current)}${current?.isRestoredCopy ? ' (the restored copy)' : ''}; ` +
    `${r} ${stateOf(restored)}; ${a} ${stateOf(aside)}.`;
  const details = {
    originalIdentifier: o,
    restoredIdentifier: r,
    asideIdentifier: a,
    original: current?.status ?? null,
    restored: restored?.status ?? null,
    aside: aside?.status ?? null,
  };
  const renameBack = `To put the original back, run: ${renameCommand(ops.kind, a, o)}`;

  // 3. The restored copy holds the original identifier.
  if (current?.isRestoredCopy) {
    if (current.usable) return { phase: 'complete', complete: true };
    if (isFailedResourceStatus(current.status)) {
      throw new SwapFailedError(
        `The restored copy now under ${o} ${stateOf(current)}; the original ${what} is kept as ${a}. ${situation} ` +
          `To put the original back, first rename the failed copy away (${renameCommand(ops.kind, o, r)}), then run: ${renameCommand(ops.kind, a, o)}`,
        { details },
      );
    }
    return { phase: 'original-renamed', complete: false };
  }

  // 1. The original still holds its identifier.
  if (current !== undefined) {
    // RDS may list the rename as pending before the status says `renaming`.
    if (current.status === 'renaming' || current.renamingTo === a)
      return { phase: 'not-started', complete: false };
    if (aside !== undefined) {
      throw new SwapFailedError(
        `Cannot rename ${what} ${o} aside: the identifier ${a} is already taken by another database. ` +
          `${situation} Nothing was renamed; the original is untouched. Delete or rename ${a}, or retry the rollback (it picks a new aside identifier).`,
        { details },
      );
    }
    if (restored === undefined || isFailedResourceStatus(restored.status)) {
      throw new SwapFailedError(
        `Cannot swap: the restored copy ${r} ${stateOf(restored)}. ${situation} Nothing was renamed; the original ${what} ${o} is untouched and still serves.`,
        { details },
      );
    }
    if (!restored.usable || isBusy(current.status)) return { phase: 'not-started', complete: false };
    try {
      await ops.rename(o, a);
    } catch (error) {
      if (isTransientFault(error)) throw transientFault(`rename ${o} to ${a}`, o, error);
      throw new SwapFailedError(
        `Renaming ${what} ${o} to ${a} failed (${faultName(error)}: ${faultMessage(error)}). ${situation} ` +
          `Nothing was renamed; the original is untouched and still serves.${accessHint(ops.kind === 'instance' ? 'ModifyDBInstance' : 'ModifyDBCluster', error)}`,
        { cause: error, details },
      );
    }
    return { phase: 'not-started', complete: false };
  }

  // 2. The original identifier is free.
  const restoredMoving =
    restored !== undefined && (restored.status === 'renaming' || restored.renamingTo === o);
  if (aside === undefined) {
    if (restoredMoving) return { phase: 'original-renamed', complete: false };
    throw new SwapFailedError(
      `Neither ${o} nor ${a} exists: the original ${what} was deleted or renamed outside the workflow. ${situation} ` +
        (restored?.usable
          ? `To serve the restored data under ${o}, run: ${renameCommand(ops.kind, r, o)}`
          : 'Find the original in the RDS console before doing anything else.'),
      { details },
    );
  }
  if (restored === undefined) {
    throw new SwapFailedError(
      `The original ${what} was renamed to ${a}, but the restored copy ${r} does not exist, so nothing serves under ${o}. ${situation} ${renameBack}`,
      { details },
    );
  }
  // The aside must have settled (its rename done), not be usable: an original that was storage-full, say, is
  // kept aside as it is, and must not hold the restored copy back.
  if (isBusy(aside.status)) return { phase: 'not-started', complete: false };
  if (restoredMoving) return { phase: 'original-renamed', complete: false };
  if (!restored.usable) {
    if (isFailedResourceStatus(restored.status)) {
      throw new SwapFailedError(
        `The original ${what} was renamed to ${a}, but the restored copy ${r} ${stateOf(restored)}, so nothing serves under ${o}. ${situation} ${renameBack}`,
        { details },
      );
    }
    return { phase: 'original-renamed', complete: false };
  }
  try {
    await ops.rename(r, o);
  } catch (error) {
    if (isTransientFault(error)) throw transientFault(`rename ${r} to ${o}`, r, error);
    throw new SwapFailedError(
      `RDS refused to rename the restored copy ${r} to ${o} (${faultName(error)}: ${faultMessage(error)}) after the original ${what} was renamed to ${a}, ` +
        `so nothing serves under ${o}. ${situation} ${renameBack}`,
      { cause: error, details },
    );
  }
  return { phase: 'original-renamed', complete: false };
}
