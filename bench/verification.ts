/**
 * 8. Verification after a release: the generated corpus of N migrations released on an empty database as the
 * workflow does it (preflight, then the apply, then the verify step's core with the health probe and drift
 * detector the Lambda wires), versus the apply itself, measured in the same repetition.
 *
 * Preflight computes the expected schemas of the migrations before and after the release (one replay in a
 * temporary database, its catalog fingerprinted), so the verification's drift check needs no replay when the
 * live schema is the expected one. The row `drift check by the engine's replay` is what the verification cost
 * before (the engine replays the whole history into a shadow database and diffs), for comparison; preflight's
 * time, which now includes the replay, is in the details.
 */
import { join } from 'node:path';
import { PgHealthProbe } from '../lambdas/shared/adapters/postgres/health-probe.js';
import { DirectoryMigrationSource } from '../lambdas/shared/adapters/prisma/directory-migration-source.js';
import { PrismaMigrationEngine } from '../lambdas/shared/adapters/prisma/migration-engine.js';
import { PrismaSchemaDriftDetector } from '../lambdas/shared/adapters/prisma/schema-drift-detector.js';
import type { HealthReport } from '../lambdas/shared/contract/contract.js';
import { DEFAULT_LINT_POLICY, type LintPolicyOverrides } from '../lambdas/shared/domain/lint/policy.js';
import { DEFAULT_SETTINGS, type WorkflowSettings } from '../lambdas/shared/runtime/settings.js';
import { verifyHealth } from '../lambdas/verify-health/verify-health.js';
import { generateCorpus, writeCorpus } from './corpus.js';
import { type BenchContext, DATABASE_PREFIX } from './lib/context.js';
import { dropDatabase, recreateDatabase } from './lib/postgres.js';
import { runPreflight } from './lib/preflight.js';
import { type BenchRow, row } from './lib/report.js';
import { median, timed } from './lib/stats.js';

const DATABASE = `${DATABASE_PREFIX}_verify`;

/** Drift checked under the `fail` policy: the strictest verification, the one whose cost matters. */
const SETTINGS: WorkflowSettings = {
  ...DEFAULT_SETTINGS,
  targetIdentifier: DATABASE,
  managedBy: 'migration-orchestrator-bench',
  drift: { policy: 'fail', ignore: [] },
  // The corpus drops and renames columns, as histories do; the lint is not what this measures.
  lintPolicy: Object.fromEntries(
    Object.keys(DEFAULT_LINT_POLICY).map((rule) => [rule, 'off']),
  ) as LintPolicyOverrides,
};

/** The verify step's core after the release, with the probe and detector the Lambda wires. */
async function verify(url: string, dir: string, state: Record<string, unknown>): Promise<HealthReport> {
  const source = new DirectoryMigrationSource(dir);
  const probe = new PgHealthProbe({
    connection: url,
    drift: new PrismaSchemaDriftDetector({ connection: url, source }),
  });
  return await verifyHealth(state, { probe, drift: SETTINGS.drift });
}

function driftDetail(report: HealthReport): string {
  return report.checks.find((check) => check.kind === 'drift')?.detail ?? '(no drift check)';
}

export async function verification(context: BenchContext): Promise<BenchRow[]> {
  const { serverUrl, profile, log } = context;
  const n = profile.verificationMigrations;
  const dir = join(context.workDir, `verify-corpus-${n}`);
  await writeCorpus(dir, generateCorpus(n));
  const samples = {
    preflight: [] as number[],
    apply: [] as number[],
    verify: [] as number[],
    engine: [] as number[],
  };
  let detail = '';
  for (let rep = 0; rep < profile.repetitions; rep += 1) {
    const url = await recreateDatabase(serverUrl, DATABASE);
    const planned = await timed(() =>
      runPreflight({
        url,
        database: DATABASE,
        dir,
        settings: SETTINGS,
        execution: `verify-${rep}`,
        drift: true,
      }),
    );
    if (planned.value.pending.length !== n || (planned.value.expectedSchemas?.length ?? 0) !== 2) {
      throw new Error(
        `preflight planned ${planned.value.pending.length} of ${n} migrations with ` +
          `${planned.value.expectedSchemas?.length ?? 0} expected schemas (2 expected)`,
      );
    }
    const engine = new PrismaMigrationEngine({ connectionString: url });
    const bundle = await new DirectoryMigrationSource(dir).load();
    const applied = await timed(() => engine.applyPending(bundle, { transactionMode: 'release' }));
    const state = {
      input: {},
      execution: { id: `verify-${rep}`, name: `verify-${rep}`, startedAt: new Date().toISOString() },
      plan: planned.value,
      apply: { applied: applied.value.applied, transactionMode: applied.value.transactionMode },
    };
    const verified = await timed(() => verify(url, dir, state));
    if (!verified.value.healthy) throw new Error('the verification of the corpus release failed');
    detail = driftDetail(verified.value);
    if (!detail.includes('preflight computed')) {
      throw new Error(`the drift check did not use preflight's expected schema: ${detail}`);
    }
    // What the drift check cost before: the engine replays every migration and diffs.
    const replayed = await timed(() =>
      new PrismaSchemaDriftDetector({ connection: url, source: new DirectoryMigrationSource(dir) }).diff(
        planned.value.pending,
      ),
    );
    if (!replayed.value.inSync) throw new Error('the engine found drift after the corpus release');
    samples.preflight.push(planned.ms);
    samples.apply.push(applied.ms);
    samples.verify.push(verified.ms);
    samples.engine.push(replayed.ms);
    log(
      `  N=${n}: preflight ${planned.ms.toFixed(0)} ms, apply ${applied.ms.toFixed(0)} ms, verify ` +
        `${verified.ms.toFixed(0)} ms, engine replay ${replayed.ms.toFixed(0)} ms`,
    );
  }
  await dropDatabase(serverUrl, DATABASE);
  const apply = { name: 'apply of the release (engine, release mode)', samples: samples.apply };
  const details = {
    migrations: n,
    preflightMs: Math.round(median(samples.preflight)),
    targetRatio: 0.25,
    driftCheck: detail,
  };
  return [
    row('verification', {
      case: `N=${n}`,
      subject: 'verification after the release (drift by expected schema)',
      unit: 'ms',
      samples: samples.verify,
      baseline: apply,
      details,
    }),
    row('verification', {
      case: `N=${n}`,
      subject: "drift check by the engine's replay (before)",
      unit: 'ms',
      samples: samples.engine,
      baseline: apply,
      details: { migrations: n },
    }),
  ];
}
