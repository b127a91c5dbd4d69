/**
 * What every benchmark receives: the server, the profile (sizes and repetitions of this mode), the client
 * tools found, a scratch directory, and where to log progress and record what could not be measured.
 */

import type { ClientTools } from './postgres.js';
import type { BenchMode } from './report.js';

export interface Profile {
  readonly mode: BenchMode;
  /** Repetitions of every timed measurement (the figure is their median). */
  readonly repetitions: number;
  /** Corpus sizes N of the apply benchmark. */
  readonly corpusSizes: readonly number[];
  /** Applied migrations of the no-op deploy. */
  readonly noopMigrations: number;
  /** Repetitions of the no-op preflight (it is short, so more of them). */
  readonly noopRepetitions: number;
  /** Sizes of the snapshot/restore databases, in MiB of rows and indexes. */
  readonly databaseSizesMiB: readonly number[];
  /**
   * `synth`: bundle every function with `cdk synth`; `reuse`: measure a built cloud assembly if there is
   * one, else `esbuild`: bundle the apply step alone with esbuild.
   */
  readonly lambdaAssets: 'synth' | 'reuse' | 'esbuild';
  /** Fresh Node processes per asset for the cold-initialisation figure. */
  readonly coldStarts: number;
  /** Deflate level of the zipped sizes (9 = the smallest archive; the smoke run takes the fastest). */
  readonly zipLevel: number;
  /** Size of the one large migration script of the memory benchmark, in MiB. */
  readonly memoryScriptMiB: number;
  /** Migrations of the corpus released (and verified) by the verification benchmark. */
  readonly verificationMigrations: number;
}

export const PROFILES: Record<BenchMode, Profile> = {
  full: {
    mode: 'full',
    repetitions: 3,
    corpusSizes: [50, 400, 800],
    noopMigrations: 800,
    noopRepetitions: 7,
    databaseSizesMiB: [10, 200, 1024],
    lambdaAssets: 'synth',
    coldStarts: 5,
    zipLevel: 9,
    memoryScriptMiB: 10,
    verificationMigrations: 400,
  },
  quick: {
    mode: 'quick',
    repetitions: 3,
    corpusSizes: [50, 200],
    noopMigrations: 200,
    noopRepetitions: 5,
    databaseSizesMiB: [10, 200],
    lambdaAssets: 'synth',
    coldStarts: 3,
    zipLevel: 9,
    memoryScriptMiB: 2,
    verificationMigrations: 200,
  },
  smoke: {
    mode: 'smoke',
    repetitions: 1,
    corpusSizes: [4],
    noopMigrations: 4,
    noopRepetitions: 1,
    databaseSizesMiB: [1],
    lambdaAssets: 'reuse',
    coldStarts: 1,
    zipLevel: 1,
    // Not 1 MiB: its apply peaks only 6-15 MB above the floor, which varies by 3-7 MB between children (bench/README).
    memoryScriptMiB: 3,
    verificationMigrations: 4,
  },
};

export interface BenchContext {
  /** A URL of the benchmark server (any database; benchmarks create their own, named `orchbench_*`). */
  readonly serverUrl: string;
  readonly profile: Profile;
  readonly tools: ClientTools;
  /** A scratch directory, removed at the end. */
  readonly workDir: string;
  /** The project root (prisma/migrations, node_modules, cdk.out). */
  readonly projectRoot: string;
  readonly log: (line: string) => void;
  /** Records something that could not be measured, with the reason and the fix. */
  readonly note: (line: string) => void;
}

/** Every database a benchmark creates starts with this, so the cleanup never touches anything else. */
export const DATABASE_PREFIX = 'orchbench';
