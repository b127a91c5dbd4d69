/**
 * Advance the identifier swap by one step: the original goes aside (kept for forensics), the restored copy
 * takes the original identifier. Called again (after a Wait) until complete.
 */
import { failedRestoreOutcome, runbookArticle, type SwapProgress } from '../shared/contract/contract.js';
import { SwapFailedError } from '../shared/contract/errors.js';
import { modeOf, requireRestore, stateOf } from '../shared/contract/state.js';
import { backoffSeconds, type SnapshotStepDeps } from '../shared/runtime/settings.js';

export type SwapDeps = Omit<SnapshotStepDeps, 'clock'>;

/** How many swap steps may run before the swap is declared stuck (with capped waits: about two hours). */
export const MAX_SWAP_ATTEMPTS = 60;

export async function swap(event: unknown, deps: SwapDeps): Promise<SwapProgress> {
  const state = stateOf(event, 'swap');
  const restore = requireRestore(state, 'swap');
  const status = await deps.gateway.swap({
    originalIdentifier: restore.originalIdentifier,
    restoredIdentifier: restore.restoredIdentifier,
    asideIdentifier: restore.asideIdentifier,
  });
  const attempts = (state.swap?.attempts ?? 0) + 1;
  if (!status.complete && attempts >= MAX_SWAP_ATTEMPTS) {
    const mode = modeOf(state);
    throw new SwapFailedError(
      `The swap of ${restore.originalIdentifier} did not complete after ${attempts} steps (phase ` +
        `"${status.phase}"). ${restore.restoredIdentifier} holds the restored data; ` +
        (status.phase === 'original-renamed'
          ? `the ${mode === 'restore' ? 'replaced' : 'failed'} original is at ${restore.asideIdentifier}. ` +
            `Rename ${restore.restoredIdentifier} to ` +
            `${restore.originalIdentifier} by hand to finish, or ${restore.asideIdentifier} back to undo.`
          : `${restore.originalIdentifier} was not renamed. Retry the swap or rename by hand (${runbookArticle(failedRestoreOutcome(mode))}).`),
      { details: { ...restore, phase: status.phase } },
    );
  }
  return {
    phase: status.phase,
    complete: status.complete,
    originalIdentifier: restore.originalIdentifier,
    asideIdentifier: restore.asideIdentifier,
    restoredIdentifier: restore.restoredIdentifier,
    attempts,
    waitSeconds: status.complete ? 0 : backoffSeconds(deps.settings, Math.min(attempts, 3)),
  };
}
