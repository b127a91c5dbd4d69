/** The check-restore step's wiring: the same on AWS and locally (see `runtime/capabilities.ts`). */
import type { BaseCapability, SnapshotCapability } from '../shared/runtime/capabilities.js';
import { checkRestore } from './check-restore.js';

export async function runCheckRestore(event: unknown, runtime: BaseCapability & SnapshotCapability) {
  return await checkRestore(event, {
    gateway: await runtime.gateway(),
    settings: runtime.settings,
    clock: runtime.clock,
  });
}
