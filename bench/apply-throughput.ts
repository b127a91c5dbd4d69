/**
 * 1. Apply throughput: the generated corpus of N migrations applied to an empty database by our engine (in
 * both transaction modes), versus the same files applied by `psql` in one session (the floor: no
 * bookkeeping, no history table, no lock), for each N, as time per migration and its ratio to psql.
 *
 * psql runs the files in autocommit mode (each statement commits), as a team running them by hand would;
 * `psql --single-transaction` (one commit for the release, the shape of our 'release' mode) is reported
 * next to it. Our figure covers what the apply step does: load the directory, start the engine, apply, close. Like
 * the apply step, the engine gets preflight's verdicts on the scripts (`verdictsFor`, computed untimed: in the
 * workflow, preflight parses the release before the snapshot), so it does not parse them again.
 */
import { join } from 'node:path';
import { DirectoryMigrationSource } from '../lambdas/shared/adapters/prisma/directory-migration-source.js';
import { PrismaMigrationEngine } from '../lambdas/shared/adapters/prisma/migration-engine.js';
import type { TransactionMode } from '../lambdas/shared/contract/contract.js';
import { migrationsDigest, type ReleaseVerdicts } from '../lambdas/shared/domain/transaction-fallback.js';
import { generateCorpus, writeCorpus } from './corpus.js';
import { type BenchContext, DATABASE_PREFIX } from './lib/context.js';
import { dropDatabase, libpqEnv, missingTools, recreateDatabase, runTool } from './lib/postgres.js';
import { type BenchRow, row } from './lib/report.js';
import { median, timed } from './lib/stats.js';

const DATABASE = `${DATABASE_PREFIX}_apply`;

/**
 * What preflight's parse of every migration of `dir` (all pending on an empty database) tells the apply step, as the
 * plan carries it (`analysedDigest`, `nonAtomic`).
 */
export async function verdictsFor(dir: string): Promise<ReleaseVerdicts> {
  const { migrations } = await new DirectoryMigrationSource(dir).load();
  // Imported here only: like the apply step, a process that is given verdicts never loads the parser.
  const { analyzeRelease } = await import('../lambdas/shared/domain/release-analysis.js');
  const analysis = analyzeRelease(migrations, { keepStatementsUpTo: 0 });
  const nonAtomic = analysis.nonTransactional.filter((s) => !s.atomicMigration).map((s) => s.migration);
  return { digest: migrationsDigest(migrations), nonAtomic: [...new Set(nonAtomic)] };
}

/** Applies the migrations of `dir` with our engine, as the apply step does; returns how many were applied. */
export async function applyWithEngine(
  url: string,
  dir: string,
  transactionMode: TransactionMode,
  verdicts?: ReleaseVerdicts,
): Promise<number> {
  const engine = new PrismaMigrationEngine({ connectionString: url });
  try {
    const bundle = await new DirectoryMigrationSource(dir).load();
    const outcome = await engine.applyPending(bundle, { transactionMode, ...(verdicts ? { verdicts } : {}) });
    return outcome.applied.length;
  } finally {
    await engine.close();
  }
}

type Variant = 'psql' | 'psql-1' | TransactionMode;

export async function applyThroughput(context: BenchContext): Promise<BenchRow[]> {
  const { serverUrl, profile, tools, log } = context;
  const psqlMissing = missingTools(tools, ['psql']);
  if (psqlMissing) context.note(`Apply throughput: the psql baseline is unavailable (${psqlMissing}).`);
  const variants: Variant[] = psqlMissing
    ? ['release', 'per-migration']
    : ['psql', 'psql-1', 'release', 'per-migration'];

  // Warm up (untimed): the engine's WebAssembly is compiled once per process, psql's binary is cached.
  const warmDir = join(context.workDir, 'corpus-warmup');
  await writeCorpus(warmDir, generateCorpus(2));
  await applyWithEngine(await recreateDatabase(serverUrl, DATABASE), warmDir, 'release');

  const rows: BenchRow[] = [];
  for (const n of profile.corpusSizes) {
    const dir = join(context.workDir, `corpus-${n}`);
    const files = await writeCorpus(dir, generateCorpus(n));
    const verdicts = await verdictsFor(dir);
    const samples: Record<Variant, number[]> = { psql: [], 'psql-1': [], release: [], 'per-migration': [] };
    for (let rep = 0; rep < profile.repetitions; rep += 1) {
      // Interleaved, so a slow moment of the machine does not land on one variant only.
      for (const variant of variants) {
        const url = await recreateDatabase(serverUrl, DATABASE);
        const { ms, value: applied } = await timed(async () => {
          if (variant === 'psql' || variant === 'psql-1') {
            const args = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', ...(variant === 'psql-1' ? ['-1'] : [])];
            await runTool(
              tools.psql as string,
              [...args, ...files.flatMap((f) => ['-f', f])],
              libpqEnv(serverUrl, DATABASE),
            );
            return n;
          }
          return await applyWithEngine(url, dir, variant, verdicts);
        });
        if (applied !== n)
          throw new Error(`${variant} applied ${applied} of the ${n} migrations of the corpus`);
        samples[variant].push(ms);
        log(`  N=${n} ${variant}: ${(ms / 1000).toFixed(2)} s`);
      }
    }
    const perMigration = (values: readonly number[]) => values.map((ms) => ms / n);
    const psql = psqlMissing ? undefined : { name: 'psql, one session', samples: perMigration(samples.psql) };
    const psqlOne = psqlMissing
      ? undefined
      : { name: 'psql --single-transaction', samples: perMigration(samples['psql-1']) };
    const totals = (variant: Variant) => ({
      [`${variant}TotalSeconds`]: Math.round(median(samples[variant])) / 1000,
    });
    for (const mode of ['release', 'per-migration'] as const) {
      const base = { case: `N=${n}`, subject: `engine, ${mode} mode`, unit: 'ms/migration' as const };
      const ours = perMigration(samples[mode]);
      rows.push(
        row('apply-throughput', {
          ...base,
          samples: ours,
          ...(psql ? { baseline: psql } : { baselineUnavailable: psqlMissing }),
          details: { migrations: n, ...totals(mode), ...(psql ? totals('psql') : {}) },
        }),
      );
      if (psqlOne) {
        rows.push(
          row('apply-throughput', {
            ...base,
            samples: ours,
            baseline: psqlOne,
            details: { migrations: n, ...totals(mode), ...totals('psql-1') },
          }),
        );
      }
    }
  }
  await dropDatabase(serverUrl, DATABASE);
  return rows;
}
