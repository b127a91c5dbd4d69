/** The create-snapshot step's wiring: the same on AWS and locally (see `runtime/capabilities.ts`). */
import type { BaseCapability, SnapshotCapability } from '../shared/runtime/capabilities.js';
import { createSnapshot } from './create-snapshot.js';

export async function runCreateSnapshot(event: unknown, runtime: BaseCapability & SnapshotCapability) {
  return await createSnapshot(event, {
    gateway: await runtime.gateway(),
    settings: runtime.settings,
    clock: runtime.clock,
  });
}
