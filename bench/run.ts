/**
 * `npm run bench`: runs the benchmarks against the embedded PostgreSQL (or BENCH_DATABASE_URL), prints the
 * table, and writes the result as JSON to .bench/ (git-ignored). See bench/README.md.
 *
 *   BENCH_QUICK=1         the small sizes only (N = 50, 200; no-op over 200; 10 and 200 MB)
 *   BENCH_SMOKE=1         tiny sizes, one repetition (what `npm test` runs)
 *   BENCH_REPEAT=5        repetitions of each measurement (default 3; the figure is their median)
 *   BENCH_ONLY=a,b        only these benchmarks (apply-throughput, noop-deploy, snapshot-restore,
 *                         workflow-overhead, lambda-packages, cli-noop, memory,
 *                         verification)
 *   BENCH_DATABASE_URL    a PostgreSQL server to use instead of the embedded one (a superuser, or a user
 *                         with CREATEDB; the benchmarks create and drop databases named orchbench_*)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../lib/local/embedded-postgres.js';
import { PROJECT_ROOT, runBenchmarks } from './harness.js';
import { serverLabel } from './lib/postgres.js';
import {
  type BenchMode,
  type BenchmarkId,
  BenchmarkIds,
  describeMachine,
  markdownTable,
  textTable,
} from './lib/report.js';

function modeFromEnv(env: NodeJS.ProcessEnv): BenchMode {
  if (env.BENCH_SMOKE === '1') return 'smoke';
  if (env.BENCH_QUICK === '1') return 'quick';
  return 'full';
}

function onlyFromEnv(raw: string | undefined): BenchmarkId[] | undefined {
  if (!raw) return undefined;
  const ids = raw.split(',').map((id) => id.trim());
  const unknown = ids.filter((id) => !(BenchmarkIds as readonly string[]).includes(id));
  if (unknown.length > 0) {
    throw new Error(
      `BENCH_ONLY names unknown benchmarks: ${unknown.join(', ')}. Known: ${BenchmarkIds.join(', ')}.`,
    );
  }
  return ids as BenchmarkId[];
}

function repetitionsFromEnv(raw: string | undefined): number | undefined {
  if (!raw) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`BENCH_REPEAT must be a positive integer, received ${JSON.stringify(raw)}.`);
  }
  return value;
}

async function main(): Promise<void> {
  const env = process.env;
  const mode = modeFromEnv(env);
  const only = onlyFromEnv(env.BENCH_ONLY);
  const repetitions = repetitionsFromEnv(env.BENCH_REPEAT);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const external = env.BENCH_DATABASE_URL;
  const server = external
    ? undefined
    : await startEmbeddedPostgres({ dataDir: join(PROJECT_ROOT, '.data', 'bench'), persistent: false });
  const serverUrl = external ?? (server?.url as string);
  log(
    `benchmarks (${mode}) on PostgreSQL at ${serverLabel(serverUrl)}${external ? ' (BENCH_DATABASE_URL)' : ' (embedded)'}`,
  );
  try {
    const result = await runBenchmarks({
      serverUrl,
      mode,
      ...(repetitions ? { repetitions } : {}),
      ...(only ? { only } : {}),
      database: external ? 'BENCH_DATABASE_URL' : 'embedded',
      log,
    });
    const dir = join(PROJECT_ROOT, '.bench');
    await mkdir(dir, { recursive: true });
    const stamp = result.date.replace(/[:.]/g, '-');
    const json = `${JSON.stringify(result, null, 2)}\n`;
    await writeFile(join(dir, `bench-${mode}-${stamp}.json`), json);
    await writeFile(join(dir, `latest-${mode}.json`), json);
    await writeFile(
      join(dir, `latest-${mode}.md`),
      `Run ${result.date} (${mode}, median of ${result.repetitions}, ${result.durationSeconds} s) on ` +
        `${describeMachine(result.machine)}.\n\n${markdownTable(result.rows)}\n` +
        (result.notes.length > 0 ? `\n${result.notes.map((n) => `- ${n}`).join('\n')}\n` : ''),
    );
    process.stdout.write(`\n${textTable(result.rows)}\n\n`);
    process.stdout.write(`${describeMachine(result.machine)}\n`);
    process.stdout.write(
      `${mode} run, median of ${result.repetitions}, ${result.durationSeconds} s; written to .bench/\n`,
    );
    for (const note of result.notes) process.stdout.write(`NOTE: ${note}\n`);
  } finally {
    await server?.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`npm run bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
