/** The apply step's wiring: the same on AWS and locally (see `runtime/capabilities.ts`). */
import { inputOf } from '../shared/contract/state.js';
import { releaseBundleOf } from '../shared/domain/release-bundle.js';
import type {
  BaseCapability,
  EngineCapability,
  EngineDefaults,
  EvidenceCapability,
  MigrationsCapability,
} from '../shared/runtime/capabilities.js';
import { applyMigrations } from './apply-migrations.js';

export type ApplyRuntime = BaseCapability & MigrationsCapability & EngineCapability & EvidenceCapability;

export async function runApplyMigrations(
  event: unknown,
  runtime: ApplyRuntime,
  defaults: EngineDefaults = {},
) {
  const engine = await runtime.engine(defaults);
  try {
    return await applyMigrations(event, {
      source: runtime.migrationSource(releaseBundleOf(inputOf(event))),
      engine,
      inspector: await runtime.releaseInspector(),
      clock: runtime.clock,
    });
  } finally {
    await engine.close();
  }
}
