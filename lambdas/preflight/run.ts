/** Preflight's wiring: the same on AWS and locally (see `runtime/capabilities.ts`). */
import type {
  BaseCapability,
  EngineCapability,
  GuardCapability,
  HealthCapability,
  MigrationsCapability,
} from '../shared/runtime/capabilities.js';
import { preflight } from './preflight.js';

export type PreflightRuntime = BaseCapability &
  MigrationsCapability &
  EngineCapability &
  GuardCapability &
  Pick<HealthCapability, 'driftDetector'>;

export async function runPreflight(event: unknown, runtime: PreflightRuntime) {
  const engine = await runtime.engine();
  try {
    const drift = await runtime.driftDetector();
    return await preflight(event, {
      source: runtime.migrationSource(),
      engine,
      guard: await runtime.executionGuard(),
      settings: runtime.settings,
      databaseName: await runtime.databaseName(),
      analyzeRelease: await runtime.analyzeRelease(),
      ...(drift ? { drift } : {}),
    });
  } finally {
    await engine.close();
  }
}
