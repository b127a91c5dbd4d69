/**
 * The identifier swap, the same three-identifier state machine for instances and clusters: rename the
 * original aside, wait until that rename has settled, rename the restored copy to the original identifier.
 */
import { SwapFailedError } from '../../contract/errors.js';
import type { SwapRequest, SwapStatus } from '../../contract/ports.js';
import { accessHint, faultSummary, isTransientFault, transientFault } from './faults.js';
import { type RdsNouns, renameCommand } from './nouns.js';
import { isBusy, isFailedResourceStatus } from './statuses.js';

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

/** What the swap does through a gateway. */
export interface SwapSide {
  readonly nouns: Pick<RdsNouns, 'kind' | 'resource' | 'operations'>;
  describe(identifier: string, restoredIdentifier: string): Promise<SwapResource | undefined>;
  /** Starts renaming `from` to `to` with ApplyImmediately. */
  rename(from: string, to: string): Promise<void>;
}

function stateOf(resource: SwapResource | undefined): string {
  if (resource === undefined) return 'does not exist';
  return `is ${resource.status}${resource.detail ? ` (${resource.detail})` : ''}`;
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
export async function advanceSwap(side: SwapSide, request: SwapRequest): Promise<SwapStatus> {
  const { originalIdentifier: o, restoredIdentifier: r, asideIdentifier: a } = request;
  const { kind, resource: what, operations } = side.nouns;
  const describe = async (identifier: string) => {
    try {
      return await side.describe(identifier, r);
    } catch (error) {
      const operation = operations.describe;
      if (isTransientFault(error)) throw transientFault(operation, identifier, error);
      throw new SwapFailedError(
        `Cannot describe ${identifier} during the swap of ${what} ${o} (${faultSummary(error)}); ` +
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
  const renameBack = `To put the original back, run: ${renameCommand(kind, a, o)}`;

  // 3. The restored copy holds the original identifier.
  if (current?.isRestoredCopy) {
    if (current.usable) return { phase: 'complete', complete: true };
    if (isFailedResourceStatus(current.status)) {
      throw new SwapFailedError(
        `The restored copy now under ${o} ${stateOf(current)}; the original ${what} is kept as ${a}. ${situation} ` +
          `To put the original back, first rename the failed copy away (${renameCommand(kind, o, r)}), then run: ${renameCommand(kind, a, o)}`,
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
      await side.rename(o, a);
    } catch (error) {
      if (isTransientFault(error)) throw transientFault(`rename ${o} to ${a}`, o, error);
      throw new SwapFailedError(
        `Renaming ${what} ${o} to ${a} failed (${faultSummary(error)}). ${situation} ` +
          `Nothing was renamed; the original is untouched and still serves.${accessHint(operations.modify, error)}`,
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
          ? `To serve the restored data under ${o}, run: ${renameCommand(kind, r, o)}`
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
    await side.rename(r, o);
  } catch (error) {
    if (isTransientFault(error)) throw transientFault(`rename ${r} to ${o}`, r, error);
    throw new SwapFailedError(
      `RDS refused to rename the restored copy ${r} to ${o} (${faultSummary(error)}) after the original ${what} was renamed to ${a}, ` +
        `so nothing serves under ${o}. ${situation} ${renameBack}`,
      { cause: error, details },
    );
  }
  return { phase: 'original-renamed', complete: false };
}
