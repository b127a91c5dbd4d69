/** The verification's wiring: the same on AWS and locally (see `runtime/capabilities.ts`). */
import { HttpHealthProbe } from '../shared/adapters/http/http-health-probe.js';
import { inputOf } from '../shared/contract/state.js';
import { releaseBundleOf } from '../shared/domain/release-bundle.js';
import type {
  BaseCapability,
  HealthCapability,
  MigrationsCapability,
} from '../shared/runtime/capabilities.js';
import { verifyHealth } from './verify-health.js';

export async function runVerifyHealth(
  event: unknown,
  runtime: BaseCapability & HealthCapability & Pick<MigrationsCapability, 'migrationSource'>,
) {
  // The drift check compares with this execution's migrations: its release bundle, when the input names one.
  const source = runtime.migrationSource(releaseBundleOf(inputOf(event)));
  const http = runtime.settings.httpHealthChecks ?? [];
  const bakeSeconds = runtime.settings.bakeSeconds;
  return await verifyHealth(event, {
    probe: await runtime.healthProbe(source),
    drift: runtime.settings.drift,
    ...(http.length > 0 ? { http: new HttpHealthProbe({ checks: http }) } : {}),
    ...(bakeSeconds ? { bakeSeconds } : {}),
  });
}
