/** The verification's wiring: the same on AWS and locally (see `runtime/capabilities.ts`). */
import type { BaseCapability, HealthCapability } from '../shared/runtime/capabilities.js';
import { verifyHealth } from './verify-health.js';

export async function runVerifyHealth(event: unknown, runtime: BaseCapability & HealthCapability) {
  return await verifyHealth(event, { probe: await runtime.healthProbe(), drift: runtime.settings.drift });
}
