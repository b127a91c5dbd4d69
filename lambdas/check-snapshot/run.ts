/** The check-snapshot step's wiring: the same on AWS and locally (see `runtime/capabilities.ts`). */
import type { BaseCapability, SnapshotCapability } from '../shared/runtime/capabilities.js';
import { checkSnapshot } from './check-snapshot.js';

export async function runCheckSnapshot(event: unknown, runtime: BaseCapability & SnapshotCapability) {
  return await checkSnapshot(event, {
    gateway: await runtime.gateway(),
    settings: runtime.settings,
    clock: runtime.clock,
  });
}
