/**
 * What each step's function is: its description, memory, timeout, whether it connects to the database,
 * whether its bundle carries the migrations, whether it is on the rollback path, and whether it reads the
 * retention policy.
 */
import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Step } from '../../lambdas/shared/contract/contract.js';
import { DEFAULT_HTTP_CHECK_TIMEOUT_MS } from '../../lambdas/shared/domain/http-checks.js';
import { DEFAULTS } from './defaults.js';

/** The runtime every step's function runs on and its bundle is built for (esbuild's target follows it). */
export const STEP_RUNTIME = lambda.Runtime.NODEJS_22_X;

/** The architecture of every step's function. */
export const STEP_ARCHITECTURE = lambda.Architecture.ARM_64;

/** What a step's function is and what its bundle must carry besides the JavaScript. */
export interface StepProfile {
  readonly description: string;
  readonly memorySize: number;
  /** The function timeout (the apply step's comes from `stepTimeout`). */
  readonly timeout: Duration;
  /** Connects to the database with the credentials. */
  readonly connects: boolean;
  /** Bundles the migrations directory, Prisma's schema engine and libpg-query's WebAssembly. */
  readonly migrations: boolean;
  /** On the rollback path: gets reserved concurrency. */
  readonly rollbackPath: boolean;
  /** Reads the retention policy (its environment carries the RETENTION_* variables). */
  readonly retentionPolicy: boolean;
}

export const STEP_PROFILES: Readonly<Record<Step, StepProfile>> = {
  preflight: {
    description: 'Checks the release plan: migrations, _prisma_migrations, locks taken.',
    memorySize: 1024,
    timeout: Duration.minutes(5),
    connects: true,
    migrations: true,
    rollbackPath: false,
    retentionPolicy: false,
  },
  'create-snapshot': {
    // It tags each snapshot with its retention class, which the policy names.
    description: 'Starts the pre-migration snapshot or the backup of the target database.',
    memorySize: 256,
    timeout: Duration.minutes(1),
    connects: false,
    migrations: false,
    rollbackPath: false,
    retentionPolicy: true,
  },
  'check-snapshot': {
    description: 'Reads the status of the snapshot being taken (pre-migration or backup).',
    memorySize: 256,
    timeout: Duration.minutes(1),
    connects: false,
    migrations: false,
    rollbackPath: false,
    retentionPolicy: false,
  },
  'apply-migrations': {
    description: "Applies the pending Prisma migrations with Prisma's schema engine (WebAssembly).",
    memorySize: 1769, // one full vCPU
    timeout: DEFAULTS.stepTimeout,
    connects: true,
    migrations: true,
    rollbackPath: false,
    retentionPolicy: false,
  },
  'assess-release': {
    description: "Ends a dead apply step's migration session and reads what the release committed.",
    memorySize: 256,
    timeout: Duration.minutes(2),
    connects: true,
    migrations: false,
    rollbackPath: true,
    retentionPolicy: false,
  },
  'verify-health': {
    description: 'Verifies the database health after the release or after a rollback.',
    memorySize: 512,
    timeout: Duration.minutes(2),
    connects: true,
    migrations: false,
    rollbackPath: true,
    retentionPolicy: false,
  },
  'restore-snapshot': {
    description:
      'Restores a managed snapshot (the pre-migration one, or the backup asked for) next to the original database.',
    memorySize: 256,
    timeout: Duration.minutes(2),
    connects: false,
    migrations: false,
    rollbackPath: true,
    retentionPolicy: false,
  },
  'check-restore': {
    description: "Reads the restored database status and applies the original's remaining settings.",
    memorySize: 256,
    timeout: Duration.minutes(2),
    connects: false,
    migrations: false,
    rollbackPath: true,
    retentionPolicy: false,
  },
  swap: {
    description: 'Swaps the restored database into place (renames), one step per call.',
    memorySize: 256,
    timeout: Duration.minutes(2),
    connects: false,
    migrations: false,
    rollbackPath: true,
    retentionPolicy: false,
  },
  'prune-snapshots': {
    description:
      'Applies the retention policy: deletes the managed snapshots of the target it no longer keeps.',
    memorySize: 256,
    // One DescribeExecution per protected release and one delete per snapshot, each retried on throttling.
    timeout: Duration.minutes(5),
    connects: false,
    migrations: false,
    rollbackPath: false,
    retentionPolicy: true,
  },
};

/** The construct id of a step: `apply-migrations` -> `ApplyMigrations`. */
export function stepConstructId(step: Step): string {
  return step
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/**
 * What the verify step's function waits for on top of its own work: the bake time, and every HTTP check timing
 * out twice (once right after the release, once after the bake). Its timeout grows by as much, so that a slow
 * check or the bake never ends in a function timeout (which would restore a healthy release).
 */
export function verifyExtraSeconds(
  bakeTime: Duration | undefined,
  httpChecks: readonly { readonly timeoutMs?: number }[] | undefined,
): number {
  const bake = bakeTime === undefined || bakeTime.isUnresolved() ? 0 : bakeTime.toSeconds();
  const checks = (httpChecks ?? []).reduce(
    (sum, check) => sum + Math.ceil((check.timeoutMs ?? DEFAULT_HTTP_CHECK_TIMEOUT_MS) / 1000),
    0,
  );
  return bake + (bake > 0 ? 2 : 1) * checks;
}

/** What preflight waits for on top of its own work: every HTTP check timing out once (the baseline). */
export function preflightExtraSeconds(
  httpChecks: readonly { readonly timeoutMs?: number }[] | undefined,
): number {
  return verifyExtraSeconds(undefined, httpChecks);
}

/**
 * The timeout of a step's function: the apply step's is `stepTimeout`; the others' their profile's, plus the
 * `extra` seconds of the step (see `verifyExtraSeconds`, `preflightExtraSeconds`).
 */
export function stepFunctionTimeout(
  step: Step,
  stepTimeout: Duration,
  extra: Partial<Record<Step, number>> = {},
): Duration {
  const more = extra[step] ?? 0;
  if (step !== 'apply-migrations' && more > 0) {
    return Duration.seconds(STEP_PROFILES[step].timeout.toSeconds() + more);
  }
  return step === 'apply-migrations' ? stepTimeout : STEP_PROFILES[step].timeout;
}

/** Whether a step's bundle carries the migrations (verify-health's only when it checks schema drift). */
export function stepBundlesMigrations(step: Step, checkSchemaDrift: boolean): boolean {
  return STEP_PROFILES[step].migrations || (step === 'verify-health' && checkSchemaDrift);
}
