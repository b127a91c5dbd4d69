/** The restore-snapshot step's wiring: the same on AWS and locally (see `runtime/capabilities.ts`). */
import type { BaseCapability, SnapshotCapability } from '../shared/runtime/capabilities.js';
import { restoreSnapshot } from './restore-snapshot.js';

export async function runRestoreSnapshot(event: unknown, runtime: BaseCapability & SnapshotCapability) {
  return await restoreSnapshot(event, {
    gateway: await runtime.gateway(),
    settings: runtime.settings,
    clock: runtime.clock,
  });
}
