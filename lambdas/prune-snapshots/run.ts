/** The prune-snapshots step's wiring: the same on AWS and locally (see `runtime/capabilities.ts`). */
import type {
  BaseCapability,
  HistoryCapability,
  SnapshotCapability,
} from '../shared/runtime/capabilities.js';
import { pruneSnapshots } from './prune-snapshots.js';

export async function runPruneSnapshots(
  event: unknown,
  runtime: BaseCapability & SnapshotCapability & HistoryCapability,
) {
  return await pruneSnapshots(event, {
    gateway: await runtime.gateway(),
    history: await runtime.executionHistory(),
    settings: runtime.settings,
    clock: runtime.clock,
  });
}
