/**
 * 2. No-op deploy: N migrations applied, nothing pending. The time for preflight to conclude "nothing to do",
 * with the real adapters as the Lambda wires them (the directory source, a new Prisma engine on its own
 * connection, closed at the end). Baselines: the least work anything can do to reach the same answer,
 * `psql` reading `_prisma_migrations` in a fresh process, and in-process a `pg` client reading it and
 * comparing it with the directory.
 */
import { join } from 'node:path';
import { DirectoryMigrationSource } from '../lambdas/shared/adapters/prisma/directory-migration-source.js';
import type { Plan } from '../lambdas/shared/contract/contract.js';
import { DEFAULT_SETTINGS, type WorkflowSettings } from '../lambdas/shared/runtime/settings.js';
import { applyWithEngine } from './apply-throughput.js';
import { generateCorpus, writeCorpus } from './corpus.js';
import { type BenchContext, DATABASE_PREFIX } from './lib/context.js';
import {
  dropDatabase,
  libpqEnv,
  missingTools,
  recreateDatabase,
  runTool,
  withClient,
} from './lib/postgres.js';
import { runPreflight } from './lib/preflight.js';
import { type BenchRow, type RowInput, row } from './lib/report.js';
import { sample, timed } from './lib/stats.js';

const DATABASE = `${DATABASE_PREFIX}_noop`;
const HISTORY_SQL =
  'SELECT migration_name, checksum FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL';

/** The in-process floor: read the history with one `pg` client and compare it with the directory. */
async function floorCheck(url: string, dir: string): Promise<number> {
  const bundle = await new DirectoryMigrationSource(dir).load();
  const applied = await withClient(url, async (client) => {
    const result = await client.query<{ migration_name: string; checksum: string }>(HISTORY_SQL);
    return new Map(result.rows.map((r) => [r.migration_name, r.checksum]));
  });
  return bundle.migrations.filter((m) => applied.get(m.name) !== m.checksum).length;
}

export async function noopDeploy(context: BenchContext): Promise<BenchRow[]> {
  const { serverUrl, profile, tools, log } = context;
  const n = profile.noopMigrations;
  const dir = join(context.workDir, `corpus-noop-${n}`);
  await writeCorpus(dir, generateCorpus(n));
  const url = await recreateDatabase(serverUrl, DATABASE);
  const applied = await applyWithEngine(url, dir, 'release');
  if (applied !== n) throw new Error(`setting up the no-op deploy applied ${applied} of ${n} migrations`);
  const settings: WorkflowSettings = {
    ...DEFAULT_SETTINGS,
    targetIdentifier: DATABASE,
    managedBy: 'migration-orchestrator-bench',
  };

  // The first preflight of the process also compiles the engine's WebAssembly: reported, not in the median.
  const first = await timed(() =>
    runPreflight({ url, database: DATABASE, dir, settings, execution: 'bench-0' }),
  );
  const check = (plan: Plan) => {
    if (plan.pending.length !== 0 || plan.proceed || plan.applied.length !== n) {
      throw new Error(
        `preflight found ${plan.pending.length} pending and ${plan.applied.length} applied of ${n}`,
      );
    }
  };
  check(first.value);
  const preflightSamples = await sample(profile.noopRepetitions, async (index) =>
    check(await runPreflight({ url, database: DATABASE, dir, settings, execution: `bench-${index + 1}` })),
  );
  log(
    `  preflight, nothing pending (N=${n}): first ${first.ms.toFixed(0)} ms, then ${preflightSamples.map((s) => s.toFixed(0)).join(', ')} ms`,
  );

  const floorSamples = await sample(profile.noopRepetitions, async () => {
    const pending = await floorCheck(url, dir);
    if (pending !== 0) throw new Error(`the in-process check found ${pending} pending`);
  });
  const details = { appliedMigrations: n, firstInProcessMs: Math.round(first.ms) };
  /** A row of our preflight against one baseline (or the reason that baseline is unavailable). */
  const preflightRow = (against: Pick<RowInput, 'baseline' | 'baselineUnavailable'>) =>
    row('noop-deploy', {
      case: `N=${n} applied`,
      subject: 'preflight, nothing pending',
      unit: 'ms',
      samples: preflightSamples,
      ...against,
      details,
    });
  const rows: BenchRow[] = [];
  const psqlMissing = missingTools(tools, ['psql']);
  if (psqlMissing) {
    context.note(`No-op deploy: the psql baseline is unavailable (${psqlMissing}).`);
    rows.push(preflightRow({ baselineUnavailable: psqlMissing }));
  } else {
    const psqlSamples = await sample(profile.noopRepetitions, async () => {
      const out = await runTool(
        tools.psql as string,
        ['-X', '-q', '-A', '-t', '-c', HISTORY_SQL],
        libpqEnv(serverUrl, DATABASE),
      );
      const lines = out.trim().split('\n').filter(Boolean).length;
      if (lines !== n) throw new Error(`psql read ${lines} history rows, expected ${n}`);
    });
    rows.push(preflightRow({ baseline: { name: 'psql reading _prisma_migrations', samples: psqlSamples } }));
  }
  rows.push(
    preflightRow({ baseline: { name: 'pg client: read history, compare files', samples: floorSamples } }),
  );
  await dropDatabase(serverUrl, DATABASE);
  return rows;
}
