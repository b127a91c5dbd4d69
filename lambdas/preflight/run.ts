/** Preflight's wiring: the same on AWS and locally (see `runtime/capabilities.ts`). */
import { HttpHealthProbe } from '../shared/adapters/http/http-health-probe.js';
import { WorkflowInputSchema } from '../shared/contract/input.js';
import { inputOf } from '../shared/contract/state.js';
import { releaseBundleOf } from '../shared/domain/release-bundle.js';
import type {
  BaseCapability,
  EngineCapability,
  GuardCapability,
  HealthCapability,
  HistoryCapability,
  MigrationLockCapability,
  MigrationsCapability,
  SnapshotCapability,
} from '../shared/runtime/capabilities.js';
import { availableMemoryBytes, memoryOwner } from '../shared/runtime/memory.js';
import type { MigrationLockDeps } from './migration-lock.js';
import { preflight, preflightOperation } from './preflight.js';

export type PreflightRuntime = BaseCapability &
  MigrationsCapability &
  EngineCapability &
  GuardCapability &
  HistoryCapability &
  SnapshotCapability &
  Pick<HealthCapability, 'driftDetector'> &
  Partial<MigrationLockCapability>;

/** The mode a valid input asks for; a migration for anything else (whose preflight then names the problem). */
function requestedMode(event: unknown): string {
  const parsed = WorkflowInputSchema.safeParse(inputOf(event) ?? {});
  return parsed.success ? (parsed.data.mode ?? 'migrate') : 'migrate';
}

export async function runPreflight(event: unknown, runtime: PreflightRuntime) {
  if (requestedMode(event) !== 'migrate') {
    // A backup or a restore opens neither the migrations nor a database session.
    return await preflightOperation(event, {
      guard: await runtime.executionGuard(),
      gateway: runtime.gateway,
      settings: runtime.settings,
    });
  }
  const source = runtime.migrationSource(releaseBundleOf(inputOf(event)));
  const engine = await runtime.engine();
  try {
    const drift = await runtime.driftDetector(source);
    const httpChecks = runtime.settings.httpHealthChecks ?? [];
    return await preflight(event, {
      source,
      engine,
      guard: await runtime.executionGuard(),
      settings: runtime.settings,
      databaseName: await runtime.databaseName(),
      // The parser loads only when there is something pending to analyse.
      analyzeRelease: async (migrations) => (await runtime.analyzeRelease())(migrations),
      memory: { bytes: availableMemoryBytes(), owner: memoryOwner() },
      retryGuard: { gateway: runtime.gateway, history: runtime.executionHistory },
      ...(drift ? { drift } : {}),
      ...(runtime.migrationLock ? { migrationLock: await migrationLockDeps(runtime) } : {}),
      ...(httpChecks.length > 0 ? { httpChecks: new HttpHealthProbe({ checks: httpChecks }) } : {}),
    });
  } finally {
    await engine.close();
  }
}

/** Preflight's check of Prisma's migration lock, with the setting that ends idle holders. */
async function migrationLockDeps(runtime: PreflightRuntime): Promise<MigrationLockDeps | undefined> {
  if (!runtime.migrationLock) return undefined;
  const after = runtime.settings.endIdleLockHoldersAfterSeconds;
  return {
    inspector: await runtime.migrationLock(),
    ...(after === undefined ? {} : { endIdleAfterSeconds: after }),
  };
}
