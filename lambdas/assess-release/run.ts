/** The evidence step's wiring: the same on AWS and locally (see `runtime/capabilities.ts`). */
import type { EvidenceCapability } from '../shared/runtime/capabilities.js';
import { assessRelease } from './assess-release.js';

export async function runAssessRelease(event: unknown, runtime: EvidenceCapability) {
  return await assessRelease(event, { inspector: await runtime.releaseInspector() });
}
