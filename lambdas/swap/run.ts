/** The swap step's wiring: the same on AWS and locally (see `runtime/capabilities.ts`). */
import type { BaseCapability, SnapshotCapability } from '../shared/runtime/capabilities.js';
import { swap } from './swap.js';

export async function runSwap(event: unknown, runtime: BaseCapability & SnapshotCapability) {
  return await swap(event, { gateway: await runtime.gateway(), settings: runtime.settings });
}
