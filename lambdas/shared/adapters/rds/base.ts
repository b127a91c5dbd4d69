/**
 * What the RDS instance and Aurora cluster snapshot gateways share: the protocol of every `SnapshotGateway`
 * call (adopt-or-refuse by execution tag, restore idempotency and ownership, the swap, the managed snapshots
 * and their deletion, fault translation, statuses), written once over small hooks that each subclass
 * implements with its own API calls, the way Powertools' `BasePersistenceLayer` leaves `_getRecord`/
 * `_putRecord` to its DynamoDB layer.
 */
import {
  AddTagsToResourceCommand,
  DescribeAccountAttributesCommand,
  RDSClient,
  type Tag,
} from '@aws-sdk/client-rds';
import { type SnapshotQuota, snapshotKindOf, TagKeys } from '../../contract/contract.js';
import {
  RestoreFailedError,
  RetentionFailedError,
  SnapshotFailedError,
  SnapshotQuotaExceededError,
  TargetNotAvailableError,
} from '../../contract/errors.js';
import type * as port from '../../contract/ports.js';
import { createdBy, creatorOf, creatorPhrase, withCreatorTag } from '../../domain/execution-tag.js';
import {
  accessHint,
  faultMessage,
  faultName,
  faultSummary,
  isTransientFault,
  type RestoreRead,
  readForRestore,
  transientFault,
} from './faults.js';
import type { RdsNouns } from './nouns.js';
import { isUsable, restoreStatusOf, snapshotStatusOf } from './statuses.js';
import { advanceSwap, type SwapResource } from './swap.js';
import { fromRdsTags, RestoreTags, toRdsTags } from './tags.js';

export interface RdsSnapshotGatewayOptions {
  /** @default - a new `RDSClient` (region and credentials from the environment) */
  readonly client?: RDSClient;
  /** Prefix of the tag keys put on restored copies. @default 'prisma-migration-orchestrator' */
  readonly managedBy?: string;
}

/** What the base reads of a DB instance or a DB cluster. */
export interface ResourceView {
  readonly status: string | undefined;
  readonly tags: readonly Tag[] | undefined;
  readonly arn: string | undefined;
  /** The identifier of a requested rename not applied yet (PendingModifiedValues). */
  readonly renamingTo: string | undefined;
}

/** What the base reads of a DB snapshot or a DB cluster snapshot. */
export interface SnapshotView {
  readonly snapshotId: string | undefined;
  readonly sourceIdentifier: string | undefined;
  readonly status: string | undefined;
  readonly tags: readonly Tag[] | undefined;
  /** `manual`, `automated`, `shared`, `public`, `awsbackup`. */
  readonly snapshotType?: string | undefined;
  /** SnapshotCreateTime: absent while the snapshot is being created. */
  readonly createdAt?: Date | undefined;
  /** AllocatedStorage, in GiB. */
  readonly sizeGiB?: number | undefined;
}

/** One page of a snapshot listing, and the marker of the next one (none after the last). */
export interface SnapshotPage {
  readonly snapshots: readonly SnapshotView[];
  readonly marker: string | undefined;
}

/** Where a read of the restore step happens: what its error carries and says was left untouched. */
export type RestoreContext = Omit<RestoreRead, 'operation' | 'resource'>;

/** One request of the settings a restore API does not accept (see `requestSettings`). */
export interface SettingsRequest<TResource> {
  readonly restored: TResource;
  readonly restoredIdentifier: string;
  /** The restored copy's status word. */
  readonly raw: string;
  readonly originalIdentifier: string;
  /** How many requests were made before this one (the post-restore tag). */
  readonly attempts: number;
  /** The API operation, for a transient fault and the permission hint. */
  readonly operation: string;
  /** What is applied, for the error: 'the IAM roles s3Import', 'the settings MonitoringInterval'. */
  readonly what: string;
  /** What is applied, for the status: 'IAM roles', 'MonitoringInterval'. */
  readonly applying: string;
  send(): Promise<void>;
}

export abstract class RdsSnapshotGateway<TResource> implements port.SnapshotGateway {
  readonly targetIdentifier: string;
  protected readonly client: RDSClient;
  protected readonly tagging: RestoreTags;
  protected abstract readonly nouns: RdsNouns;

  protected constructor(targetIdentifier: string, options: RdsSnapshotGatewayOptions) {
    this.targetIdentifier = targetIdentifier;
    this.client = options.client ?? new RDSClient({});
    this.tagging = new RestoreTags(options.managedBy);
  }

  // -------------------------------------------------------------------------------------------------------
  // Hooks

  /** The database with this identifier (describe call), or undefined; a not-found fault may be thrown. */
  protected abstract describeResource(identifier: string): Promise<TResource | undefined>;
  protected abstract view(resource: TResource): ResourceView;
  /** Whether the target, found, accepts a snapshot and migrations now. */
  protected abstract readiness(target: TResource): Promise<port.TargetDescription>;
  /** Create(Cluster)Snapshot of the target. */
  protected abstract createSnapshotCall(snapshotId: string, tags: Tag[]): Promise<SnapshotView | undefined>;
  protected abstract describeSnapshotCall(snapshotId: string): Promise<SnapshotView | undefined>;
  /** One page of the target's manual snapshots: Describe(Cluster)Snapshots by target, SnapshotType manual. */
  protected abstract listSnapshotsCall(marker: string | undefined): Promise<SnapshotPage>;
  /** Delete(Cluster)Snapshot. */
  protected abstract deleteSnapshotCall(snapshotId: string): Promise<void>;
  /** The restore call with every setting of `original` it accepts; returns the new database's status. */
  protected abstract restoreCall(
    original: TResource,
    request: port.RestoreRequest,
    tags: Tag[],
  ): Promise<string | undefined>;
  /** Why the restore call failed, by fault name, beyond the reasons both gateways share. */
  protected abstract restoreFaultReasons(original: TResource): Readonly<Record<string, string>>;
  /** The restored copy is available: complete it (settings, instances) or report it available. */
  protected abstract describeRestored(
    restored: TResource,
    restoredIdentifier: string,
    raw: string,
  ): Promise<port.RestoreDescription>;
  /** Starts renaming `from` to `to` with ApplyImmediately. */
  protected abstract rename(from: string, to: string): Promise<void>;

  /** Why the restored copy, usable by its own status, does not serve yet (an Aurora cluster's instances). */
  protected async notServing(_identifier: string): Promise<string | undefined> {
    return undefined;
  }

  // -------------------------------------------------------------------------------------------------------
  // The port

  async describeTarget(): Promise<port.TargetDescription> {
    const id = this.targetIdentifier;
    const target = await this.findResource(id).catch(this.targetUnreadable(this.nouns.operations.describe));
    if (target === undefined) {
      throw new TargetNotAvailableError(
        `${this.nouns.resource} ${id} does not exist in this account and region. Check the ${this.nouns.kind} identifier the orchestrator is configured with.`,
        { details: { identifier: id } },
      );
    }
    return this.readiness(target);
  }

  async createSnapshot(request: port.CreateSnapshotRequest): Promise<port.SnapshotDescription> {
    const { snapshotId } = request;
    const id = this.targetIdentifier;
    const { resource, operations, faults } = this.nouns;
    try {
      const tags = toRdsTags(withCreatorTag(request.tags, request.executionId));
      return this.snapshotDescription(await this.createSnapshotCall(snapshotId, tags), snapshotId);
    } catch (error) {
      const details = { snapshotId, identifier: id };
      switch (faultName(error)) {
        case faults.snapshotAlreadyExists:
          return this.adoptSnapshot(await this.describeSnapshot(snapshotId), request, error);
        case 'SnapshotQuotaExceededFault':
          throw new SnapshotQuotaExceededError(
            `Cannot create snapshot ${snapshotId} of ${resource} ${id}: the account's manual ${this.nouns.snapshotType} quota in this region is reached ` +
              `(100 by default). Delete manual ${this.nouns.snapshot}s you no longer need (${this.nouns.deleteSnapshotCommand}), ` +
              `or raise the quota "${this.nouns.snapshotQuota}" in Service Quotas; then start the execution again. The database was not touched.`,
            { cause: error, details },
          );
        case faults.invalidState:
          throw new TargetNotAvailableError(
            `${resource} ${id} does not accept a snapshot in its current state (${faultMessage(error)}). ` +
              'Wait until it is available, then start the execution again. The database was not touched.',
            { cause: error, details },
          );
        case faults.notFound:
          throw new TargetNotAvailableError(
            `${resource} ${id} does not exist in this account and region, so snapshot ${snapshotId} cannot be taken. ` +
              `Check the ${this.nouns.kind} identifier the orchestrator is configured with.`,
            { cause: error, details },
          );
        default:
          if (isTransientFault(error)) throw transientFault(operations.createSnapshot, id, error);
          throw new SnapshotFailedError(
            `Creating snapshot ${snapshotId} of ${resource} ${id} failed (${faultSummary(error)}). ` +
              `The database was not touched.${accessHint(operations.createSnapshot, error)}`,
            { cause: error, details },
          );
      }
    }
  }

  async describeSnapshot(snapshotId: string): Promise<port.SnapshotDescription | undefined> {
    const operation = this.nouns.operations.describeSnapshots;
    let snapshot: SnapshotView | undefined;
    try {
      snapshot = await this.describeSnapshotCall(snapshotId);
    } catch (error) {
      if (faultName(error) === this.nouns.faults.snapshotNotFound) return undefined;
      if (isTransientFault(error)) throw transientFault(operation, snapshotId, error);
      throw new SnapshotFailedError(
        `Cannot describe ${this.nouns.snapshotType} ${snapshotId} of ${this.nouns.resource} ${this.targetIdentifier} (${faultSummary(error)}).` +
          accessHint(operation, error),
        { cause: error, details: { snapshotId } },
      );
    }
    return snapshot === undefined ? undefined : this.snapshotDescription(snapshot, snapshotId);
  }

  async restoreSnapshot(request: port.RestoreRequest): Promise<port.RestoreDescription> {
    const { snapshotId, originalIdentifier: o, restoredIdentifier: r } = request;
    const at: RestoreContext = {
      details: { snapshotId, originalIdentifier: o, restoredIdentifier: r },
      untouched: `The original ${o} is untouched.`,
    };
    const existing = await this.findForRestore(r, at);
    if (existing !== undefined) return this.adoptRestore(existing, request);
    const original = await this.findForRestore(o, at);
    if (original === undefined) {
      throw new RestoreFailedError(
        `Cannot restore snapshot ${snapshotId}: the original ${this.nouns.resource} ${o} does not exist, so its settings cannot be read. ` +
          `Restore by hand with the settings you need: ${this.nouns.restoreByHand(snapshotId, r)}`,
        { details: at.details },
      );
    }
    const { keys } = this.tagging;
    const tags = this.tagging.forCopy(
      this.view(original).tags,
      withCreatorTag(request.tags, request.executionId),
      { [keys.restoreId]: r, [keys.restoreOf]: o, [keys.restoredFrom]: snapshotId },
    );
    try {
      const status = (await this.restoreCall(original, request, tags)) ?? 'creating';
      return {
        identifier: r,
        status: restoreStatusOf(status) === 'failed' ? 'failed' : 'restoring',
        rawStatus: status,
      };
    } catch (error) {
      if (faultName(error) === this.nouns.faults.alreadyExists) {
        const raced = await this.findForRestore(r, at);
        if (raced !== undefined) return this.adoptRestore(raced, request);
      }
      throw this.restoreFailure(error, request, original, at);
    }
  }

  async describeRestore(restoredIdentifier: string): Promise<port.RestoreDescription | undefined> {
    const r = restoredIdentifier;
    const restored = await this.findForRestore(r, { details: { restoredIdentifier: r }, untouched: '' });
    if (restored === undefined) return undefined;
    const raw = this.view(restored).status ?? 'unknown';
    const status = restoreStatusOf(raw);
    if (status !== 'available') return { identifier: r, status, rawStatus: raw };
    return this.describeRestored(restored, r, raw);
  }

  swap(request: port.SwapRequest): Promise<port.SwapStatus> {
    return advanceSwap(
      {
        nouns: this.nouns,
        describe: (identifier, restoredIdentifier) => this.swapResource(identifier, restoredIdentifier),
        rename: (from, to) => this.rename(from, to),
      },
      request,
    );
  }

  /**
   * The manual snapshots of the target (Describe(Cluster)Snapshots by the target's identifier, SnapshotType
   * `manual`, every page) tagged `managed-by` with this gateway's value and `source-identifier` with the
   * target, oldest first (those still being created, without a creation time, last).
   *
   * The listing is by identifier: after a rollback the target's identifier serves the restored copy, and the
   * snapshots taken under it before are still snapshots of the target (a snapshot records the identifier it
   * was taken under; the RDS guide says only that "DB snapshots are retained for a renamed DB instance", so
   * this is our reading, not verified on a live account). Should RDS ever report one under another
   * identifier (the aside name), it drops out of the list and out of reach of deleteSnapshot: kept, never
   * deleted by mistake.
   */
  async listManagedSnapshots(): Promise<readonly port.ManagedSnapshot[]> {
    const operation = this.nouns.operations.describeSnapshots;
    const found: port.ManagedSnapshot[] = [];
    const seen = new Set<string>();
    let marker: string | undefined;
    do {
      let page: SnapshotPage;
      try {
        page = await this.listSnapshotsCall(marker);
      } catch (error) {
        if (isTransientFault(error)) throw transientFault(operation, this.targetIdentifier, error);
        throw new SnapshotFailedError(
          `Cannot list the manual ${this.nouns.snapshot}s of ${this.nouns.resource} ${this.targetIdentifier} ` +
            `(${operation}: ${faultSummary(error)}). Nothing was deleted.${accessHint(operation, error)}`,
          { cause: error, details: { identifier: this.targetIdentifier } },
        );
      }
      for (const snapshot of page.snapshots) {
        if (this.isManaged(snapshot)) found.push(this.managedSnapshot(snapshot));
      }
      marker = page.marker;
      if (marker !== undefined && seen.has(marker)) {
        // A listing that never ends would spin until the function times out: stop and say so.
        throw new SnapshotFailedError(
          `${operation} of ${this.targetIdentifier} answered the page marker ${marker} twice; the listing was stopped. Nothing was deleted.`,
          { details: { identifier: this.targetIdentifier } },
        );
      }
      if (marker !== undefined) seen.add(marker);
    } while (marker);
    return found.sort(oldestFirst);
  }

  /**
   * Deletes `snapshotId` only when it is a manual snapshot of the target tagged `managed-by` with this
   * gateway's value and `source-identifier` with the target, as described again right before the delete;
   * returns false, deleting nothing, for anything else (absent, automated, hand-taken, another target's or
   * another orchestrator's) and when it is gone by the time of the delete.
   */
  async deleteSnapshot(snapshotId: string): Promise<boolean> {
    const { operations, faults, snapshot: noun, resource } = this.nouns;
    const id = this.targetIdentifier;
    const details = { snapshotId, identifier: id };
    let current: SnapshotView | undefined;
    try {
      current = await this.describeSnapshotCall(snapshotId);
    } catch (error) {
      if (faultName(error) === faults.snapshotNotFound) return false;
      if (isTransientFault(error)) throw transientFault(operations.describeSnapshots, snapshotId, error);
      throw new RetentionFailedError(
        `Cannot describe ${noun} ${snapshotId} of ${resource} ${id} before deleting it ` +
          `(${operations.describeSnapshots}: ${faultSummary(error)}). It was not deleted.` +
          accessHint(operations.describeSnapshots, error),
        { cause: error, details },
      );
    }
    if (current === undefined || current.snapshotId !== snapshotId || !this.isManaged(current)) return false;
    try {
      await this.deleteSnapshotCall(snapshotId);
    } catch (error) {
      const name = faultName(error);
      if (name === faults.snapshotNotFound) return false; // Deleted meanwhile by someone else.
      if (isTransientFault(error)) throw transientFault(operations.deleteSnapshot, snapshotId, error);
      if (name === faults.snapshotInvalidState) {
        throw new RetentionFailedError(
          `${capitalized(noun)} ${snapshotId} of ${id} cannot be deleted in its current state ` +
            `(${current.status ?? 'unknown'}: ${faultMessage(error)}): RDS deletes only available snapshots, ` +
            'not one being created, copied or restored from. It was kept; the next run of the retention policy deletes it ' +
            `if it still should, or delete it then by hand (${this.nouns.deleteSnapshotCommand.replace('<id>', snapshotId)}).`,
          { cause: error, details: { ...details, status: current.status } },
        );
      }
      throw new RetentionFailedError(
        `Deleting ${noun} ${snapshotId} of ${resource} ${id} failed (${faultSummary(error)}). It was kept.` +
          accessHint(operations.deleteSnapshot, error),
        { cause: error, details },
      );
    }
    return true;
  }

  /**
   * The account's manual snapshot quota in this region for the target's kind (DescribeAccountAttributes:
   * `ManualSnapshots` for DB snapshots, `ManualClusterSnapshots` for DB cluster snapshots; `Used` counts every
   * manual snapshot of that kind in the account, not only this workflow's), or undefined when RDS does not
   * report it.
   */
  async snapshotQuota(): Promise<SnapshotQuota | undefined> {
    const operation = 'DescribeAccountAttributes';
    try {
      const out = await this.client.send(new DescribeAccountAttributesCommand({}));
      const quota = out.AccountQuotas?.find((q) => q.AccountQuotaName === this.nouns.accountQuota);
      if (quota?.Used === undefined || quota.Max === undefined) return undefined;
      return { used: quota.Used, max: quota.Max };
    } catch (error) {
      if (isTransientFault(error)) throw transientFault(operation, 'the account', error);
      throw new SnapshotFailedError(
        `Cannot read the account's manual ${this.nouns.snapshot} quota (${this.nouns.accountQuota}) with ${operation} ` +
          `(${faultSummary(error)}).${accessHint(operation, error)}`,
        { cause: error, details: { identifier: this.targetIdentifier, quota: this.nouns.accountQuota } },
      );
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // For the subclasses

  /** The database with this identifier, or undefined when RDS answers not-found. */
  protected async findResource(identifier: string): Promise<TResource | undefined> {
    try {
      return await this.describeResource(identifier);
    } catch (error) {
      if (faultName(error) === this.nouns.faults.notFound) return undefined;
      throw error;
    }
  }

  /** `findResource` in the restore step: its faults become TransientFault or RestoreFailed. */
  protected findForRestore(identifier: string, at: RestoreContext): Promise<TResource | undefined> {
    return readForRestore(() => this.findResource(identifier), {
      operation: this.nouns.operations.describe,
      resource: identifier,
      ...at,
    });
  }

  /** Turns a fault of `operation` while describing the target into TransientFault or TargetNotAvailable. */
  protected targetUnreadable(operation: string): (error: unknown) => never {
    const id = this.targetIdentifier;
    return (error) => {
      if (isTransientFault(error)) throw transientFault(operation, id, error);
      throw new TargetNotAvailableError(
        `Cannot describe ${this.nouns.resource} ${id} (${operation}: ${faultSummary(error)}).${accessHint(operation, error)}`,
        { cause: error, details: { identifier: id } },
      );
    };
  }

  /**
   * Requests settings the restore API does not accept (`step.send`), then counts the request in the copy's
   * post-restore tag. Reports `restoring` while they are applied; a copy that moved on between the describe
   * and the call (modifying, backing-up...) is asked again next time.
   */
  protected async requestSettings(step: SettingsRequest<TResource>): Promise<port.RestoreDescription> {
    const { restoredIdentifier: r, raw, originalIdentifier: o, operation } = step;
    try {
      await step.send();
      await this.client.send(
        new AddTagsToResourceCommand({
          ResourceName: this.view(step.restored).arn ?? r,
          Tags: [{ Key: this.tagging.keys.postRestore, Value: String(step.attempts + 1) }],
        }),
      );
    } catch (error) {
      if (faultName(error) === this.nouns.faults.invalidState) {
        return { identifier: r, status: 'restoring', rawStatus: `${raw}, settings pending` };
      }
      if (isTransientFault(error)) throw transientFault(operation, r, error);
      throw new RestoreFailedError(
        `Applying ${step.what} of ${o} to the restored ${this.nouns.resource} ${r} failed (${faultSummary(error)}). ` +
          `The original ${o} is untouched.${accessHint(operation, error)}`,
        { cause: error, details: { restoredIdentifier: r, originalIdentifier: o } },
      );
    }
    return { identifier: r, status: 'restoring', rawStatus: `${raw}, applying ${step.applying}` };
  }

  // -------------------------------------------------------------------------------------------------------

  /** A manual snapshot of the target, tagged by this orchestrator as taken of the target. */
  private isManaged(snapshot: SnapshotView): boolean {
    const tags = fromRdsTags(snapshot.tags);
    return (
      snapshot.snapshotType === 'manual' &&
      snapshot.sourceIdentifier === this.targetIdentifier &&
      tags[TagKeys.managedBy] === this.tagging.managedBy &&
      tags[TagKeys.source] === this.targetIdentifier
    );
  }

  private managedSnapshot(snapshot: SnapshotView): port.ManagedSnapshot {
    const snapshotId = snapshot.snapshotId ?? '';
    const tags = fromRdsTags(snapshot.tags);
    return {
      snapshotId,
      name: snapshotId,
      tags,
      kind: snapshotKindOf(tags[TagKeys.kind]),
      ...(snapshot.createdAt ? { createdAt: snapshot.createdAt.toISOString() } : {}),
      status: snapshot.status ?? 'unknown',
      ...(snapshot.sizeGiB === undefined ? {} : { sizeGiB: snapshot.sizeGiB }),
    };
  }

  private snapshotDescription(
    snapshot: SnapshotView | undefined,
    snapshotId: string,
  ): port.SnapshotDescription {
    const raw = snapshot?.status ?? 'creating';
    return {
      snapshotId: snapshot?.snapshotId ?? snapshotId,
      sourceIdentifier: snapshot?.sourceIdentifier ?? this.targetIdentifier,
      status: snapshotStatusOf(raw),
      rawStatus: raw,
      tags: fromRdsTags(snapshot?.tags),
    };
  }

  /**
   * The snapshot a retried Create(Cluster)Snapshot found already there (`existing`, from describeSnapshot):
   * adopted only when it was taken of the target by this very execution (its execution tag), an error
   * otherwise. An identifier alone proves nothing: another execution's snapshot under the same one holds
   * other data.
   */
  private adoptSnapshot(
    existing: port.SnapshotDescription | undefined,
    request: port.CreateSnapshotRequest,
    cause: unknown,
  ): port.SnapshotDescription {
    const { snapshotId, executionId } = request;
    const id = this.targetIdentifier;
    const snapshot = capitalized(this.nouns.snapshot);
    if (existing === undefined) {
      throw new SnapshotFailedError(
        `RDS answered that ${this.nouns.snapshot} ${snapshotId} already exists, but it cannot be found now (it is probably being deleted). ` +
          'Start the execution again under a new name. The database was not touched.',
        { cause, details: { snapshotId, identifier: id } },
      );
    }
    if (existing.sourceIdentifier !== id) {
      throw new SnapshotFailedError(
        `${snapshot} ${snapshotId} already exists but was taken of ${this.nouns.resource} ${existing.sourceIdentifier}, not of ${id}. ` +
          'Snapshot identifiers are unique per account and region: start the execution under another name. The database was not touched.',
        { cause, details: { snapshotId, identifier: id, existingSource: existing.sourceIdentifier } },
      );
    }
    if (!createdBy(existing.tags, executionId)) {
      throw new SnapshotFailedError(
        `${snapshot} ${snapshotId} of ${id} already exists but was taken by ${creatorPhrase(existing.tags)}, ` +
          `not by this execution ${executionId}: it is not adopted, since it may hold other data than ${id} has now. ` +
          `Nothing was applied and the database was not touched. Start the execution again under a new name (or delete ${snapshotId} if nobody needs it).`,
        {
          cause,
          details: { snapshotId, identifier: id, executionId, createdBy: creatorOf(existing.tags) },
        },
      );
    }
    return existing;
  }

  /**
   * A database already under the restored identifier: adopted when this execution restored it from this
   * snapshot (its tags say so), an error otherwise. Adopted, it is still `restoring`: describeRestore
   * finishes it (post-restore settings, Aurora instances) before reporting it available.
   */
  private adoptRestore(existing: TResource, request: port.RestoreRequest): port.RestoreDescription {
    const { restoredIdentifier: r, snapshotId, originalIdentifier: o, executionId } = request;
    const { keys } = this.tagging;
    const view = this.view(existing);
    const tags = fromRdsTags(view.tags);
    const ours = tags[keys.restoreId] === r && tags[keys.restoredFrom] === snapshotId;
    if (!ours || !createdBy(tags, executionId)) {
      const origin = ours
        ? ` (it was restored from it by ${creatorPhrase(tags)})`
        : tags[keys.restoredFrom]
          ? ` (it was restored from ${tags[keys.restoredFrom]})`
          : '';
      throw new RestoreFailedError(
        `Cannot restore snapshot ${snapshotId} as ${r}: an ${this.nouns.resource} ${r} already exists and was not restored from that snapshot by this execution ${executionId}${origin}. ` +
          `The original ${o} is untouched. Delete or rename ${r}, then retry the rollback.`,
        {
          details: {
            snapshotId,
            originalIdentifier: o,
            restoredIdentifier: r,
            existing: view.status,
            executionId,
            createdBy: creatorOf(tags),
          },
        },
      );
    }
    const raw = view.status ?? 'unknown';
    const status = restoreStatusOf(raw);
    return { identifier: r, status: status === 'available' ? 'restoring' : status, rawStatus: raw };
  }

  /**
   * The error for a failed restore call: a transient fault is retried by the workflow; any other says why
   * (by fault name) and that the original is untouched.
   */
  private restoreFailure(
    error: unknown,
    request: port.RestoreRequest,
    original: TResource,
    at: RestoreContext,
  ): Error {
    const { snapshotId, restoredIdentifier: r } = request;
    const { operations, faults } = this.nouns;
    if (isTransientFault(error)) return transientFault(operations.restore, r, error);
    const why: Readonly<Record<string, string>> = {
      [faults.snapshotNotFound]: `snapshot ${snapshotId} does not exist`,
      [faults.snapshotInvalidState]: `snapshot ${snapshotId} is not available`,
      StorageQuotaExceededFault: 'the storage quota of the account is reached (raise it in Service Quotas)',
      [faults.alreadyExists]: `the identifier ${r} is taken`,
      ...this.restoreFaultReasons(original),
    };
    const name = faultName(error);
    return new RestoreFailedError(
      `Restoring snapshot ${snapshotId} as ${this.nouns.resource} ${r} failed: ${why[name] ?? `${name}: ${faultMessage(error)}`}. ${at.untouched}` +
        accessHint(operations.restore, error),
      { cause: error, details: at.details },
    );
  }

  /** One identifier as the swap sees it. */
  private async swapResource(
    identifier: string,
    restoredIdentifier: string,
  ): Promise<SwapResource | undefined> {
    const resource = await this.findResource(identifier);
    if (resource === undefined) return undefined;
    const view = this.view(resource);
    const status = view.status ?? 'unknown';
    const isRestoredCopy = this.tagging.isCopy(view.tags, restoredIdentifier);
    const base = {
      identifier,
      status,
      isRestoredCopy,
      ...(view.renamingTo ? { renamingTo: view.renamingTo } : {}),
    };
    if (!isRestoredCopy || !isUsable(status)) return { ...base, usable: isUsable(status) };
    const detail = await this.notServing(identifier);
    return detail === undefined ? { ...base, usable: true } : { ...base, usable: false, detail };
  }
}

/** By creation time, those without one (still being created) last; by identifier between equals. */
function oldestFirst(a: port.ManagedSnapshot, b: port.ManagedSnapshot): number {
  const at = (s: port.ManagedSnapshot) =>
    s.createdAt === undefined ? Number.POSITIVE_INFINITY : Date.parse(s.createdAt);
  return at(a) - at(b) || (a.snapshotId < b.snapshotId ? -1 : a.snapshotId > b.snapshotId ? 1 : 0);
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
