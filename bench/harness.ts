/**
 * Runs the benchmarks of a mode against a PostgreSQL server and gathers their rows. `bench/run.ts` (the
 * `npm run bench` entry) starts the server and prints and saves the result; the smoke test calls
 * `runBenchmarks` directly with the test server.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { cpus, platform, release, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { applyThroughput } from './apply-throughput.js';
import { cliNoop } from './cli-noop.js';
import { lambdaPackages } from './lambda-packages.js';
import { type BenchContext, DATABASE_PREFIX, PROFILES, type Profile } from './lib/context.js';
import {
  clientToolsVersion,
  dropDatabasesLike,
  findClientTools,
  INSTALL_HINT,
  missingTools,
  serverVersion,
} from './lib/postgres.js';
import type { BenchMode, BenchmarkId, BenchResult, BenchRow, MachineInfo } from './lib/report.js';
import { memory } from './memory.js';
import { noopDeploy } from './noop-deploy.js';
import { snapshotRestore } from './snapshot-restore.js';
import { verification } from './verification.js';
import { workflowOverhead } from './workflow-overhead.js';

export const PROJECT_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

export const BENCHMARKS: Readonly<Record<BenchmarkId, (context: BenchContext) => Promise<BenchRow[]>>> = {
  'apply-throughput': applyThroughput,
  'noop-deploy': noopDeploy,
  'snapshot-restore': snapshotRestore,
  'workflow-overhead': workflowOverhead,
  'lambda-packages': lambdaPackages,
  'cli-noop': cliNoop,
  memory,
  verification,
};

export interface RunBenchmarksOptions {
  /** A URL of the server (any database): the benchmarks create and drop their own `orchbench_*` databases. */
  readonly serverUrl: string;
  readonly mode: BenchMode;
  /** Overrides the mode's repetitions. */
  readonly repetitions?: number;
  /** Only these benchmarks. @default all */
  readonly only?: readonly BenchmarkId[];
  /** PATH to look for psql, pg_dump and pg_restore in. @default process.env.PATH */
  readonly toolsPath?: string;
  readonly database?: BenchResult['database'];
  readonly log?: (line: string) => void;
}

async function machineInfo(serverUrl: string, toolsVersion: string): Promise<MachineInfo> {
  const cpuList = cpus();
  return {
    cpus: cpuList.length,
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    os: `${platform()} ${release()}`,
    node: process.versions.node,
    postgres: await serverVersion(serverUrl),
    clientTools: toolsVersion,
  };
}

export async function runBenchmarks(options: RunBenchmarksOptions): Promise<BenchResult> {
  const started = performance.now();
  const log = options.log ?? (() => undefined);
  const base = PROFILES[options.mode];
  const profile: Profile = options.repetitions ? { ...base, repetitions: options.repetitions } : base;
  const tools = findClientTools(options.toolsPath);
  const notes: string[] = [];
  const missing = missingTools(tools, ['psql', 'pg_dump', 'pg_restore']);
  if (missing) {
    notes.push(`PostgreSQL client tools: ${missing}. Their baselines are reported as unavailable.`);
    log(`NOTE: ${missing}`);
  }
  // Inside the project (git-ignored). The bundles carry the AWS SDK they use (lib/private/bundling.ts), so they
  // resolve nothing from the project's node_modules; the bundling test loads them where none is reachable.
  await mkdir(join(PROJECT_ROOT, '.bench'), { recursive: true });
  const workDir = await mkdtemp(join(PROJECT_ROOT, '.bench', 'work-'));
  const context: BenchContext = {
    serverUrl: options.serverUrl,
    profile,
    tools,
    workDir,
    projectRoot: PROJECT_ROOT,
    log,
    note: (line) => {
      if (!notes.includes(line)) notes.push(line);
    },
  };
  const rows: BenchRow[] = [];
  try {
    const machine = await machineInfo(options.serverUrl, await clientToolsVersion(tools));
    for (const [id, benchmark] of Object.entries(BENCHMARKS) as [
      BenchmarkId,
      (c: BenchContext) => Promise<BenchRow[]>,
    ][]) {
      if (options.only && !options.only.includes(id)) continue;
      const at = performance.now();
      log(`${id} ...`);
      rows.push(...(await benchmark(context)));
      log(`${id} done in ${((performance.now() - at) / 1000).toFixed(1)} s`);
    }
    return {
      date: new Date().toISOString(),
      mode: options.mode,
      repetitions: profile.repetitions,
      machine,
      database: options.database ?? 'given',
      durationSeconds: Math.round((performance.now() - started) / 100) / 10,
      rows,
      notes,
    };
  } finally {
    await dropDatabasesLike(options.serverUrl, DATABASE_PREFIX).catch(() => undefined);
    await rm(workDir, { recursive: true, force: true });
  }
}

export { INSTALL_HINT };
